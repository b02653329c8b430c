//! Simulator speed (docs/design.md, "Benchmarks").
//!
//! Every figure is taken twice in the same run, under both time mechanisms
//! ([`kubesim::world::TimeMode`], set process-wide with `override_time_mode`): `tick` (turmoil's
//! fixed 10 ms tick, every host polled every tick: the mechanism before event time) and `event`
//! (jump to the next event, poll only hosts with work). The ratio event/tick is the speed-up.
//!
//! - `standard/<mode>`: one seed of the standard scenario (2 API server replicas, 3 controller
//!   replicas under leader election, 200 objects, 10 simulated minutes, swarm faults), hash only.
//! - `idle6/<mode>`: an otherwise idle 6-host world (2 API server replicas and 4 client hosts that
//!   only sleep) run for 60 simulated seconds.
//! - `seed/<scenario>/<mode>`: one seed of each built-in scenario, hash only, seeds cycling.
//!
//! Before timing, a pre-pass prints simulated seconds per wall second and seeds per second of
//! the standard scenario and of every built-in scenario (oracles included, one thread, as
//! `explore --jobs 1` runs them) and of the idle world, per mode, with the ratio.
//!
//! Run: `cargo bench --bench sim -- --warm-up-time 1 --measurement-time 5 --sample-size 10`

// det-ok: a benchmark measures wall time; the runs it times see only simulated time.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use criterion::{criterion_group, criterion_main, Criterion};
use kubesim::history::Recorder;
use kubesim::scenario::{self, Scenario};
use kubesim::world::{override_time_mode, TimeMode, World, WorldConfig};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The CLI's allocator (`sim/src/main.rs`), so the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Seeds of the pre-pass per scenario.
const PREPASS_SEEDS: u64 = 2;
/// Seeds of the standard scenario in the pre-pass.
const PREPASS_STANDARD_SEEDS: u64 = 2;
/// Simulated length of an idle run.
const IDLE_FOR: Duration = Duration::from_secs(60);
/// Client hosts of the idle world (it also has 2 replicas: 6 hosts).
const IDLE_CLIENTS: usize = 4;
/// The two mechanisms, before and after.
const MODES: [(TimeMode, &str); 2] = [(TimeMode::Tick, "tick"), (TimeMode::Event, "event")];

/// Runs one idle world for [`IDLE_FOR`] on a fresh thread; returns the simulated time it ran.
fn idle() -> Duration {
    kubesim::isolated(idle_here)
}

fn idle_here() -> Duration {
    let config = WorldConfig {
        replicas: 2,
        duration_max: IDLE_FOR + Duration::from_secs(10),
        ..WorldConfig::default()
    };
    let mut world = World::new(1, config, Recorder::with_retention(false));
    for i in 0..IDLE_CLIENTS {
        world.client(&format!("idle-{i}"), async {
            tokio::time::sleep(IDLE_FOR).await;
            Ok(())
        });
    }
    world.run().expect("an idle world finishes");
    world.elapsed()
}

/// Simulated seconds per wall second and seeds per wall second of `seeds` seeds of `sc`, with
/// oracles, under the current mode.
fn speed(sc: &Scenario, seeds: u64) -> (f64, f64, f64) {
    let started = Instant::now();
    let mut sim_us = 0u64;
    let mut events = 0u64;
    for seed in 0..seeds {
        let r = kubesim::run::run(sc, seed, true);
        black_box(r.held());
        sim_us += r.sim_time_us;
        events += r.event_count;
    }
    let wall = started.elapsed().as_secs_f64();
    (
        sim_us as f64 / 1e6 / wall,
        seeds as f64 / wall,
        events as f64 / seeds as f64,
    )
}

fn prepass(scenarios: &[Scenario]) {
    eprintln!("pre-pass: sim s per wall s (seeds/s), tick -> event, one thread, oracles on");
    let line = |label: &str, f: &mut dyn FnMut() -> (f64, f64, f64)| {
        let mut got = Vec::new();
        for (mode, _) in MODES {
            override_time_mode(Some(mode));
            got.push(f());
        }
        override_time_mode(None);
        eprintln!(
            "  {label:<26} {:>9.1} ({:>6.2}/s) -> {:>9.1} ({:>6.2}/s)  x{:.2}  events/seed {:.0} -> {:.0}",
            got[0].0,
            got[0].1,
            got[1].0,
            got[1].1,
            got[1].0 / got[0].0,
            got[0].2,
            got[1].2
        );
    };
    line("standard", &mut || {
        speed(&scenario::standard::scenario(), PREPASS_STANDARD_SEEDS)
    });
    line("idle 6 hosts", &mut || {
        let started = Instant::now();
        let sim = idle().as_secs_f64();
        (sim / started.elapsed().as_secs_f64(), 0.0, 0.0)
    });
    for sc in scenarios {
        line(sc.name, &mut || speed(sc, PREPASS_SEEDS));
    }
}

fn benches(c: &mut Criterion) {
    let scenarios = scenario::builtins();
    prepass(&scenarios);
    let mut g = c.benchmark_group("standard");
    g.sample_size(10);
    let sc = scenario::standard::scenario();
    for (mode, name) in MODES {
        let mut seed = 0u64;
        g.bench_function(name, |b| {
            override_time_mode(Some(mode));
            b.iter(|| {
                seed += 1;
                black_box(kubesim::run::run(&sc, seed, false).hash)
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("idle6");
    g.sample_size(10);
    for (mode, name) in MODES {
        g.bench_function(name, |b| {
            override_time_mode(Some(mode));
            b.iter(|| black_box(idle()))
        });
    }
    g.finish();
    override_time_mode(None);
}

criterion_group!(sim, benches);
criterion_main!(sim);
