//! Where a golden came from: `provenance.json` next to its outputs.
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "suite": "main", "fixture": "large", "variant": null,
//!   "source": "legacy",
//!   "argv": ["python3", "examples/advisory/legacy/monolith.py", "--input", "…", "--out", "…"],
//!   "version": "3f2c1e0",
//!   "status": { "kind": "exited", "code": 0 },
//!   "inputs": "blake3:…",
//!   "outputs": ["advisory_current.json", "run_report.md", "state_history.csv"],
//!   "content": "blake3:…",
//!   "parity_version": "0.1.0",
//!   "config_hash": "blake3:…",
//!   "recorded_at": "2026-11-22T10:00:00Z"
//! }
//! ```
//!
//! `inputs` is the content hash of the fixture (every file under it, by relative path): when it
//! no longer matches the fixture, the golden is stale and is never used.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::runner::RunStatus;

/// Version of the provenance schema.
pub const PROVENANCE_VERSION: u32 = 1;

/// The record of how one golden was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub format_version: u32,
    pub suite: String,
    pub fixture: String,
    pub variant: Option<String>,
    /// `legacy` when recorded from the legacy; `candidate` when a candidate run was accepted
    /// (after the legacy was retired).
    pub source: String,
    pub argv: Vec<String>,
    /// The legacy's version, from `[legacy] version_cmd`.
    pub version: Option<String>,
    pub status: RunStatus,
    /// Content hash of the fixture's inputs when recorded.
    pub inputs: String,
    /// The outputs stored, relative paths (`stdout`/`stderr` for streams).
    pub outputs: Vec<String>,
    /// Content hash of the stored outputs: a golden edited by hand no longer matches it
    /// (`parity golden check` says so).
    #[serde(default)]
    pub content: String,
    pub parity_version: String,
    pub config_hash: String,
    pub recorded_at: String,
}

/// `blake3:<hex>` over every file under `path` (or the file itself): relative path, length and
/// bytes of each, in sorted order, so renaming or editing any input changes it.
pub fn hash_inputs(path: &Path) -> std::io::Result<String> {
    if path.is_file() {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&std::fs::read(path)?);
        return Ok(format!("blake3:{}", hasher.finalize().to_hex()));
    }
    hash_files(path, |_| true)
}

/// The same hash over the files under `root` that `keep` accepts (by relative path).
pub fn hash_files(root: &Path, keep: impl Fn(&str) -> bool) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    for (relative, file) in crate::diff::dir::list_files(root)? {
        if !keep(&relative) {
            continue;
        }
        let bytes = std::fs::read(&file)?;
        hasher.update(relative.as_bytes());
        hasher.update(&[0]);
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(format!("blake3:{}", hasher.finalize().to_hex()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_hash_follows_names_and_contents() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), "1").unwrap();
        std::fs::write(dir.path().join("b.csv"), "x").unwrap();
        let first = hash_inputs(dir.path()).unwrap();
        assert_eq!(first, hash_inputs(dir.path()).unwrap());
        std::fs::write(dir.path().join("b.csv"), "y").unwrap();
        let edited = hash_inputs(dir.path()).unwrap();
        assert_ne!(first, edited);
        std::fs::rename(dir.path().join("b.csv"), dir.path().join("c.csv")).unwrap();
        assert_ne!(edited, hash_inputs(dir.path()).unwrap());
    }
}
