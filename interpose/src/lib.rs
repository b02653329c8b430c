//! # kubesim-interpose
//!
//! The one crate of kubesim that uses `unsafe`: it defines the libc symbols `getrandom`,
//! `getentropy`, `clock_gettime`, `gethostname` and `connect` in the binary it is linked into,
//! so that code kubesim does not control (std's `RandomState`, the `getrandom` crate, ahash,
//! `SystemTime::now`, the `hostname` crate, a `kube::Client` pointed at a real cluster) follows
//! the simulation while a [`Scope`] is active on the calling thread, and behaves exactly as
//! libc's own functions everywhere else.
//!
//! Why it works (the prior art is madsim's `rand.rs` and `time/system_time.rs`):
//! - the static linker binds std's and every Rust crate's calls to `clock_gettime`, `gethostname`
//!   and `connect` to a definition in the executable before libc.so's;
//! - std (`sys/random/linux.rs`), getrandom 0.3/0.4 and so ahash look `getrandom` up at run time
//!   with `dlsym(RTLD_DEFAULT, ..)`, which finds the executable's exported definition first (rustc
//!   exports `#[no_mangle]` functions from executables).
//!
//! Outside a scope every function forwards to libc's definition, found once with
//! `dlsym(RTLD_NEXT, ..)`, or to the raw system call.
//!
//! What a scope changes, on its own thread only:
//! - `getrandom`/`getentropy` fill buffers from a ChaCha12 stream seeded by the scope's seed;
//! - `clock_gettime(CLOCK_REALTIME)` returns the scope's clock (kubesim passes simulated time);
//!   the monotonic clocks are untouched (tokio's paused clock and turmoil keep their own time);
//! - `gethostname` returns `kubesim`;
//! - `connect` on an IPv4/IPv6 socket fails with `EACCES` and is counted
//!   ([`Scope::real_connects`]): a simulated host must not reach the real network.
//!
//! [`Scope::entropy_draws`] counts the `getrandom`/`getentropy` calls a scope served, which is how
//! kubesim tells whether std's per-thread hash keys were drawn inside the scope.

mod ffi;
mod scope;

pub use scope::{linked, Clock, Scope};
