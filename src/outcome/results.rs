//! The run as a whole: [`RunResults`] (the content of results.json) with where and how it ran,
//! rule and waiver usage, and the [`Summary`] that decides the exit code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CaseOutcome, Cluster, Provenance, Verdict, cluster};
use crate::bench::{BenchSummary, BudgetVerdict};
use crate::exit_code;
use crate::fixture::CaseId;
use crate::units::{plural, thousands};

/// The tool that wrote the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo {
            name: env!("CARGO_PKG_NAME").to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// The configuration a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigInfo {
    /// Absolute, for tools.
    pub path: String,
    /// Relative to the top of the git repository holding it (else to the directory parity ran
    /// in), for people: `parity.toml`, `services/advisory/parity.toml`. Absent in results
    /// written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative: Option<String>,
    pub hash: String,
    pub source: String,
}

/// Where the run happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub os: String,
    pub arch: String,
    pub cpu: Option<String>,
    pub cores: usize,
    pub kernel: Option<String>,
    pub hostname: Option<String>,
}

impl Environment {
    pub fn capture() -> Self {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .ok()
                .map(|s| s.trim().to_owned())
        };
        let cpu = read("/proc/cpuinfo").and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        });
        Environment {
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            kernel: read("/proc/sys/kernel/osrelease"),
            hostname: read("/proc/sys/kernel/hostname"),
        }
    }
}

/// How measurements were taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Peak RSS reported for `true` run through the measuring helper: the floor below which no
    /// peak RSS figure can go.
    pub helper_floor_kib: Option<u64>,
    /// parity's own peak resident set size until the results were assembled (its memory
    /// bound is a measured figure; sides are not included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parity_peak_rss_kib: Option<u64>,
}

/// The peak resident set size of this process so far, in KiB.
pub fn own_peak_rss_kib() -> Option<u64> {
    // SAFETY: rusage is plain old data; getrusage only writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid out-pointer.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0;
    ok.then(|| u64::try_from(usage.ru_maxrss).unwrap_or(0))
}

/// The sides one suite ran: which legacy and which candidate, since a suite may have its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteSides {
    pub suite: String,
    /// The legacy's command as configured (`{fixture}` and the like unexpanded), or why it did
    /// not run (`retired`, `not configured`).
    pub legacy: String,
    /// True when the suite has its own `[suites.NAME.legacy]`.
    pub own_legacy: bool,
    pub candidate: String,
    pub own_candidate: bool,
    /// What the legacy's `version_cmd` printed, once per run; `unknown (why)` when it failed,
    /// `None` without one (or when the legacy did not run).
    #[serde(default)]
    pub legacy_version: Option<String>,
    /// What the candidate's `version_cmd` printed, the same way.
    #[serde(default)]
    pub candidate_version: Option<String>,
}

/// What was asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectionInfo {
    pub suites: Vec<String>,
    pub fixtures: Vec<String>,
    pub variants: Vec<String>,
    pub jobs: usize,
    /// Suites, fixtures or variants were picked (`--suite`, `--fixture`, `--variant`): the run
    /// is not the whole configured run, even once its shards are merged.
    #[serde(default)]
    pub narrowed: bool,
    /// Selected suites that did not run because their `requires` command failed (no database
    /// server here, say): skipped with the reason, never failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedSuite>,
}

/// A suite skipped because what it `requires` is not there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedSuite {
    pub suite: String,
    /// Its `requires` command, as written.
    pub requires: Vec<String>,
    /// How the command failed.
    pub reason: String,
}

/// Where a merged run came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merged {
    /// One per shard merged, in shard order.
    pub shards: Vec<MergedShard>,
    /// Shards of the run that were not given (`--allow-partial`): the results are partial.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// One shard's results file in a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedShard {
    /// `hash:2/4`.
    pub shard: String,
    pub file: String,
    pub cases: usize,
    pub hostname: Option<String>,
    pub started_at: String,
    pub finished_at: String,
}

/// The shard a run was, and the size of the whole run it is a slice of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    #[serde(flatten)]
    pub shard: crate::shard::Shard,
    /// Cases in the whole run (every shard).
    pub cases: usize,
    /// Units the performance gate measures in the whole run (a case, or each step of a
    /// scenario).
    pub units: usize,
}

/// Usage of one rule over the whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleUsage {
    pub id: usize,
    pub compare: usize,
    pub output: String,
    pub kind: String,
    pub path: Option<String>,
    pub detail: String,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<String>,
    /// Values the rule suppressed or rewrote (arrays it paired, for match rules).
    pub applied: u64,
    /// Values at its path it judged and let stand (a tolerance exceeded): not stale, though it
    /// allowed nothing.
    #[serde(default)]
    pub judged: u64,
    /// True when the whole configured run compared outputs and no value at the rule's path
    /// differed: the rule is probably not needed.
    pub stale: bool,
    /// True when a selection of the run (`--suite`, `--fixture`, `--variant`, or an
    /// interrupted run) did not exercise the rule: nothing is known about the whole run.
    #[serde(default)]
    pub not_exercised: bool,
    /// Past its `expires` date: not applied, and the run fails until it is renewed or removed.
    #[serde(default)]
    pub expired: bool,
}

/// Usage of one waiver over the whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaiverUsage {
    pub index: usize,
    pub path: Option<String>,
    pub output: Option<String>,
    pub fixture: Option<String>,
    pub value: Option<String>,
    pub reason: String,
    pub owner: String,
    pub expires: Option<String>,
    pub expired: bool,
    /// Differences it covered.
    pub applied: u64,
}

/// Totals and the exit code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    pub by_verdict: BTreeMap<String, usize>,
    /// Cases selected but not finished (interrupted).
    pub not_run: usize,
    pub exit_code: i32,
    /// One sentence: why the run passed or failed.
    pub headline: String,
}

/// What a run's result comes down to; the exit code follows from it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Stopped by a signal: what finished is reported, the rest is not known.
    Interrupted,
    NothingSelected,
    /// A case differs, a side failed where the other did not, or a golden mismatches.
    Failed,
    /// Nothing differs, but parity could not judge some case: nothing can be vouched for.
    Untrusted,
    /// Every case passed, but a rule or waiver is past its date.
    Expired,
    OverBudget,
    /// The performance verdict is inconclusive and `--strict-bench` asks for a clear one.
    InconclusiveStrict,
    Passed,
}

impl Gate {
    /// The exit code of a run with this result (see [`crate::exit_code`]).
    pub fn exit_code(self) -> i32 {
        match self {
            Gate::Passed => exit_code::OK,
            Gate::Failed | Gate::Expired => exit_code::DIFFERENT,
            Gate::Interrupted | Gate::Untrusted => exit_code::TROUBLE,
            Gate::OverBudget | Gate::InconclusiveStrict => exit_code::OVER_BUDGET,
            Gate::NothingSelected => exit_code::NOTHING_SELECTED,
        }
    }
}

/// A selected case that did not run to a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotRun {
    #[serde(flatten)]
    pub id: CaseId,
}

/// A whole run: the content of results.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub format_version: u32,
    pub tool: ToolInfo,
    pub started_at: String,
    pub finished_at: String,
    pub interrupted: bool,
    pub config: ConfigInfo,
    pub environment: Environment,
    pub measurement: Measurement,
    pub selection: SelectionInfo,
    /// The shard this run was (`--shard`); absent for a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// The shards a merged run was made of (`parity merge`), and those missing from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<Merged>,
    /// Where the run came from (repository, who ran it), for sign-off; `None` in results
    /// written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// The sides each covered suite ran, with their versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sides: Vec<SuiteSides>,
    pub cases: Vec<CaseOutcome>,
    /// Selected cases that did not run to a verdict (the run was interrupted first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_run: Vec<NotRun>,
    pub rules: Vec<RuleUsage>,
    pub waivers: Vec<WaiverUsage>,
    /// Differences across all cases grouped by output, path pattern and kind: "412 differences,
    /// 3 causes". Derived from the cases by [`RunResults::summarise`].
    #[serde(default)]
    pub clusters: Vec<Cluster>,
    /// The performance gate, when the run measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bench: Option<BenchSummary>,
    pub summary: Summary,
}

impl RunResults {
    /// The difference an example of `cluster` points at.
    pub fn example(
        &self,
        cluster: &Cluster,
        example: &super::ClusterExample,
    ) -> Option<&crate::diff::Difference> {
        let case = self.cases.iter().find(|c| c.label() == example.case)?;
        case.comparisons().into_iter().find_map(|compared| {
            compared
                .outputs
                .iter()
                .find(|o| compared.name(&o.output) == cluster.output)
                .and_then(|o| o.differences.get(example.difference))
        })
    }

    /// Rules and waivers past their `expires` date, described for people; any fails the gate.
    pub fn expired_exceptions(&self) -> Vec<String> {
        let rules = self.rules.iter().filter(|r| r.expired).map(|r| {
            format!(
                "rule {} ({} {} on `{}`, owner {})",
                r.id + 1,
                r.kind,
                r.path.as_deref().unwrap_or(""),
                r.output,
                r.owner.as_deref().unwrap_or("unknown")
            )
        });
        let waivers = self.waivers.iter().filter(|w| w.expired).map(|w| {
            format!(
                "waiver {} (owner {}, expired {})",
                w.index + 1,
                w.owner,
                w.expires.as_deref().unwrap_or("?")
            )
        });
        rules.chain(waivers).collect()
    }

    /// Recomputes the summary (and exit code) from the cases.
    pub fn summarise(&mut self) {
        self.clusters = cluster::clusters(&self.cases);
        let mut summary = Summary {
            cases: self.cases.len(),
            not_run: self.not_run.len(),
            ..Summary::default()
        };
        for case in &self.cases {
            *summary
                .by_verdict
                .entry(case.verdict.name().to_owned())
                .or_default() += 1;
            if case.verdict.is_success() {
                summary.passed += 1;
            } else {
                summary.failed += 1;
            }
        }
        let errors: Vec<&str> = self
            .cases
            .iter()
            .filter_map(|c| match &c.verdict {
                Verdict::Error { message } => Some(message.as_str()),
                _ => None,
            })
            .collect();
        let all_errors = !self.cases.is_empty() && errors.len() == self.cases.len();
        let passed = if summary.cases == 1 {
            "the one case passed".to_owned()
        } else {
            format!("all {} passed", plural(summary.cases, "case"))
        };
        let (gate, headline) = if self.interrupted {
            (
                Gate::Interrupted,
                format!(
                    "interrupted: {} of {} finished; results are incomplete",
                    thousands(summary.cases as u64),
                    plural(summary.cases + summary.not_run, "case")
                ),
            )
        } else if let (true, Some(shard)) = (self.cases.is_empty(), &self.shard)
            && shard.cases > 0
            && self.not_run.is_empty()
        {
            // Other shards have the cases: this one has nothing to vouch for, and nothing
            // against.
            (
                Gate::Passed,
                format!(
                    "shard {} holds none of the run's {}",
                    shard.shard,
                    plural(shard.cases, "case")
                ),
            )
        } else if self.cases.is_empty()
            && !self.selection.skipped.is_empty()
            && self.not_run.is_empty()
        {
            // What was selected cannot run here (its `requires` failed): nothing to vouch
            // for, nothing against; the reports say what was skipped.
            let skipped = &self.selection.skipped;
            let headline = match skipped.as_slice() {
                [one] => format!(
                    "nothing ran: suite `{}` was skipped: {}",
                    one.suite, one.reason
                ),
                many => format!(
                    "nothing ran: suites {} were skipped (their `requires` failed)",
                    many.iter()
                        .map(|s| format!("`{}`", s.suite))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            (Gate::Passed, headline)
        } else if self.cases.is_empty() {
            (
                Gate::NothingSelected,
                "no fixture matched the selection".to_owned(),
            )
        } else if all_errors {
            (
                Gate::Untrusted,
                format!("no case could be run: {}", errors[0]),
            )
        } else if summary.failed > errors.len() {
            (
                Gate::Failed,
                format!(
                    "{} of {} failed",
                    thousands(summary.failed as u64),
                    plural(summary.cases, "case")
                ),
            )
        } else if let Some(missing) = self
            .merged
            .as_ref()
            .map(|m| &m.missing)
            .filter(|m| !m.is_empty())
        {
            // A partial merge cannot vouch for the run: what is missing may fail.
            (
                Gate::Untrusted,
                format!(
                    "partial: shard{} {} missing; the {} merged passed",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", "),
                    plural(summary.cases, "case")
                ),
            )
        } else if let Some(first) = errors.first() {
            // Only parity's own trouble: nothing differs, but nothing can be vouched for.
            (
                Gate::Untrusted,
                format!(
                    "{} of {} could not be judged: {first}",
                    thousands(errors.len() as u64),
                    plural(summary.cases, "case")
                ),
            )
        } else if let Some(expired) = self.expired_exceptions().first() {
            (
                Gate::Expired,
                format!("{expired} expired: renew or remove it (every case passed otherwise)"),
            )
        } else {
            match &self.bench {
                Some(bench) if bench.verdict == BudgetVerdict::Exceeded => (
                    Gate::OverBudget,
                    format!(
                        "outputs agree, but the performance budget is exceeded: {}",
                        bench.describe()
                    ),
                ),
                Some(bench) if bench.verdict == BudgetVerdict::Inconclusive && bench.strict => (
                    Gate::InconclusiveStrict,
                    format!(
                        "outputs agree, but the performance verdict is inconclusive (--strict-bench): {}",
                        bench.describe()
                    ),
                ),
                Some(bench) if bench.verdict == BudgetVerdict::Inconclusive => (
                    Gate::Passed,
                    format!("{passed}; performance inconclusive: {}", bench.describe()),
                ),
                Some(bench) => (
                    Gate::Passed,
                    format!("{passed}; performance within budget: {}", bench.describe()),
                ),
                None => (Gate::Passed, passed),
            }
        };
        summary.exit_code = gate.exit_code();
        summary.headline = headline;
        self.summary = summary;
    }
}
