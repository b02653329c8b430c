//! [`PlanError`]: a plan that cannot be read or run, naming the field at fault.

/// A plan that cannot be read or run, naming the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file could not be read or written.
    #[error("cannot {action} plan file {path}: {source}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not a plan: bad syntax, an unknown field or fault, a bad value.
    #[error("bad fault plan: at {field}: {message}")]
    Malformed {
        /// serde's path to the field (`timed[3].fault`, `targeted[0].match.verb`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The plan does not fit the world it is run in (an unknown host or resource).
    #[error("bad fault plan: at {field}: {message}")]
    Invalid {
        /// The field (`timed[2].host`, `targeted[0].match.resource`).
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl PlanError {
    /// The field the error names.
    pub fn field(&self) -> &str {
        match self {
            Self::Io { path, .. } => path,
            Self::Malformed { field, .. } | Self::Invalid { field, .. } => field,
        }
    }

    pub(super) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

pub(super) fn malformed<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> PlanError {
    let path = e.path().to_string();
    PlanError::Malformed {
        field: if path == "." {
            "the top level".into()
        } else {
            path
        },
        message: e.into_inner().to_string(),
    }
}
