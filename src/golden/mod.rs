//! Goldens: stored, normalised copies of the legacy's outputs per fixture, so comparison goes on
//! after the legacy is retired. The main type is [`GoldenStore`].
//!
//! Layout under `[golden] dir` (default `golden/`):
//!
//! ```text
//! golden/<suite>/<fixture>[@variant]/provenance.json    where it came from (see [`provenance`])
//! golden/<suite>/<fixture>[@variant]/out/…              the outputs under {out}, normalised
//! golden/<suite>/<fixture>[@variant]/stdout, stderr     the streams a [[compare]] block names
//! golden/<suite>/<fixture>[@variant].new/               a pending change, same layout
//! golden/review-log.jsonl                               every accept and reject, appended
//! ```
//!
//! A pending change is written by a run that found its golden out of date (never when `CI` is
//! set) and decided by `parity golden review|accept|reject`, as insta does with snapshots.

pub mod normalize;
pub mod provenance;
pub mod review;

use std::path::{Path, PathBuf};

use crate::compare::block_for;
use crate::config::{Config, OutputSelector};
use crate::diff::{DiffSpec, Format};
use crate::fixture::Case;
use crate::runner::{Artifacts, SideResult, SideRun, StreamInfo};
pub use provenance::{Provenance, hash_inputs};

/// The file naming a golden's origin.
pub const PROVENANCE_FILE: &str = "provenance.json";
/// The suffix of a pending change's directory.
pub const PENDING_SUFFIX: &str = ".new";

/// Why the golden store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    #[error("cannot read golden `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a parity provenance file", path.display())]
    Provenance {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write golden `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A stored golden (or pending change).
#[derive(Debug, Clone)]
pub struct Golden {
    pub dir: PathBuf,
    pub provenance: Provenance,
}

impl Golden {
    pub fn read(dir: &Path) -> Result<Option<Golden>, GoldenError> {
        let path = dir.join(PROVENANCE_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(GoldenError::Read { path, source }),
        };
        let provenance = serde_json::from_slice(&bytes)
            .map_err(|source| GoldenError::Provenance { path, source })?;
        Ok(Some(Golden {
            dir: dir.to_owned(),
            provenance,
        }))
    }

    /// The golden as one side of a comparison: its outputs where a run's would be, its
    /// recorded exit status, no timings.
    pub fn as_side(&self) -> SideResult {
        SideResult {
            run: SideRun {
                argv: self.provenance.argv.clone(),
                cwd: self.dir.to_string_lossy().into_owned(),
                status: self.provenance.status.clone(),
                wall_ms: 0.0,
                user_ms: None,
                sys_ms: None,
                peak_rss_kib: None,
                stdout: StreamInfo::default(),
                stderr: StreamInfo::default(),
                stderr_tail: String::new(),
                notes: Vec::new(),
            },
            artifacts: Artifacts {
                out_dir: self.dir.join("out"),
                stdout: self.dir.join("stdout"),
                stderr: self.dir.join("stderr"),
            },
        }
    }

    /// Whether the fixture's inputs changed since this golden was recorded.
    pub fn is_stale(&self, fixture: &Path) -> bool {
        hash_inputs(fixture).map_or(true, |hash| hash != self.provenance.inputs)
    }
}

/// The goldens of one configuration.
#[derive(Debug, Clone)]
pub struct GoldenStore {
    pub dir: PathBuf,
}

impl GoldenStore {
    pub fn new(dir: &Path) -> Self {
        GoldenStore {
            dir: dir.to_owned(),
        }
    }

    /// `golden/<suite>/<fixture>[@variant]`.
    pub fn case_dir(&self, case: &Case) -> PathBuf {
        let name = match case.variant_name() {
            Some(variant) => format!("{}@{variant}", case.fixture.id),
            None => case.fixture.id.clone(),
        };
        self.dir.join(&case.fixture.suite).join(name)
    }

    pub fn pending_dir(&self, case: &Case) -> PathBuf {
        pending_of(&self.case_dir(case))
    }

    pub fn load(&self, case: &Case) -> Result<Option<Golden>, GoldenError> {
        Golden::read(&self.case_dir(case))
    }

    /// True when at least one golden is stored.
    pub fn has_goldens(&self) -> bool {
        self.stored()
            .is_ok_and(|s| s.iter().any(|(_, pending)| !pending))
    }

    /// Every stored golden and pending change: (directory, is pending), sorted.
    pub fn stored(&self) -> std::io::Result<Vec<(PathBuf, bool)>> {
        if !self.dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        let mut walk = walkdir::WalkDir::new(&self.dir)
            .min_depth(1)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = walk.next() {
            let entry = entry.map_err(std::io::Error::other)?;
            if entry.file_type().is_dir() && entry.path().join(PROVENANCE_FILE).is_file() {
                let pending = entry
                    .file_name()
                    .to_string_lossy()
                    .ends_with(PENDING_SUFFIX);
                found.push((entry.into_path(), pending));
                walk.skip_current_dir();
            }
        }
        Ok(found)
    }

    /// Writes `run`'s outputs, normalised by the compare blocks' rules, with `provenance`, into
    /// `target` (a golden or a pending directory), replacing what was there as a whole.
    pub fn write(
        &self,
        config: &Config,
        target: &Path,
        run: &SideResult,
        mut provenance: Provenance,
    ) -> Result<(), GoldenError> {
        let error = |path: &Path| {
            let path = path.to_owned();
            move |source| GoldenError::Write { path, source }
        };
        let parent = target.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(error(parent))?;
        let staging = tempfile::Builder::new()
            .prefix(".recording-")
            .tempdir_in(parent)
            .map_err(error(parent))?;
        let mut outputs = Vec::new();
        for (relative, source) in crate::diff::dir::list_files(&run.artifacts.out_dir)
            .map_err(error(&run.artifacts.out_dir))?
        {
            let block = block_for(config, &relative);
            let bytes = std::fs::read(&source).map_err(error(&source))?;
            let stored = normalized(
                &relative,
                block.and_then(|b| b.format),
                block.map(|b| &b.spec),
                &bytes,
            );
            let dest = staging.path().join("out").join(&relative);
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir).map_err(error(dir))?;
            }
            std::fs::write(&dest, stored).map_err(error(&dest))?;
            outputs.push(relative);
        }
        for block in &config.compares {
            let (name, source) = match block.output {
                OutputSelector::Stdout => ("stdout", &run.artifacts.stdout),
                OutputSelector::Stderr => ("stderr", &run.artifacts.stderr),
                OutputSelector::Exit | OutputSelector::Files { .. } => continue,
            };
            let bytes = std::fs::read(source).unwrap_or_default();
            let dest = staging.path().join(name);
            std::fs::write(
                &dest,
                normalized(name, block.format, Some(&block.spec), &bytes),
            )
            .map_err(error(&dest))?;
            outputs.push(name.to_owned());
        }
        provenance.outputs = outputs;
        let text = serde_json::to_vec_pretty(&provenance).map_err(|e| GoldenError::Write {
            path: target.to_owned(),
            source: std::io::Error::other(e),
        })?;
        let dest = staging.path().join(PROVENANCE_FILE);
        std::fs::write(&dest, [text, b"\n".to_vec()].concat()).map_err(error(&dest))?;
        replace_dir(&staging.keep(), target).map_err(error(target))
    }
}

fn normalized(
    name: &str,
    format: Option<Format>,
    spec: Option<&DiffSpec>,
    bytes: &[u8],
) -> Vec<u8> {
    let format = format.unwrap_or_else(|| Format::detect(name, bytes));
    let default = DiffSpec::default();
    normalize::normalize(format, spec.unwrap_or(&default), bytes)
}

/// The pending directory of a golden directory.
pub fn pending_of(golden: &Path) -> PathBuf {
    let mut name = golden.file_name().unwrap_or_default().to_os_string();
    name.push(PENDING_SUFFIX);
    golden.with_file_name(name)
}

/// Moves `from` to `to`, replacing `to` if it exists: the old one is renamed aside first and
/// removed only once the new one is in place.
pub fn replace_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    if to.exists() {
        let mut aside = to.as_os_str().to_owned();
        aside.push(".old");
        let aside = PathBuf::from(aside);
        if aside.exists() {
            std::fs::remove_dir_all(&aside)?;
        }
        std::fs::rename(to, &aside)?;
        std::fs::rename(from, to)?;
        std::fs::remove_dir_all(&aside)
    } else {
        std::fs::rename(from, to)
    }
}
