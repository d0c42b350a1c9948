//! Deciding pending changes: list them, compare each with its golden field by field, accept
//! (the pending directory replaces the golden) or reject (it is removed), and append every
//! decision to `review-log.jsonl` with who, when, why and which cases.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::{Golden, GoldenError, GoldenStore, Stored, golden_of, replace_dir};
use crate::runner::{Artifacts, RunStatus, SideResult, SideRun};

/// The append-only log of decisions, under the golden directory.
pub const LOG_FILE: &str = "review-log.jsonl";

/// A pending change and the golden it would replace.
#[derive(Debug, Clone)]
pub struct Pending {
    /// `suite/fixture[@variant]`.
    pub label: String,
    pub golden_dir: PathBuf,
    pub pending_dir: PathBuf,
    /// The change itself, its provenance read once.
    pub change: Golden,
}

impl Pending {
    /// The fixture id it was recorded for.
    pub fn fixture(&self) -> &str {
        &self.change.provenance.fixture
    }
}

/// Every pending change, sorted by label.
pub fn pending(store: &GoldenStore) -> Result<Vec<Pending>, GoldenError> {
    let stored = store.stored().map_err(|source| GoldenError::Read {
        path: store.dir.clone(),
        source,
    })?;
    let mut found = Vec::new();
    for (dir, _) in stored
        .into_iter()
        .filter(|(_, kind)| *kind == Stored::Pending)
    {
        let (Some(golden_dir), Some(change)) = (golden_of(&dir), Golden::read(&dir)?) else {
            continue;
        };
        found.push(Pending {
            label: store.relative(&golden_dir),
            golden_dir,
            pending_dir: dir,
            change,
        });
    }
    Ok(found)
}

/// A side with no outputs at all: what a brand-new golden is compared with.
fn nothing(dir: &Path) -> SideResult {
    SideResult {
        side: crate::runner::Side::Legacy,
        run: SideRun::unmeasured(Vec::new(), String::new(), RunStatus::Exited { code: 0 }),
        artifacts: Artifacts::in_dir(dir),
        conversions: Vec::new(),
    }
}

impl Pending {
    /// The golden (left; an empty run when it is gone) and its pending change (right), as runs
    /// to compare under the configuration's rules.
    pub fn sides(&self) -> Result<(SideResult, SideResult), GoldenError> {
        let golden = Golden::read(&self.golden_dir)?
            .map_or_else(|| nothing(&self.golden_dir), |g| g.as_side());
        Ok((golden, self.change.as_side()))
    }
}

/// What happened to goldens: recorded from the legacy, or a pending change accepted or
/// rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Record,
    Accept,
    Reject,
    /// Goldens removed because their fixture is gone (`parity golden prune`).
    Prune,
}

/// One line of the review log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub at: String,
    pub who: String,
    pub decision: Decision,
    pub reason: String,
    pub cases: Vec<String>,
}

/// Logs `decision` over every case in `cases` as one entry, then applies it (nothing is
/// applied when the log cannot be written).
pub fn decide(
    store: &GoldenStore,
    cases: &[Pending],
    decision: Decision,
    reason: &str,
) -> Result<(), GoldenError> {
    // The log entry comes first: a golden never changes without its record.
    let labels: Vec<String> = cases.iter().map(|p| p.label.clone()).collect();
    log(store, decision, reason, &labels)?;
    for pending in cases {
        let result = match decision {
            Decision::Accept => replace_dir(&pending.pending_dir, &pending.golden_dir),
            Decision::Reject => std::fs::remove_dir_all(&pending.pending_dir),
            Decision::Record | Decision::Prune => Ok(()),
        };
        result.map_err(|source| GoldenError::Write {
            path: pending.golden_dir.clone(),
            source,
        })?;
    }
    Ok(())
}

/// Appends one decision over `cases` (labels) to the log; nothing when `cases` is empty.
pub fn log(
    store: &GoldenStore,
    decision: Decision,
    reason: &str,
    cases: &[String],
) -> Result<(), GoldenError> {
    if cases.is_empty() {
        return Ok(());
    }
    let entry = LogEntry {
        at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        who: who(),
        decision,
        reason: reason.to_owned(),
        cases: cases.to_vec(),
    };
    append_log(store, &entry)
}

fn append_log(store: &GoldenStore, entry: &LogEntry) -> Result<(), GoldenError> {
    let path = store.dir.join(LOG_FILE);
    let error = |source| GoldenError::Write {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&store.dir).map_err(error)?;
    let mut line = serde_json::to_vec(entry).map_err(|e| error(std::io::Error::other(e)))?;
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(error)?;
    file.write_all(&line).map_err(error)
}

/// Every entry of the log, oldest first.
pub fn read_log(store: &GoldenStore) -> Result<Vec<LogEntry>, GoldenError> {
    let path = store.dir.join(LOG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(GoldenError::Read { path, source }),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| GoldenError::Log {
                path: path.clone(),
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// Who is deciding: git's `user.name`, else `$USER`, else `unknown`.
pub fn who() -> String {
    let git = std::process::Command::new("git")
        .args(["config", "user.name"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|name| !name.is_empty());
    git.or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}
