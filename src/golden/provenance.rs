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

use chrono::{SecondsFormat, Utc};

use crate::config::Config;
use crate::fixture::Case;
use crate::runner::{RunStatus, SideResult};

/// Version of the provenance schema.
pub const PROVENANCE_VERSION: u32 = 1;

/// The record of how one golden was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub format_version: u32,
    pub suite: String,
    pub fixture: String,
    pub variant: Option<String>,
    /// The scenario step it is the golden of, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
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

impl Provenance {
    /// The program whose outputs the golden holds (`source`): the legacy, unless a
    /// candidate's run was accepted as the golden.
    pub fn side(&self) -> crate::runner::Side {
        if self.source == "candidate" {
            crate::runner::Side::Candidate
        } else {
            crate::runner::Side::Legacy
        }
    }

    /// The provenance of a golden made from `run` of `case`, whose fixture inputs hash to
    /// `inputs`. Its command line names the output directory `{out}` and paths under the
    /// configuration's directory relatively, so recording again elsewhere or later gives the same
    /// provenance.
    pub fn of(
        config: &Config,
        case: &Case,
        step: Option<&str>,
        run: &SideResult,
        source: &str,
        version: Option<String>,
        inputs: String,
    ) -> Provenance {
        let out_dir = run.artifacts.out_dir.to_string_lossy().into_owned();
        let mut base = config.base_dir.to_string_lossy().into_owned();
        base.push('/');
        let argv = run
            .run
            .argv
            .iter()
            .map(|arg| arg.replace(&out_dir, "{out}").replace(&base, ""))
            .collect();
        Provenance {
            format_version: PROVENANCE_VERSION,
            suite: case.fixture.suite.clone(),
            fixture: case.fixture.id.clone(),
            variant: case.variant_name().map(str::to_owned),
            step: step.map(str::to_owned),
            source: source.to_owned(),
            argv,
            version,
            status: run.run.status.clone(),
            inputs,
            outputs: Vec::new(),
            content: String::new(),
            parity_version: env!("CARGO_PKG_VERSION").to_owned(),
            config_hash: config.hash.clone(),
            recorded_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }
}

/// `blake3:<hex>` over every file under `path` (or the file itself): relative path, length and
/// bytes of each, in sorted order, so renaming or editing any input changes it. Inputs are the
/// user's own: a link to a file counts as that file (linked directories are not entered).
pub fn hash_inputs(path: &Path) -> std::io::Result<String> {
    if path.is_file() {
        let mut hasher = blake3::Hasher::new();
        hasher.update_reader(std::fs::File::open(path)?)?;
        return Ok(format!("blake3:{}", hasher.finalize().to_hex()));
    }
    let mut hasher = blake3::Hasher::new();
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::other)?;
        let is_file =
            entry.file_type().is_file() || (entry.path_is_symlink() && entry.path().is_file());
        if is_file {
            hash_file(
                &mut hasher,
                &crate::diff::dir::relative(path, entry.path()),
                entry.path(),
            )?;
        }
    }
    Ok(format!("blake3:{}", hasher.finalize().to_hex()))
}

/// The same hash over the stored outputs under `root` that `keep` accepts (by relative path):
/// outputs of a program, so links are hashed as links (by target), never followed, and
/// anything else that is not a regular file is an error.
pub fn hash_files(root: &Path, keep: impl Fn(&str) -> bool) -> std::io::Result<String> {
    use crate::diff::dir::Entry;
    let mut hasher = blake3::Hasher::new();
    for (relative, entry) in crate::diff::dir::list_entries(root) {
        if !keep(&relative) {
            continue;
        }
        match entry {
            Entry::File(file) => hash_file(&mut hasher, &relative, &file)?,
            Entry::Symlink { target, .. } => {
                hasher.update(relative.as_bytes());
                hasher.update(b"\0symlink\0");
                hasher.update(target.as_bytes());
                hasher.update(&[0]);
            }
            other => {
                return Err(std::io::Error::other(format!(
                    "`{relative}` is a {}, not a stored output",
                    other.kind()
                )));
            }
        }
    }
    Ok(format!("blake3:{}", hasher.finalize().to_hex()))
}

/// Adds one file: its relative path, length and bytes (read in chunks).
fn hash_file(hasher: &mut blake3::Hasher, relative: &str, file: &Path) -> std::io::Result<()> {
    let len = std::fs::metadata(file)?.len();
    hasher.update(relative.as_bytes());
    hasher.update(&[0]);
    hasher.update(&len.to_le_bytes());
    hasher.update_reader(std::fs::File::open(file)?)?;
    Ok(())
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
