use super::*;
use crate::store::{Sections, Snapshot};

fn bundle(seq: u64, payload: usize) -> Vec<u8> {
    Bundle {
        device_id: "d1".into(),
        snapshot_seq: seq,
        created_at_ms: seq,
        snapshot: Snapshot {
            encoder_sha256: "a".repeat(64),
            journal_seq: seq,
            sections: Sections::new().with("learner", vec![7; payload]),
        },
    }
    .encode()
}

#[test]
fn bundles_leave_only_when_acknowledged_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let q = Queue::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(q.push(&bundle(1, 10), 1).unwrap(), Some(0));
    assert_eq!(q.push(&bundle(2, 10), 2).unwrap(), Some(0));
    assert_eq!(
        q.push(&bundle(2, 10), 2).unwrap(),
        None,
        "snapshot 2 is queued already"
    );
    let first = q.oldest().unwrap().unwrap();
    assert_eq!(first.bytes, bundle(1, 10));
    assert_eq!(first.hash, content_hash(&first.bytes));
    let q = Queue::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(
        q.oldest().unwrap().unwrap(),
        first,
        "not acknowledged: still first"
    );
    q.acknowledge(&first).unwrap();
    q.acknowledge(&first).unwrap();
    let status = q.status().unwrap();
    assert_eq!(
        (status.queued, status.counters.sent),
        (1, 1),
        "counted once"
    );
    assert_eq!(q.oldest().unwrap().unwrap().bytes, bundle(2, 10));
    assert_eq!(status.counters.last_snapshot_seq, 2);
}

#[test]
fn the_oldest_are_dropped_and_counted_over_the_byte_limit() {
    let dir = tempfile::tempdir().unwrap();
    let one = bundle(1, 100).len() as u64;
    let q = Queue::open(dir.path(), 2 * one).unwrap();
    for seq in 1..=5 {
        q.push(&bundle(seq, 100), seq).unwrap();
    }
    let status = q.status().unwrap();
    assert_eq!((status.queued, status.counters.dropped), (2, 3));
    assert!(status.queued_bytes <= 2 * one);
    assert_eq!(q.oldest().unwrap().unwrap().bytes, bundle(4, 100));
}

#[test]
fn a_damaged_file_is_moved_aside_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let q = Queue::open(dir.path(), 1 << 20).unwrap();
    let mut bad = bundle(1, 10);
    let last = bad.len() - 1;
    bad[last] ^= 1;
    q.push(&bad, 1).unwrap();
    q.push(&bundle(2, 10), 2).unwrap();
    assert_eq!(q.oldest().unwrap().unwrap().bytes, bundle(2, 10));
    let status = q.status().unwrap();
    assert_eq!((status.queued, status.counters.rejected), (1, 1));
    assert_eq!(
        std::fs::read_dir(q.dir().join("rejected")).unwrap().count(),
        1
    );
}

#[test]
fn new_snapshots_are_enqueued_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path(), 3).unwrap();
    let snapshot = Snapshot {
        encoder_sha256: "b".repeat(64),
        journal_seq: 0,
        sections: Sections::new().with("learner", vec![1]),
    };
    store.commit(&snapshot).unwrap();
    store.commit(&snapshot).unwrap();
    let q = Queue::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(q.enqueue_new_snapshots(&store, "d1", 9).unwrap(), 2);
    assert_eq!(q.enqueue_new_snapshots(&store, "d1", 9).unwrap(), 0);
    store.commit(&snapshot).unwrap();
    assert_eq!(q.enqueue_new_snapshots(&store, "d1", 9).unwrap(), 1);
    let first = Bundle::decode(&q.oldest().unwrap().unwrap().bytes).unwrap();
    assert_eq!((first.snapshot_seq, first.device_id.as_str()), (1, "d1"));
}
