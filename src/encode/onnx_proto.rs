//! A minimal reader of the ONNX protobuf: just what the contract check and
//! `mmcl model inspect` need (metadata_props, graph inputs and outputs with
//! their element types and shapes), independent of which backend is compiled.
//!
//! Field numbers are those of `onnx.proto3` (ModelProto, GraphProto,
//! ValueInfoProto, TypeProto, TensorShapeProto). Unknown fields are skipped,
//! so newer files still read; anything malformed is an error naming the byte
//! offset, never a panic.

use std::collections::{BTreeMap, BTreeSet};

/// What the runtime reads from a model file before handing it to a backend.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnnxSummary {
    pub ir_version: i64,
    pub producer: String,
    /// `(domain, version)` of each opset import; the default domain is "".
    pub opsets: Vec<(String, i64)>,
    /// Graph inputs that are real inputs (initializers listed as inputs by
    /// IR < 4 files are dropped: nobody feeds them).
    pub inputs: Vec<ValueInfo>,
    pub outputs: Vec<ValueInfo>,
    pub metadata: BTreeMap<String, String>,
    /// Graph outputs that no node, graph input or initializer produces. A backend
    /// cannot wire them (tract 0.23 panics on one), so the contract refuses them.
    pub orphan_outputs: Vec<String>,
}

/// One graph input or output.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueInfo {
    pub name: String,
    /// ONNX `TensorProto.DataType` code, 0 when the file does not say.
    pub elem_type: i32,
    /// `None` when the file carries no shape at all.
    pub shape: Option<Vec<Dim>>,
}

/// One dimension of a declared shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Fixed(i64),
    Symbolic(String),
    Unknown,
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(v) => write!(f, "{v}"),
            Dim::Symbolic(s) => f.write_str(s),
            Dim::Unknown => f.write_str("?"),
        }
    }
}

/// ONNX element type code of f32.
pub const FLOAT: i32 = 1;

/// The name ONNX users know for an element type code.
pub fn dtype_name(code: i32) -> &'static str {
    match code {
        1 => "float32",
        2 => "uint8",
        3 => "int8",
        4 => "uint16",
        5 => "int16",
        6 => "int32",
        7 => "int64",
        8 => "string",
        9 => "bool",
        10 => "float16",
        11 => "float64",
        12 => "uint32",
        13 => "uint64",
        16 => "bfloat16",
        0 => "unknown",
        _ => "other",
    }
}

/// Why a file is not a readable ONNX model.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed protobuf at byte {offset}: {reason}")]
pub struct ProtoError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Parses the parts of a `ModelProto` the runtime needs.
pub fn parse_model(bytes: &[u8]) -> Result<OnnxSummary, ProtoError> {
    let mut summary = OnnxSummary::default();
    let mut graph_seen = false;
    for field in Fields::new(bytes, 0) {
        match field? {
            (1, Value::Varint(v)) => summary.ir_version = v as i64,
            (2, Value::Bytes(b, _)) => summary.producer = utf8(b),
            (7, Value::Bytes(b, at)) => {
                parse_graph(b, at, &mut summary)?;
                graph_seen = true;
            }
            (8, Value::Bytes(b, at)) => summary.opsets.push(parse_opset(b, at)?),
            (14, Value::Bytes(b, at)) => {
                let (k, v) = parse_string_pair(b, at)?;
                summary.metadata.insert(k, v);
            }
            _ => {}
        }
    }
    if !graph_seen {
        return Err(ProtoError {
            offset: bytes.len(),
            reason: "no graph in ModelProto",
        });
    }
    Ok(summary)
}

fn parse_graph(bytes: &[u8], base: usize, summary: &mut OnnxSummary) -> Result<(), ProtoError> {
    // Sets, not lists: a hostile graph may list millions of names.
    let mut initializers = BTreeSet::new();
    let mut produced = BTreeSet::new();
    for field in Fields::new(bytes, base) {
        match field? {
            (1, Value::Bytes(b, at)) => produced.extend(parse_node_outputs(b, at)?),
            (5, Value::Bytes(b, at)) => {
                initializers.insert(parse_tensor_name(b, at)?);
            }
            (11, Value::Bytes(b, at)) => summary.inputs.push(parse_value_info(b, at)?),
            (12, Value::Bytes(b, at)) => summary.outputs.push(parse_value_info(b, at)?),
            _ => {}
        }
    }
    produced.extend(summary.inputs.iter().map(|i| i.name.clone()));
    summary.orphan_outputs = (summary.outputs.iter())
        .filter(|o| !produced.contains(&o.name) && !initializers.contains(&o.name))
        .map(|o| o.name.clone())
        .collect();
    summary.inputs.retain(|i| !initializers.contains(&i.name));
    Ok(())
}

/// NodeProto: the names in `output` (field 2).
fn parse_node_outputs(bytes: &[u8], base: usize) -> Result<Vec<String>, ProtoError> {
    let mut outputs = Vec::new();
    for field in Fields::new(bytes, base) {
        if let (2, Value::Bytes(b, _)) = field? {
            outputs.push(utf8(b));
        }
    }
    Ok(outputs)
}

fn parse_tensor_name(bytes: &[u8], base: usize) -> Result<String, ProtoError> {
    let mut name = String::new();
    for field in Fields::new(bytes, base) {
        if let (8, Value::Bytes(b, _)) = field? {
            name = utf8(b);
        }
    }
    Ok(name)
}

fn parse_opset(bytes: &[u8], base: usize) -> Result<(String, i64), ProtoError> {
    let (mut domain, mut version) = (String::new(), 0);
    for field in Fields::new(bytes, base) {
        match field? {
            (1, Value::Bytes(b, _)) => domain = utf8(b),
            (2, Value::Varint(v)) => version = v as i64,
            _ => {}
        }
    }
    Ok((domain, version))
}

fn parse_string_pair(bytes: &[u8], base: usize) -> Result<(String, String), ProtoError> {
    let (mut key, mut value) = (String::new(), String::new());
    for field in Fields::new(bytes, base) {
        match field? {
            (1, Value::Bytes(b, _)) => key = utf8(b),
            (2, Value::Bytes(b, _)) => value = utf8(b),
            _ => {}
        }
    }
    Ok((key, value))
}

fn parse_value_info(bytes: &[u8], base: usize) -> Result<ValueInfo, ProtoError> {
    let mut info = ValueInfo {
        name: String::new(),
        elem_type: 0,
        shape: None,
    };
    for field in Fields::new(bytes, base) {
        match field? {
            (1, Value::Bytes(b, _)) => info.name = utf8(b),
            (2, Value::Bytes(b, at)) => parse_type(b, at, &mut info)?,
            _ => {}
        }
    }
    Ok(info)
}

/// TypeProto { tensor_type = 1: Tensor { elem_type = 1, shape = 2 } }.
fn parse_type(bytes: &[u8], base: usize, info: &mut ValueInfo) -> Result<(), ProtoError> {
    for field in Fields::new(bytes, base) {
        let (1, Value::Bytes(tensor, at)) = field? else {
            continue;
        };
        for inner in Fields::new(tensor, at) {
            match inner? {
                (1, Value::Varint(v)) => info.elem_type = v as i32,
                (2, Value::Bytes(b, at)) => info.shape = Some(parse_shape(b, at)?),
                _ => {}
            }
        }
    }
    Ok(())
}

fn parse_shape(bytes: &[u8], base: usize) -> Result<Vec<Dim>, ProtoError> {
    let mut dims = Vec::new();
    for field in Fields::new(bytes, base) {
        let (1, Value::Bytes(dim, at)) = field? else {
            continue;
        };
        let mut parsed = Dim::Unknown;
        for inner in Fields::new(dim, at) {
            match inner? {
                (1, Value::Varint(v)) => parsed = Dim::Fixed(v as i64),
                (2, Value::Bytes(b, _)) => parsed = Dim::Symbolic(utf8(b)),
                _ => {}
            }
        }
        dims.push(parsed);
    }
    Ok(dims)
}

fn utf8(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One decoded field value; `Bytes` carries the absolute offset of its payload.
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8], usize),
    Fixed,
}

/// Iterates the `(field number, value)` pairs of one message.
struct Fields<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8], base: usize) -> Fields<'a> {
        Fields {
            bytes,
            pos: 0,
            base,
            failed: false,
        }
    }

    fn error(&mut self, reason: &'static str) -> ProtoError {
        self.failed = true;
        ProtoError {
            offset: self.base + self.pos,
            reason,
        }
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(self.error("truncated varint"));
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error("varint longer than 10 bytes"))
    }

    fn skip(&mut self, n: usize) -> Result<(), ProtoError> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.bytes.len() => {
                self.pos = end;
                Ok(())
            }
            _ => Err(self.error("field runs past the end of its message")),
        }
    }

    fn field(&mut self) -> Result<(u32, Value<'a>), ProtoError> {
        let key = self.varint()?;
        let number = (key >> 3) as u32;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => self.skip(8).map(|_| Value::Fixed)?,
            5 => self.skip(4).map(|_| Value::Fixed)?,
            2 => {
                let len =
                    usize::try_from(self.varint()?).map_err(|_| self.error("length overflows"))?;
                let start = self.pos;
                self.skip(len)?;
                Value::Bytes(&self.bytes[start..start + len], self.base + start)
            }
            _ => return Err(self.error("unsupported wire type (groups or invalid)")),
        };
        Ok((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), ProtoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.bytes.len() {
            return None;
        }
        Some(self.field())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/encoder/tiny_encoder.onnx"
        );
        std::fs::read(path).expect("the tiny fixture is committed")
    }

    #[test]
    fn reads_the_tiny_fixture() {
        let s = parse_model(&tiny()).unwrap();
        let names: Vec<_> = s.inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["video", "imu", "present"]);
        let video = &s.inputs[0];
        assert_eq!(video.elem_type, FLOAT);
        let shape = video.shape.as_ref().unwrap();
        assert_eq!(shape[0], Dim::Symbolic("N".into()));
        assert_eq!(
            shape[1..],
            [Dim::Fixed(4), Dim::Fixed(3), Dim::Fixed(24), Dim::Fixed(32)]
        );
        assert_eq!(s.outputs.len(), 3);
        assert_eq!(s.metadata.get("mmcl.frames").map(String::as_str), Some("4"));
        assert!(s.orphan_outputs.is_empty(), "{:?}", s.orphan_outputs);
        assert!(s.opsets.contains(&(String::new(), 13)));
    }

    #[test]
    fn every_truncation_is_an_error_or_a_smaller_message_never_a_panic() {
        let bytes = tiny();
        for cut in 0..bytes.len() {
            let _ = parse_model(&bytes[..cut]);
        }
        assert!(parse_model(&bytes[..bytes.len() / 2]).is_err());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_model(b"not a model at all").is_err());
        assert!(parse_model(&[]).is_err());
    }
}
