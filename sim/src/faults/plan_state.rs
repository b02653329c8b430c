//! The fault-plan state of a world: a plan installed by the scenario or the harness
//! ([`World::set_fault_plan`], [`World::override_fault_plan`]), checked against the world, and
//! the faults of a run read back as a plan ([`World::current_plan`], [`World::run_plan`],
//! [`World::fault_plan`]).

use crate::apiserver::faults::{ReplicaFaults, Targets};
use crate::plan::{targeted::Armed, ApiFaults, FaultPlan, PlanError, Timed};
use crate::world::World;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What the world knows of fault plans ([`crate::plan`]).
#[derive(Default)]
pub(crate) struct PlanState {
    /// A plan that replaces every fault the scenario schedules or draws
    /// ([`World::override_fault_plan`]); taken when installed.
    pub(crate) pending_override: Option<FaultPlan>,
    /// An override was set: the scenario's own [`World::schedule`] and
    /// [`World::set_fault_plan`] calls are ignored.
    pub(crate) overridden: bool,
    /// The plan installed (by the scenario or as the override), checked against the world's
    /// hosts when the run starts.
    pub(crate) installed: Option<FaultPlan>,
    /// Targeted faults armed for the run.
    pub(crate) targeted: Option<Arc<Armed>>,
    /// BUGGIFY points the plan enables (`None`: the seed decides).
    pub(crate) buggify: Option<BTreeSet<String>>,
    /// The plan as the run started ([`World::run`]).
    pub(crate) started: Option<FaultPlan>,
    /// BUGGIFY points the run enabled (reached and switched on).
    pub(crate) buggify_enabled: BTreeSet<String>,
}

impl World {
    /// Runs `plan`'s faults: its timed faults replace those scheduled so far, its API rates
    /// replace what the replicas inject, its targeted faults are armed, its BUGGIFY points are
    /// the only ones on, and its heal time (else its last timed fault's) becomes the run's. For a
    /// scenario's setup; the library's fault drawer is then not used. The plan's hosts and
    /// resources are checked when the run starts (an unknown one fails the run).
    ///
    /// When the harness runs a plan of its own ([`World::override_fault_plan`]: `--plan`,
    /// shrinking), that plan is installed here instead.
    pub fn set_fault_plan(&mut self, plan: FaultPlan) {
        if let Some(over) = self.faults.plan.pending_override.take() {
            self.install_plan(over, true);
        } else if !self.faults.plan.overridden {
            self.install_plan(plan, true);
        }
    }

    /// Makes `plan` replace every fault the scenario would schedule or draw (call before the
    /// scenario's setup). The setup still makes all its seeded draws, so the run's other choices
    /// stay the seed's; [`World::schedule`] becomes a no-op, and the plan is installed by
    /// [`World::install_fault_plan_override`] after the setup (or where the setup calls
    /// [`World::set_fault_plan`]).
    pub fn override_fault_plan(&mut self, plan: FaultPlan) {
        self.faults.plan.pending_override = Some(plan);
        self.faults.plan.overridden = true;
    }

    /// Installs the override plan if the setup has not, then checks the installed plan against
    /// the world: its hosts exist, its resources are served.
    pub fn install_fault_plan_override(&mut self) -> Result<(), PlanError> {
        if let Some(over) = self.faults.plan.pending_override.take() {
            self.install_plan(over, false);
        }
        self.check_fault_plan()
    }

    /// Checks the installed plan (if any) against the world's hosts and resources.
    pub fn check_fault_plan(&self) -> Result<(), PlanError> {
        let Some(plan) = &self.faults.plan.installed else {
            return Ok(());
        };
        let resources: Vec<String> = self
            .cluster
            .state()
            .types()
            .map(|t| t.short_name())
            .collect();
        plan.check_world(&self.host_names(), &resources)
    }

    /// Installs `plan`; `in_setup`: the scenario's setup installs it, and a plan without a heal
    /// time heals at its last timed fault (so the library drawer stays out).
    fn install_plan(&mut self, plan: FaultPlan, in_setup: bool) {
        self.faults.schedule.clear();
        for t in &plan.timed {
            self.faults.schedule.insert(t.at, t.action.clone());
        }
        let current = self.cluster.replica_faults();
        let seed = match current.seed {
            0 => self.seed() ^ 0x706c_616e_2d61_7069,
            s => s,
        };
        let mut api = match &plan.api {
            Some(a) => a.to_replica_faults(seed),
            None => ReplicaFaults {
                seed: current.seed,
                ..Default::default()
            },
        };
        let rates = |f: &ReplicaFaults| {
            let mut f = f.clone();
            f.targeted = None;
            f
        };
        let same = (api.is_none() && current.is_none()) || rates(&api) == rates(&current);
        if !same {
            let text = if api.is_none() {
                "plan: api faults off".to_string()
            } else {
                format!("plan: {}", api.describe())
            };
            self.recorder
                .record("sim", kubesim_model::EventKind::Fault { text });
            self.faults.api_faults = (!api.is_none()).then(|| api.describe());
        }
        self.faults.plan.targeted =
            (!plan.targeted.is_empty()).then(|| Arc::new(Armed::new(plan.targeted.clone())));
        api.targeted = self.faults.plan.targeted.clone().map(Targets);
        self.cluster.set_replica_faults(api);
        self.faults.plan.buggify = plan.buggify.clone();
        let last = plan.timed.last().map(|t| t.at).unwrap_or_default();
        self.faults.heal_at = plan.heal_at.or(self.faults.heal_at);
        if in_setup && self.faults.heal_at.is_none() {
            self.faults.heal_at = Some(last);
        }
        self.faults.plan.installed = Some(plan);
    }

    /// The faults of the run as a plan: what is scheduled, what the replicas inject, the
    /// targeted faults armed, the BUGGIFY points chosen.
    pub fn current_plan(&self) -> FaultPlan {
        FaultPlan {
            scenario: None,
            seed: Some(self.seed()),
            heal_at: self.faults.heal_at,
            timed: self
                .faults
                .schedule
                .iter()
                .map(|(at, action)| Timed {
                    at: *at,
                    action: action.clone(),
                })
                .collect(),
            api: ApiFaults::from_replica_faults(&self.cluster.replica_faults()),
            targeted: self
                .faults
                .plan
                .targeted
                .as_ref()
                .map(|a| a.entries().to_vec())
                .unwrap_or_default(),
            buggify: self.faults.plan.buggify.clone(),
        }
    }

    /// After [`World::run`]: the plan the run started with, with the BUGGIFY points it enabled
    /// (when the seed chose them), so that running it as an override repeats the run.
    pub fn run_plan(&self) -> Option<FaultPlan> {
        let mut plan = self.faults.plan.started.clone()?;
        if plan.buggify.is_none() && !self.faults.plan.buggify_enabled.is_empty() {
            plan.buggify = Some(self.faults.plan.buggify_enabled.clone());
        }
        Some(plan)
    }

    /// The scheduled faults not yet applied, as `<time> <fault>` lines (the drawn plan, printed
    /// with the seed so a report is self-contained).
    pub fn fault_plan(&self) -> Vec<String> {
        let api = self
            .faults
            .api_faults
            .iter()
            .map(|t| format!("0.000s fault {t}"));
        let targeted = self.faults.plan.targeted.iter().flat_map(|a| {
            a.entries()
                .iter()
                .map(|t| format!("targeted {}", t.describe()))
        });
        let buggify = self.faults.plan.buggify.iter().map(|points| {
            let list: Vec<&str> = points.iter().map(String::as_str).collect();
            format!("buggify [{}]", list.join(", "))
        });
        api.chain(self.faults.schedule.iter().map(|(t, a)| {
            format!(
                "{}.{:03}s {} {}",
                t.as_secs(),
                t.subsec_millis(),
                a.kind(),
                a.text()
            )
        }))
        .chain(targeted)
        .chain(buggify)
        .collect()
    }
}
