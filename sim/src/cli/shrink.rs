//! `kubesim shrink`: from a failing seed to the few faults that make it fail (delta debugging
//! over its fault plan, [`kubesim::shrink`]), saved as a plan file with the command that replays it.

use super::{parse_seed, scenario, EXIT_OK, EXIT_USAGE, EXIT_VIOLATION};
use clap::Args;
use kubesim::faults::FaultProfile;
use kubesim::plan::FaultPlan;
use kubesim::shrink::{self, ShrinkError, ShrinkOptions};
use std::path::PathBuf;

/// Arguments of `kubesim shrink`.
#[derive(Debug, Args)]
pub struct ShrinkArgs {
    /// Scenario name (see `kubesim list`).
    scenario: String,
    /// The failing seed (decimal or 0x hex).
    #[arg(long, value_parser = parse_seed)]
    seed: u64,
    /// Fault profile the seed failed under.
    #[arg(long, default_value = "swarm")]
    faults: FaultProfile,
    /// Shrink this plan file instead of the plan the seed draws.
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// The oracle to keep tripping (default: the scenario's expected oracle if the seed trips
    /// it, else the first violation's).
    #[arg(long, value_name = "NAME", value_parser = known_oracle)]
    oracle: Option<String>,
    /// Where to write the shrunk plan (default: shrunk-SCENARIO-SEED.json; YAML for .yaml/.yml).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// At most this many runs.
    #[arg(long, default_value = "500")]
    max_runs: usize,
}

/// An oracle name from the registry, or the list of names.
fn known_oracle(name: &str) -> Result<String, String> {
    use kubesim::oracle::names;
    match names::find(name) {
        Some(e) => Ok(e.name.to_string()),
        None => {
            let all: Vec<&str> = names::REGISTRY.iter().map(|e| e.name).collect();
            Err(format!("unknown oracle; oracles: {}", all.join(", ")))
        }
    }
}

/// `kubesim shrink`. Exit 0 with a shrunk plan written, 1 when the seed has nothing to shrink
/// (it held, or tripped another oracle, or its plan does not replay), 2 on bad usage.
pub fn shrink(a: ShrinkArgs) -> u8 {
    let sc = match scenario(&a.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let plan = match a.plan.as_deref().map(FaultPlan::load).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let opts = ShrinkOptions {
        faults: a.faults,
        oracle: a.oracle.clone(),
        plan,
        max_runs: a.max_runs.max(2),
    };
    #[allow(clippy::disallowed_methods, clippy::disallowed_types)]
    let started = std::time::Instant::now(); // det-ok: wall time of the whole shrink for the report, read by no simulation
    let shrunk = match shrink::shrink_with(&sc, a.seed, opts) {
        Ok(s) => s,
        Err(e @ ShrinkError::Plan(_)) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
        Err(e) => {
            eprintln!("{e}");
            return EXIT_VIOLATION;
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("shrunk-{}-{}.json", sc.name, a.seed)));
    print!("{}", shrunk.plan.to_json());
    println!(
        "scenario {} seed {}: {} still trips; kept {} of {} faults (dropped {}) in {} runs, {seconds:.2} s{}",
        shrunk.scenario,
        shrunk.seed,
        shrunk.oracle,
        shrunk.kept,
        shrunk.drawn,
        shrunk.drawn - shrunk.kept,
        shrunk.runs,
        if shrunk.budget_exhausted {
            " (run budget reached: not minimal)"
        } else {
            ""
        }
    );
    println!("VIOLATION {}", shrunk.violation);
    if let Err(e) = shrunk.plan.save(&out) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    println!("wrote {}", out.display());
    println!(
        "replay: {}",
        shrunk.replay_command(&out.display().to_string())
    );
    EXIT_OK
}
