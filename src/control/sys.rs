//! The few POSIX calls the control socket needs that `std` does not offer on stable Rust:
//! the peer's credentials (`SO_PEERCRED`; `UnixStream::peer_cred` is unstable), `poll` over
//! a socket and the wake pipe, the pipe itself (one byte written wakes every waiter at once,
//! since nobody drains it), user and group names, and counting Ctrl-C for `mmcl enroll`.
//! Every `unsafe` block is one call whose buffers are owned right here.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Who is on the other end of a Unix socket, as the kernel recorded it at `connect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// The credentials of the process that connected `fd`.
pub(crate) fn peer(fd: &impl AsRawFd) -> io::Result<Peer> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for writes and `len` holds `cred`'s size.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Peer {
        pid: cred.pid,
        uid: cred.uid,
        gid: cred.gid,
    })
}

/// The uid this process runs as (the daemon's own, allowed by default).
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid takes nothing and cannot fail.
    unsafe { libc::geteuid() }
}

/// What `wait_readable` saw first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ready {
    /// The socket has data, or is at end of stream or in error (a read says which).
    Readable,
    /// The wake pipe was raised: the server is stopping.
    Woken,
    TimedOut,
}

/// Waits until `fd` is readable, `wake` is raised, or `timeout` passes (`None`: no limit).
pub(crate) fn wait_readable(
    fd: RawFd,
    wake: RawFd,
    timeout: Option<Duration>,
) -> io::Result<Ready> {
    let ms = timeout.map_or(-1, |t| {
        libc::c_int::try_from(t.as_millis()).unwrap_or(libc::c_int::MAX)
    });
    let mut fds = [pollfd(wake), pollfd(fd)];
    loop {
        // SAFETY: two valid pollfds, count 2, for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(match fds {
            _ if n == 0 => Ready::TimedOut,
            [w, _] if w.revents != 0 => Ready::Woken,
            _ => Ready::Readable,
        });
    }
}

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// True when the peer of `fd` has closed (or broken) its end. Bytes it sent meanwhile are
/// read and dropped: a subscriber has nothing more to ask, and must not fill the buffer.
pub(crate) fn peer_closed(fd: RawFd) -> bool {
    let mut scratch = [0u8; 1024];
    // Bounded, so a peer that writes without pause cannot hold the caller here.
    for _ in 0..64 {
        // SAFETY: `scratch` is valid for `len` bytes of writes.
        let n = unsafe {
            libc::recv(
                fd,
                scratch.as_mut_ptr().cast(),
                scratch.len(),
                libc::MSG_DONTWAIT,
            )
        };
        match n {
            0 => return true,
            n if n > 0 => continue,
            _ => {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => return false,
                    io::ErrorKind::Interrupted => continue,
                    _ => return true,
                }
            }
        }
    }
    false
}

/// A pipe that, once raised, stays readable: every `wait_readable` on it returns `Woken`.
#[derive(Debug)]
pub(crate) struct Wake {
    read: OwnedFd,
    write: OwnedFd,
}

impl Wake {
    pub(crate) fn new() -> io::Result<Wake> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: `fds` holds the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok(Wake { read, write })
    }

    /// Wakes every waiter, now and later. Idempotent (a full pipe is raised already).
    pub(crate) fn raise(&self) {
        let byte = [1u8];
        // SAFETY: one byte from a valid buffer to a descriptor this value owns. A failure
        // (EAGAIN: the pipe is full) leaves it readable, which is all raising means.
        let _ = unsafe { libc::write(self.write.as_raw_fd(), byte.as_ptr().cast(), 1) };
    }

    /// The end waiters poll.
    pub(crate) fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }
}

/// The uid of user `name`, `None` when there is no such user.
pub(crate) fn user_id(name: &str) -> io::Result<Option<u32>> {
    let name = c_name(name)?;
    with_buffer(|buf| {
        // SAFETY: zeroed `passwd` is a valid value of a plain C struct.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; `buf` outlives the use of `entry`.
        let rc = unsafe {
            libc::getpwnam_r(
                name.as_ptr(),
                &mut entry,
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            )
        };
        lookup(rc, !found.is_null(), || entry.pw_uid)
    })
}

/// The gid of group `name`, `None` when there is no such group.
pub(crate) fn group_id(name: &str) -> io::Result<Option<u32>> {
    let name = c_name(name)?;
    with_buffer(|buf| {
        // SAFETY: as in `user_id`, for `group`.
        let mut entry: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: as in `user_id`.
        let rc = unsafe {
            libc::getgrnam_r(
                name.as_ptr(),
                &mut entry,
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            )
        };
        lookup(rc, !found.is_null(), || entry.gr_gid)
    })
}

/// The name of user `uid`, if it has one.
pub(crate) fn user_name(uid: u32) -> Option<String> {
    with_buffer(|buf| {
        // SAFETY: as in `user_id`.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: as in `user_id`.
        let rc =
            unsafe { libc::getpwuid_r(uid, &mut entry, buf.as_mut_ptr(), buf.len(), &mut found) };
        // SAFETY: on success `pw_name` points at a NUL-terminated string inside `buf`.
        lookup(rc, !found.is_null(), || unsafe { owned(entry.pw_name) })
    })
    .ok()
    .flatten()
}

/// The name of group `gid`, if it has one.
pub(crate) fn group_name(gid: u32) -> Option<String> {
    with_buffer(|buf| {
        // SAFETY: as in `user_id`.
        let mut entry: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: as in `user_id`.
        let rc =
            unsafe { libc::getgrgid_r(gid, &mut entry, buf.as_mut_ptr(), buf.len(), &mut found) };
        // SAFETY: on success `gr_name` points at a NUL-terminated string inside `buf`.
        lookup(rc, !found.is_null(), || unsafe { owned(entry.gr_name) })
    })
    .ok()
    .flatten()
}

fn c_name(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a name"))
}

/// # Safety
/// `text` must point at a NUL-terminated string.
unsafe fn owned(text: *const libc::c_char) -> String {
    // SAFETY: the caller's promise.
    unsafe { CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

/// The `*_r` convention: 0 and a result (found), 0 and none or ENOENT-like (no entry),
/// ERANGE (a bigger buffer is needed), another code (failure).
fn lookup<T>(
    rc: libc::c_int,
    found: bool,
    value: impl FnOnce() -> T,
) -> Result<Option<T>, libc::c_int> {
    match rc {
        0 if found => Ok(Some(value())),
        0 | libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM => Ok(None),
        code => Err(code),
    }
}

/// Runs a `*_r` lookup with a buffer grown on ERANGE, up to 1 MiB.
fn with_buffer<T>(
    mut call: impl FnMut(&mut [libc::c_char]) -> Result<Option<T>, libc::c_int>,
) -> io::Result<Option<T>> {
    let mut size = 4096;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        match call(&mut buf) {
            Ok(v) => return Ok(v),
            Err(libc::ERANGE) if size < 1 << 20 => size *= 4,
            Err(code) => return Err(io::Error::from_raw_os_error(code)),
        }
    }
}

/// How many SIGINTs arrived since `count_interrupts` was called.
static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_interrupt(_signal: libc::c_int) {
    // An atomic add is async-signal-safe; everything else happens in the polling loop.
    INTERRUPTS.fetch_add(1, Ordering::SeqCst);
}

/// From now on Ctrl-C (SIGINT) is counted instead of ending the process.
pub(crate) fn count_interrupts() -> io::Result<()> {
    // SAFETY: zeroed `sigaction` is valid; the handler only touches an atomic.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `action` is initialised; the old action is not asked for.
    if unsafe { libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub(crate) fn interrupts() -> usize {
    INTERRUPTS.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    #[test]
    fn peer_of_a_socket_pair_is_this_process() {
        let (a, _b) = UnixStream::pair().unwrap();
        let p = peer(&a).unwrap();
        assert_eq!(p.uid, effective_uid());
        assert_eq!(p.pid, std::process::id() as i32);
    }

    #[test]
    fn a_raised_wake_wakes_every_waiter_and_stays_raised() {
        let (a, _b) = UnixStream::pair().unwrap();
        let wake = Wake::new().unwrap();
        let short = Some(Duration::from_millis(1));
        assert_eq!(
            wait_readable(a.as_raw_fd(), wake.fd(), short).unwrap(),
            Ready::TimedOut
        );
        wake.raise();
        wake.raise();
        for _ in 0..3 {
            assert_eq!(
                wait_readable(a.as_raw_fd(), wake.fd(), None).unwrap(),
                Ready::Woken
            );
        }
    }

    #[test]
    fn peer_closed_reads_past_pending_bytes() {
        use std::io::Write;
        let (a, mut b) = UnixStream::pair().unwrap();
        b.write_all(b"ignored").unwrap();
        assert!(!peer_closed(a.as_raw_fd()));
        drop(b);
        assert!(peer_closed(a.as_raw_fd()));
    }

    #[test]
    fn root_is_found_by_name_and_id() {
        assert_eq!(user_id("root").unwrap(), Some(0));
        assert_eq!(user_name(0).as_deref(), Some("root"));
        assert_eq!(group_id("root").unwrap(), Some(0));
        assert_eq!(group_name(0).as_deref(), Some("root"));
        assert_eq!(user_id("no-such-user-mmcl").unwrap(), None);
    }
}
