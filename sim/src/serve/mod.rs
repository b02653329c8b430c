//! A stopped run on a real port: `kubesim replay SCENARIO --seed N --until ID --serve ADDR`.
//!
//! The run is replayed up to history event `ID` ([`stop::stop_at`]), storage is rewound to the
//! last commit at or before that event, and the API server's HTTP front serves it on a real
//! localhost port ([`server::serve`]) with a kubeconfig for it ([`kubeconfig`]), so kubectl (or
//! any client) can look at the cluster as it was at that moment: `kubectl get pods -A`,
//! `kubectl get widgets -o yaml`, `kubectl describe`, and watches that resume from the run's
//! stored history (`--raw '/api/v1/pods?watch=1&resourceVersion=R'`).
//!
//! - [`stop`]: running a seed up to an event and rewinding storage to it.
//! - [`server`]: the listener, on a single-threaded runtime, outside the simulation.
//! - [`kubeconfig`]: the kubeconfig file that points kubectl at it.

pub mod kubeconfig;
pub mod server;
pub mod stop;

pub use stop::{stop_at, StopError, Stopped};
