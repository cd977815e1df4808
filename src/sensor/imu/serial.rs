//! Serial ports for IMUs on a UART: when the stream's file is a terminal, it is
//! put in raw mode (no echo, no line editing, no CR/LF translation, 8 data bits,
//! no parity, one stop bit, modem lines ignored) at the profile's baud rate,
//! through termios (`libc`; no serial crate is needed for one `tcsetattr`).
//! Reads stay non-blocking with poll(2) timeouts (`reader`), so `VMIN` and
//! `VTIME` are 0.

use std::fs::File;
use std::os::fd::AsRawFd;

/// The rates a profile may ask for (`sources.imu.baud`): the standard termios speeds.
pub const BAUD_RATES: [u32; 12] = [
    9_600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 500_000, 576_000, 921_600, 1_000_000,
    2_000_000,
];

/// The default for a UART IMU (most microcontroller examples use it).
pub const DEFAULT_BAUD: u32 = 115_200;

fn speed(baud: u32) -> Option<libc::speed_t> {
    Some(match baud {
        9_600 => libc::B9600,
        19_200 => libc::B19200,
        38_400 => libc::B38400,
        57_600 => libc::B57600,
        115_200 => libc::B115200,
        230_400 => libc::B230400,
        460_800 => libc::B460800,
        500_000 => libc::B500000,
        576_000 => libc::B576000,
        921_600 => libc::B921600,
        1_000_000 => libc::B1000000,
        2_000_000 => libc::B2000000,
        _ => return None,
    })
}

/// Whether `file` is a terminal (a serial port or a pseudo-terminal).
pub fn is_tty(file: &File) -> bool {
    // SAFETY: isatty only inspects the descriptor this `File` owns.
    unsafe { libc::isatty(file.as_raw_fd()) == 1 }
}

/// Raw 8N1 at `baud`. An unsupported rate is `InvalidInput` (the profile check
/// refuses those first).
pub fn configure(file: &File, baud: u32) -> std::io::Result<()> {
    let speed = speed(baud).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{baud} baud is not a standard rate"),
        )
    })?;
    let fd = file.as_raw_fd();
    // SAFETY: a zeroed termios is a valid out-parameter for tcgetattr.
    let mut tio: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and pointer for the duration of each call.
    unsafe {
        check(libc::tcgetattr(fd, &mut tio))?;
        libc::cfmakeraw(&mut tio);
        tio.c_cflag |= libc::CLOCAL | libc::CREAD;
        tio.c_cflag &= !(libc::CSTOPB | libc::PARENB | libc::CRTSCTS);
        tio.c_cc[libc::VMIN] = 0;
        tio.c_cc[libc::VTIME] = 0;
        check(libc::cfsetispeed(&mut tio, speed))?;
        check(libc::cfsetospeed(&mut tio, speed))?;
        check(libc::tcsetattr(fd, libc::TCSANOW, &tio))?;
    }
    Ok(())
}

/// The input speed a terminal is set to, in baud (tests and `mmcl sensors`).
pub fn input_baud(file: &File) -> std::io::Result<Option<u32>> {
    // SAFETY: as in `configure`.
    let mut tio: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and pointer.
    let got = unsafe {
        check(libc::tcgetattr(file.as_raw_fd(), &mut tio))?;
        libc::cfgetispeed(&tio)
    };
    Ok(BAUD_RATES.into_iter().find(|b| speed(*b) == Some(got)))
}

fn check(rc: libc::c_int) -> std::io::Result<()> {
    match rc {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::os::fd::FromRawFd;
    use std::path::PathBuf;

    /// A pseudo-terminal: the master end and the slave's path.
    pub(crate) fn pty() -> (File, PathBuf) {
        // SAFETY: plain libc calls on a descriptor we own; the buffer outlives ptsname_r.
        unsafe {
            let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
            assert!(fd >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
            assert_eq!(libc::grantpt(fd), 0);
            assert_eq!(libc::unlockpt(fd), 0);
            let mut name = [0 as libc::c_char; 128];
            assert_eq!(libc::ptsname_r(fd, name.as_mut_ptr(), name.len()), 0);
            let path = std::ffi::CStr::from_ptr(name.as_ptr())
                .to_string_lossy()
                .into_owned();
            (File::from_raw_fd(fd), PathBuf::from(path))
        }
    }

    #[test]
    fn a_terminal_is_set_raw_at_the_rate_and_a_file_is_not_a_terminal() {
        let (_master, slave) = pty();
        let port = File::options().read(true).write(true).open(&slave).unwrap();
        assert!(is_tty(&port));
        configure(&port, 921_600).unwrap();
        assert_eq!(input_baud(&port).unwrap(), Some(921_600));
        assert!(configure(&port, 12_345).is_err());
        assert!(!is_tty(&tempfile::tempfile().unwrap()));
    }
}
