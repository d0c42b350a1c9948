//! Goldens: stored, normalised copies of the legacy's outputs per fixture, so comparison goes on
//! after the legacy is retired. The main type is [`GoldenStore`].
//!
//! Layout under `[golden] dir` (default `golden/`):
//!
//! ```text
//! golden/<suite>/<fixture>[@variant]/provenance.json    where it came from (see [`provenance`])
//! golden/<suite>/<fixture>[@variant]/<step>/…           a scenario's goldens, one per step
//! golden/<suite>/<fixture>[@variant]/out/…              the outputs under {out}, normalised
//! golden/<suite>/<fixture>[@variant]/converted/…        the outputs a block converts, as converted
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

use crate::config::{Config, OutputSelector};
use crate::diff::dir::Entry;
use crate::diff::{DiffSpec, Format};
use crate::fixture::Case;
use crate::runner::{Artifacts, CONVERTED_DIR, SideResult, SideRun};
pub use provenance::{Provenance, hash_inputs};

/// True when running in CI (`CI` set to anything but empty, `0` or `false`): nothing under the
/// golden directory is ever written then.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The file naming a golden's origin.
pub const PROVENANCE_FILE: &str = "provenance.json";
/// The name prefix of a recording's scratch directory.
pub const RECORDING_PREFIX: &str = ".recording-";
/// The suffix of a directory set aside while it is replaced.
pub const ASIDE_SUFFIX: &str = ".old";
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
    #[error("`{}` line {line} is not a review-log entry", path.display())]
    Log {
        path: PathBuf,
        line: usize,
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

impl GoldenError {
    /// The message with its causes, `a: b: c`, for a person to act on.
    pub fn detail(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        text
    }
}

/// What a directory under the store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Golden,
    /// A pending change (`<golden>.new`).
    Pending,
    /// What an interrupted recording or replacement left: a scratch or set-aside directory.
    Leftover,
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
            side: self.provenance.side(),
            run: SideRun::unmeasured(
                self.provenance.argv.clone(),
                self.dir.to_string_lossy().into_owned(),
                self.provenance.status.clone(),
            ),
            artifacts: Artifacts::in_dir(&self.dir),
            conversions: Vec::new(),
        }
    }

    /// Whether the stored outputs are still those recorded (not edited by hand).
    pub fn is_intact(&self) -> std::io::Result<bool> {
        Ok(content_hash(&self.dir)? == self.provenance.content)
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
        case.id().dir_in(&self.dir)
    }

    /// The golden of a case, or of one step of a scenario: `golden/<suite>/<fixture>[@variant]`
    /// or `…/<fixture>[@variant]/<step>`.
    pub fn golden_dir(&self, case: &Case, step: Option<&str>) -> PathBuf {
        let dir = self.case_dir(case);
        match step {
            Some(step) => dir.join(step),
            None => dir,
        }
    }

    /// Every golden a case has: one, or one per step.
    pub fn golden_dirs(&self, case: &Case) -> Vec<PathBuf> {
        if case.steps.is_empty() {
            return vec![self.case_dir(case)];
        }
        case.steps
            .iter()
            .map(|s| self.golden_dir(case, Some(&s.name)))
            .collect()
    }

    /// A directory under the store as `suite/fixture[@variant][/step]`.
    pub fn relative(&self, dir: &Path) -> String {
        dir.strip_prefix(&self.dir)
            .unwrap_or(dir)
            .to_string_lossy()
            .into_owned()
    }

    pub fn pending_dir(&self, case: &Case, step: Option<&str>) -> PathBuf {
        pending_of(&self.golden_dir(case, step))
    }

    pub fn load(&self, case: &Case, step: Option<&str>) -> Result<Option<Golden>, GoldenError> {
        Golden::read(&self.golden_dir(case, step))
    }

    /// True when at least one golden is stored.
    pub fn has_goldens(&self) -> bool {
        self.stored()
            .is_ok_and(|s| s.iter().any(|(_, kind)| *kind == Stored::Golden))
    }

    /// Every stored golden and pending change: (directory, is pending), sorted.
    pub fn stored(&self) -> std::io::Result<Vec<(PathBuf, Stored)>> {
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
            if !entry.file_type().is_dir() {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            let kind = if name.starts_with(RECORDING_PREFIX) || name.ends_with(ASIDE_SUFFIX) {
                Stored::Leftover
            } else if entry.path().join(PROVENANCE_FILE).is_file() {
                if name.ends_with(PENDING_SUFFIX) {
                    Stored::Pending
                } else {
                    Stored::Golden
                }
            } else {
                continue;
            };
            found.push((entry.into_path(), kind));
            walk.skip_current_dir();
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
            .prefix(RECORDING_PREFIX)
            .tempdir_in(parent)
            .map_err(error(parent))?;
        if let Some(failed) = run.conversions.first() {
            return Err(GoldenError::Write {
                path: target.to_owned(),
                source: std::io::Error::other(failed.describe(run.side.as_str())),
            });
        }
        let mut outputs = Vec::new();
        for (relative, entry) in crate::diff::dir::list_entries(&run.artifacts.out_dir) {
            if config.converts(&relative, run.side) {
                // Kept as converted (below): the golden outlives the database it was read from.
                continue;
            }
            let source = match entry {
                Entry::File(path) => path,
                Entry::Symlink { path, .. } => {
                    // A link is stored as a link (its target), never followed.
                    let dest = staging.path().join("out").join(&relative);
                    let target = std::fs::read_link(&path).map_err(error(&path))?;
                    if let Some(dir) = dest.parent() {
                        std::fs::create_dir_all(dir).map_err(error(dir))?;
                    }
                    std::os::unix::fs::symlink(&target, &dest).map_err(error(&dest))?;
                    outputs.push(relative);
                    continue;
                }
                other => {
                    let why = match &other {
                        Entry::Unreadable { error, .. } => error.clone(),
                        _ => format!("it is a {}, which a golden cannot store", other.kind()),
                    };
                    return Err(GoldenError::Write {
                        path: other.path().to_owned(),
                        source: std::io::Error::other(why),
                    });
                }
            };
            let block = config.block_of_file(&relative, run.side);
            let dest = staging.path().join("out").join(&relative);
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir).map_err(error(dir))?;
            }
            let format = match block.and_then(|b| b.format) {
                Some(format) => format,
                None => Format::detect_file(&relative, &source).map_err(error(&source))?,
            };
            let rewrites_text = block.is_some_and(|b| b.spec.rules.has_normalize());
            if format == Format::Bytes || (format == Format::Text && !rewrites_text) {
                // Stored as written: copied, never held in memory.
                std::fs::copy(&source, &dest).map_err(error(&dest))?;
            } else {
                let bytes = std::fs::read(&source).map_err(error(&source))?;
                let stored = normalized(&relative, Some(format), block.map(|b| &b.spec), &bytes);
                std::fs::write(&dest, stored).map_err(error(&dest))?;
            }
            outputs.push(relative);
        }
        for (name, entry) in crate::diff::dir::list_entries(&run.artifacts.converted) {
            let Entry::File(source) = entry else {
                continue;
            };
            let block = config.block_of_converted(&name).map(|(block, _)| block);
            let dest = staging.path().join(CONVERTED_DIR).join(&name);
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir).map_err(error(dir))?;
            }
            let bytes = std::fs::read(&source).map_err(error(&source))?;
            let format = block.and_then(|b| b.format);
            let stored = normalized(&name, format, block.map(|b| &b.spec), &bytes);
            std::fs::write(&dest, stored).map_err(error(&dest))?;
            outputs.push(format!("{CONVERTED_DIR}/{name}"));
        }
        for block in &config.compares {
            let (name, source) = match block.output {
                OutputSelector::Stdout => ("stdout", &run.artifacts.stdout),
                OutputSelector::Stderr => ("stderr", &run.artifacts.stderr),
                OutputSelector::Exit
                | OutputSelector::Files { .. }
                | OutputSelector::Stage { .. } => {
                    continue;
                }
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
        provenance.content = content_hash(staging.path()).map_err(error(target))?;
        let text = serde_json::to_vec_pretty(&provenance).map_err(|e| GoldenError::Write {
            path: target.to_owned(),
            source: std::io::Error::other(e),
        })?;
        let dest = staging.path().join(PROVENANCE_FILE);
        std::fs::write(&dest, [text, b"\n".to_vec()].concat()).map_err(error(&dest))?;
        replace_dir(&staging.keep(), target).map_err(error(target))
    }
}

/// What recording did to a case's golden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// There was none.
    New,
    /// The same outputs and origin as before: the stored golden was left as it was.
    Unchanged,
    /// The golden changed; the outputs that differ (or `provenance.json` when only the origin
    /// did: the command, version, status or inputs).
    Updated { changed: Vec<String> },
}

impl GoldenStore {
    /// Writes `run` as the golden of `case` beside the stored one and compares the two; the
    /// stored golden is not touched until [`GoldenStore::apply`] (after the change is logged).
    /// A golden is changed only if anything but the recording date and tool versions differ,
    /// so recording twice leaves git clean.
    pub fn stage(
        &self,
        config: &Config,
        case: &Case,
        step: Option<&str>,
        run: &SideResult,
        provenance: Provenance,
    ) -> Result<Staged, GoldenError> {
        let target = self.golden_dir(case, step);
        let parent = target.parent().unwrap_or(&self.dir).to_owned();
        let error = |path: &Path| {
            let path = path.to_owned();
            move |source| GoldenError::Write { path, source }
        };
        std::fs::create_dir_all(&parent).map_err(error(&parent))?;
        let scratch = tempfile::Builder::new()
            .prefix(RECORDING_PREFIX)
            .tempdir_in(&parent)
            .map_err(error(&parent))?;
        let fresh = scratch.path().join("golden");
        self.write(config, &fresh, run, provenance)?;
        let outcome = match Golden::read(&target)? {
            None => Recorded::New,
            Some(old) => {
                let changed = changed_files(&old, &fresh).map_err(error(&target))?;
                if changed.is_empty() {
                    Recorded::Unchanged
                } else {
                    Recorded::Updated { changed }
                }
            }
        };
        Ok(Staged {
            _scratch: scratch,
            fresh,
            label: self.relative(&target),
            target,
            outcome,
        })
    }

    /// Puts a staged recording in place (when it changed anything) and removes the case's
    /// pending change, which it supersedes. Call it only once the change is logged.
    pub fn apply(&self, staged: Staged) -> Result<(), GoldenError> {
        let error = |path: &Path| {
            let path = path.to_owned();
            move |source| GoldenError::Write { path, source }
        };
        if staged.outcome != Recorded::Unchanged {
            replace_dir(&staged.fresh, &staged.target).map_err(error(&staged.target))?;
        }
        let pending = pending_of(&staged.target);
        if pending.exists() {
            std::fs::remove_dir_all(&pending).map_err(error(&pending))?;
        }
        Ok(())
    }
}

/// A recording written beside its golden, not yet in place; dropped, it leaves no trace.
#[derive(Debug)]
pub struct Staged {
    _scratch: tempfile::TempDir,
    fresh: PathBuf,
    target: PathBuf,
    /// The case, as the review log names it.
    pub label: String,
    pub outcome: Recorded,
}

/// The stored files that differ between a golden and a fresh recording, and `provenance.json`
/// when their origin does (the date and tool versions do not count).
fn changed_files(old: &Golden, fresh: &Path) -> std::io::Result<Vec<String>> {
    let mut changed = Vec::new();
    for pair in crate::diff::dir::pair_files(&old.dir, fresh) {
        if pair.relative == PROVENANCE_FILE {
            continue;
        }
        let same = match (&pair.left, &pair.right) {
            (Some(Entry::File(a)), Some(Entry::File(b))) => crate::diff::files_equal(a, b)?,
            (Some(Entry::Symlink { target: a, .. }), Some(Entry::Symlink { target: b, .. })) => {
                a == b
            }
            _ => false,
        };
        if !same {
            changed.push(pair.relative);
        }
    }
    let new = Golden::read(fresh)
        .map_err(std::io::Error::other)?
        .map(|g| g.provenance);
    if new.as_ref().map(origin) != Some(origin(&old.provenance)) {
        changed.push(PROVENANCE_FILE.to_owned());
    }
    Ok(changed)
}

/// The hash of a golden directory's stored outputs (everything but its provenance).
fn content_hash(dir: &Path) -> std::io::Result<String> {
    provenance::hash_files(dir, |name| name != PROVENANCE_FILE)
}

/// What a golden's origin is, for deciding whether recording changed it: everything in its
/// provenance but the date and the tool's version.
fn origin(p: &Provenance) -> impl PartialEq + '_ {
    (
        (&p.source, &p.argv, &p.version),
        (&p.status, &p.inputs, &p.outputs, &p.content),
    )
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

/// The golden directory of a pending directory (`x.new` → `x`); `None` for any other path.
pub fn golden_of(pending: &Path) -> Option<PathBuf> {
    let name = pending
        .file_name()?
        .to_str()?
        .strip_suffix(PENDING_SUFFIX)?;
    Some(pending.with_file_name(name))
}

/// Moves `from` to `to`, replacing `to` if it exists: the old one is renamed aside first and
/// removed only once the new one is in place.
pub fn replace_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    if to.exists() {
        let mut aside = to.as_os_str().to_owned();
        aside.push(ASIDE_SUFFIX);
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
