//! The run as people read it, decided once from [`RunResults`]: which cases get details, the
//! causes of the differences, the performance rows, what was waived, the steps and stages.
//! Each format ([`super::markdown`], [`super::html`]) only lays this out: what to show lives
//! here, how to show it lives there (hyperfine's `markup.rs` is the model).
//!
//! Texts in the view are plain: nothing is escaped for any format here, and values from the
//! programs under test are only shortened. Each renderer escapes for its own format.

use serde::Serialize;

use super::{golden_origin, short_value};
use crate::bench::{BudgetVerdict, Metric};
use crate::diff::Difference;
use crate::outcome::{
    CaseOutcome, Compared, OutputComparison, Reference, RuleUsage, RunResults, StageStatus, Stages,
};
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

/// The performance gate.
#[derive(Debug, Clone, Serialize)]
pub struct Performance {
    pub gate: Vec<String>,
    pub confidence: f64,
    pub fixture_confidence: f64,
    pub overall_confidence: f64,
    /// `wall 5%`, …
    pub budgets: Vec<String>,
    pub runs: usize,
    pub max_runs: usize,
    pub warmup: usize,
    pub seed: u64,
    pub verdict: String,
    pub exceeded: bool,
    pub describe: String,
    pub rows: Vec<BenchRow>,
    pub charts: Vec<Chart>,
}

/// One metric of one measured unit (a case, or a scenario's step).
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub label: String,
    pub metric: String,
    pub legacy_median: String,
    pub candidate_median: String,
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    pub budget: f64,
    pub verdict: String,
    pub pairs: usize,
}

/// The ratios of one gating metric, by unit, against its budget.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub metric: String,
    pub budget: f64,
    pub rows: Vec<ChartRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartRow {
    pub label: String,
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
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

/// A case in detail.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    pub label: String,
    pub anchor: String,
    pub success: bool,
    pub verdict: String,
    pub kind: String,
    /// `first divergence: decide (3 differences); …`, per case or step.
    pub leads: Vec<String>,
    pub bullets: Vec<Bullet>,
    pub steps: Vec<StepRow>,
    /// (step, note) of a scenario's steps.
    pub step_notes: Vec<(String, String)>,
    pub stages: Vec<StagesTable>,
    pub outputs: Vec<OutputDetail>,
    /// (side, last lines of stderr) of sides that failed.
    pub stderr: Vec<(String, String)>,
    /// The command that reruns just this case (a failing case), with the configuration's path
    /// relative to the repository.
    pub rerun: Option<String>,
}

/// A line about a case, before its differences.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Bullet {
    /// Plain text: a side's status or note, a case's note.
    Text(String),
    /// Where a golden came from (`golden_origin`), with its step.
    Provenance {
        step: Option<String>,
        origin: String,
    },
    /// Where the outputs were kept.
    Kept(String),
}

/// One step of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub step: String,
    pub success: bool,
    pub describe: String,
    pub unwaived: usize,
    pub waived: usize,
    pub legacy: String,
    pub candidate: String,
    pub legacy_wall: String,
    pub candidate_wall: String,
}

/// The stages of a case or of one step, when one did not agree.
#[derive(Debug, Clone, Serialize)]
pub struct StagesTable {
    pub step: Option<String>,
    pub rows: Vec<StageRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageRow {
    pub name: String,
    pub status: String,
    /// Diverged (a cause), the first or not.
    pub diverged: bool,
    pub first: bool,
    pub blocked_by: Option<String>,
    pub differences: usize,
}

/// One compared output with differences, side by side.
#[derive(Debug, Clone, Serialize)]
pub struct OutputDetail {
    /// As [`Compared::name`] gives it.
    pub name: String,
    pub format: String,
    pub total: usize,
    pub waived: usize,
    pub blocked_by: Option<String>,
    /// What the two columns are: `legacy`/`candidate`, `golden`/`candidate`, …
    pub left: String,
    pub right: String,
    pub rows: Vec<DiffRow>,
    /// Rows shown, and whether there are more than shown.
    pub shown: usize,
    pub more: bool,
    pub equivalences: Vec<EquivalenceRow>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffRow {
    pub path: String,
    pub kind: String,
    pub left: String,
    pub right: String,
    pub note: String,
    pub waived: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EquivalenceRow {
    pub count: usize,
    pub kind: String,
    /// (path, left, right) of the first example.
    pub example: Option<(String, String, String)>,
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
            RuleUse::NotExercised => "0 (not exercised by this selection)".to_owned(),
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

fn performance(r: &RunResults) -> Option<Performance> {
    let bench = r.bench.as_ref()?;
    let mut rows = Vec::new();
    for case in &r.cases {
        for (label, cb) in case.benches() {
            for (metric, m) in &cb.metrics {
                let verdict = match (m.judgement.gating, m.judgement.verdict) {
                    _ if !case.verdict.is_success() => {
                        format!("not counted ({})", case.verdict.name())
                    }
                    (true, BudgetVerdict::Exceeded) => "❌ exceeded".to_owned(),
                    (true, v) => v.as_str().to_owned(),
                    (false, v) => format!("{} (not gating)", v.as_str()),
                };
                rows.push(BenchRow {
                    label: label.clone(),
                    metric: metric.as_str().to_owned(),
                    legacy_median: metric.format(m.legacy_median),
                    candidate_median: metric.format(m.candidate_median),
                    ratio: m.judgement.ratio,
                    low: m.judgement.low,
                    high: m.judgement.high,
                    budget: m.judgement.budget,
                    verdict,
                    pairs: cb.valid_pairs,
                });
            }
        }
    }
    let charts = bench
        .gate
        .iter()
        .filter_map(|metric| chart(r, *metric, bench.budgets.get(metric).copied()))
        .collect();
    Some(Performance {
        gate: bench.gate.iter().map(|m| m.as_str().to_owned()).collect(),
        confidence: bench.confidence,
        fixture_confidence: bench.fixture_confidence,
        overall_confidence: bench.overall_confidence,
        budgets: bench
            .budgets
            .iter()
            .map(|(m, b)| format!("{} {:.0}%", m.as_str(), b * 100.0))
            .collect(),
        runs: bench.runs,
        max_runs: bench.max_runs,
        warmup: bench.warmup,
        seed: bench.seed,
        verdict: bench.verdict.as_str().to_owned(),
        exceeded: bench.verdict == BudgetVerdict::Exceeded,
        describe: bench.describe(),
        rows,
        charts,
    })
}

/// The ratios of `metric` over the units whose outputs agreed.
fn chart(r: &RunResults, metric: Metric, budget: Option<f64>) -> Option<Chart> {
    let rows: Vec<ChartRow> = r
        .cases
        .iter()
        .filter(|c| c.verdict.is_success())
        .flat_map(|c| c.benches())
        .filter_map(|(label, b)| {
            let m = b.metrics.get(&metric)?;
            Some(ChartRow {
                label,
                ratio: m.judgement.ratio,
                low: m.judgement.low,
                high: m.judgement.high,
            })
        })
        .collect();
    (!rows.is_empty()).then(|| Chart {
        metric: metric.as_str().to_owned(),
        budget: budget.unwrap_or(0.05),
        rows,
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

fn case_detail(r: &RunResults, case: &CaseOutcome, anchor: &str) -> CaseDetail {
    let mut bullets = Vec::new();
    for (side, run) in case.runs() {
        if !run.status.is_success() {
            bullets.push(Bullet::Text(format!("{side}: {}", run.status.describe())));
        }
        bullets.extend(
            run.notes
                .iter()
                .map(|note| Bullet::Text(format!("{side}: {note}"))),
        );
        for (name, stream) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if stream.truncated {
                bullets.push(Bullet::Text(format!(
                    "{side}: {name} was truncated: {} written, only the first {} kept",
                    format_kib(stream.bytes / 1024),
                    format_kib(crate::runner::CAPTURE_LIMIT / 1024)
                )));
            }
        }
    }
    for (step, golden) in case.goldens() {
        bullets.push(Bullet::Provenance {
            step: step.map(str::to_owned),
            origin: golden_origin(golden),
        });
    }
    bullets.extend(case.notes.iter().cloned().map(Bullet::Text));
    if let Some(dir) = &case.kept_outputs {
        bullets.push(Bullet::Kept(dir.clone()));
    }
    let mut stages: Vec<StagesTable> = stages_table(None, &case.stages).into_iter().collect();
    stages.extend(
        case.steps
            .iter()
            .filter_map(|s| stages_table(Some(&s.step), &s.stages)),
    );
    let outputs = case
        .comparisons()
        .iter()
        .flat_map(|compared| {
            compared
                .outputs
                .iter()
                .filter(|o| o.total > 0)
                .map(move |o| output_detail(compared, o))
        })
        .collect();
    CaseDetail {
        label: case.label(),
        anchor: anchor.to_owned(),
        success: case.verdict.is_success(),
        verdict: case.verdict.describe(),
        kind: case.verdict.name().to_owned(),
        leads: case.stage_leads(),
        bullets,
        steps: case.steps.iter().map(step_row).collect(),
        step_notes: case
            .steps
            .iter()
            .flat_map(|s| s.notes.iter().map(|n| (s.step.clone(), n.clone())))
            .collect(),
        stages,
        outputs,
        stderr: case
            .runs()
            .into_iter()
            .filter(|(_, run)| !run.status.is_success() && !run.stderr_tail.is_empty())
            .map(|(side, run)| (side.to_owned(), run.stderr_tail.clone()))
            .collect(),
        rerun: (!case.verdict.is_success()).then(|| {
            let root = r
                .provenance
                .as_ref()
                .and_then(|p| p.repository.as_ref())
                .map(|repo| std::path::Path::new(&repo.root));
            super::shell::shell_words(&super::rerun::rerun_args(r, case, root))
        }),
    }
}

fn step_row(step: &crate::outcome::StepOutcome) -> StepRow {
    let total: usize = step.outputs.iter().map(|o| o.total).sum();
    let waived: usize = step.outputs.iter().map(|o| o.waived).sum();
    let status = |run: &Option<crate::runner::SideRun>| {
        run.as_ref()
            .map_or("not run".to_owned(), |r| r.status.describe())
    };
    let wall = |run: &Option<crate::runner::SideRun>| {
        run.as_ref()
            .map_or("–".to_owned(), |r| format_ms(r.wall_ms))
    };
    StepRow {
        step: step.step.clone(),
        success: step.is_success(),
        describe: step.describe(),
        unwaived: total - waived,
        waived,
        legacy: status(&step.legacy),
        candidate: status(&step.candidate),
        legacy_wall: wall(&step.legacy),
        candidate_wall: wall(&step.candidate),
    }
}

/// The stages of a case or step, unless they all agree (results.json has them then).
fn stages_table(step: Option<&str>, stages: &Stages) -> Option<StagesTable> {
    if stages.stages.iter().all(|s| s.status == StageStatus::Agree) {
        return None;
    }
    let first = stages.first();
    Some(StagesTable {
        step: step.map(str::to_owned),
        rows: stages
            .stages
            .iter()
            .map(|s| StageRow {
                name: s.name.clone(),
                status: s.status.as_str().to_owned(),
                diverged: s.status == StageStatus::Diverged,
                first: first == Some(s.name.as_str()),
                blocked_by: s.blocked_by.clone(),
                differences: s.differences,
            })
            .collect(),
    })
}

fn output_detail(compared: &Compared<'_>, output: &OutputComparison) -> OutputDetail {
    let unwaived = output
        .differences
        .iter()
        .filter(|d| d.waiver.is_none())
        .take(MAX_ROWS);
    let waived = output
        .differences
        .iter()
        .filter(|d| d.waiver.is_some())
        .take(MAX_WAIVED_ROWS);
    let rows: Vec<DiffRow> = unwaived.chain(waived).map(diff_row).collect();
    OutputDetail {
        name: compared.name(&output.output),
        format: output.format.map_or("file", |f| f.as_str()).to_owned(),
        total: output.total,
        waived: output.waived,
        blocked_by: output.blocked_by.clone(),
        left: compared.left.to_owned(),
        right: compared.right.to_owned(),
        shown: rows.len(),
        more: output.total > rows.len(),
        rows,
        equivalences: output
            .equivalences
            .iter()
            .map(|e| EquivalenceRow {
                count: e.count,
                kind: e.kind.to_string(),
                example: e.examples.first().map(|d| {
                    (
                        d.path.clone(),
                        short_value(d.left.as_ref(), 30),
                        short_value(d.right.as_ref(), 30),
                    )
                }),
            })
            .collect(),
        notes: output.notes.clone(),
    }
}

fn diff_row(d: &Difference) -> DiffRow {
    let moved =
        crate::diff::text::moved_lines(d).map(|(from, to)| format!("line {from} → line {to}"));
    let mut note = moved
        .into_iter()
        .chain(d.note.clone())
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(clip) = d.clip_note() {
        if !note.is_empty() {
            note.push_str("; ");
        }
        note.push_str(&clip);
    }
    if let Some(w) = d.waiver {
        if !note.is_empty() {
            note.push_str("; ");
        }
        note.push_str(&format!("waived by #{}", w + 1));
    }
    DiffRow {
        path: d.path.clone(),
        kind: d.kind.to_string(),
        left: short_value(d.left.as_ref(), VALUE_WIDTH),
        right: short_value(d.right.as_ref(), VALUE_WIDTH),
        note,
        waived: d.waiver.is_some(),
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
