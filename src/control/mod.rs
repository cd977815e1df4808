//! The control protocol between the daemon and the `mmcl` CLI: what the server asks of
//! the daemon (`api::ControlTarget`) and the reports it returns. (Framing, requests,
//! the server and the client arrive with the daemon.)

pub mod api;

pub use api::{ControlError, ControlTarget, ErrorKind};
