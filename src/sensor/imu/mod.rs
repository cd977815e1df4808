//! IMU sources: 6-axis readings (acceleration in g, angular rate in °/s).
//!
//! - `stream`: `ImuStream`, comma-separated readings from a file, FIFO or
//!   serial port (`csv-stream`), or a recording played live (`csv-file`).
//! - `serial`: termios setup of a serial port (raw, 8N1, baud rate).
//! - `rate_check`: arrival-stamped readings checked against the stated rate.
//! - `iio`: Linux Industrial I/O devices, polled through sysfs or buffered.
//! - `reader`: non-blocking line reads with poll(2) timeouts.

pub mod iio;
mod rate_check;
mod reader;
pub mod serial;
mod stream;

pub use rate_check::{RateCheck, TOLERANCE as RATE_TOLERANCE};
pub use stream::{ImuStream, ImuStreamOptions, Stamping};
