//! The control socket between the running daemon and the `mmcl` CLI: what the server asks
//! of the daemon (`api::ControlTarget`) and the reports it returns; the wire protocol
//! (`protocol`: versioned, length-limited newline-delimited JSON, docs/control.md); the
//! server the daemon starts (`server::serve`); and the client the CLI commands use
//! (`client::Client`). `sys` holds the POSIX calls `std` lacks (peer credentials, poll,
//! user names, Ctrl-C counting).

pub mod api;
pub mod client;
pub mod protocol;
pub mod server;
pub(crate) mod sys;

pub use api::{ControlError, ControlTarget, ErrorKind};
pub use client::{Client, ClientError};
pub use server::{serve, ListenerConfig, ServeError, ServerHandle};
pub use sys::Peer;
