//! Fuzzing the request parser (a small proptest budget, so it runs in `cargo test`):
//! `decode_request` never panics on any bytes and refuses with `bad_request` or `invalid`
//! only; mutated valid requests either decode to a frame that re-encodes to itself or are
//! refused; and over a real socket every line gets an answer or a clean close, and the
//! server keeps serving. Raise the budget with `PROPTEST_CASES=100000`.

mod control_support;

use control_support::{status_round_trip, Raw, Running};
use mmcl::control::api::ErrorKind;
use mmcl::control::protocol::{decode_request, encode};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Bytes that are mostly JSON-shaped, so the parser gets past its first checks often.
fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[ -~]{0,200}".prop_map(String::into_bytes),
        mutated().prop_map(|v| v.to_string().into_bytes()),
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        "[a-z_ ]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const NAMES: [&str; 12] = [
    "status",
    "classes",
    "enroll_start",
    "enroll_progress",
    "enroll_stop",
    "enroll_cancel",
    "subscribe",
    "forget",
    "rename",
    "checkpoint",
    "export_snapshot",
    "frobnicate",
];

/// A valid-looking request with one field replaced, removed or added.
fn mutated() -> impl Strategy<Value = Value> {
    let args = json!({"label": "walking", "seconds": 2.0, "enrollment": 1, "name": "walking", "from": "walking", "to": "strolling"});
    (0..NAMES.len(), 0..6usize, "[a-z_]{1,10}", json_value()).prop_map(
        move |(name, how, key, value)| {
            let mut request = Map::new();
            request.insert("v".into(), json!(1));
            request.insert("id".into(), json!(7));
            request.insert("request".into(), json!(NAMES[name]));
            request.insert("args".into(), args.clone());
            let keys = ["v", "id", "request", "args"];
            match how {
                0..=3 => drop(request.insert(keys[how].into(), value)),
                4 => drop(request.remove(keys[key.len() % 4])),
                _ => drop(request.insert(key, value)),
            }
            Value::Object(request)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_parser_never_panics_and_refuses_cleanly(bytes in line()) {
        match decode_request(&bytes) {
            Ok(frame) => {
                let again = encode(&frame);
                let back = decode_request(&again[..again.len() - 1]);
                prop_assert_eq!(back.as_ref().ok(), Some(&frame));
            }
            Err(refusal) => {
                prop_assert!(matches!(refusal.error.kind, ErrorKind::BadRequest | ErrorKind::Invalid));
                prop_assert!(!refusal.error.message.is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_line_over_the_socket_gets_an_answer_or_a_clean_close(bytes in line()) {
        // A server per case (starting one takes well under a millisecond).
        let running = Running::start();
        let mut one_line: Vec<u8> = bytes.into_iter().filter(|&b| b != b'\n').collect();
        one_line.push(b'\n');
        let mut c = Raw::connect(&running.path);
        c.send(&one_line).expect("the line is sent");
        if let Some(answer) = c.frame() {
            prop_assert_eq!(&answer["v"], &json!(1));
            let kind = answer["error"]["kind"].as_str();
            let known = ["bad_request", "invalid", "not_found", "busy"];
            prop_assert!(answer.get("ok").is_some() || kind.is_some_and(|k| known.contains(&k)), "{}", answer);
        }
        drop(c);
        status_round_trip(&running.path);
    }
}
