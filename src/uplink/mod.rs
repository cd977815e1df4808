//! Device -> host sync: the bundle format (`bundle`), the bounded on-disk queue of bundles
//! waiting for the host (`queue`), and the blocking HTTP client that drains it on its own
//! thread (`client`, feature `uplink`; without it the same API reports that the build has
//! no client). No async runtime: the device data path stays plain threads.
//!
//! A bundle leaves the queue only when the host acknowledged it; the host stores bundles by
//! content hash, so a bundle sent twice (an acknowledgement lost, a restart mid-upload) is
//! stored once.

pub mod bench;
pub mod bundle;
#[cfg_attr(feature = "uplink", path = "client.rs")]
#[cfg_attr(not(feature = "uplink"), path = "client_disabled.rs")]
pub mod client;
pub mod queue;
pub mod sync;

pub use bundle::{check_device_id, content_hash, Bundle, DeviceIdError};
pub use queue::{Queue, QueueError, QueueStatus};
pub use sync::{drain, Drain, Uplink, UplinkError};
