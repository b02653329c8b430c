//! Plans as files: JSON or YAML (for `.yaml`/`.yml`), with errors that name the field.

use super::error::malformed;
use super::{FaultPlan, PlanError};
use std::path::Path;

impl FaultPlan {
    /// The plan as pretty JSON (with a final newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("invariant: a plan serializes");
        s.push('\n');
        s
    }

    /// The plan as YAML.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).expect("invariant: a plan serializes")
    }

    /// Reads a plan from JSON, naming the field at fault on error.
    pub fn from_json(text: &str) -> Result<Self, PlanError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let plan: Self = serde_path_to_error::deserialize(&mut de).map_err(malformed)?;
        de.end().map_err(|e| PlanError::Malformed {
            field: "the end of the file".into(),
            message: e.to_string(),
        })?;
        plan.check()?;
        Ok(plan)
    }

    /// Reads a plan from YAML, naming the field at fault on error.
    pub fn from_yaml(text: &str) -> Result<Self, PlanError> {
        let de = serde_yaml_ng::Deserializer::from_str(text);
        let plan: Self = serde_path_to_error::deserialize(de).map_err(malformed)?;
        plan.check()?;
        Ok(plan)
    }

    /// Reads a plan file: YAML when the name ends in `.yaml` or `.yml`, JSON otherwise.
    pub fn load(path: &Path) -> Result<Self, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
            action: "read",
            path: path.display().to_string(),
            source,
        })?;
        if is_yaml(path) {
            Self::from_yaml(&text)
        } else {
            Self::from_json(&text)
        }
    }

    /// Writes the plan to `path`, as YAML when the name ends in `.yaml` or `.yml`, else JSON.
    pub fn save(&self, path: &Path) -> Result<(), PlanError> {
        let text = if is_yaml(path) {
            self.to_yaml()
        } else {
            self.to_json()
        };
        std::fs::write(path, text).map_err(|source| PlanError::Io {
            action: "write",
            path: path.display().to_string(),
            source,
        })
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}
