//! [`Error`]: everything kubesim's library can fail with, one type for `?` in a user's test or
//! tool. Each variant is the typed error of the module that raises it.

/// A kubesim error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A seed that is not a number ([`crate::seed`]).
    #[error(transparent)]
    Seed(#[from] crate::seed::SeedError),
    /// A fault plan that does not parse or does not fit the scenario ([`crate::plan`]).
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    /// This build or thread cannot run a world deterministically ([`crate::determinism`]).
    #[error(transparent)]
    Setup(#[from] crate::determinism::SetupError),
    /// A run that failed: a host's error, or a host that reached for the real network
    /// ([`crate::world::World::run`]).
    #[error(transparent)]
    Run(#[from] crate::world::RunError),
    /// A seed that has nothing to shrink ([`crate::shrink`]).
    #[error(transparent)]
    Shrink(#[from] crate::shrink::ShrinkError),
    /// A run that cannot be stopped and served ([`crate::serve`]).
    #[error(transparent)]
    Stop(#[from] crate::serve::StopError),
    /// Reading or writing a file, or serving on a port.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// `Result` with kubesim's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_errors_convert_into_the_crate_error_with_their_message() {
        fn seed(s: &str) -> Result<u64> {
            Ok(crate::seed::parse(s)?)
        }
        let e = seed("nope").expect_err("not a seed");
        assert!(matches!(e, Error::Seed(_)));
        assert!(e.to_string().starts_with("invalid seed \"nope\""), "{e}");
    }
}
