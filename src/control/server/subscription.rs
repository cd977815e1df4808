//! A subscription's stream: every `Event` from the daemon's channel goes out as an `event`
//! frame with the subscribe request's id. The daemon never waits on this: its channel is
//! bounded and drops the oldest events for a slow reader (counted in `Event::Lagged`).
//! Here a reader that stops taking frames blocks only this thread, and only up to the
//! write timeout, after which it is dropped.

use super::{Counters, Shared};
use crate::control::api::{Event, Subscription};
use crate::control::protocol::{encode, Body, ResponseFrame};
use crate::control::sys;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How often a quiet subscription looks whether its client has gone.
const PEER_CHECK: Duration = Duration::from_millis(500);

/// Streams until the client closes or stalls, the daemon ends the channel, or the server
/// stops.
pub(super) fn stream(stream: &UnixStream, id: u64, events: &Subscription, shared: &Shared) {
    loop {
        crossbeam_channel::select! {
            recv(&**events) -> event => match event {
                Ok(event) => {
                    if !send(stream, id, event, shared) {
                        return;
                    }
                }
                Err(_) => return,
            },
            recv(shared.shutdown.signal()) -> _ => return,
            default(PEER_CHECK) => {
                if sys::peer_closed(stream.as_raw_fd()) {
                    return;
                }
            }
        }
    }
}

/// Writes one event frame; false when the client is gone or too slow.
fn send(stream: &UnixStream, id: u64, event: Event, shared: &Shared) -> bool {
    let frame = encode(&ResponseFrame::new(Some(id), Body::Event(event)));
    match (&*stream).write_all(&frame) {
        Ok(()) => true,
        Err(e) => {
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) {
                Counters::add(&shared.counters.write_timeouts);
            }
            false
        }
    }
}
