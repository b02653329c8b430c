//! Simulator speed (docs/design.md, "Benchmarks").
//!
//! - `standard/tick=<ms>`: one seed of the standard scenario (2 API server replicas, 3 controller
//!   replicas under leader election, 200 objects, 10 simulated minutes, swarm faults), at the
//!   default 10 ms tick and at 20 ms.
//! - `seed/<scenario>`: one seed of each built-in scenario, `kubesim::run::run(&scenario, seed,
//!   false)` (hash only, no oracles: what `explore --check-determinism`'s first pass and a sweep
//!   that keeps no history pay), seeds cycling from 0 so each sample averages different runs.
//! - `idle/tick=<ms>`: an otherwise idle world (2 API server replicas and 3 client hosts that
//!   only sleep: 5 hosts) run for 30 simulated seconds, for turmoil ticks of
//!   1, 5, 10 and 50 ms, to show what turmoil's fixed tick costs on its own.
//!
//! Before timing, a pre-pass prints the figures the criterion times cannot show directly:
//! simulated seconds per wall second and seeds per second of the standard scenario per tick and
//! of every built-in scenario (over seeds 0..8, one thread, oracles included, as `explore --jobs 1`
//! runs them), and simulated seconds per wall second of the idle world per tick size.
//!
//! Run: `cargo bench --bench sim -- --warm-up-time 1 --measurement-time 3`

// det-ok: a benchmark measures wall time; the runs it times see only simulated time.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use criterion::{criterion_group, criterion_main, Criterion};
use kubesim::history::Recorder;
use kubesim::scenario::{self, Scenario};
use kubesim::world::{World, WorldConfig};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Seeds of the pre-pass per scenario.
const PREPASS_SEEDS: u64 = 8;
/// Simulated length of an idle run.
const IDLE_FOR: Duration = Duration::from_secs(30);
/// Tick sizes compared, milliseconds.
const TICKS_MS: [u64; 4] = [1, 5, 10, 50];
/// Ticks the standard scenario is timed at, milliseconds.
const STANDARD_TICKS_MS: [u64; 2] = [10, 20];
/// Client hosts of the idle world (it also has 2 replicas).
const IDLE_CLIENTS: usize = 3;

/// Runs one idle world with `tick` for [`IDLE_FOR`]; returns the simulated time it ran.
fn idle(tick: Duration) -> Duration {
    let config = WorldConfig {
        replicas: 2,
        tick,
        duration_max: IDLE_FOR + Duration::from_secs(10),
        ..WorldConfig::default()
    };
    let mut world = World::new(1, config, Recorder::with_retention(false));
    for i in 0..IDLE_CLIENTS {
        world.sim.client(format!("idle-{i}").as_str(), async {
            tokio::time::sleep(IDLE_FOR).await;
            Ok(())
        });
    }
    world.run().expect("an idle world finishes");
    world.sim.elapsed()
}

/// The standard scenario at a tick of `ms` milliseconds (its other settings drawn as usual).
fn standard_at(ms: u64) -> Scenario {
    let mut sc = scenario::standard::scenario();
    sc.config = match ms {
        10 => sc.config,
        20 => |rng| WorldConfig {
            tick: Duration::from_millis(20),
            ..(scenario::standard::scenario().config)(rng)
        },
        _ => unreachable!("a tick the bench does not time"),
    };
    sc
}

fn prepass(scenarios: &[Scenario]) {
    eprintln!("pre-pass: {PREPASS_SEEDS} seeds per scenario, one thread");
    for ms in STANDARD_TICKS_MS {
        report(&format!("standard@{ms}ms"), &standard_at(ms), 4);
    }
    for sc in scenarios {
        report(sc.name, sc, PREPASS_SEEDS);
    }
    for ms in TICKS_MS {
        let started = Instant::now();
        let sim = idle(Duration::from_millis(ms)).as_secs_f64();
        let wall = started.elapsed().as_secs_f64();
        eprintln!(
            "  idle tick={ms:>2}ms  {:>9.1} sim s per wall s",
            sim / wall
        );
    }
}

/// Runs `seeds` seeds of `sc` with oracles and prints its speed.
fn report(label: &str, sc: &Scenario, seeds: u64) {
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
    let sim = sim_us as f64 / 1e6;
    eprintln!(
        "  {:<22} {:>7.1} sim s/seed  {:>8.1} sim s per wall s  {:>6.2} seeds/s  {:>8.0} events/seed",
        label,
        sim / seeds as f64,
        sim / wall,
        seeds as f64 / wall,
        events as f64 / seeds as f64
    );
}

fn benches(c: &mut Criterion) {
    let scenarios = scenario::builtins();
    prepass(&scenarios);
    let mut g = c.benchmark_group("standard");
    g.sample_size(10);
    for ms in STANDARD_TICKS_MS {
        let sc = standard_at(ms);
        let mut seed = 0u64;
        g.bench_function(format!("tick={ms}ms"), |b| {
            b.iter(|| {
                seed += 1;
                black_box(kubesim::run::run(&sc, seed, false).hash)
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("seed");
    g.sample_size(10);
    for sc in &scenarios {
        let mut seed = 0u64;
        g.bench_function(sc.name, |b| {
            b.iter(|| {
                seed += 1;
                black_box(kubesim::run::run(sc, seed, false).hash)
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("idle");
    g.sample_size(10);
    for ms in TICKS_MS {
        g.bench_function(format!("tick={ms}ms"), |b| {
            b.iter(|| black_box(idle(Duration::from_millis(ms))))
        });
    }
    g.finish();
}

criterion_group!(sim, benches);
criterion_main!(sim);
