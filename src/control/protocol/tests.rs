use super::*;
use crate::control::api::ErrorKind;

fn refusal(line: &str) -> Refusal {
    match decode_request(line.as_bytes()) {
        Err(r) => r,
        Ok(frame) => panic!("{line} decoded as {frame:?}"),
    }
}

#[test]
fn every_request_round_trips_through_its_line() {
    let requests = [
        Request::Status,
        Request::Classes,
        Request::EnrollStart(EnrollStart {
            label: "walking".into(),
            seconds: Some(10.0),
            clips: None,
        }),
        Request::EnrollStart(EnrollStart {
            label: "brushing teeth".into(),
            seconds: None,
            clips: None,
        }),
        Request::EnrollProgress(EnrollmentId { enrollment: 3 }),
        Request::EnrollStop(EnrollmentId { enrollment: 3 }),
        Request::EnrollCancel(EnrollmentId { enrollment: 3 }),
        Request::Subscribe,
        Request::Forget(Forget {
            name: "walking".into(),
        }),
        Request::Rename(Rename {
            from: "walking".into(),
            to: "strolling".into(),
        }),
        Request::Checkpoint,
        Request::ExportSnapshot,
    ];
    for (id, request) in requests.into_iter().enumerate() {
        let frame = RequestFrame {
            v: PROTOCOL_VERSION,
            id: id as u64,
            request,
        };
        let line = encode(&frame);
        assert_eq!(line.last(), Some(&b'\n'));
        let back = decode_request(&line[..line.len() - 1]).unwrap();
        assert_eq!(back, frame);
    }
}

#[test]
fn a_request_without_args_has_no_args_key() {
    let line = encode(&RequestFrame {
        v: 1,
        id: 9,
        request: Request::Status,
    });
    assert_eq!(line, b"{\"v\":1,\"id\":9,\"request\":\"status\"}\n");
}

#[test]
fn unknown_request_names_the_known_ones() {
    let r = refusal(r#"{"v":1,"id":4,"request":"frobnicate"}"#);
    assert_eq!((r.id, r.error.kind), (Some(4), ErrorKind::BadRequest));
    assert!(
        r.error.message.contains("frobnicate"),
        "{}",
        r.error.message
    );
    assert!(
        r.error.message.contains("enroll_start"),
        "{}",
        r.error.message
    );
}

#[test]
fn wrong_version_is_refused_before_the_request_is_read() {
    let r = refusal(r#"{"v":2,"id":5,"request":"frobnicate"}"#);
    assert_eq!(r.id, Some(5));
    assert!(
        r.error.message.contains("protocol version 2"),
        "{}",
        r.error.message
    );
    let r = refusal(r#"{"id":5,"request":"status"}"#);
    assert!(
        r.error.message.contains("no protocol version"),
        "{}",
        r.error.message
    );
    let r = refusal(r#"{"v":"1","id":5,"request":"status"}"#);
    assert!(
        r.error.message.contains("must be an integer"),
        "{}",
        r.error.message
    );
}

#[test]
fn id_is_required_and_an_unsigned_integer() {
    for line in [
        r#"{"v":1,"request":"status"}"#,
        r#"{"v":1,"id":-1,"request":"status"}"#,
        r#"{"v":1,"id":"7","request":"status"}"#,
        r#"{"v":1,"id":1.5,"request":"status"}"#,
    ] {
        let r = refusal(line);
        assert_eq!(
            (r.id, r.error.kind),
            (None, ErrorKind::BadRequest),
            "{line}"
        );
        assert!(
            r.error.message.contains("`id`"),
            "{line}: {}",
            r.error.message
        );
    }
}

#[test]
fn wrong_types_and_unknown_fields_are_bad_requests() {
    for (line, says) in [
        (
            r#"{"v":1,"id":1,"request":"enroll_start","args":{"label":5}}"#,
            "invalid type",
        ),
        (r#"{"v":1,"id":1,"request":"enroll_start"}"#, "args"),
        (
            r#"{"v":1,"id":1,"request":"enroll_stop","args":{"enrollment":"3"}}"#,
            "invalid type",
        ),
        (
            r#"{"v":1,"id":1,"request":"forget","args":{"name":"a","extra":1}}"#,
            "extra",
        ),
        (r#"{"v":1,"id":1,"request":"status","colour":3}"#, "colour"),
        (r#"{"v":1,"id":1,"request":7}"#, "request"),
    ] {
        let r = refusal(line);
        assert_eq!(
            (r.id, r.error.kind),
            (Some(1), ErrorKind::BadRequest),
            "{line}"
        );
        assert!(
            r.error.message.contains(says),
            "{line}: {}",
            r.error.message
        );
    }
}

#[test]
fn bad_values_are_invalid_not_bad_requests() {
    for (line, says) in [
        (
            r#"{"v":1,"id":2,"request":"enroll_start","args":{"label":""}}"#,
            "`label`",
        ),
        (
            r#"{"v":1,"id":2,"request":"enroll_start","args":{"label":"a","seconds":0}}"#,
            "seconds",
        ),
        (
            r#"{"v":1,"id":2,"request":"enroll_start","args":{"label":"a","seconds":-3.5}}"#,
            "seconds",
        ),
        (
            r#"{"v":1,"id":2,"request":"forget","args":{"name":" padded"}}"#,
            "white space",
        ),
        (
            r#"{"v":1,"id":2,"request":"rename","args":{"from":"a","to":"b\u0007"}}"#,
            "`to`",
        ),
    ] {
        let r = refusal(line);
        assert_eq!(
            (r.id, r.error.kind),
            (Some(2), ErrorKind::Invalid),
            "{line}"
        );
        assert!(
            r.error.message.contains(says),
            "{line}: {}",
            r.error.message
        );
    }
}

#[test]
fn garbage_is_refused_without_an_id() {
    for line in [
        "",
        "   ",
        "not json",
        "[1,2]",
        "\"status\"",
        "{\"v\":1",
        "\u{fffd}\u{0}",
    ] {
        let r = refusal(line);
        assert_eq!(
            (r.id, r.error.kind),
            (None, ErrorKind::BadRequest),
            "{line:?}"
        );
    }
    let r = decode_request(&[0xff, 0xfe, b'{']).unwrap_err();
    assert_eq!(r.error.kind, ErrorKind::BadRequest);
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let line = format!(r#"{{"v":1,"id":1,"request":"status","args":{deep}}}"#);
    assert_eq!(refusal(&line).error.kind, ErrorKind::BadRequest);
}

#[test]
fn response_frames_carry_their_body_as_one_key() {
    let hello = encode(&ResponseFrame::new(None, Body::Hello(Hello::this_build())));
    let text = String::from_utf8(hello).unwrap();
    assert!(
        text.starts_with("{\"v\":1,\"hello\":{\"daemon\":\"mmcl\""),
        "{text}"
    );
    let error = ResponseFrame::error(
        Some(3),
        ControlError::new(ErrorKind::NotFound, "no class \"x\""),
    );
    let line = encode(&error);
    assert_eq!(
        line,
        b"{\"v\":1,\"id\":3,\"error\":{\"kind\":\"not_found\",\"message\":\"no class \\\"x\\\"\"}}\n"
    );
    let back: ResponseFrame = serde_json::from_slice(&line).unwrap();
    assert_eq!(back, error);
}
