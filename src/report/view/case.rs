//! A case in detail, as every report shows it: the lines about it, its steps and stages, and
//! each differing output side by side.

use serde::Serialize;

use super::table::{TableView, rows_line, table_view};
use super::{MAX_ROWS, MAX_WAIVED_ROWS, VALUE_WIDTH};
use crate::diff::Difference;
use crate::outcome::{CaseOutcome, Compared, OutputComparison, RunResults, StageStatus, Stages};
use crate::report::{golden_origin, short_value};
use crate::units::{format_kib, format_ms};

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
    /// Keyed tables that agree (no difference): each with its rows line.
    pub agreeing: Vec<AgreeingTable>,
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
    /// Its rows and columns, when it is a keyed table.
    pub table: Option<TableView>,
}

/// A keyed table without differences: its rows line only (`1,000,000 in both, all identical`).
#[derive(Debug, Clone, Serialize)]
pub struct AgreeingTable {
    pub name: String,
    pub format: String,
    pub rows: String,
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

pub(super) fn case_detail(r: &RunResults, case: &CaseOutcome, anchor: &str) -> CaseDetail {
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
        .differing_outputs()
        .into_iter()
        .map(|(compared, o)| output_detail(&compared, o))
        .collect();
    let agreeing = case
        .comparisons()
        .iter()
        .flat_map(|compared| {
            compared
                .outputs
                .iter()
                .filter(|o| o.total == 0)
                .filter_map(move |o| {
                    Some(AgreeingTable {
                        name: compared.name(&o.output),
                        format: format_name(o),
                        rows: rows_line(o.table.as_ref()?, (compared.left, compared.right)),
                    })
                })
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
        agreeing,
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
            crate::report::shell::shell_words(&crate::report::rerun::rerun_args(r, case, root))
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
        format: format_name(output),
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
        table: output
            .table
            .as_ref()
            .map(|t| table_view(t, (compared.left, compared.right))),
    }
}

/// `csv`, `json`, … or `file` when it exists on one side only.
fn format_name(output: &OutputComparison) -> String {
    output.format.map_or("file", |f| f.as_str()).to_owned()
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
