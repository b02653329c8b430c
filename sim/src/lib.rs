//! # kubesim
//!
//! Deterministic simulation testing for Kubernetes controllers.
//!
//! - [`api`]: the API server core, a pure state machine with Kubernetes REST semantics.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
