//! Determinism for code kubesim does not control: unmodified kube-runtime, users' own crates.
//!
//! kubesim's own code follows the rules of docs/design.md. Third-party code draws its own randomness
//! and reads the machine's clock: kube-runtime's scheduler keeps a std `HashSet` (iterated),
//! its `FutureHashMap` polls reconciles in std `HashMap` order, its reflector store is an
//! `AHashMap`, backon's jitter comes from fastrand, and the event `Recorder` names events from
//! `SystemTime::now()` and the machine's host name. A [`Guard`] makes all of it follow the seed:
//!
//! - **OS entropy and the real-time clock** (std's per-thread `RandomState` keys, the getrandom
//!   crate, `SystemTime::now`, `gethostname`): the `kubesim-interpose` crate defines those libc
//!   symbols; inside the guard's scope they draw from a stream seeded by the run's seed, read
//!   simulated time and return `kubesim`, and a real `connect` is refused and reported.
//! - **std's `RandomState`**: its keys are drawn once per thread, then each new `RandomState`
//!   adds one, so they are the seed's only on a thread that has not used them before. The guard
//!   probes this (it creates a `RandomState` and requires that the draw went through the scope)
//!   and refuses a reused thread; [`isolated`] runs a closure on a fresh thread, and every runner
//!   of kubesim ([`crate::run`], [`crate::check()`], [`crate::sweep`], the CLI) runs each seed on
//!   its own thread, as madsim does.
//! - **ahash** (kube-runtime's reflector store): its two process-wide keys are pinned from a
//!   constant stream at the first world of the process, and the per-map part comes from a
//!   thread-local counter reset from the seed at each world.
//! - **fastrand** (backon's jitter in kube-runtime's watcher and controller backoffs): the
//!   thread's generator is seeded from the seed.
//! - **tokio**: turmoil seeds each host's runtime (`select!` order) only when tokio is built with
//!   `--cfg tokio_unstable`; the guard refuses to run without it.
//!
//! Not covered (documented in the README): hashbrown/foldhash default hashers are seeded from
//! addresses (kube-runtime only looks keys up in them, never iterates), and tokio task ids come
//! from a process-wide counter (kubesim keeps socket-owning tasks on a `LocalSet`).

use kubesim_interpose::Scope;
use std::cell::Cell;
// det-ok: the probe that std's per-thread hash keys were drawn inside the scope.
#[allow(clippy::disallowed_types)]
use std::collections::hash_map::RandomState;
use std::sync::OnceLock;
use std::time::Duration;

/// Why a world cannot run deterministically here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// tokio (and so turmoil) was built without `--cfg tokio_unstable`.
    #[error(
        "kubesim needs tokio built with `--cfg tokio_unstable` (without it turmoil cannot seed each host's \
         runtime and `tokio::select!` picks branches at random). Add to .cargo/config.toml of your \
         workspace:\n    [build]\n    rustflags = [\"--cfg\", \"tokio_unstable\"]\n\
         (a RUSTFLAGS environment variable replaces that setting: include `--cfg tokio_unstable` in it too)"
    )]
    MissingTokioUnstable,
    /// The binary does not export kubesim-interpose's `getrandom`.
    #[error(
        "kubesim's libc interposition is not active in this binary (dlsym does not find its \
         `getrandom`), so std's hash keys and SystemTime would come from the machine; do not strip \
         dynamic symbols or link with a version script that hides them"
    )]
    NotInterposed,
    /// This thread drew std's hash keys before the world was built.
    #[error(
        "this thread already used std's RandomState (a HashMap or a previous world) before this \
         World was built, so HashMaps in kube-runtime and your code would iterate in an order the \
         seed does not decide. Build each World on a fresh thread: wrap the test body in \
         `kubesim::isolated(|| ...)`, or run seeds through `kubesim::check` / `Sweep`, which do"
    )]
    ThreadReused,
    /// ahash was used in this process before the first world.
    #[error(
        "ahash (kube-runtime's reflector store) was used in this process before the first kubesim \
         World, so its process-wide keys came from the machine; build a World (or call \
         `kubesim::determinism::prepare()`) before creating reflector stores outside a simulation"
    )]
    AhashSeededElsewhere,
}

/// Seed of the constant stream that pins process-wide keys (ahash's).
const PROCESS_KEYS_SEED: u64 = 0x6b75_6265_7369_6d01;
/// Mixed into the run's seed for the interposed entropy stream.
const ENTROPY_SALT: u64 = 0x656e_7472_6f70_7901;
/// Mixed into the run's seed for fastrand's thread generator.
const FASTRAND_SALT: u64 = 0x6661_7374_7261_6e64;
/// Mixed into the run's seed for ahash's per-map counter.
const AHASH_SALT: u64 = 0x6168_6173_6800_0001;

thread_local! {
    /// ahash's per-map seed source on this thread.
    static AHASH_COUNTER: Cell<u64> = const { Cell::new(0) };
}

/// ahash's per-`RandomState` seeds: a counter on the thread, reset from the seed by each world.
struct SeededAhashSource;

impl ahash::random_state::RandomSource for SeededAhashSource {
    fn gen_hasher_seed(&self) -> usize {
        AHASH_COUNTER.with(|c| {
            let next = c.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
            c.set(next);
            next as usize
        })
    }
}

/// The real-time clock inside a run: the current host's simulated time since the Unix epoch
/// (turmoil's, whose epoch kubesim fixes), or the epoch itself between steps.
fn simulated_realtime() -> Duration {
    turmoil::since_epoch().unwrap_or_else(|| {
        crate::clock::epoch()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    })
}

/// Pins the process-wide state a run depends on, once per process (ahash's keys). Idempotent;
/// called by every world, and callable first by a process that uses kube-runtime's reflector
/// stores outside a simulation before its first world.
pub fn prepare() -> Result<(), SetupError> {
    static PREPARED: OnceLock<Result<(), SetupError>> = OnceLock::new();
    PREPARED
        .get_or_init(|| {
            if !kubesim_interpose::linked() {
                return Err(SetupError::NotInterposed);
            }
            if ahash::random_state::set_random_source(SeededAhashSource).is_err() {
                return Err(SetupError::AhashSeededElsewhere);
            }
            let _scope = Scope::enter(PROCESS_KEYS_SEED, simulated_realtime);
            let draws = Scope::entropy_draws();
            let _ = ahash::RandomState::new();
            if Scope::entropy_draws() == draws {
                return Err(SetupError::AhashSeededElsewhere);
            }
            Ok(())
        })
        .clone()
}

/// Whether this build can run worlds deterministically at all (`--cfg tokio_unstable`), checked
/// before a sweep starts so it stops at once with the fix instead of failing every seed.
pub fn build_check() -> Result<(), SetupError> {
    if cfg!(tokio_unstable) {
        Ok(())
    } else {
        Err(SetupError::MissingTokioUnstable)
    }
}

/// While alive, third-party randomness and the real-time clock on this thread follow the seed.
#[must_use = "determinism holds while the guard lives"]
pub struct Guard {
    _scope: Scope,
}

impl Guard {
    /// Enters the seed's scope on this thread, after checking the build and the thread.
    pub fn enter(seed: u64) -> Result<Self, SetupError> {
        if !cfg!(tokio_unstable) {
            return Err(SetupError::MissingTokioUnstable);
        }
        prepare()?;
        let scope = Scope::enter(seed ^ ENTROPY_SALT, simulated_realtime);
        let draws = Scope::entropy_draws();
        // The first RandomState on a thread draws its keys; on a reused thread it draws nothing.
        #[allow(clippy::disallowed_types)]
        let _ = RandomState::new();
        if Scope::entropy_draws() == draws {
            return Err(SetupError::ThreadReused);
        }
        fastrand::seed(seed ^ FASTRAND_SALT);
        AHASH_COUNTER.with(|c| c.set(seed ^ AHASH_SALT));
        Ok(Self { _scope: scope })
    }

    /// Real-network connects refused on this thread so far (a host that built a client for a
    /// real cluster inside the simulation).
    pub fn real_connects(&self) -> u64 {
        Scope::real_connects()
    }
}

/// Runs `f` on a fresh thread (named as the calling thread, so test names in reports stay
/// right) and returns its result; a panic in `f` is resumed on the caller. Each world needs a
/// thread of its own (see the module doc): `kubesim::isolated(|| { let mut w = World::new(..); .. })`.
pub fn isolated<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let mut builder = std::thread::Builder::new().stack_size(16 << 20);
    if let Some(name) = std::thread::current().name() {
        builder = builder.name(name.to_string());
    }
    // det-ok: the thread runs one simulation start to finish; it exists to get fresh std hash keys.
    std::thread::scope(|scope| {
        let handle = builder
            .spawn_scoped(scope, f)
            .expect("the OS can start a simulation thread");
        match handle.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
