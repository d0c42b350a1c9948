//! One case of a past run explained, for the person investigating it (`parity explain`): its
//! verdict and first divergence, both sides' exact commands (shell-quoted, with their variables
//! and working directory), the fixture's input hash, the differing fields side by side, and the
//! one-line command that reruns just this case.
//!
//! [`Explanation`] is built from `results.json` alone ([`Explanation::new`]) and is what
//! `--format json` prints; [`text::render`] shows it to people. [`find_case`] resolves what the
//! user typed (a label, or a bare fixture id when unambiguous). [`reproduce`] writes the
//! `reproduce.sh` of a bundle.
//!
//! ```json
//! {
//!   "case": "regressions/override_then_newer_scan", "suite": "regressions",
//!   "fixture": "override_then_newer_scan", "variant": null,
//!   "verdict": { "kind": "different" }, "verdict_text": "different", "passed": false,
//!   "unwaived": 44, "leads": ["first divergence: decide (12 differences); …"],
//!   "runs": [{ "side": "legacy", "status": "exit 0", "command": "cd /repo && python3 …",
//!              "argv": ["python3", "…"], "env": [["TZ", "UTC"]], "cwd": "/repo" }],
//!   "inputs": "blake3:…",
//!   "outputs": [{ "name": "stage:decide", "left": "legacy", "right": "candidate",
//!                 "status": "different", "total": 12, "waived": 0, "rows": [{
//!                   "path": "$.advisories[?@.advisory_id=='A-1'].state", "kind": "changed",
//!                   "left": "affected", "right": "fixed" }] }],
//!   "rerun": "parity run --config parity.toml --suite regressions --fixture … --against both"
//! }
//! ```

mod lookup;
pub mod reproduce;
pub mod text;

pub use lookup::{LookupError, find_case};

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::shell::command_line;
use crate::diff::{DiffKind, Difference, Format, OutputStatus};
use crate::outcome::{CaseOutcome, Compared, OutputComparison, RunResults, Verdict};
use crate::runner::SideRun;

/// Everything `parity explain` shows about one case.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The case's label: `suite/fixture` or `suite/fixture[variant]`.
    pub case: String,
    pub suite: String,
    pub fixture: String,
    pub variant: Option<String>,
    pub verdict: Verdict,
    /// The verdict with its detail (`both-failed (same failure)`).
    pub verdict_text: String,
    pub passed: bool,
    /// Differences no waiver covers, over every comparison.
    pub unwaived: usize,
    pub waived: usize,
    /// What leads a failing case: its first divergent stage (per step in a scenario).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leads: Vec<String>,
    /// A scenario's steps on one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<String>,
    /// Every run of each side, in order (one per step in a scenario).
    pub runs: Vec<RunView>,
    /// `blake3:…` of the fixture's inputs when the case ran (absent in results.json written
    /// before parity recorded it).
    pub inputs: Option<String>,
    /// The same hash of the fixture as it is now, when it could be read (explain fills it in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs_now: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub goldens: Vec<GoldenView>,
    /// Compared outputs that have differences, each with its differing fields.
    pub outputs: Vec<OutputView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Where the run kept both sides' outputs, relative to results.json's directory.
    pub kept_outputs: Option<String>,
    /// The command that reruns just this case.
    pub rerun: String,
}

/// One run of one side.
#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    /// The scenario step it ran, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub side: &'static str,
    /// How it ended: `exit 0`, `killed by SIGSEGV`, …
    pub status: String,
    pub success: bool,
    /// `cd CWD && NAME=value argv…`, ready to paste into a POSIX shell.
    pub command: String,
    pub argv: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<(String, String)>,
    pub cwd: String,
    /// The last lines of stderr of a run that failed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stderr_tail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A golden the case was compared with.
#[derive(Debug, Clone, Serialize)]
pub struct GoldenView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Its directory, relative to the configuration's.
    pub path: String,
    /// The hash of the fixture's inputs it was recorded from.
    pub inputs: String,
    pub stale: bool,
    /// Where it came from, on one line.
    pub origin: String,
}

/// One compared output with differences.
#[derive(Debug, Clone, Serialize)]
pub struct OutputView {
    /// As reports name it: `report.md`, `report.md (step 2-override)`, `report.md (golden →
    /// legacy)`.
    pub name: String,
    /// The reference's column: `legacy` or `golden`.
    pub left: &'static str,
    /// The compared side's column: `candidate` or `legacy`.
    pub right: &'static str,
    pub format: Option<Format>,
    pub status: OutputStatus,
    pub total: usize,
    pub waived: usize,
    /// The stage these differences follow from, when they are consequences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// The stored differences: unwaived first, then waived.
    pub rows: Vec<Row>,
    /// Values equal although spelled differently, not counted: `2 number_format`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub equivalences: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One differing field: its path (which names its record's key), both values, and why it
/// does not count when a waiver covers it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub path: String,
    pub kind: DiffKind,
    /// The reference's value; absent when it has none there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right: Option<Value>,
    /// The waiver (1-based, as reports number them) that covers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<usize>,
    /// A moved text line: `line 12 → line 40: "text"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved: Option<String>,
    /// The difference's note and, for values cut to their limit, what they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Explanation {
    /// Explains `case` of `results`; the rerun command names the configuration relative to
    /// `cwd` when it lies under it.
    pub fn new(results: &RunResults, case: &CaseOutcome, cwd: Option<&Path>) -> Self {
        let unwaived = case.differences() - case.waived();
        Explanation {
            case: case.label(),
            suite: case.id.suite.clone(),
            fixture: case.id.fixture.clone(),
            variant: case.id.variant.clone(),
            verdict: case.verdict.clone(),
            verdict_text: case.verdict.describe(),
            passed: case.verdict.is_success(),
            unwaived,
            waived: case.waived(),
            leads: case.stage_leads(),
            steps: super::steps_line(case),
            runs: runs(case),
            inputs: case.inputs.clone(),
            inputs_now: None,
            goldens: case
                .goldens()
                .into_iter()
                .map(|(step, golden)| GoldenView {
                    step: step.map(str::to_owned),
                    path: golden.path.clone(),
                    inputs: golden.provenance.inputs.clone(),
                    stale: golden.stale,
                    origin: super::golden_origin(golden),
                })
                .collect(),
            outputs: case
                .differing_outputs()
                .into_iter()
                .map(|(compared, o)| output_view(&compared, o))
                .collect(),
            notes: case
                .notes
                .iter()
                .cloned()
                .chain(case.steps.iter().flat_map(|s| {
                    s.notes
                        .iter()
                        .map(move |note| format!("step {}: {note}", s.step))
                }))
                .collect(),
            kept_outputs: case.kept_outputs.clone(),
            rerun: super::shell::shell_words(&super::rerun::rerun_args(results, case, cwd)),
        }
    }
}

/// Every run of the case: its own two, or each step's.
fn runs(case: &CaseOutcome) -> Vec<RunView> {
    if case.steps.is_empty() {
        return case
            .runs()
            .into_iter()
            .map(|(side, run)| run_view(None, side, run))
            .collect();
    }
    case.steps
        .iter()
        .flat_map(|step| {
            let name = Some(step.step.as_str());
            let legacy = step.legacy.iter().map(move |r| run_view(name, "legacy", r));
            let candidate = step
                .candidate
                .iter()
                .map(move |r| run_view(name, "candidate", r));
            legacy.chain(candidate)
        })
        .collect()
}

fn run_view(step: Option<&str>, side: &'static str, run: &SideRun) -> RunView {
    RunView {
        step: step.map(str::to_owned),
        side,
        status: run.status.describe(),
        success: run.status.is_success(),
        command: command_line(Some(&run.cwd), &run.env, &run.argv),
        argv: run.argv.clone(),
        env: run.env.clone(),
        cwd: run.cwd.clone(),
        stderr_tail: if run.status.is_success() {
            String::new()
        } else {
            run.stderr_tail.clone()
        },
        notes: run.notes.clone(),
    }
}

fn output_view(compared: &Compared<'_>, output: &OutputComparison) -> OutputView {
    let unwaived = output.differences.iter().filter(|d| d.waiver.is_none());
    let waived = output.differences.iter().filter(|d| d.waiver.is_some());
    OutputView {
        name: compared.name(&output.output),
        left: compared.left,
        right: compared.right,
        format: output.format,
        status: output.status,
        total: output.total,
        waived: output.waived,
        blocked_by: output.blocked_by.clone(),
        rows: unwaived.chain(waived).map(row).collect(),
        equivalences: output
            .equivalences
            .iter()
            .map(|e| format!("{} {}", e.count, e.kind))
            .collect(),
        notes: output.notes.clone(),
    }
}

fn row(d: &Difference) -> Row {
    let note: Vec<String> = d.note.iter().cloned().chain(d.clip_note()).collect();
    Row {
        path: d.path.clone(),
        kind: d.kind,
        left: d.left.clone(),
        right: d.right.clone(),
        waived_by: d.waiver.map(|w| w + 1),
        moved: super::moved_summary(d, text::VALUE_WIDTH),
        note: (!note.is_empty()).then(|| note.join("; ")),
    }
}

#[cfg(test)]
mod tests;
