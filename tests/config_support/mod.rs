//! Shared by the config integration tests: a temporary layout in which a
//! profile's relative paths find an (empty) encoder model file.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The repository's firmware-config/ directory.
pub fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware-config")
}

/// tests/data/config/NAME.
/// The file names of the shipped profiles (`firmware-config/*.toml`), sorted.
pub fn shipped_profile_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(shipped_dir())
        .expect("firmware-config/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    names
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/config")
        .join(name)
}

/// `ROOT/firmware-config/NAME` holding `text`, with `ROOT/models/encoder.onnx` and
/// `ROOT/firmware-config/encoder.onnx` present so both the shipped
/// ("../models/encoder.onnx") and the fixture ("encoder.onnx") spellings resolve.
pub fn layout(name: &str, text: &str) -> (TempDir, PathBuf) {
    let root = tempfile::tempdir().expect("temp dir");
    let config_dir = root.path().join("firmware-config");
    fs::create_dir_all(root.path().join("models")).expect("models dir");
    fs::create_dir_all(&config_dir).expect("config dir");
    fs::write(root.path().join("models/encoder.onnx"), b"").expect("model");
    fs::write(config_dir.join("encoder.onnx"), b"").expect("model");
    let path = config_dir.join(name);
    fs::write(&path, text).expect("profile");
    (root, path)
}

/// A layout holding a copy of the file at `source`.
pub fn layout_of(source: &Path) -> (TempDir, PathBuf) {
    let text = fs::read_to_string(source).expect("read profile");
    let name = source
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    layout(&name, &text)
}
