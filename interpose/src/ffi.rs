//! The interposed libc functions. Each forwards to libc's own definition outside a scope.
//!
//! Every function here is called by foreign code with raw pointers, so each is `unsafe extern
//! "C"` and must never unwind: nothing below panics (thread-local access uses `try_with`, the
//! scope's RNG is borrowed with `try_borrow_mut`).

use crate::scope;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Looks up libc's definition of `name` (the next one after this executable), once.
fn next(slot: &AtomicUsize, name: &std::ffi::CStr) -> usize {
    let cached = slot.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    // SAFETY: `name` is a NUL-terminated string; RTLD_NEXT is a valid pseudo-handle for dlsym.
    let found = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) } as usize;
    slot.store(found, Ordering::Relaxed);
    found
}

/// Whether `dlsym(RTLD_DEFAULT, "getrandom")` resolves to this crate's function.
pub(crate) fn exported() -> bool {
    // SAFETY: a NUL-terminated name and the RTLD_DEFAULT pseudo-handle.
    let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"getrandom".as_ptr()) } as usize;
    found == getrandom as *const () as usize
}

/// Fills `len` bytes at `buf` from the scope, if one is active.
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes.
unsafe fn fill_raw(buf: *mut u8, len: usize) -> bool {
    if len == 0 {
        return scope::active();
    }
    // SAFETY: the caller guarantees `buf` is valid for `len` writable bytes.
    let slice = unsafe { std::slice::from_raw_parts_mut(buf, len) };
    scope::fill(slice)
}

/// `getrandom(2)`: from the scope's stream inside a scope, else the system call.
///
/// # Safety
/// `buf` must be valid for writes of `buflen` bytes (the libc contract).
#[no_mangle]
pub unsafe extern "C" fn getrandom(
    buf: *mut libc::c_void,
    buflen: libc::size_t,
    flags: libc::c_uint,
) -> libc::ssize_t {
    // SAFETY: forwarded caller contract.
    if unsafe { fill_raw(buf.cast(), buflen) } {
        return buflen as libc::ssize_t;
    }
    // SAFETY: the raw system call with the caller's valid buffer.
    unsafe { libc::syscall(libc::SYS_getrandom, buf, buflen, flags) as libc::ssize_t }
}

/// `getentropy(3)`: at most 256 bytes, from the scope inside one, else the system call.
///
/// # Safety
/// `buf` must be valid for writes of `buflen` bytes (the libc contract).
#[no_mangle]
pub unsafe extern "C" fn getentropy(buf: *mut libc::c_void, buflen: libc::size_t) -> libc::c_int {
    if buflen > 256 {
        // SAFETY: errno is thread-local storage owned by libc; writing it is how libc reports.
        unsafe { *libc::__errno_location() = libc::EIO };
        return -1;
    }
    // SAFETY: forwarded caller contract.
    if unsafe { fill_raw(buf.cast(), buflen) } {
        return 0;
    }
    let mut done = 0usize;
    while done < buflen {
        // SAFETY: `buf + done` stays within the caller's buffer of `buflen` bytes.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getrandom,
                buf.cast::<u8>().add(done),
                buflen - done,
                0,
            )
        };
        if n < 0 {
            // SAFETY: reading libc's thread-local errno.
            if unsafe { *libc::__errno_location() } == libc::EINTR {
                continue;
            }
            return -1;
        }
        done += n as usize;
    }
    0
}

static CLOCK_GETTIME: AtomicUsize = AtomicUsize::new(0);

/// `clock_gettime(3)`: `CLOCK_REALTIME` reads the scope's clock inside a scope; every other call
/// goes to libc's (vDSO-backed) definition.
///
/// # Safety
/// `tp` must be valid for a write of one `timespec` (the libc contract).
#[no_mangle]
pub unsafe extern "C" fn clock_gettime(
    clockid: libc::clockid_t,
    tp: *mut libc::timespec,
) -> libc::c_int {
    if clockid == libc::CLOCK_REALTIME && !tp.is_null() {
        if let Some(now) = scope::clock() {
            // SAFETY: `tp` is non-null and valid for one write by the caller's contract.
            unsafe {
                (*tp).tv_sec = now.as_secs() as libc::time_t;
                (*tp).tv_nsec = now.subsec_nanos() as libc::c_long;
            }
            return 0;
        }
    }
    let real = next(&CLOCK_GETTIME, c"clock_gettime");
    if real == 0 {
        // SAFETY: the raw system call with the caller's valid pointer.
        return unsafe { libc::syscall(libc::SYS_clock_gettime, clockid, tp) as libc::c_int };
    }
    // SAFETY: `real` is libc's clock_gettime, whose signature this transmute names exactly.
    let f: unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int =
        unsafe { std::mem::transmute(real) };
    // SAFETY: forwarding the caller's arguments under the same contract.
    unsafe { f(clockid, tp) }
}

static GETHOSTNAME: AtomicUsize = AtomicUsize::new(0);

/// The host name every simulated process sees.
const SIM_HOSTNAME: &[u8] = b"kubesim\0";

/// `gethostname(2)`: `kubesim` inside a scope (a machine's name must not reach a history).
///
/// # Safety
/// `name` must be valid for writes of `len` bytes (the libc contract).
#[no_mangle]
pub unsafe extern "C" fn gethostname(name: *mut libc::c_char, len: libc::size_t) -> libc::c_int {
    if scope::active() {
        if len < SIM_HOSTNAME.len() {
            // SAFETY: writing libc's thread-local errno.
            unsafe { *libc::__errno_location() = libc::ENAMETOOLONG };
            return -1;
        }
        // SAFETY: `name` has room for `len >= SIM_HOSTNAME.len()` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(SIM_HOSTNAME.as_ptr(), name.cast(), SIM_HOSTNAME.len())
        };
        return 0;
    }
    let real = next(&GETHOSTNAME, c"gethostname");
    if real == 0 {
        // SAFETY: writing libc's thread-local errno.
        unsafe { *libc::__errno_location() = libc::ENOSYS };
        return -1;
    }
    // SAFETY: `real` is libc's gethostname, whose signature this transmute names exactly.
    let f: unsafe extern "C" fn(*mut libc::c_char, libc::size_t) -> libc::c_int =
        unsafe { std::mem::transmute(real) };
    // SAFETY: forwarding the caller's arguments under the same contract.
    unsafe { f(name, len) }
}

static CONNECT: AtomicUsize = AtomicUsize::new(0);

/// `connect(2)`: refused with `EACCES` for IPv4/IPv6 inside a scope (a simulated host reaching
/// the real network would make the run depend on the machine), counted for the harness.
///
/// # Safety
/// `addr` must be valid for reads of `len` bytes (the libc contract).
#[no_mangle]
pub unsafe extern "C" fn connect(
    fd: libc::c_int,
    addr: *const libc::sockaddr,
    len: libc::socklen_t,
) -> libc::c_int {
    if scope::active()
        && !addr.is_null()
        && len as usize >= std::mem::size_of::<libc::sa_family_t>()
    {
        // SAFETY: `addr` is non-null and holds at least the family field.
        let family = libc::c_int::from(unsafe { (*addr).sa_family });
        if family == libc::AF_INET || family == libc::AF_INET6 {
            scope::count_connect();
            // SAFETY: writing libc's thread-local errno.
            unsafe { *libc::__errno_location() = libc::EACCES };
            return -1;
        }
    }
    let real = next(&CONNECT, c"connect");
    if real == 0 {
        // SAFETY: the raw system call with the caller's arguments.
        return unsafe { libc::syscall(libc::SYS_connect, fd, addr, len) as libc::c_int };
    }
    // SAFETY: `real` is libc's connect, whose signature this transmute names exactly.
    let f: unsafe extern "C" fn(
        libc::c_int,
        *const libc::sockaddr,
        libc::socklen_t,
    ) -> libc::c_int = unsafe { std::mem::transmute(real) };
    // SAFETY: forwarding the caller's arguments under the same contract.
    unsafe { f(fd, addr, len) }
}
