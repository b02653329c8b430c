//! The `kubesim` command line: `list`, `run`, `explore`, `replay`, `shrink`. Exit codes: 0 every
//! expectation met, 1 a violation (or a scenario that missed its expectation), 2 bad usage or input.
#![forbid(unsafe_code)]

mod cli;

use clap::Parser;

/// mimalloc instead of glibc's malloc: a run allocates and frees many small JSON trees.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    std::process::ExitCode::from(cli::dispatch(args))
}
