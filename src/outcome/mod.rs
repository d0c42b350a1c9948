//! The records every report is built from: a [`CaseOutcome`] per fixture × variant with its
//! [`Verdict`], and [`RunResults`], the whole run as written to `results.json`.
//!
//! A side that crashes, hangs or differs is a verdict here, not an error: `Err` is reserved for
//! parity itself failing.
//!
//! `results.json` (`format_version` 1) looks like this, abridged:
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "tool": { "name": "parity", "version": "0.1.0" },
//!   "started_at": "2026-11-22T10:00:00Z", "finished_at": "2026-11-22T10:00:04Z",
//!   "interrupted": false,
//!   "config": { "path": "/repo/parity.toml", "relative": "parity.toml", "hash": "blake3:…",
//!               "source": "[legacy]\n…" },
//!   "environment": { "os": "linux", "arch": "x86_64", "cpu": "…", "cores": 2, "kernel": "…",
//!                    "hostname": "build-7" },
//!   "measurement": { "helper_floor_kib": 1900 },
//!   "selection": { "suites": ["main"], "fixtures": [], "variants": [], "jobs": 2 },
//!   "provenance": {
//!     "repository": { "root": "/repo", "commit": "3f2c1aa…", "branch": "main", "dirty": true,
//!                     "changes": ["M parity.toml", "?? notes.txt"] },
//!     "run_by": { "user": "jane",
//!                 "ci": { "system": "github-actions", "actor": "jane", "run_id": "987654",
//!                         "url": "https://github.com/acme/advisory/actions/runs/987654" } }
//!   },
//!   "sides": [{ "suite": "main", "legacy": "python3 legacy/monolith.py …", "own_legacy": false,
//!               "candidate": "python3 -m pipeline …", "own_candidate": false,
//!               "legacy_version": "3f2c1aa", "candidate_version": "unknown (`version_cmd` failed …)" }],
//!   "cases": [{
//!     "suite": "main", "fixture": "conflicting-sources", "variant": null,
//!     "verdict": { "kind": "different" }, "inputs": "blake3:…",
//!     "legacy": { "argv": ["python3", "…"], "env": [["TZ", "UTC"]], "cwd": "/repo",
//!                 "status": { "kind": "exited", "code": 0 },
//!                 "wall_ms": 81.2, "user_ms": 60.0, "sys_ms": 12.0, "peak_rss_kib": 10432,
//!                 "stdout": { "bytes": 0, "truncated": false }, "stderr_tail": "" },
//!     "candidate": { "…": "…" },
//!     "outputs": [{ "output": "advisory_current.json", "format": "json", "status": "different",
//!                   "total": 1, "waived": 0,
//!                   "differences": [{ "path": "$.advisories[?@.advisory_id=='A-1'].state",
//!                                     "kind": "changed", "left": "affected", "right": "fixed" }] }]
//!   }],
//!   "rules": [{ "id": 0, "kind": "ignore", "path": "$.generated_at", "applied": 9, "stale": false }],
//!   "waivers": [{ "index": 0, "reason": "…", "owner": "…", "applied": 3, "expired": false }],
//!   "summary": { "cases": 9, "passed": 8, "failed": 1, "by_verdict": { "different": 1 }, "exit_code": 1 }
//! }
//! ```
//!
//! `left` is always the legacy (reference) value and `right` the candidate's. `provenance`
//! (see [`Provenance`]) is what was tested, for sign-off: `repository` is null outside a git
//! repository; `run_by.ci` is absent outside a CI parity knows. A side's version is null
//! without a `version_cmd`. Results written before these fields parse without them.

use serde::{Deserialize, Serialize};

use crate::diff::{DiffKind, Difference, Format, OutputStatus, TableSummary};
use crate::fixture::CaseId;
use crate::runner::{RunStatus, Side, SideRun};

pub mod cluster;
mod provenance;
mod results;
mod stages;

pub use cluster::{Cluster, ClusterExample};
pub use provenance::{CiJob, MAX_CHANGES, Provenance, Repository, RunBy, github_run_url};
pub use results::{
    ConfigInfo, Environment, Gate, Measurement, Merged, MergedShard, NotRun, RuleUsage, RunResults,
    SelectionInfo, ShardInfo, SkippedSuite, SuiteSides, Summary, ToolInfo, WaiverUsage,
    own_peak_rss_kib,
};
pub use stages::{STAGE_PREFIX, StageOutcome, StageStatus, Stages};

/// Version of the results.json schema; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// The verdict for one fixture × variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Verdict {
    /// Every compared output byte for byte the same.
    Identical,
    /// Equal once the rules are applied.
    Equivalent,
    /// Every difference is covered by a waiver.
    Waived,
    /// At least one difference no waiver covers.
    Different,
    /// The legacy failed (non-zero exit or signal) and the candidate did not.
    LegacyFailed,
    /// The candidate failed and the legacy did not.
    CandidateFailed,
    /// Both failed; `agree` when they failed the same way with equivalent outputs.
    BothFailed { agree: bool },
    /// A side ran out of time.
    Timeout { sides: Vec<Side> },
    /// A side could not be run at all.
    Error { message: String },
    /// A golden disagrees: the candidate with it, or the legacy with it (drift).
    GoldenMismatch { legacy: bool, candidate: bool },
    /// The fixture's inputs changed since its golden was recorded; the golden was not used.
    GoldenStale,
    /// Compared against goldens only, and this case has none.
    GoldenMissing,
}

impl Verdict {
    pub fn is_success(&self) -> bool {
        match self {
            Verdict::Identical | Verdict::Equivalent | Verdict::Waived => true,
            Verdict::BothFailed { agree } => *agree,
            Verdict::Different
            | Verdict::LegacyFailed
            | Verdict::CandidateFailed
            | Verdict::Timeout { .. }
            | Verdict::Error { .. }
            | Verdict::GoldenMismatch { .. }
            | Verdict::GoldenStale
            | Verdict::GoldenMissing => false,
        }
    }

    /// How bad the verdict is, for the worst of several (a scenario's steps): passing verdicts
    /// by how much the rules had to do, then parity's own trouble, then real failures (above
    /// `error`, so a difference found at one step is never hidden by trouble at another).
    pub fn rank(&self) -> u8 {
        match self {
            Verdict::Identical => 0,
            Verdict::Equivalent => 1,
            Verdict::BothFailed { agree: true } => 2,
            Verdict::Waived => 3,
            Verdict::Error { .. } => 4,
            Verdict::Different
            | Verdict::GoldenMismatch { .. }
            | Verdict::GoldenStale
            | Verdict::GoldenMissing
            | Verdict::LegacyFailed
            | Verdict::CandidateFailed
            | Verdict::BothFailed { agree: false }
            | Verdict::Timeout { .. } => 5,
        }
    }

    /// The worst of `verdicts` (the first among equals); identical when there are none.
    pub fn worst<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> Verdict {
        let mut worst: Option<&Verdict> = None;
        for verdict in verdicts {
            if worst.is_none_or(|w| verdict.rank() > w.rank()) {
                worst = Some(verdict);
            }
        }
        worst.cloned().unwrap_or(Verdict::Identical)
    }

    /// The kebab-case name used in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::Equivalent => "equivalent",
            Verdict::Waived => "waived",
            Verdict::Different => "different",
            Verdict::LegacyFailed => "legacy-failed",
            Verdict::CandidateFailed => "candidate-failed",
            Verdict::BothFailed { .. } => "both-failed",
            Verdict::Timeout { .. } => "timeout",
            Verdict::Error { .. } => "error",
            Verdict::GoldenMismatch { .. } => "golden-mismatch",
            Verdict::GoldenStale => "golden-stale",
            Verdict::GoldenMissing => "golden-missing",
        }
    }

    /// The name with its detail: `both-failed (same failure)`, `timeout (candidate)`.
    pub fn describe(&self) -> String {
        match self {
            Verdict::BothFailed { agree: true } => "both-failed (same failure)".to_owned(),
            Verdict::BothFailed { agree: false } => "both-failed (different failures)".to_owned(),
            Verdict::Timeout { sides } => {
                let names: Vec<&str> = sides.iter().map(|s| s.as_str()).collect();
                format!("timeout ({})", names.join(", "))
            }
            Verdict::GoldenMismatch { legacy, candidate } => match (legacy, candidate) {
                (true, true) => "golden-mismatch (legacy and candidate)".to_owned(),
                (true, false) => "golden-mismatch (the legacy drifted from its golden)".to_owned(),
                (false, _) => "golden-mismatch (the candidate differs from the golden)".to_owned(),
            },
            other => other.name().to_owned(),
        }
    }

    /// Decides a case from how both sides ended (the reference is the legacy's run or its
    /// golden's recorded status) and the compared outputs.
    pub fn decide(
        legacy: &RunStatus,
        candidate: &RunStatus,
        outputs: &[OutputComparison],
    ) -> Verdict {
        let spawn_failure = [(Side::Legacy, legacy), (Side::Candidate, candidate)]
            .into_iter()
            .find_map(|(side, status)| {
                status
                    .harness_trouble()
                    .map(|message| format!("{side}: {message}"))
            });
        if let Some(message) = spawn_failure {
            return Verdict::Error { message };
        }
        let timed_out: Vec<Side> = [(Side::Legacy, legacy), (Side::Candidate, candidate)]
            .into_iter()
            .filter(|(_, status)| matches!(status, RunStatus::TimedOut { .. }))
            .map(|(side, _)| side)
            .collect();
        if !timed_out.is_empty() {
            return Verdict::Timeout { sides: timed_out };
        }
        let outputs_agree = outputs.iter().all(|o| o.status.is_success());
        match (legacy.is_success(), candidate.is_success()) {
            (false, false) => Verdict::BothFailed {
                agree: legacy == candidate && outputs_agree,
            },
            (false, true) => Verdict::LegacyFailed,
            (true, false) => Verdict::CandidateFailed,
            (true, true) => {
                let worst = outputs
                    .iter()
                    .map(|o| o.status)
                    .max()
                    .unwrap_or(OutputStatus::Identical);
                match worst {
                    OutputStatus::Identical => Verdict::Identical,
                    OutputStatus::Equivalent => Verdict::Equivalent,
                    OutputStatus::Waived => Verdict::Waived,
                    OutputStatus::Different => Verdict::Different,
                }
            }
        }
    }
}

/// One compared output of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputComparison {
    /// `stdout`, `stderr`, or the file's path relative to `{out}`.
    pub output: String,
    /// The format used; absent when the file exists on one side only.
    pub format: Option<Format>,
    /// Index of the `[[compare]]` block that covered it; absent for files no block names.
    pub compare: Option<usize>,
    pub status: OutputStatus,
    /// Every difference found, waived or not.
    pub total: usize,
    pub waived: usize,
    /// The first differences (at most `[report] max_differences`).
    pub differences: Vec<Difference>,
    /// Differences per path pattern × kind (every one counted, stored or not).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<OutputCluster>,
    /// Values equal although spelled differently (`1.0` and `1`) or within a tolerance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equivalences: Vec<Equivalence>,
    /// How the comparison went, where it matters (e.g. an array too long to align).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The stage whose divergence this output's differences follow from: they are
    /// consequences, not causes (a stage downstream of the first divergent one, or a final
    /// output of a case with a divergent stage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// For keyed records (CSV/TSV rows, NDJSON records, a JSON document's keyed array): rows
    /// in both, on one side only, identical and differing, and per column how many values
    /// differ (counted over every row, not only the stored differences).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<TableSummary>,
}

/// The differences of one output that share a path pattern and kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputCluster {
    /// The path with indices and keys folded to `[*]`.
    pub pattern: String,
    pub kind: DiffKind,
    pub count: usize,
    pub waived: usize,
}

/// Equal values spelled differently, of one kind, with the first examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Equivalence {
    pub kind: DiffKind,
    pub count: usize,
    pub examples: Vec<Difference>,
}

/// The outcome of one fixture × variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseOutcome {
    #[serde(flatten)]
    pub id: CaseId,
    pub verdict: Verdict,
    /// `blake3:<hex>` of the fixture's inputs when the case was judged (every file under it, by
    /// relative path, as goldens hash them); absent when they could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<String>,
    /// What the candidate was compared against: the legacy's run, its golden, or both.
    #[serde(default = "legacy_only")]
    pub against: Vec<Reference>,
    /// The legacy's run; absent when only the golden was compared against.
    pub legacy: Option<SideRun>,
    pub candidate: SideRun,
    /// The candidate's outputs against the reference: the legacy when it ran, else the golden.
    pub outputs: Vec<OutputComparison>,
    /// The golden's part, when goldens were used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub golden: Option<GoldenCheck>,
    /// Where both sides' outputs were kept, when they were.
    pub kept_outputs: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Performance against the budget, when the run measured it (`--bench`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bench: Option<crate::bench::CaseBench>,
    /// A scenario's steps, in order (a suite with `steps`): each compared on its own. The
    /// case's verdict is the worst of theirs; its `legacy` and `candidate` are the runs summed
    /// over the steps, and its `outputs` are empty (each step has its own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepOutcome>,
    /// The `[[stage]]` comparisons of the candidate against its reference, and the first
    /// divergent stage (for a scenario, each step has its own).
    #[serde(flatten)]
    pub stages: Stages,
}

/// One step of a scenario: its runs and what they were compared with, or why it did not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOutcome {
    /// The step's name: its entry in the fixture directory (`2-override`).
    pub step: String,
    /// The step's verdict; absent when it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// The earlier step where a side failed, when this one did not run (`blocked`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<SideRun>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<SideRun>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputComparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub golden: Option<GoldenCheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The step's performance against the budget, when the run measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bench: Option<crate::bench::CaseBench>,
    #[serde(flatten)]
    pub stages: Stages,
}

impl StepOutcome {
    /// `identical`, `different`, … or `blocked`.
    pub fn describe(&self) -> String {
        match (&self.verdict, &self.blocked_by) {
            (Some(verdict), _) => verdict.describe(),
            (None, Some(by)) => format!("blocked (a side failed at {by})"),
            (None, None) => "not run".to_owned(),
        }
    }

    pub fn is_success(&self) -> bool {
        self.verdict.as_ref().is_none_or(Verdict::is_success)
    }
}

/// The comparisons of one case or step: the candidate against its reference, then the
/// candidate and the legacy against the golden when both were used.
fn comparisons_of<'a>(
    step: Option<&'a str>,
    legacy_ran: bool,
    outputs: &'a [OutputComparison],
    golden: Option<&'a GoldenCheck>,
) -> Vec<Compared<'a>> {
    let primary = if legacy_ran { "legacy" } else { "golden" };
    let mut all = vec![Compared {
        left: primary,
        right: "candidate",
        primary: true,
        step,
        outputs,
    }];
    if let Some(golden) = golden {
        for (right, outputs) in [("candidate", &golden.candidate), ("legacy", &golden.legacy)] {
            if !outputs.is_empty() {
                all.push(Compared {
                    left: "golden",
                    right,
                    primary: false,
                    step,
                    outputs,
                });
            }
        }
    }
    all
}

/// What a candidate is compared against.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Reference {
    Legacy,
    Golden,
}

fn legacy_only() -> Vec<Reference> {
    vec![Reference::Legacy]
}

/// One comparison of a case: `right` against `left`.
#[derive(Debug, Clone, Copy)]
pub struct Compared<'a> {
    pub left: &'static str,
    pub right: &'static str,
    /// The candidate against its reference (the case's or the step's `outputs`).
    pub primary: bool,
    /// The scenario step compared, if any.
    pub step: Option<&'a str>,
    pub outputs: &'a [OutputComparison],
}

impl Compared<'_> {
    /// How an output of this comparison is named: `report.md`; `report.md (golden → legacy)`
    /// outside the primary comparison; `report.md (step 2-override)` in a scenario.
    pub fn name(&self, output: &str) -> String {
        let mut context = Vec::new();
        if let Some(step) = self.step {
            context.push(format!("step {step}"));
        }
        if !self.primary {
            context.push(format!("{} → {}", self.left, self.right));
        }
        if context.is_empty() {
            output.to_owned()
        } else {
            format!("{output} ({})", context.join(", "))
        }
    }
}

/// A case's golden: where it came from and how the sides compare with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenCheck {
    /// The golden's directory, relative to the golden store.
    pub path: String,
    pub provenance: crate::golden::Provenance,
    /// The fixture's inputs changed since recording; the golden was not used.
    pub stale: bool,
    /// The candidate against the golden, when the legacy also ran (otherwise the case's own
    /// `outputs` are against the golden).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidate: Vec<OutputComparison>,
    /// The legacy against its golden: drift, or a rotten golden.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legacy: Vec<OutputComparison>,
    /// Where a pending update was written for review, when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

impl CaseOutcome {
    /// The runs that happened, named: the legacy's (when it ran), then the candidate's.
    pub fn runs(&self) -> Vec<(&'static str, &SideRun)> {
        let mut runs = Vec::with_capacity(2);
        if let Some(legacy) = &self.legacy {
            runs.push(("legacy", legacy));
        }
        runs.push(("candidate", &self.candidate));
        runs
    }

    /// The candidate's reference and how it ended: the legacy's run, or the golden's recorded
    /// status.
    pub fn reference(&self) -> (&'static str, String) {
        match (&self.legacy, &self.golden) {
            (Some(legacy), _) => ("legacy", legacy.status.describe()),
            (None, Some(golden)) => (
                "golden",
                format!("{} (recorded)", golden.provenance.status.describe()),
            ),
            (None, None) => ("golden", "none recorded".to_owned()),
        }
    }

    /// `suite/fixture` or `suite/fixture[variant]`.
    pub fn label(&self) -> String {
        self.id.label()
    }

    /// Every comparison made for this case: the candidate against its reference (the legacy
    /// when it ran, else the golden), then, when both were used, the candidate and the legacy
    /// against the golden; for a scenario, the same for each step in turn.
    /// The outputs with at least one difference (waived or not), each with the comparison it
    /// belongs to, in the order of [`Self::comparisons`].
    pub fn differing_outputs(&self) -> Vec<(Compared<'_>, &OutputComparison)> {
        self.comparisons()
            .into_iter()
            .flat_map(|compared| {
                compared
                    .outputs
                    .iter()
                    .filter(|o| o.total > 0)
                    .map(move |o| (compared, o))
            })
            .collect()
    }

    pub fn comparisons(&self) -> Vec<Compared<'_>> {
        if self.steps.is_empty() {
            return comparisons_of(
                None,
                self.legacy.is_some(),
                &self.outputs,
                self.golden.as_ref(),
            );
        }
        self.steps
            .iter()
            .flat_map(|s| {
                comparisons_of(
                    Some(&s.step),
                    s.legacy.is_some(),
                    &s.outputs,
                    s.golden.as_ref(),
                )
            })
            .collect()
    }

    /// What the performance gate measured: the case, or each step of a scenario, labelled
    /// `suite/fixture` or `suite/fixture (step 2-override)`.
    pub fn benches(&self) -> Vec<(String, &crate::bench::CaseBench)> {
        let own = self.bench.iter().map(|b| (self.label(), b));
        let steps = self.steps.iter().filter_map(|s| {
            Some((
                format!("{} (step {})", self.label(), s.step),
                s.bench.as_ref()?,
            ))
        });
        own.chain(steps).collect()
    }

    /// What leads a failing case's report when a stage diverged: `first divergence: decide
    /// (3 differences); …`, prefixed by the step in a scenario (one line per such step).
    pub fn stage_leads(&self) -> Vec<String> {
        let own = self.stages.lead(&self.outputs);
        let steps = self.steps.iter().filter_map(|s| {
            s.stages
                .lead(&s.outputs)
                .map(|lead| format!("step {}: {lead}", s.step))
        });
        own.into_iter().chain(steps).collect()
    }

    /// Differences that follow from a divergent stage (kept, but not causes).
    pub fn consequences(&self) -> usize {
        self.comparisons()
            .iter()
            .flat_map(|c| c.outputs)
            .filter(|o| o.blocked_by.is_some())
            .map(|o| o.total - o.waived)
            .sum()
    }

    /// The goldens used, with the step each belongs to.
    pub fn goldens(&self) -> Vec<(Option<&str>, &GoldenCheck)> {
        let own = self.golden.iter().map(|g| (None, g));
        let steps = self
            .steps
            .iter()
            .filter_map(|s| Some((Some(s.step.as_str()), s.golden.as_ref()?)));
        own.chain(steps).collect()
    }

    /// Differences over every comparison.
    pub fn differences(&self) -> usize {
        self.comparisons()
            .iter()
            .flat_map(|c| c.outputs)
            .map(|o| o.total)
            .sum()
    }

    pub fn waived(&self) -> usize {
        self.comparisons()
            .iter()
            .flat_map(|c| c.outputs)
            .map(|o| o.waived)
            .sum()
    }
}

/// What a run's cases compared, for judging its rules: whether any output was compared by
/// content at all, and by which `[[compare]]` and `[[stage]]` blocks.
pub struct Exercised {
    any: bool,
    blocks: std::collections::BTreeSet<usize>,
}

impl Exercised {
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a CaseOutcome>) -> Self {
        let mut exercised = Exercised {
            any: false,
            blocks: std::collections::BTreeSet::new(),
        };
        for case in cases {
            for compared in case.comparisons() {
                for output in compared.outputs.iter().filter(|o| o.format.is_some()) {
                    exercised.any = true;
                    exercised.blocks.extend(output.compare);
                }
            }
        }
        exercised
    }

    /// (stale, not exercised) for a rule of block `compare` that applied nowhere (`unused`) in
    /// a run that is the whole configured run or not. A rule is stale only where it had its
    /// chance: the whole run, and its block compared outputs there (not when every case failed
    /// or had no reference, nor when its outputs come only from suites that did not run).
    pub fn judge(&self, unused: bool, whole: bool, compare: usize) -> (bool, bool) {
        let unused = unused && self.any;
        let judged = whole && self.blocks.contains(&compare);
        (unused && judged, unused && !judged)
    }
}
