//! `parity calibrate`: A/A runs that measure nondeterminism. Each side runs N times per
//! fixture; every run k ≥ 2 of a side (a *repeat*) is compared with run 1 of the same side
//! ([`observe`]), once without rules and once under the configured rules. The [`Calibrator`]
//! gathers what varied into a [`Calibration`]: per side, the places that vary and whether the
//! rules cover them; the findings (variation only the candidate has, runs of one side that ended
//! differently); and rules proposed for the legacy's uncovered noise ([`propose`]), rendered as
//! parity.toml text for a person to review ([`render`]). Nothing here edits a configuration.
//!
//! # Wire format
//!
//! `parity calibrate --format json` prints one [`Calibration`] (fields in a stable order, lists
//! sorted by output, pattern and kind), for example:
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "tool_version": "0.1.0",
//!   "config": "/repo/parity.toml",
//!   "runs": 3,
//!   "cases": ["main/a.json"],
//!   "legacy": {
//!     "repeats": 2,
//!     "varies": [{"output": "result.json", "format": "json", "pattern": "$.generated_at",
//!                 "kind": "changed", "repeats": 2, "fixtures": 1, "values": 2, "covered": false,
//!                 "example": {"path": "$.generated_at", "first": "10:00:01", "repeat": "10:00:02"}}],
//!     "uncovered": [{"output": "result.json", "pattern": "$.generated_at", "...": "..."}]
//!   },
//!   "candidate": {"repeats": 2, "varies": [], "uncovered": []},
//!   "findings": {"candidate_only": [], "candidate_only_covered": [], "inconsistent_runs": []},
//!   "notes": [],
//!   "proposal": {"blocks": [{"output": "result.json", "format": "json", "rules": [
//!     {"rule": "ignore", "path": "$.generated_at",
//!      "reason": "varies between runs of the legacy (calibrate)", "evidence": "changed in 2 of 2 repeats (1 fixture): …"}]}],
//!     "unproposed": []},
//!   "proposed_toml": "# Rules proposed by `parity calibrate` …",
//!   "exit_code": 0
//! }
//! ```

mod documents;
pub mod human;
pub mod lines;
pub mod observe;
pub mod propose;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::config::Config;
use crate::diff::{DiffKind, Format, JsonPath};
use crate::exit_code;
use crate::runner::{RunStatus, Side};
use observe::{Evidence, Example, Key, Observation, RepeatFindings};
use propose::Proposal;

/// Version of the JSON document; raised when a field changes meaning or disappears.
pub const FORMAT_VERSION: u32 = 1;

/// Everything a calibration found.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub format_version: u32,
    pub tool_version: String,
    /// The configuration file whose rules were checked.
    pub config: String,
    /// Runs of each side per fixture.
    pub runs: usize,
    /// The cases run, as `suite/fixture[variant]`.
    pub cases: Vec<String>,
    pub legacy: SideCalibration,
    pub candidate: SideCalibration,
    pub findings: Findings,
    pub notes: Vec<String>,
    pub proposal: Proposal,
    /// The proposal as parity.toml text (what `--write` writes).
    pub proposed_toml: String,
    pub exit_code: i32,
}

/// What varies between runs of one side.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SideCalibration {
    /// Repeats compared with the side's first run (fixtures × (runs − 1), less repeats that
    /// ended differently from the first run).
    pub repeats: usize,
    /// Everything that varied, compared without rules; `covered` when the configured rules hide
    /// it (nothing varies there under the rules).
    pub varies: Vec<Variation>,
    /// What still varies under the configured rules.
    pub uncovered: Vec<Variation>,
}

/// One kind of variation at one place, over every repeat of one side.
#[derive(Debug, Clone, Serialize)]
pub struct Variation {
    pub output: String,
    pub format: Option<Format>,
    /// A JSONPath with indices and keys folded to `[*]`; for text, the line with its varying
    /// part written `…`; `@@` for lines that appear or disappear.
    pub pattern: String,
    pub kind: DiffKind,
    /// Repeats in which it varied.
    pub repeats: usize,
    /// Fixtures (cases) in which it varied.
    pub fixtures: usize,
    /// Differences counted, over every repeat.
    pub values: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covered: Option<bool>,
    pub example: Example,
    /// The `[[compare]]` block covering the output.
    #[serde(skip)]
    pub block: Option<usize>,
    #[serde(skip)]
    pub evidence: Evidence,
}

impl Variation {
    /// Output and pattern: where it varies, whatever the kind.
    pub fn place(&self) -> (&str, &str) {
        (&self.output, &self.pattern)
    }
}

/// What a person must look at: exit code 1 when any list is not empty (except
/// `candidate_only_covered`, listed for information).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Findings {
    /// Variation in the candidate that the rules do not cover, where the legacy (under the same
    /// rules) does not vary: the rewrite introduced this nondeterminism.
    pub candidate_only: Vec<Variation>,
    /// Variation only the candidate has, which the rules happen to cover already.
    pub candidate_only_covered: Vec<Variation>,
    /// Runs of one side on one fixture that ended differently (e.g. exit 0, then exit 3).
    pub inconsistent_runs: Vec<InconsistentRuns>,
}

impl Findings {
    pub fn count(&self) -> usize {
        self.candidate_only.len() + self.inconsistent_runs.len()
    }
}

/// A side whose runs on one fixture ended differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InconsistentRuns {
    pub case: String,
    pub side: Side,
    /// How each run ended, in run order.
    pub statuses: Vec<String>,
}

/// Gathers the statuses and repeat findings of every case, then builds the [`Calibration`].
#[derive(Debug)]
pub struct Calibrator {
    runs: usize,
    cases: Vec<String>,
    sides: [SideTally; 2],
    notes: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct SideTally {
    repeats: usize,
    raw: BTreeMap<Key, Tally>,
    ruled: BTreeMap<Key, Tally>,
    /// Case → how each run ended, in run order.
    statuses: BTreeMap<String, Vec<RunStatus>>,
}

#[derive(Debug, Default)]
struct Tally {
    format: Option<Format>,
    block: Option<usize>,
    repeats: BTreeSet<(String, usize)>,
    fixtures: BTreeSet<String>,
    values: usize,
    example: Example,
    evidence: Evidence,
}

impl Tally {
    fn add(&mut self, case: &str, run: usize, observation: Observation) {
        if self.repeats.is_empty() {
            self.format = observation.format;
            self.block = observation.block;
            self.example = observation.example;
        }
        self.repeats.insert((case.to_owned(), run));
        self.fixtures.insert(case.to_owned());
        self.values += observation.values;
        self.evidence.merge(&observation.evidence);
    }

    fn into_variation(self, key: Key, covered: Option<bool>) -> Variation {
        Variation {
            output: key.output,
            format: self.format,
            pattern: key.pattern,
            kind: key.kind,
            repeats: self.repeats.len(),
            fixtures: self.fixtures.len(),
            values: self.values,
            covered,
            example: self.example,
            block: self.block,
            evidence: self.evidence,
        }
    }
}

fn index(side: Side) -> usize {
    match side {
        Side::Legacy => 0,
        Side::Candidate => 1,
    }
}

impl Calibrator {
    pub fn new(runs: usize, cases: Vec<String>) -> Self {
        Calibrator {
            runs,
            cases,
            sides: Default::default(),
            notes: BTreeSet::new(),
        }
    }

    /// Records how the next run of `side` on `case` ended (call in run order).
    pub fn record_status(&mut self, case: &str, side: Side, status: &RunStatus) {
        self.sides[index(side)]
            .statuses
            .entry(case.to_owned())
            .or_default()
            .push(status.clone());
    }

    /// Records what repeat `run` (2 or more) of `side` on `case` showed.
    pub fn record_repeat(&mut self, case: &str, side: Side, run: usize, found: RepeatFindings) {
        let tally = &mut self.sides[index(side)];
        tally.repeats += 1;
        for (observations, into) in [(found.raw, &mut tally.raw), (found.ruled, &mut tally.ruled)] {
            for observation in observations {
                into.entry(observation.key.clone())
                    .or_default()
                    .add(case, run, observation);
            }
        }
        self.notes
            .extend(found.notes.into_iter().map(|n| format!("{case}: {n}")));
    }

    /// The side and the reason, when a side could not be started in any run: nothing was
    /// calibrated, which is harness trouble rather than a finding.
    pub fn unstartable(&self) -> Option<(Side, String)> {
        [Side::Legacy, Side::Candidate]
            .into_iter()
            .find_map(|side| {
                let statuses = &self.sides[index(side)].statuses;
                let mut all = statuses.values().flatten();
                let first = all.next()?;
                let RunStatus::SpawnFailed { message } = first else {
                    return None;
                };
                all.all(|s| matches!(s, RunStatus::SpawnFailed { .. }))
                    .then(|| (side, message.clone()))
            })
    }

    /// Builds the calibration; `config` is the configuration the rules came from.
    pub fn finish(self, config: &Config) -> Calibration {
        let mut notes = self.notes;
        let mut inconsistent = Vec::new();
        let [legacy, candidate] = self.sides;
        for (side, tally) in [(Side::Legacy, &legacy), (Side::Candidate, &candidate)] {
            for (case, statuses) in &tally.statuses {
                judge_statuses(case, side, statuses, &mut inconsistent, &mut notes);
            }
        }
        let legacy = legacy.into_side();
        let candidate = candidate.into_side();
        let findings = findings(&legacy, &candidate, inconsistent);
        let proposal = propose::propose(&legacy.uncovered, config, legacy.repeats);
        let header = render::Header {
            runs: self.runs,
            fixtures: self.cases.len(),
            config: config.path.file_name().map_or_else(
                || "parity.toml".into(),
                |n| n.to_string_lossy().into_owned(),
            ),
        };
        let proposed_toml = render::render(&proposal, &header);
        let exit_code = if findings.count() > 0 {
            exit_code::DIFFERENT
        } else {
            exit_code::OK
        };
        Calibration {
            format_version: FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            config: config.path.display().to_string(),
            runs: self.runs,
            cases: self.cases,
            legacy,
            candidate,
            findings,
            notes: notes.into_iter().collect(),
            proposal,
            proposed_toml,
            exit_code,
        }
    }
}

impl SideTally {
    fn into_side(self) -> SideCalibration {
        let ruled_places: Vec<(String, String)> = self
            .ruled
            .keys()
            .map(|k| (k.output.clone(), k.pattern.clone()))
            .collect();
        let varies = self
            .raw
            .into_iter()
            .map(|(key, tally)| {
                let covered = !ruled_places
                    .iter()
                    .any(|(o, p)| *o == key.output && related(p, &key.pattern));
                tally.into_variation(key, Some(covered))
            })
            .collect();
        let uncovered = self
            .ruled
            .into_iter()
            .map(|(key, tally)| tally.into_variation(key, None))
            .collect();
        SideCalibration {
            repeats: self.repeats,
            varies,
            uncovered,
        }
    }
}

/// Runs that ended differently are a finding; runs that all failed the same way, a note.
fn judge_statuses(
    case: &str,
    side: Side,
    statuses: &[RunStatus],
    inconsistent: &mut Vec<InconsistentRuns>,
    notes: &mut BTreeSet<String>,
) {
    let Some(first) = statuses.first() else {
        return;
    };
    if statuses.iter().any(|s| s != first) {
        inconsistent.push(InconsistentRuns {
            case: case.to_owned(),
            side,
            statuses: statuses.iter().map(RunStatus::describe).collect(),
        });
    } else if !first.is_success() {
        notes.insert(format!(
            "{case}: the {side} ended the same way in every run ({}); its outputs were compared as they were",
            first.describe()
        ));
    }
}

/// Variation only the candidate has: under the rules (a finding), and without them but covered
/// (information).
fn findings(
    legacy: &SideCalibration,
    candidate: &SideCalibration,
    inconsistent_runs: Vec<InconsistentRuns>,
) -> Findings {
    let places = |list: &[Variation]| -> BTreeSet<(String, String)> {
        list.iter()
            .map(|v| (v.output.clone(), v.pattern.clone()))
            .collect()
    };
    let legacy_uncovered = places(&legacy.uncovered);
    let legacy_varies = places(&legacy.varies);
    let absent_from = |set: &BTreeSet<(String, String)>, v: &Variation| {
        let (output, pattern) = v.place();
        !set.contains(&(output.to_owned(), pattern.to_owned()))
    };
    Findings {
        candidate_only: candidate
            .uncovered
            .iter()
            .filter(|v| absent_from(&legacy_uncovered, v))
            .cloned()
            .collect(),
        candidate_only_covered: candidate
            .varies
            .iter()
            .filter(|v| v.covered == Some(true) && absent_from(&legacy_varies, v))
            .cloned()
            .collect(),
        inconsistent_runs,
    }
}

/// Do two patterns of one output concern the same values: equal, or one JSONPath inside the
/// other? A whole-file pattern (`$`, or `@@` for text) concerns everything in the file.
fn related(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (JsonPath::parse(a), JsonPath::parse(b)) {
        (Ok(x), Ok(y)) => {
            let (x, y) = (x.segments(), y.segments());
            x.starts_with(y) || y.starts_with(x)
        }
        _ => [a, b].iter().any(|p| *p == "$" || *p == "@@"),
    }
}

#[cfg(test)]
mod tests;
