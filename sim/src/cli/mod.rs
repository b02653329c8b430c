//! Command-line definitions and dispatch.

mod explore;
mod seeds;
mod serve;
mod shrink;
mod single;

use clap::{Parser, Subcommand};
pub use seeds::{parse_seed, SeedRange, Shard};

/// Exit code: everything held or met its expectation.
pub const EXIT_OK: u8 = 0;
/// Exit code: a violation, or a scenario that missed its expectation.
pub const EXIT_VIOLATION: u8 = 1;
/// Exit code: bad usage or input.
pub const EXIT_USAGE: u8 = 2;

/// Deterministic simulation testing for Kubernetes controllers.
#[derive(Debug, Parser)]
#[command(name = "kubesim", version, about)]
pub struct Cli {
    /// How simulated time advances in every world: tick (turmoil's fixed tick, every host
    /// polled each tick) or event (jump to the next event); default: the scenario's setting
    #[arg(long, global = true, value_name = "MODE")]
    time: Option<kubesim::world::TimeMode>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the built-in scenarios: name, expectation, summary.
    List,
    /// Run one seed of a scenario and print its history and hash.
    Run(single::RunArgs),
    /// Sweep many seeds of one or all scenarios and print a table.
    Explore(explore::ExploreArgs),
    /// Rerun one seed with its full history (optionally only up to an event id, and serve the
    /// cluster at that event for kubectl with --serve).
    Replay(single::ReplayArgs),
    /// Shrink a failing seed's fault plan to the faults that still trip the same oracle.
    Shrink(shrink::ShrinkArgs),
}

/// Runs the parsed command; returns the exit code.
pub fn dispatch(cli: Cli) -> u8 {
    kubesim::world::override_time_mode(cli.time);
    match cli.command {
        Command::List => {
            for s in kubesim::scenario::builtins() {
                println!(
                    "{:<24} {:<32} {}",
                    s.name,
                    s.expectation.to_string(),
                    s.summary
                );
            }
            EXIT_OK
        }
        Command::Run(a) => single::run(a),
        Command::Explore(a) => explore::explore(a),
        Command::Replay(a) => single::replay(a),
        Command::Shrink(a) => shrink::shrink(a),
    }
}

/// The built-in scenario `name`, or a usage error listing the names.
pub fn scenario(name: &str) -> Result<kubesim::scenario::Scenario, String> {
    kubesim::scenario::find(name).ok_or_else(|| {
        let names: Vec<&str> = kubesim::scenario::builtins()
            .iter()
            .map(|s| s.name)
            .collect();
        format!(
            "unknown scenario {name:?}; built-in scenarios: {}",
            names.join(", ")
        )
    })
}
