//! Where ONNX Runtime's shared library is: the configured path, else
//! `ORT_DYLIB_PATH`, else the library inside the Python `onnxruntime` package that
//! `python3` imports (the PyPI wheel ships `onnxruntime/capi/libonnxruntime.so.*`),
//! so `pip install onnxruntime` is enough on a desktop.

use std::path::{Path, PathBuf};
use std::process::Command;

/// How the library was found, for messages and `model inspect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Configured(PathBuf),
    Env(PathBuf),
    Python(PathBuf),
}

impl Found {
    pub fn path(&self) -> &Path {
        match self {
            Found::Configured(p) | Found::Env(p) | Found::Python(p) => p,
        }
    }
}

/// The library to load, or `None` when none of the three places has one.
pub fn locate(configured: Option<&Path>) -> Option<Found> {
    if let Some(p) = configured {
        return Some(Found::Configured(p.to_path_buf()));
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return Some(Found::Env(PathBuf::from(p)));
    }
    python_package_library().map(Found::Python)
}

/// `libonnxruntime.so*` of the `onnxruntime` package `python3` imports, if any.
fn python_package_library() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import os, onnxruntime; print(os.path.dirname(onnxruntime.__file__))",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("capi");
    let mut libs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so"))
        })
        .collect();
    // The longest name is the fully versioned file (libonnxruntime.so.1.32.0).
    libs.sort_by_key(|p| p.as_os_str().len());
    libs.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_path_wins() {
        let p = Path::new("/opt/ort/libonnxruntime.so");
        assert_eq!(locate(Some(p)), Some(Found::Configured(p.to_path_buf())));
    }
}
