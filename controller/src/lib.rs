//! # kubesim-controller
//!
//! A controller runtime for kube-rs with client-go semantics. It never depends on the simulator:
//! it reads time through `tokio::time` and takes randomness from an RNG it is given, so the same
//! code runs on a real cluster and inside kubesim.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
