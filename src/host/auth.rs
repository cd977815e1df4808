//! Device tokens: 32 random bytes shown once as hex (`mmcl host token add`), stored only
//! as their sha256, and checked by hashing what a request presents and comparing it with
//! each active hash of the device in constant time (`subtle`), so neither the database
//! nor the timing of a refusal tells an attacker anything about a valid token.

use super::storage::{Storage, StorageError};
use crate::uplink::bundle::hex;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new random token, 64 hex digits (`rand`'s thread generator: ChaCha seeded by the OS).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// What the storage keeps of a token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether `token` is an active token of `device`. Every stored hash is compared, so the
/// time taken does not depend on which one matched.
pub fn is_valid(storage: &dyn Storage, device: &str, token: &str) -> Result<bool, StorageError> {
    let presented = token_hash(token);
    let mut valid = subtle::Choice::from(0u8);
    for stored in storage.token_hashes(device)? {
        valid |= stored.ct_eq(&presented);
    }
    Ok(bool::from(valid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::storage::{BlobDir, SqliteStorage};

    #[test]
    fn tokens_are_checked_per_device_and_revocation_ends_them() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = std::sync::Arc::new(BlobDir::open(&dir.path().join("b")).unwrap());
        let s = SqliteStorage::open(&dir.path().join("h.db"), blobs).unwrap();
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        s.add_token("d1", &token_hash(&a), 1).unwrap();
        s.add_token("d2", &token_hash(&b), 1).unwrap();
        assert!(is_valid(&s, "d1", &a).unwrap());
        assert!(!is_valid(&s, "d1", &b).unwrap(), "another device's token");
        assert!(!is_valid(&s, "d3", &a).unwrap(), "unknown device");
        assert_eq!(s.revoke_tokens("d1", 2).unwrap(), 1);
        assert!(!is_valid(&s, "d1", &a).unwrap(), "revoked");
    }
}
