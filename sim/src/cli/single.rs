//! `kubesim run` and `kubesim replay`: one seed, its history, its verdict. `--plan FILE` runs a
//! fault plan instead of the faults the seed draws; `--print-plan [FILE]` writes the plan the run
//! ran (to stdout without a FILE: then the history is left out and the verdict goes to stderr).

use super::{parse_seed, scenario, EXIT_OK, EXIT_USAGE, EXIT_VIOLATION};
use clap::Args;
use kubesim::faults::FaultProfile;
use kubesim::history;
use kubesim::plan::FaultPlan;
use kubesim::run::{self, RunReport};
use kubesim::scenario::Scenario;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The fault plan flags `run` and `replay` share.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Run the faults of this plan file (JSON, or YAML for .yaml/.yml) instead of those the
    /// seed draws; the seed still decides everything else.
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Write the run's fault plan as JSON (YAML for .yaml/.yml) to FILE, or to stdout without a
    /// FILE (the history is then not printed and the verdict goes to stderr).
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    print_plan: Option<PathBuf>,
}

impl PlanArgs {
    fn to_stdout(&self) -> bool {
        self.print_plan.as_deref() == Some(Path::new("-"))
    }
}

/// Loads `--plan`, with a note when it was drawn for another scenario or seed.
pub(super) fn load_plan(
    a: &PlanArgs,
    scenario: &str,
    seed: u64,
) -> Result<Option<FaultPlan>, String> {
    let Some(path) = &a.plan else {
        return Ok(None);
    };
    let plan = FaultPlan::load(path).map_err(|e| e.to_string())?;
    if plan.scenario.as_deref().is_some_and(|s| s != scenario) {
        eprintln!(
            "note: {} was written for scenario {}",
            path.display(),
            plan.scenario.as_deref().unwrap_or_default()
        );
    }
    if plan.seed.is_some_and(|s| s != seed) {
        eprintln!(
            "note: {} was drawn with seed {}; its faults run with seed {seed}'s other choices",
            path.display(),
            plan.seed.unwrap_or_default()
        );
    }
    Ok(Some(plan))
}

/// One run, with the plan when given; a plan that does not fit the world is a usage error.
/// The scenario `name`, the plan of `plan_args` and the first run of `seed`: what `run` and
/// `replay` begin with; an `Err` is a usage error.
fn start(
    name: &str,
    plan_args: &PlanArgs,
    seed: u64,
    faults: FaultProfile,
) -> Result<(Scenario, Option<FaultPlan>, RunReport), String> {
    let sc = scenario(name)?;
    let plan = load_plan(plan_args, sc.name, seed)?;
    let report = run_one(&sc, seed, faults, plan.as_ref())?;
    Ok((sc, plan, report))
}

fn run_one(
    sc: &Scenario,
    seed: u64,
    faults: FaultProfile,
    plan: Option<&FaultPlan>,
) -> Result<RunReport, String> {
    match plan {
        None => Ok(run::run_with(sc, seed, true, faults)),
        Some(p) => run::run_with_plan(sc, seed, true, faults, p).map_err(|e| e.to_string()),
    }
}

/// Writes the report's plan where `--print-plan` says.
fn print_plan(a: &PlanArgs, report: &RunReport) -> Result<(), String> {
    let Some(path) = &a.print_plan else {
        return Ok(());
    };
    let plan = report
        .plan
        .as_ref()
        .ok_or("the run drew no fault plan (its world could not be built)")?;
    if a.to_stdout() {
        print!("{}", plan.to_json());
        return Ok(());
    }
    plan.save(path).map_err(|e| e.to_string())?;
    eprintln!("wrote the fault plan to {}", path.display());
    Ok(())
}

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
    /// Also write the history as one self-contained HTML page (lanes per host, filters,
    /// the violation selected) to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Run the seed twice and fail (exit 1) if the histories differ, naming the first differing line.
    #[arg(long)]
    check_determinism: bool,
    #[command(flatten)]
    plan: PlanArgs,
}

/// Arguments of `kubesim replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Scenario name (see `kubesim list`).
    pub(super) scenario: String,
    /// The seed to replay (decimal or 0x hex).
    #[arg(long, value_parser = parse_seed)]
    pub(super) seed: u64,
    /// Fault profile of the run being replayed.
    #[arg(long, default_value = "swarm")]
    pub(super) faults: FaultProfile,
    /// Print every history line (default: the last 40 lines and the verdict).
    #[arg(long)]
    pub(super) trace: bool,
    /// Stop printing after the event with this id (with --serve: stop the run there).
    #[arg(long, value_name = "ID")]
    pub(super) until: Option<u64>,
    /// Serve the API server's state at --until's event (or at the end) on ADDR (for example
    /// 127.0.0.1:8001; port 0 picks a free one) for kubectl, until interrupted.
    #[arg(long, value_name = "ADDR")]
    pub(super) serve: Option<SocketAddr>,
    /// With --serve: where to write the kubeconfig (default: in the temp directory).
    #[arg(long, value_name = "FILE", requires = "serve")]
    pub(super) kubeconfig: Option<PathBuf>,
    /// Also write the history as one self-contained HTML page (lanes per host, filters,
    /// the violation selected) to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "serve")]
    pub(super) html: Option<PathBuf>,
    #[command(flatten)]
    pub(super) plan: PlanArgs,
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

/// [`replay_command`] for a run of the plan in `plan`.
pub fn replay_command_with(
    scenario: &str,
    seed: u64,
    faults: FaultProfile,
    plan: Option<&Path>,
) -> String {
    match plan {
        None => replay_command(scenario, seed, faults),
        Some(p) => format!(
            "kubesim replay {scenario} --seed {seed} --plan {} --trace",
            p.display()
        ),
    }
}

/// Writes the HTML picture of `report` to `path` (`--html`).
fn write_html(path: &Path, report: &RunReport) -> Result<(), String> {
    let title = format!("{} seed {}", report.scenario, report.seed);
    let page = kubesim::picture::render(&title, &report.events, &report.violations);
    std::fs::write(path, page)
        .map_err(|e| format!("cannot write the HTML picture to {}: {e}", path.display()))?;
    eprintln!("wrote the history picture to {}", path.display());
    Ok(())
}

/// Prints the verdict (to stderr when stdout carries the plan); returns the exit code.
fn verdict(report: &RunReport, faults: FaultProfile, plan: &PlanArgs) -> u8 {
    let mut out = String::new();
    let code = verdict_text(report, faults, plan.plan.as_deref(), &mut out);
    if plan.to_stdout() {
        eprint!("{out}");
    } else {
        print!("{out}");
    }
    code
}

fn verdict_text(
    report: &RunReport,
    faults: FaultProfile,
    plan: Option<&Path>,
    out: &mut String,
) -> u8 {
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!(
        "scenario {} seed {}: {} events, {:.3}s simulated, history hash {:016x}",
        report.scenario,
        report.seed,
        report.event_count,
        report.sim_time_us as f64 / 1e6,
        report.hash
    ));
    let source = match plan {
        Some(p) => format!("plan {}", p.display()),
        None => format!("{faults:?}"),
    };
    if report.faults.is_empty() {
        line(format!("faults ({source}): none"));
    } else {
        line(format!("faults ({source}): {}", report.faults.join("; ")));
    }
    if report.held() {
        line("held".into());
        return EXIT_OK;
    }
    for v in &report.violations {
        line(format!("VIOLATION {v}"));
    }
    line(format!(
        "replay: {}",
        replay_command_with(report.scenario, report.seed, faults, plan)
    ));
    EXIT_VIOLATION
}

/// `kubesim run`.
pub fn run(a: RunArgs) -> u8 {
    let (sc, plan, report) = match start(&a.scenario, &a.plan, a.seed, a.faults) {
        Ok(started) => started,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if a.check_determinism {
        let again = match run_one(&sc, a.seed, a.faults, plan.as_ref()) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        };
        if let Some(d) = run::divergence(a.seed, &report, &again) {
            eprintln!("determinism check failed: {d}");
            return EXIT_VIOLATION;
        }
    }
    if let Err(e) = print_plan(&a.plan, &report) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    if a.plan.to_stdout() {
        // stdout carries the plan alone.
    } else if a.json {
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
    if let Some(path) = &a.html {
        if let Err(e) = write_html(path, &report) {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    }
    if a.check_determinism {
        if a.plan.to_stdout() {
            eprintln!("determinism: two runs, identical histories");
        } else {
            println!("determinism: two runs, identical histories");
        }
    }
    verdict(&report, a.faults, &a.plan)
}

/// `kubesim replay`.
pub fn replay(a: ReplayArgs) -> u8 {
    if let Some(addr) = a.serve {
        return super::serve::serve(&a, addr);
    }
    let (_, _, report) = match start(&a.scenario, &a.plan, a.seed, a.faults) {
        Ok(started) => started,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if let Err(e) = print_plan(&a.plan, &report) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    if let Some(path) = &a.html {
        if let Err(e) = write_html(path, &report) {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    }
    if a.plan.to_stdout() {
        return verdict(&report, a.faults, &a.plan);
    }
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
    verdict(&report, a.faults, &a.plan)
}
