//! The fault drawer: the faults of the run's profile (none, default, swarm) aimed at the
//! scenario's own controller hosts, drawn from the seed, all healed at the heal time.
//!
//! [`World::draw_faults`] is what the built-in scenarios use and what a user scenario gets by
//! default ([`crate::scenario::Scenario::heal_at`]). Each kind of fault is on or off by the
//! profile ([`FaultProfile::enabled`](super::FaultProfile::enabled): always, never, or a seeded
//! coin under swarm), then its times and targets are drawn:
//!
//! - partitions (1-3) between a controller and an API server replica, 0.5 to 8 s each;
//! - an API server replica crash, restarted 0.2 to 5 s later;
//! - a controller crash, restarted 0.2 to 5 s later;
//! - etcd compactions (1-3);
//! - injected API errors (429, 500, 504, 409 on writes; 1-10% of requests), slow responses
//!   (1-10%, up to 3 s), watch stream drops (1-20% of batches);
//! - a conflict window: 2 to 12 s in which 60-100% of the conditional updates and patches
//!   (those carrying a `resourceVersion`) of one resource (a custom resource of the scenario, or
//!   pods) get a 409, in the second half of the fault
//!   phase, where a controller's last writes of a change usually fall: a swallowed 409 on the
//!   write that matters becomes likely instead of rare.
//!
//! Faults start in the first three quarters of the fault phase, compactions in its first seven
//! eighths; everything is healed at `heal_at`.

use super::FaultAction;
use crate::apiserver::faults::{ConflictWindow, ReplicaFaults};
use crate::world::World;
use kubesim_model::EventKind;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

impl World {
    /// Draws the profile's faults aimed at the controller hosts added so far
    /// ([`World::add_controller`]), all healed at `heal_at`.
    pub fn draw_faults(&mut self, heal_at: Duration) {
        let controllers: Vec<String> = self.controllers().to_vec();
        let refs: Vec<&str> = controllers.iter().map(String::as_str).collect();
        self.draw_faults_at(&refs, heal_at);
    }

    /// Draws the profile's faults aimed at the hosts `controllers`, all healed at `heal_at`.
    pub fn draw_faults_at(&mut self, controllers: &[&str], heal_at: Duration) {
        self.set_heal_at(heal_at);
        draw(self, controllers, heal_at);
    }
}

fn draw(world: &mut World, controllers: &[&str], heal_at: Duration) {
    let mut rng = world.fork_rng();
    let replicas: Vec<String> = world.replicas().to_vec();
    let profile = world.fault_profile();
    let heal_ms = heal_at.as_millis() as u64;
    let (start_max, compact_max) = (heal_ms * 3 / 4, heal_ms * 7 / 8);
    let at =
        |rng: &mut ChaCha8Rng, lo: u64, hi: u64| Duration::from_millis(rng.random_range(lo..hi));
    // With one controller no draw is spent on choosing it (the plan of a seed stays the same).
    let pick = |rng: &mut ChaCha8Rng| -> Option<String> {
        match controllers {
            [] => None,
            [only] => Some(only.to_string()),
            _ => Some(controllers[rng.random_range(0..controllers.len())].to_string()),
        }
    };
    if profile.enabled(&mut rng) {
        for _ in 0..rng.random_range(1..=3) {
            let c = pick(&mut rng);
            let r = replicas[rng.random_range(0..replicas.len())].clone();
            let t = at(&mut rng, 1_000, start_max);
            let d = at(&mut rng, 500, 8_000);
            if let Some(c) = c {
                world.schedule(t, FaultAction::Partition(c.clone(), r.clone()));
                world.schedule((t + d).min(heal_at), FaultAction::Repair(c, r));
            }
        }
    }
    if profile.enabled(&mut rng) {
        let r = replicas[rng.random_range(0..replicas.len())].clone();
        let t = at(&mut rng, 1_000, start_max);
        world.schedule(t, FaultAction::Crash(r.clone()));
        world.schedule(
            (t + at(&mut rng, 200, 5_000)).min(heal_at),
            FaultAction::Restart(r),
        );
    }
    if profile.enabled(&mut rng) {
        let c = pick(&mut rng);
        let t = at(&mut rng, 1_000, start_max);
        let back = (t + at(&mut rng, 200, 5_000)).min(heal_at);
        if let Some(c) = c {
            world.schedule(t, FaultAction::Crash(c.clone()));
            world.schedule(back, FaultAction::Restart(c));
        }
    }
    if profile.enabled(&mut rng) {
        for _ in 0..rng.random_range(1..=3) {
            let t = at(&mut rng, 1_000, compact_max);
            world.schedule(t, FaultAction::Compact);
        }
    }
    let mut api = ReplicaFaults {
        seed: rng.random(),
        // A fault plan's targeted faults, if the setup installed one, stay armed.
        targeted: world.cluster().replica_faults().targeted,
        ..ReplicaFaults::default()
    };
    if profile.enabled(&mut rng) {
        api.error_rate = rng.random_range(0.01..0.1);
    }
    if profile.enabled(&mut rng) {
        api.slow_rate = rng.random_range(0.01..0.1);
        api.slow_max = Duration::from_millis(rng.random_range(100..3_000));
    }
    if profile.enabled(&mut rng) {
        api.watch_drop_rate = rng.random_range(0.01..0.2);
    }
    // Drawn last, so the faults above stay what they were for every seed.
    if profile.enabled(&mut rng) {
        let resources = conflict_targets(world);
        let resource = resources[rng.random_range(0..resources.len())].clone();
        let from = at(&mut rng, heal_ms / 2, heal_ms.max(heal_ms / 2 + 1));
        let until = (from + at(&mut rng, 2_000, 12_000)).min(heal_at);
        api.conflicts = Some(ConflictWindow {
            resource,
            from,
            until,
            rate: rng.random_range(0.6..1.0),
        });
    }
    if !api.is_none() {
        world.recorder().record(
            "sim",
            EventKind::Fault {
                text: api.describe(),
            },
        );
        world.note_api_faults(api.describe());
        world.cluster().set_replica_faults(api);
        world.schedule(heal_at, FaultAction::HealApiFaults);
    }
}

/// What a conflict window may aim at: the scenario's custom resources, and pods.
fn conflict_targets(world: &World) -> Vec<String> {
    let mut out: Vec<String> = world
        .cluster()
        .state()
        .types()
        .filter(|t| !t.strategic_merge_patch)
        .map(|t| t.short_name())
        .collect();
    out.push("pods".to_string());
    out
}
