//! The interposed functions follow a scope on its own thread, and libc outside one.
// These tests exercise exactly what clippy.toml bans elsewhere: std hash keys, the wall clock and
// OS threads, which the interposition must make follow a scope.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use kubesim_interpose::Scope;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn sim_clock() -> Duration {
    Duration::from_secs(1_700_000_000) + Duration::from_millis(1_234)
}

/// What a fresh thread's std hash keys and first entropy draws look like under `seed`.
fn fresh_thread_fingerprint(seed: u64) -> (u64, u64, Vec<u8>) {
    std::thread::spawn(move || {
        let _scope = Scope::enter(seed, sim_clock);
        let draws = Scope::entropy_draws();
        let a = RandomState::new().hash_one(42u64);
        assert_eq!(
            Scope::entropy_draws(),
            draws + 1,
            "std drew its per-thread hash keys through the interposed getrandom"
        );
        let b = RandomState::new().hash_one(42u64);
        let mut bytes = vec![0u8; 16];
        getrandom::fill(&mut bytes).expect("getrandom inside a scope");
        (a, b, bytes)
    })
    .join()
    .expect("thread")
}

#[test]
fn the_dynamic_linker_finds_the_interposed_getrandom() {
    assert!(kubesim_interpose::linked());
}

#[test]
fn std_hash_keys_and_getrandom_follow_the_seed_on_fresh_threads() {
    let first = fresh_thread_fingerprint(7);
    assert_eq!(first, fresh_thread_fingerprint(7));
    assert_ne!(first, fresh_thread_fingerprint(8));
    assert_ne!(
        first.0, first.1,
        "each RandomState on a thread still differs"
    );
}

#[test]
fn the_real_time_clock_reads_the_scope_clock_and_libc_outside() {
    std::thread::spawn(|| {
        {
            let _scope = Scope::enter(1, sim_clock);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("after epoch");
            assert_eq!(now, sim_clock());
        }
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after epoch");
        assert!(
            real > Duration::from_secs(1_750_000_000),
            "outside a scope: the machine's clock"
        );
    })
    .join()
    .expect("thread");
}

#[test]
fn a_scope_is_per_thread_and_ends_with_its_guard() {
    let _scope = Scope::enter(3, sim_clock);
    std::thread::spawn(|| {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after epoch");
        assert_ne!(real, sim_clock(), "another thread is not in the scope");
    })
    .join()
    .expect("thread");
}

#[test]
fn the_host_name_is_fixed_inside_a_scope() {
    std::thread::spawn(|| {
        let _scope = Scope::enter(3, sim_clock);
        let mut buf = [0u8; 64];
        // SAFETY: a valid buffer of the length given.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        assert_eq!(rc, 0);
        let name = std::ffi::CStr::from_bytes_until_nul(&buf).expect("NUL");
        assert_eq!(name.to_str().expect("utf-8"), "kubesim");
    })
    .join()
    .expect("thread");
}

#[test]
fn a_real_network_connect_inside_a_scope_is_refused_and_counted() {
    std::thread::spawn(|| {
        let _scope = Scope::enter(3, sim_clock);
        let before = Scope::real_connects();
        let err = std::net::TcpStream::connect(("127.0.0.1", 9)).expect_err("refused");
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
        assert_eq!(Scope::real_connects(), before + 1);
    })
    .join()
    .expect("thread");
}
