//! The run as people read it, decided once from [`RunResults`]: which cases get details, the
//! causes of the differences, the performance rows, what was waived, the steps and stages.
//! Each format ([`super::markdown`], [`super::html`]) only lays this out: what to show lives
//! here, how to show it lives there (hyperfine's `markup.rs` is the model).
//!
//! Texts in the view are plain: nothing is escaped for any format here, and values from the
//! programs under test are only shortened. Each renderer escapes for its own format.

mod case;
mod performance;
mod table;

use serde::Serialize;

use case::case_detail;
pub use case::{
    AgreeingTable, Bullet, CaseDetail, DiffRow, EquivalenceRow, OutputDetail, StageRow,
    StagesTable, StepRow,
};
use performance::performance;
pub use performance::{BenchRow, Chart, ChartRow, Performance};
pub use table::{ColumnRow, NamesLine, TableView, rows_line, table_view};

use super::short_value;
use crate::outcome::{CaseOutcome, Reference, RuleUsage, RunResults};
use crate::units::{format_kib, format_ms};

/// Difference rows shown per output; results.json has the rest.
pub const MAX_ROWS: usize = 50;
/// Waived difference rows shown per output, as examples of what the waiver covers.
pub const MAX_WAIVED_ROWS: usize = 5;
/// Causes listed at the top.
pub const MAX_CLUSTERS: usize = 30;
/// Characters of a value shown in a table cell.
pub const VALUE_WIDTH: usize = 80;
/// Characters of a value in a cause's example.
const EXAMPLE_WIDTH: usize = 40;

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    pub pass: bool,
    pub exit_code: i32,
    pub headline: String,
    pub started_at: String,
    pub finished_at: String,
    pub interrupted: bool,
    pub suites: Vec<String>,
    /// Cases selected (finished or not).
    pub selected: usize,
    pub jobs: usize,
    pub sides: Vec<SidesRow>,
    /// The repository and who ran it; `None` in results written before they were recorded.
    pub origin: Option<Origin>,
    /// `shard hash:2/4 of a run of 120 cases`, for a shard's results.
    pub shard: Option<String>,
    /// `merged from 4 shards: …`, and the shards missing from a partial merge.
    pub merged: Option<String>,
    pub missing_shards: Vec<String>,
    /// Suites skipped as their `requires` failed: `` `warehouse`: `pg_isready` exited with 2 ``.
    pub skipped: Vec<String>,
    pub tool: String,
    pub config_path: String,
    pub config_hash: String,
    pub machine: String,
    /// Rules and waivers past their date, described.
    pub expired: Vec<String>,
    pub causes: Option<Causes>,
    /// (verdict, cases) in name order.
    pub verdicts: Vec<(String, usize)>,
    pub not_run: Vec<String>,
    pub performance: Option<Performance>,
    pub cases: Vec<CaseRow>,
    /// Cases shown in detail: those that failed, differ, or carry notes.
    pub details: Vec<CaseDetail>,
    pub goldens: Vec<GoldenRow>,
    pub waivers: Vec<WaiverRow>,
    pub rules: Vec<RuleRow>,
    /// The measuring helper's floor of peak RSS, when known.
    pub floor: Option<String>,
}

/// Which legacy and candidate ran: shared by the suites, or a suite's own.
#[derive(Debug, Clone, Serialize)]
pub struct SidesRow {
    /// `None`: the sides every suite shares.
    pub suite: Option<String>,
    pub legacy: String,
    pub own_legacy: bool,
    pub legacy_version: Option<String>,
    pub candidate: String,
    pub own_candidate: bool,
    pub candidate_version: Option<String>,
}

/// Where the run came from, for sign-off.
#[derive(Debug, Clone, Serialize)]
pub struct Origin {
    /// `abc1234 on main` or `abc1234 (detached)`; `None` outside a repository.
    pub commit: Option<String>,
    pub dirty: bool,
    /// The first uncommitted changes (`M parity.toml`).
    pub changes: Vec<String>,
    /// Who ran it: the user, and the CI job (`github-actions run 42 by octocat`).
    pub user: String,
    pub ci: Option<String>,
    /// The CI job's page.
    pub ci_url: Option<String>,
}

/// Differences across cases grouped by cause.
#[derive(Debug, Clone, Serialize)]
pub struct Causes {
    pub total: usize,
    pub unwaived: usize,
    /// How many causes there are (rows shows the first [`MAX_CLUSTERS`]).
    pub count: usize,
    /// Differences that follow from a divergent stage (not causes).
    pub consequences: usize,
    pub rows: Vec<CauseRow>,
    /// Causes not listed.
    pub more: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CauseRow {
    pub output: String,
    pub pattern: String,
    pub kind: String,
    pub count: usize,
    pub waived: usize,
    pub cases: usize,
    pub example: Option<Example>,
    /// The cases of its examples (label, anchor), each once.
    pub links: Vec<(String, String)>,
}

/// One difference standing for a cause: where, and both values shortened.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub case: String,
    /// The case's anchor in the details, when it has details.
    pub anchor: String,
    pub left: String,
    pub right: String,
}

/// One case in the table of cases.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    pub label: String,
    pub anchor: String,
    /// Whether it has a section in the details.
    pub detailed: bool,
    pub success: bool,
    pub verdict: String,
    /// The verdict's name, for filtering (`different`, `waived`, …).
    pub kind: String,
    pub against: String,
    pub unwaived: usize,
    pub waived: usize,
    pub legacy: String,
    pub candidate: String,
    pub legacy_wall: String,
    pub candidate_wall: String,
    pub legacy_rss: String,
    pub candidate_rss: String,
}

/// A golden used by a case (or step).
#[derive(Debug, Clone, Serialize)]
pub struct GoldenRow {
    pub label: String,
    pub path: String,
    pub source: String,
    pub version: Option<String>,
    pub recorded_at: String,
    pub inputs: String,
    pub parity: String,
    pub stale: bool,
    pub pending: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaiverRow {
    /// From 1.
    pub number: usize,
    /// (what, value): `("path", "$.a")`, `("value ~", "^OSV")`.
    pub covers: Vec<(&'static str, String)>,
    pub reason: String,
    pub owner: String,
    pub expires: Option<String>,
    pub expired: bool,
    pub applied: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    pub number: usize,
    pub output: String,
    pub kind: String,
    pub path: Option<String>,
    pub detail: String,
    pub reason: String,
    pub owner: String,
    pub expires: Option<String>,
    pub expired: bool,
    pub used: RuleUse,
    /// `used` in words.
    pub used_text: String,
}

/// How a rule was used over the run.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", content = "count", rename_all = "snake_case")]
pub enum RuleUse {
    Applied(u64),
    /// It judged values and allowed none (every number over its tolerance).
    JudgedNone(u64),
    /// The whole run compared outputs and no value at its path differed.
    Stale,
    /// A selection of the run did not exercise it.
    NotExercised,
}

impl RuleUse {
    fn of(rule: &RuleUsage) -> RuleUse {
        if rule.stale {
            RuleUse::Stale
        } else if rule.not_exercised {
            RuleUse::NotExercised
        } else if rule.applied == 0 && rule.judged > 0 {
            RuleUse::JudgedNone(rule.judged)
        } else {
            RuleUse::Applied(rule.applied)
        }
    }

    /// For a table cell; `stale` is how the format stresses the word.
    pub fn describe(self, stale: &str) -> String {
        match self {
            RuleUse::Stale => format!("0 ({stale}: no value at its path differed)"),
            RuleUse::NotExercised => "0 (not exercised in this run)".to_owned(),
            RuleUse::JudgedNone(n) => format!("0 (judged {n}, allowed none)"),
            RuleUse::Applied(n) => n.to_string(),
        }
    }
}

/// An anchor for a case's section: `case-` and its label with everything but letters and
/// digits as `-` (unique: the label's index is appended).
pub fn anchor(index: usize, label: &str) -> String {
    let slug: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("case-{index}-{slug}")
}

impl RunView {
    pub fn of(r: &RunResults) -> RunView {
        let detailed: Vec<bool> = r.cases.iter().map(shows_details).collect();
        let anchors: Vec<String> = r
            .cases
            .iter()
            .enumerate()
            .map(|(i, c)| anchor(i, &c.label()))
            .collect();
        let env = &r.environment;
        let kernel = env
            .kernel
            .as_ref()
            .map(|k| format!(" · kernel {k}"))
            .unwrap_or_default();
        RunView {
            pass: r.summary.exit_code == 0,
            exit_code: r.summary.exit_code,
            headline: r.summary.headline.clone(),
            started_at: r.started_at.clone(),
            finished_at: r.finished_at.clone(),
            interrupted: r.interrupted,
            suites: r.selection.suites.clone(),
            selected: r.summary.cases + r.summary.not_run,
            jobs: r.selection.jobs,
            sides: sides(r),
            origin: origin(r),
            shard: r.shard.map(|s| {
                format!(
                    "shard {} of a run of {}",
                    s.shard,
                    crate::units::plural(s.cases, "case")
                )
            }),
            merged: r.merged.as_ref().map(|m| {
                let shards: Vec<String> = m
                    .shards
                    .iter()
                    .map(|s| {
                        let host = s
                            .hostname
                            .as_deref()
                            .map(|h| format!(" on {h}"))
                            .unwrap_or_default();
                        format!(
                            "{} ({}{host})",
                            s.shard,
                            crate::units::plural(s.cases, "case")
                        )
                    })
                    .collect();
                format!(
                    "merged from {}: {}",
                    crate::units::plural(m.shards.len(), "shard"),
                    shards.join(", ")
                )
            }),
            missing_shards: r
                .merged
                .as_ref()
                .map(|m| m.missing.clone())
                .unwrap_or_default(),
            skipped: r
                .selection
                .skipped
                .iter()
                .map(|s| {
                    format!(
                        "suite `{}` (requires `{}`): {}",
                        s.suite,
                        s.requires.join(" "),
                        s.reason
                    )
                })
                .collect(),
            tool: format!("{} {}", r.tool.name, r.tool.version),
            config_path: r
                .config
                .relative
                .clone()
                .unwrap_or_else(|| r.config.path.clone()),
            config_hash: r.config.hash.clone(),
            machine: format!(
                "{} {} · {} · {} cores{kernel}",
                env.os,
                env.arch,
                env.cpu.as_deref().unwrap_or("unknown CPU"),
                env.cores
            ),
            expired: r.expired_exceptions(),
            causes: causes(r, &anchors),
            verdicts: r
                .summary
                .by_verdict
                .iter()
                .map(|(v, n)| (v.clone(), *n))
                .collect(),
            not_run: r.not_run.iter().map(|c| c.id.label()).collect(),
            performance: performance(r),
            cases: r
                .cases
                .iter()
                .zip(&anchors)
                .zip(&detailed)
                .map(|((c, a), d)| case_row(c, a, *d))
                .collect(),
            details: r
                .cases
                .iter()
                .zip(&anchors)
                .zip(&detailed)
                .filter(|(_, d)| **d)
                .map(|((c, a), _)| case_detail(r, c, a))
                .collect(),
            goldens: goldens(r),
            waivers: waivers(r),
            rules: r.rules.iter().map(rule_row).collect(),
            floor: r.measurement.helper_floor_kib.map(format_kib),
        }
    }
}

/// A case gets a section of its own when it failed, differs, or carries notes.
fn shows_details(c: &CaseOutcome) -> bool {
    !c.verdict.is_success()
        || c.differences() > 0
        || !c.notes.is_empty()
        || c.steps.iter().any(|s| !s.notes.is_empty())
}

fn sides(r: &RunResults) -> Vec<SidesRow> {
    let row = |s: &crate::outcome::SuiteSides, suite: Option<String>| SidesRow {
        suite,
        legacy: s.legacy.clone(),
        own_legacy: s.own_legacy,
        legacy_version: s.legacy_version.clone(),
        candidate: s.candidate.clone(),
        own_candidate: s.own_candidate,
        candidate_version: s.candidate_version.clone(),
    };
    let shared = r
        .sides
        .iter()
        .find(|s| !s.own_legacy && !s.own_candidate)
        .map(|s| row(s, None));
    let own = r
        .sides
        .iter()
        .filter(|s| s.own_legacy || s.own_candidate)
        .map(|s| row(s, Some(s.suite.clone())));
    shared.into_iter().chain(own).collect()
}

fn origin(r: &RunResults) -> Option<Origin> {
    let p = r.provenance.as_ref()?;
    let repo = p.repository.as_ref();
    let commit = repo.map(|repo| {
        let commit = repo
            .commit
            .as_deref()
            .map_or("no commit yet".to_owned(), |c| c.chars().take(12).collect());
        match &repo.branch {
            Some(branch) => format!("{commit} on {branch}"),
            None => format!("{commit} (detached)"),
        }
    });
    let ci = p.run_by.ci.as_ref();
    Some(Origin {
        commit,
        dirty: repo.is_some_and(|r| r.dirty),
        changes: repo.map(|r| r.changes.clone()).unwrap_or_default(),
        user: p.run_by.user.clone(),
        ci: ci.map(|ci| {
            let mut text = ci.system.clone();
            if let Some(id) = &ci.run_id {
                text.push_str(&format!(" run {id}"));
            }
            if let Some(actor) = &ci.actor {
                text.push_str(&format!(" by {actor}"));
            }
            text
        }),
        ci_url: ci.and_then(|ci| ci.url.clone()),
    })
}

fn causes(r: &RunResults, anchors: &[String]) -> Option<Causes> {
    if r.clusters.is_empty() {
        return None;
    }
    let anchor_of = |case: &str| {
        r.cases
            .iter()
            .position(|c| c.label() == case)
            .map(|i| anchors[i].clone())
            .unwrap_or_default()
    };
    let rows = r
        .clusters
        .iter()
        .take(MAX_CLUSTERS)
        .map(|cluster| CauseRow {
            output: cluster.output.clone(),
            pattern: cluster.pattern.clone(),
            kind: cluster.kind.to_string(),
            count: cluster.count,
            waived: cluster.waived,
            cases: cluster.cases,
            example: cluster
                .examples
                .first()
                .and_then(|e| Some((e, r.example(cluster, e)?)))
                .map(|(e, d)| Example {
                    case: e.case.clone(),
                    anchor: anchor_of(&e.case),
                    left: short_value(d.left.as_ref(), EXAMPLE_WIDTH),
                    right: short_value(d.right.as_ref(), EXAMPLE_WIDTH),
                }),
            links: {
                let mut links: Vec<(String, String)> = Vec::new();
                for e in &cluster.examples {
                    if !links.iter().any(|(label, _)| *label == e.case) {
                        links.push((e.case.clone(), anchor_of(&e.case)));
                    }
                }
                links
            },
        })
        .collect();
    Some(Causes {
        total: r.clusters.iter().map(|c| c.count).sum(),
        unwaived: r.clusters.iter().map(|c| c.unwaived()).sum(),
        count: r.clusters.len(),
        consequences: r.cases.iter().map(CaseOutcome::consequences).sum(),
        rows,
        more: r.clusters.len().saturating_sub(MAX_CLUSTERS),
    })
}

fn case_row(case: &CaseOutcome, anchor: &str, detailed: bool) -> CaseRow {
    let rss = |kib: Option<u64>| kib.map_or("–".to_owned(), format_kib);
    let legacy = case.legacy.as_ref();
    CaseRow {
        label: case.label(),
        anchor: anchor.to_owned(),
        detailed,
        success: case.verdict.is_success(),
        verdict: case.verdict.describe(),
        kind: case.verdict.name().to_owned(),
        against: against(case),
        unwaived: case.differences() - case.waived(),
        waived: case.waived(),
        legacy: legacy.map_or("not run".to_owned(), |l| l.status.describe()),
        candidate: case.candidate.status.describe(),
        legacy_wall: legacy.map_or("–".to_owned(), |l| format_ms(l.wall_ms)),
        candidate_wall: format_ms(case.candidate.wall_ms),
        legacy_rss: rss(legacy.and_then(|l| l.peak_rss_kib)),
        candidate_rss: rss(case.candidate.peak_rss_kib),
    }
}

/// `legacy`, `golden` or `legacy + golden`.
fn against(case: &CaseOutcome) -> String {
    let names: Vec<&str> = case
        .against
        .iter()
        .map(|r| match r {
            Reference::Legacy => "legacy",
            Reference::Golden => "golden",
        })
        .collect();
    if names.is_empty() {
        "–".to_owned()
    } else {
        names.join(" + ")
    }
}

fn goldens(r: &RunResults) -> Vec<GoldenRow> {
    r.cases
        .iter()
        .flat_map(|c| {
            c.goldens().into_iter().map(|(step, golden)| {
                let p = &golden.provenance;
                GoldenRow {
                    label: match step {
                        Some(step) => format!("{} (step {step})", c.label()),
                        None => c.label(),
                    },
                    path: golden.path.clone(),
                    source: p.source.clone(),
                    version: p.version.clone(),
                    recorded_at: p.recorded_at.clone(),
                    inputs: p.inputs.chars().take(19).collect(),
                    parity: p.parity_version.clone(),
                    stale: golden.stale,
                    pending: golden.pending.clone(),
                }
            })
        })
        .collect()
}

fn waivers(r: &RunResults) -> Vec<WaiverRow> {
    r.waivers
        .iter()
        .map(|w| {
            let covers = [
                ("path", &w.path),
                ("output", &w.output),
                ("fixture", &w.fixture),
                ("value ~", &w.value),
            ]
            .into_iter()
            .filter_map(|(what, value)| Some((what, value.clone()?)))
            .collect();
            WaiverRow {
                number: w.index + 1,
                covers,
                reason: w.reason.clone(),
                owner: w.owner.clone(),
                expires: w.expires.clone(),
                expired: w.expired,
                applied: w.applied,
            }
        })
        .collect()
}

fn rule_row(rule: &RuleUsage) -> RuleRow {
    RuleRow {
        number: rule.id + 1,
        output: rule.output.clone(),
        kind: rule.kind.clone(),
        path: rule.path.clone(),
        detail: rule.detail.clone(),
        reason: rule.reason.clone().unwrap_or_default(),
        owner: rule.owner.clone().unwrap_or_default(),
        expires: rule.expires.clone(),
        expired: rule.expired,
        used: RuleUse::of(rule),
        used_text: RuleUse::of(rule).describe("stale"),
    }
}
