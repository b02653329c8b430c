//! Sweep scaling and memory (issue 17 items 3 and 5; figures in docs/sim-bench.md).
//!
//! - Scaling: [`Sweep`] over the same seeds at 1 and 2 worker threads, seeds per wall second and
//!   the ratio (`explore --jobs J` runs exactly this). Measured twice: in a pre-pass over
//!   [`SCALING_SEEDS`] seeds of `replicagroup` (90 simulated seconds, oracles on), and by
//!   criterion (`sweep/jobs1`, `sweep/jobs2`) over [`CRITERION_SEEDS`] seeds.
//! - Memory of running seeds: the process's peak resident set (Linux `VmHWM`, reset through
//!   `/proc/self/clear_refs` before each measure) while `replicagroup` seeds run on 1 and on 2
//!   threads, then while one seed of `standard` runs, minus the resident set before (first, in a
//!   fresh process: memory the allocator has held stays resident and is reused).
//! - Growth: resident set (`VmRSS`) after every 100 seeds of a [`GROWTH_SEEDS`]-seed sweep of
//!   `replicagroup` on 2 threads. A sweep keeps only the reports of failing seeds, so the
//!   resident set must stay flat.
//!
//! Run: `cargo bench --bench sweep -- --warm-up-time 1 --measurement-time 5 --sample-size 10`
//! (`KUBESIM_GROWTH_SEEDS=N` changes the growth sweep's length).

// det-ok: a benchmark measures wall time and process memory; the runs see only simulated time.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use criterion::{criterion_group, criterion_main, Criterion};
use kubesim::scenario::{self, Scenario};
use kubesim::sweep::Sweep;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The CLI's allocator (`sim/src/main.rs`), so the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Seeds of the scaling pre-pass.
const SCALING_SEEDS: u64 = 400;
/// Seeds per criterion iteration.
const CRITERION_SEEDS: u64 = 8;
/// Seeds of the growth sweep.
const GROWTH_SEEDS: u64 = 1_000;

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`); 0 where there is no procfs.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the peak resident set to the current one (Linux 4.0+: `5` in `clear_refs`).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Wall seconds of a sweep of `seeds` seeds of `sc` on `jobs` threads, and seeds failing.
fn sweep(sc: &Scenario, seeds: u64, jobs: usize) -> (f64, usize) {
    let list: Vec<u64> = (0..seeds).collect();
    let s = Sweep {
        jobs,
        ..Sweep::default()
    };
    let started = Instant::now();
    let out = s.run(sc, &list, &|| {});
    (started.elapsed().as_secs_f64(), out.failing.len())
}

/// Peak resident set above the one before, in MiB, while `f` runs.
fn peak_above(f: impl FnOnce()) -> f64 {
    let before = status_kib("VmRSS");
    reset_peak();
    f();
    status_kib("VmHWM").saturating_sub(before) as f64 / 1024.0
}

fn scaling(sc: &Scenario) {
    eprintln!("scaling: {SCALING_SEEDS} seeds of {} (oracles on)", sc.name);
    let (one, f1) = sweep(sc, SCALING_SEEDS, 1);
    let (two, f2) = sweep(sc, SCALING_SEEDS, 2);
    let rate = |wall: f64| SCALING_SEEDS as f64 / wall;
    eprintln!(
        "  --jobs 1: {:.2} seeds/s   --jobs 2: {:.2} seeds/s   ratio x{:.2}   (failing {f1}, {f2})",
        rate(one),
        rate(two),
        one / two
    );
}

fn memory(rg: &Scenario) {
    let standard = scenario::standard::scenario();
    eprintln!("memory (peak resident set above the resident set before, MiB):");
    // Smallest first: memory an allocator has once held stays resident and is reused.
    let rg1 = peak_above(|| {
        sweep(rg, 8, 1);
    });
    let rg2 = peak_above(|| {
        sweep(rg, 8, 2);
    });
    let one_standard = peak_above(|| {
        black_box(kubesim::run::run(&standard, 1, false).hash);
    });
    eprintln!("  one standard seed, history hash only:        {one_standard:.1}");
    eprintln!("  replicagroup, 1 running seed (--jobs 1):      {rg1:.1}");
    eprintln!("  replicagroup, 2 running seeds (--jobs 2):     {rg2:.1}");
}

fn growth(rg: &Scenario) {
    let seeds: u64 = std::env::var("KUBESIM_GROWTH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(GROWTH_SEEDS);
    let list: Vec<u64> = (0..seeds).collect();
    let done = AtomicU64::new(0);
    let samples = Mutex::new(Vec::new());
    let started = Instant::now();
    let out = Sweep::default().run(rg, &list, &|| {
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        if n % 100 == 0 {
            let mut s = samples.lock().unwrap_or_else(|p| p.into_inner());
            s.push((n, status_kib("VmRSS")));
        }
    });
    let samples = samples.into_inner().unwrap_or_else(|p| p.into_inner());
    eprintln!(
        "growth: {seeds} seeds of {} on every core in {:.1} s, {} failing; VmRSS MiB after each 100:",
        rg.name,
        started.elapsed().as_secs_f64(),
        out.failing.len()
    );
    let row: Vec<String> = samples
        .iter()
        .map(|(n, kib)| format!("{n}: {:.1}", *kib as f64 / 1024.0))
        .collect();
    eprintln!("  {}", row.join(", "));
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        eprintln!(
            "  growth from seed {} to seed {}: {:+.1} MiB",
            first.0,
            last.0,
            (last.1 as f64 - first.1 as f64) / 1024.0
        );
    }
}

fn benches(c: &mut Criterion) {
    let rg = scenario::find("replicagroup").expect("replicagroup is built in");
    memory(&rg);
    scaling(&rg);
    growth(&rg);
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    for jobs in [1usize, 2] {
        g.bench_function(format!("jobs{jobs}"), |b| {
            b.iter(|| black_box(sweep(&rg, CRITERION_SEEDS, jobs)))
        });
    }
    g.finish();
}

criterion_group!(sweep_benches, benches);
criterion_main!(sweep_benches);
