//! `decode_request`: one request line checked once into a `RequestFrame`, or the error
//! response it gets. The checks run in the order that makes the answer most useful: the
//! frame must be a JSON object; its `id` is read first so even a refusal can carry it; then
//! the version, so a request of another version is never misread as this one's; then the
//! request name and its arguments; then the values (class names, seconds).

use super::{Request, RequestFrame, PROTOCOL_VERSION};
use crate::classes::ClassName;
use crate::control::api::{ControlError, ErrorKind};
use serde_json::{Map, Value};

/// A line that is not a request this server takes: the error to answer it with, and the
/// id to answer with when the line had a readable one.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub id: Option<u64>,
    pub error: ControlError,
}

/// Decodes one line (without its newline). Never panics, whatever the bytes.
pub fn decode_request(line: &[u8]) -> Result<RequestFrame, Refusal> {
    let mut object = json_object(line)?;
    let id = read_id(&object)?;
    let refuse = |kind, message: String| Refusal {
        id: Some(id),
        error: ControlError::new(kind, message),
    };
    check_version(object.get("v")).map_err(|m| refuse(ErrorKind::BadRequest, m))?;
    object.remove("v");
    object.remove("id");
    let request: Request = serde_json::from_value(Value::Object(object))
        .map_err(|e| refuse(ErrorKind::BadRequest, format!("request refused: {e}")))?;
    check_values(&request).map_err(|m| refuse(ErrorKind::Invalid, m))?;
    Ok(RequestFrame {
        v: PROTOCOL_VERSION,
        id,
        request,
    })
}

fn bad(id: Option<u64>, message: impl Into<String>) -> Refusal {
    Refusal {
        id,
        error: ControlError::new(ErrorKind::BadRequest, message),
    }
}

fn json_object(line: &[u8]) -> Result<Map<String, Value>, Refusal> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(bad(None, "empty request line"));
    }
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(bad(
            None,
            format!("a request is a JSON object, not {}", json_type(&other)),
        )),
        Err(e) => Err(bad(None, format!("request is not JSON: {e}"))),
    }
}

fn read_id(object: &Map<String, Value>) -> Result<u64, Refusal> {
    let id = object
        .get("id")
        .ok_or_else(|| bad(None, "request has no `id`"))?;
    id.as_u64().ok_or_else(|| {
        let message = format!(
            "request `id` must be an integer 0..=2^64-1, not {}",
            json_type(id)
        );
        bad(None, message)
    })
}

fn check_version(v: Option<&Value>) -> Result<(), String> {
    let Some(v) = v else {
        return Err(format!(
            "request has no protocol version `v` (this daemon speaks version {PROTOCOL_VERSION})"
        ));
    };
    match v.as_u64() {
        Some(n) if n == u64::from(PROTOCOL_VERSION) => Ok(()),
        Some(n) => Err(format!(
            "protocol version {n} is not spoken here; this daemon speaks version {PROTOCOL_VERSION}"
        )),
        None => Err(format!(
            "protocol version `v` must be an integer, not {}",
            json_type(v)
        )),
    }
}

/// What serde's types cannot say: names are class names, seconds are positive.
fn check_values(request: &Request) -> Result<(), String> {
    match request {
        Request::EnrollStart(start) => {
            class_name("label", &start.label)?;
            match start.seconds {
                Some(s) if !(s.is_finite() && s > 0.0) => {
                    Err(format!("`seconds` must be a number > 0, not {s}"))
                }
                _ => Ok(()),
            }
        }
        Request::Forget(forget) => class_name("name", &forget.name),
        Request::Rename(rename) => {
            class_name("from", &rename.from)?;
            class_name("to", &rename.to)
        }
        _ => Ok(()),
    }
}

fn class_name(field: &str, text: &str) -> Result<(), String> {
    ClassName::new(text)
        .map(drop)
        .map_err(|e| format!("`{field}`: {e}"))
}

/// How a message names a value it refuses: numbers as written, others by type.
fn json_type(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(_) => "a boolean".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(_) => "a string".to_string(),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}
