//! `kubesim run` and `kubesim replay`: one seed, its history, its verdict.

use super::{parse_seed, scenario, EXIT_OK, EXIT_USAGE, EXIT_VIOLATION};
use clap::Args;
use kubesim::history;
use kubesim::run::{self, RunReport};
use kubesim::world::FaultProfile;
use std::path::PathBuf;

/// Arguments of `kubesim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario name (see `kubesim list`).
    scenario: String,
    /// The seed (decimal or 0x hex).
    #[arg(long, default_value = "0", value_parser = parse_seed)]
    seed: u64,
    /// Fault profile: none, default (every kind on), swarm (the seed draws which kinds are on).
    #[arg(long, default_value = "swarm")]
    faults: FaultProfile,
    /// Also write the history to FILE as JSON Lines.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Print the history as JSON Lines instead of text.
    #[arg(long)]
    json: bool,
    /// Run the seed twice and fail (exit 1) if the histories differ, naming the first differing line.
    #[arg(long)]
    check_determinism: bool,
}

/// Arguments of `kubesim replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Scenario name (see `kubesim list`).
    scenario: String,
    /// The seed to replay (decimal or 0x hex).
    #[arg(long, value_parser = parse_seed)]
    seed: u64,
    /// Fault profile of the run being replayed.
    #[arg(long, default_value = "swarm")]
    faults: FaultProfile,
    /// Print every history line (default: the last 40 lines and the verdict).
    #[arg(long)]
    trace: bool,
    /// Stop printing after the event with this id.
    #[arg(long, value_name = "ID")]
    until: Option<u64>,
}

/// The one-line command that reruns a seed of a built-in scenario.
pub fn replay_command(scenario: &str, seed: u64, faults: FaultProfile) -> String {
    let profile = match faults {
        FaultProfile::Swarm => String::new(),
        FaultProfile::Default => " --faults default".into(),
        FaultProfile::None => " --faults none".into(),
    };
    format!("kubesim replay {scenario} --seed {seed}{profile} --trace")
}

fn verdict(report: &RunReport, faults: FaultProfile) -> u8 {
    println!(
        "scenario {} seed {}: {} events, {:.3}s simulated, history hash {:016x}",
        report.scenario,
        report.seed,
        report.event_count,
        report.sim_time_us as f64 / 1e6,
        report.hash
    );
    if report.faults.is_empty() {
        println!("faults ({faults:?}): none drawn");
    } else {
        println!("faults ({faults:?}): {}", report.faults.join("; "));
    }
    if report.held() {
        println!("held");
        return EXIT_OK;
    }
    for v in &report.violations {
        println!("VIOLATION {v}");
    }
    println!(
        "replay: {}",
        replay_command(report.scenario, report.seed, faults)
    );
    EXIT_VIOLATION
}

/// `kubesim run`.
pub fn run(a: RunArgs) -> u8 {
    let sc = match scenario(&a.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let report = if a.check_determinism {
        match run::check_determinism_with(&sc, a.seed, a.faults) {
            Ok(r) => r,
            Err(d) => {
                eprintln!("determinism check failed: {d}");
                return EXIT_VIOLATION;
            }
        }
    } else {
        run::run_with(&sc, a.seed, true, a.faults)
    };
    if a.json {
        print!("{}", history::to_json_lines(&report.events));
    } else {
        print!("{}", history::to_text(&report.events));
    }
    if let Some(path) = &a.history {
        if let Err(e) = std::fs::write(path, history::to_json_lines(&report.events)) {
            eprintln!("error: cannot write history to {}: {e}", path.display());
            return EXIT_USAGE;
        }
    }
    if a.check_determinism {
        println!("determinism: two runs, identical histories");
    }
    verdict(&report, a.faults)
}

/// `kubesim replay`.
pub fn replay(a: ReplayArgs) -> u8 {
    let sc = match scenario(&a.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let report = run::run_with(&sc, a.seed, true, a.faults);
    let shown: Vec<_> = report
        .events
        .iter()
        .filter(|e| a.until.is_none_or(|u| e.id <= u))
        .cloned()
        .collect();
    let tail = if a.trace {
        0
    } else {
        shown.len().saturating_sub(40)
    };
    if tail > 0 {
        println!("... {tail} earlier events (use --trace for all)");
    }
    print!("{}", history::to_text(&shown[tail..]));
    verdict(&report, a.faults)
}
