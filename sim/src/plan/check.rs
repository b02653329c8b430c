//! Checking a plan: on its own (rates, windows, BUGGIFY points) and against a world (hosts and
//! resources that exist).

use super::{FaultPlan, PlanError};
use crate::faults::FaultAction;
use std::collections::BTreeSet;

impl FaultPlan {
    /// Checks what can be checked without a world: rates are probabilities, windows end after
    /// they start, BUGGIFY points are `file:line`.
    pub fn check(&self) -> Result<(), PlanError> {
        if let Some(api) = &self.api {
            for (name, rate) in [
                ("error_rate", api.error_rate),
                ("slow_rate", api.slow_rate),
                ("watch_drop_rate", api.watch_drop_rate),
            ] {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(PlanError::invalid(
                        format!("api.{name}"),
                        format!("{rate} is not a probability in 0..=1"),
                    ));
                }
            }
            if let Some(c) = &api.conflicts {
                if !(0.0..=1.0).contains(&c.rate) {
                    return Err(PlanError::invalid(
                        "api.conflicts.rate",
                        format!("{} is not a probability in 0..=1", c.rate),
                    ));
                }
                if c.until < c.from {
                    return Err(PlanError::invalid(
                        "api.conflicts.until",
                        "the window ends before it starts",
                    ));
                }
            }
        }
        for (i, p) in self.buggify.iter().flatten().enumerate() {
            let ok = p
                .rsplit_once(':')
                .is_some_and(|(f, l)| !f.is_empty() && l.parse::<u32>().is_ok());
            if !ok {
                return Err(PlanError::invalid(
                    format!("buggify[{i}]"),
                    format!("{p:?} is not a fault point: expected file:line"),
                ));
            }
        }
        let sorted = self.timed.windows(2).all(|w| w[0].at <= w[1].at);
        if !sorted {
            let i = self
                .timed
                .windows(2)
                .position(|w| w[0].at > w[1].at)
                .unwrap_or(0);
            return Err(PlanError::invalid(
                format!("timed[{}].at", i + 1),
                "timed faults must be in time order",
            ));
        }
        Ok(())
    }

    /// Checks the plan against a world: every host it names exists, and every resource it names
    /// is served.
    pub fn check_world(
        &self,
        hosts: &BTreeSet<String>,
        resources: &[String],
    ) -> Result<(), PlanError> {
        let known = |field: String, h: &str| {
            if hosts.contains(h) {
                Ok(())
            } else {
                Err(PlanError::invalid(
                    field,
                    format!(
                        "unknown host {h:?}; hosts of this scenario: {}",
                        hosts.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
        };
        let served = |field: &str, r: &str| {
            let ok = resources
                .iter()
                .any(|s| s == r || s.split('.').next() == Some(r));
            if ok {
                Ok(())
            } else {
                Err(PlanError::invalid(
                    field,
                    format!(
                        "unknown resource {r:?}; resources served: {}",
                        resources.join(", ")
                    ),
                ))
            }
        };
        for (i, t) in self.timed.iter().enumerate() {
            let field = match &t.action {
                FaultAction::Partition(..) | FaultAction::Repair(..) => "hosts",
                FaultAction::PartitionOneWay(..) => "from/to",
                _ => "host",
            };
            for h in t.hosts() {
                known(format!("timed[{i}].{field}"), h)?;
            }
        }
        if let Some(c) = self.api.as_ref().and_then(|a| a.conflicts.as_ref()) {
            served("api.conflicts.resource", &c.resource)?;
        }
        for (i, t) in self.targeted.iter().enumerate() {
            if let Some(h) = &t.selector.host {
                known(format!("targeted[{i}].match.host"), h)?;
            }
            if let Some(r) = &t.selector.resource {
                served(&format!("targeted[{i}].match.resource"), r)?;
            }
        }
        Ok(())
    }
}
