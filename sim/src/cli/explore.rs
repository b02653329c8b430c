//! `kubesim explore`: sweep seeds of one or all scenarios on every core, print a table, exit 0
//! only if every scenario met its expectation.

use super::single::replay_command;
use super::{scenario, SeedRange, Shard, EXIT_OK, EXIT_USAGE, EXIT_VIOLATION};
use clap::Args;
use kubesim::faults::FaultProfile;
use kubesim::run::RunReport;
use kubesim::scenario::{Expectation, Scenario};
use kubesim::sweep::Sweep;

/// Arguments of `kubesim explore`.
#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// A scenario name, or `all` (the default) for every built-in scenario.
    #[arg(default_value = "all")]
    scenario: String,
    /// Seeds to run, `A..B` (half-open).
    #[arg(long, conflicts_with = "count")]
    seeds: Option<SeedRange>,
    /// Number of seeds to run from 0 (default: each scenario's own count).
    #[arg(long)]
    count: Option<u64>,
    /// Worker threads (default: every core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only shard I of N (`I/N`); also read from JOB_COMPLETION_INDEX with --shards.
    #[arg(long)]
    shard: Option<Shard>,
    /// Total shards when the index comes from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).
    #[arg(long, value_name = "N")]
    shards: Option<u64>,
    /// Run each seed twice and count differing histories as violations.
    #[arg(long)]
    check_determinism: bool,
    /// Fault profile: none, default (every kind on), swarm (the seed draws which kinds are on).
    #[arg(long, default_value = "swarm")]
    faults: FaultProfile,
}

/// One scenario's sweep.
struct Row {
    scenario: Scenario,
    seeds: u64,
    failing: Vec<RunReport>,
    seconds: f64,
    faults: FaultProfile,
}

impl Row {
    fn met(&self) -> bool {
        match self.scenario.expectation {
            Expectation::Holds => self.failing.is_empty(),
            Expectation::Caught(oracle) => self
                .failing
                .iter()
                .any(|r| r.violations.iter().any(|v| v.oracle == oracle)),
        }
    }
}

fn shard(a: &ExploreArgs) -> Result<Option<Shard>, String> {
    if a.shard.is_some() {
        return Ok(a.shard);
    }
    match (std::env::var("JOB_COMPLETION_INDEX"), a.shards) {
        (Ok(i), Some(n)) => Shard::from_job_index(&i, n).map(Some),
        (Ok(_), None) => Err("JOB_COMPLETION_INDEX is set but --shards N is not".into()),
        (Err(_), _) => Ok(None),
    }
}

/// `kubesim explore`.
pub fn explore(a: ExploreArgs) -> u8 {
    let scenarios = if a.scenario == "all" {
        kubesim::scenario::builtins()
    } else {
        match scenario(&a.scenario) {
            Ok(s) => vec![s],
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        }
    };
    let shard = match shard(&a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let mut rows = Vec::new();
    for sc in scenarios {
        let range = a.seeds.unwrap_or(SeedRange {
            start: 0,
            end: a.count.unwrap_or(sc.seeds).max(1),
        });
        let seeds: Vec<u64> = (range.start..range.end)
            .enumerate()
            .filter(|(pos, _)| shard.is_none_or(|s| s.owns(*pos as u64)))
            .map(|(_, seed)| seed)
            .collect();
        rows.push(sweep(sc, &seeds, jobs, a.check_determinism, a.faults));
    }
    print_table(&rows);
    if rows.iter().all(Row::met) {
        EXIT_OK
    } else {
        EXIT_VIOLATION
    }
}

fn sweep(
    sc: Scenario,
    seeds: &[u64],
    jobs: usize,
    check_determinism: bool,
    faults: FaultProfile,
) -> Row {
    let bar = indicatif::ProgressBar::new(seeds.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix:>24} [{bar:30}] {pos}/{len} seeds {per_sec}",
        )
        .expect("invariant: the progress template is valid")
        .progress_chars("=> "),
    );
    bar.set_prefix(sc.name);
    #[allow(clippy::disallowed_methods, clippy::disallowed_types)]
    let started = std::time::Instant::now(); // det-ok: wall time only for the seeds/s column
    let outcome = Sweep {
        jobs,
        faults,
        check_determinism,
        stop_on: None,
    }
    .run(&sc, seeds, &|| bar.inc(1));
    bar.finish_and_clear();
    Row {
        scenario: sc,
        seeds: outcome.seeds_run,
        failing: outcome.failing,
        seconds: started.elapsed().as_secs_f64(),
        faults,
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<24} {:<34} {:>6} {:>10} {:>12} {:>9}  result",
        "scenario", "expectation", "seeds", "violating", "first seed", "seeds/s"
    );
    for r in rows {
        let first = r
            .failing
            .first()
            .map_or("-".to_string(), |f| f.seed.to_string());
        println!(
            "{:<24} {:<34} {:>6} {:>10} {:>12} {:>9.1}  {}",
            r.scenario.name,
            r.scenario.expectation.to_string(),
            r.seeds,
            r.failing.len(),
            first,
            r.seeds as f64 / r.seconds.max(1e-9),
            if r.met() { "ok" } else { "MISSED" }
        );
    }
    for r in rows.iter().filter(|r| !r.met()) {
        match r.failing.first() {
            Some(f) => {
                println!("\n{}: seed {} violated:", r.scenario.name, f.seed);
                if !f.faults.is_empty() {
                    println!("  faults: {}", f.faults.join("; "));
                }
                for v in &f.violations {
                    println!("  {v}");
                }
                println!(
                    "  replay: {}",
                    replay_command(r.scenario.name, f.seed, r.faults)
                );
            }
            None => println!(
                "\n{}: expected to be {} but no seed was caught",
                r.scenario.name, r.scenario.expectation
            ),
        }
    }
}
