use super::*;

fn enrollment(n: usize, dim: usize) -> Enrollment {
    Enrollment {
        label: ClassName::new("brushing teeth").unwrap(),
        embeddings: (0..n)
            .map(|i| {
                Embedding::new((0..dim).map(|j| (i * dim + j) as f32 * 0.5).collect(), dim).unwrap()
            })
            .collect(),
        span: (Timestamp(5_000_000_000), Timestamp(25_000_000_000)),
        source: "replay 3_brush_teeth/c1".into(),
    }
}

#[test]
fn every_kind_round_trips() {
    let name = |s: &str| ClassName::new(s).unwrap();
    for kind in [
        ChangeKind::Enroll(enrollment(3, 4)),
        ChangeKind::Forget { name: name("walk") },
        ChangeKind::Rename {
            from: name("walk"),
            to: name("walking"),
        },
    ] {
        let change = Change {
            at_ms: 1_700_000_000_123,
            kind,
        };
        assert_eq!(Change::decode(&change.encode()).unwrap(), change);
    }
}

#[test]
fn a_record_whose_sizes_lie_is_refused_before_allocating() {
    let good = Change {
        at_ms: 1,
        kind: ChangeKind::Enroll(enrollment(2, 3)),
    };
    let opened = envelope::open(&FORMAT, &[FORMAT_VERSION], &good.encode())
        .unwrap()
        .body
        .to_vec();
    // The count field sits after at_ms, kind, label, source, span and dim.
    let count_at = 8 + 1 + (8 + 14) + (8 + 23) + 16 + 4;
    let mut body = opened.clone();
    body[count_at..count_at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    let err = Change::decode(&envelope::seal(&FORMAT, FORMAT_VERSION, &body)).unwrap_err();
    assert!(err.to_string().contains("do not fit"), "{err}");
    let mut body = opened;
    body[count_at - 4..count_at].copy_from_slice(&0u32.to_le_bytes());
    let err = Change::decode(&envelope::seal(&FORMAT, FORMAT_VERSION, &body)).unwrap_err();
    assert!(err.to_string().contains("dimension 0"), "{err}");
}

#[test]
fn damage_is_refused_by_name() {
    let bytes = Change {
        at_ms: 7,
        kind: ChangeKind::Enroll(enrollment(2, 3)),
    }
    .encode();
    let mut bad = bytes.clone();
    bad[30] ^= 1;
    let err = Change::decode(&bad).unwrap_err().to_string();
    assert!(err.starts_with("class change record"), "{err}");
    assert!(Change::decode(&bytes[..bytes.len() - 1]).is_err());
}
