use super::*;

fn name(s: &str) -> ClassName {
    ClassName::new(s).unwrap()
}

#[test]
fn ids_are_handed_out_in_order_and_never_reused() {
    let mut b = ClassBook::new();
    assert_eq!(b.record(&name("walk"), 10, 100, "replay").unwrap(), 0);
    assert_eq!(b.record(&name("run"), 5, 200, "camera").unwrap(), 1);
    // Same class, another spelling: counted on the first entry, first spelling kept.
    assert_eq!(b.record(&name("WALK"), 3, 300, "x").unwrap(), 0);
    let walk = b.by_name("walk").unwrap();
    assert_eq!(
        (
            walk.windows,
            walk.enrollments,
            walk.enrolled_at_ms,
            walk.updated_at_ms
        ),
        (13, 2, 100, 300)
    );
    assert_eq!(
        (walk.name.as_str(), walk.origin.as_str()),
        ("walk", "replay")
    );
    b.remove("walk").unwrap();
    assert_eq!(
        b.record(&name("walk"), 1, 400, "r").unwrap(),
        2,
        "a forgotten id is not reused"
    );
    assert_eq!(b.names(), "run, walk");
}

#[test]
fn rename_refuses_a_taken_name_and_unknown_classes() {
    let mut b = ClassBook::new();
    b.record(&name("walk"), 1, 0, "").unwrap();
    b.record(&name("run"), 1, 0, "").unwrap();
    assert!(matches!(
        b.rename("walk", &name("Run")),
        Err(ClassError::NameTaken { id: 1, .. })
    ));
    let err = b.rename("swim", &name("dive")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no class named \"swim\" (known: walk, run)"
    );
    assert_eq!(b.rename("walk", &name("Walking")).unwrap(), 0);
    // A change of case only is the same class, allowed.
    assert_eq!(b.rename("walking", &name("WALKING")).unwrap(), 0);
    assert_eq!(b.by_id(0).unwrap().name.as_str(), "WALKING");
}

#[test]
fn encode_round_trips_and_damage_is_refused() {
    let mut b = ClassBook::new();
    b.record(
        &name("brushing teeth"),
        12,
        1_700_000_000_000,
        "replay 3_brush_teeth/c1",
    )
    .unwrap();
    b.record(&name("walk"), 4, 1_700_000_001_000, "camera+imu")
        .unwrap();
    b.remove("walk").unwrap();
    let bytes = b.encode();
    assert_eq!(ClassBook::decode(&bytes).unwrap(), b);
    for at in [0, 9, 25, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x40;
        assert!(ClassBook::decode(&bad).is_err(), "flip at {at}");
    }
    assert!(ClassBook::decode(&bytes[..bytes.len() - 3]).is_err());
}

#[test]
fn a_book_with_a_duplicate_or_future_id_is_refused() {
    let mut w = Writer::default();
    w.u32(1);
    w.usize(2);
    for _ in 0..2 {
        w.u32(0);
        w.str("walk");
        w.u64(1);
        w.u32(1);
        w.u64(0);
        w.u64(0);
        w.str("");
    }
    let bytes = envelope::seal(&FORMAT, FORMAT_VERSION, &w.buf);
    let err = ClassBook::decode(&bytes).unwrap_err().to_string();
    assert!(err.contains("appears twice"), "{err}");
    let mut w = Writer::default();
    w.u32(0);
    w.usize(1);
    w.u32(0);
    w.str("walk");
    w.raw(&[0; 8 + 4 + 8 + 8]);
    w.str("");
    let err = ClassBook::decode(&envelope::seal(&FORMAT, FORMAT_VERSION, &w.buf))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not below the next id"), "{err}");
}
