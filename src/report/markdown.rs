//! `report.md`: the evidence a person signs off from, laid out from the [`RunView`]. It says
//! what was covered, the verdict of every case, the causes of the differences across cases,
//! every difference with its path and both values, what was waived, by whom and until when,
//! which rules hid what, and the tool, config and machine that produced it. What to show is
//! decided in [`super::view`]; this file only writes Markdown.

use std::fmt::{self, Write};

use super::view::{
    Bullet, CaseDetail, MAX_WAIVED_ROWS, OutputDetail, Performance, RunView, StagesTable, TableView,
};
use super::{Render, ReportError};
use crate::outcome::RunResults;
use crate::units::plural;

pub use super::view::MAX_ROWS;

pub struct Markdown;

impl Render for Markdown {
    fn render(&self, results: &RunResults) -> Result<String, ReportError> {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = render(&mut out, &RunView::of(results));
        // Values, stderr and file names come from the programs under test: no control
        // character of theirs reaches a reader's terminal or renderer.
        Ok(super::inert::inert(&out).into_owned())
    }
}

fn render(out: &mut String, v: &RunView) -> fmt::Result {
    header(out, v)?;
    causes(out, v)?;
    writeln!(out, "## Verdicts\n\n| verdict | cases |\n|---|---:|")?;
    for (verdict, count) in &v.verdicts {
        writeln!(out, "| {verdict} | {count} |")?;
    }
    if !v.not_run.is_empty() {
        writeln!(out, "| not run (interrupted) | {} |", v.not_run.len())?;
    }
    if let Some(performance) = &v.performance {
        performance_section(out, performance)?;
    }
    cases(out, v)?;
    if !v.details.is_empty() {
        writeln!(out, "\n## Details\n")?;
        for case in &v.details {
            case_details(out, case)?;
        }
    }
    goldens(out, v)?;
    waivers(out, v)?;
    rules(out, v)?;
    if let Some(floor) = &v.floor {
        writeln!(
            out,
            "Peak RSS is each program's own (measured with `wait4` through a helper whose floor is {floor})."
        )?;
    }
    Ok(())
}

fn header(out: &mut String, v: &RunView) -> fmt::Result {
    let verdict = if v.pass { "PASS" } else { "FAIL" };
    writeln!(out, "# parity report: {verdict}\n")?;
    writeln!(out, "| | |\n|---|---|")?;
    writeln!(
        out,
        "| Result | **{verdict}** (exit {}): {} |",
        v.exit_code,
        cell(&v.headline)
    )?;
    let interrupted = if v.interrupted { " (interrupted)" } else { "" };
    writeln!(
        out,
        "| Run | {} → {}{interrupted} |",
        v.started_at, v.finished_at
    )?;
    let suites: Vec<String> = v.suites.iter().map(|s| code(s)).collect();
    writeln!(
        out,
        "| Selection | suites {} · {} · {} |",
        suites.join(", "),
        plural(v.selected, "case"),
        plural(v.jobs, "job")
    )?;
    for s in &v.sides {
        let version = |v: &Option<String>| {
            v.as_ref()
                .map(|v| format!(" (version {})", code(v)))
                .unwrap_or_default()
        };
        match &s.suite {
            None => writeln!(
                out,
                "| Sides | legacy {}{} · candidate {}{} |",
                code(&s.legacy),
                version(&s.legacy_version),
                code(&s.candidate),
                version(&s.candidate_version)
            )?,
            Some(suite) => {
                let whose = |own: bool| if own { "its own" } else { "the shared" };
                writeln!(
                    out,
                    "| Sides of `{}` | suite `{}`: {} legacy {}{} · {} candidate {}{} |",
                    cell(suite),
                    cell(suite),
                    whose(s.own_legacy),
                    code(&s.legacy),
                    version(&s.legacy_version),
                    whose(s.own_candidate),
                    code(&s.candidate),
                    version(&s.candidate_version)
                )?;
            }
        }
    }
    if let Some(o) = &v.origin {
        if let Some(commit) = &o.commit {
            let state = if o.dirty {
                let changes: Vec<String> = o.changes.iter().map(|c| code(c)).collect();
                format!(" · **uncommitted changes**: {}", changes.join(", "))
            } else {
                " · clean".to_owned()
            };
            writeln!(out, "| Repository | {}{state} |", code(commit))?;
        }
        let ci = match (&o.ci, &o.ci_url) {
            (Some(ci), Some(url)) => format!(" · {} ({})", cell(ci), cell(url)),
            (Some(ci), None) => format!(" · {}", cell(ci)),
            (None, _) => String::new(),
        };
        writeln!(out, "| Run by | {}{ci} |", cell(&o.user))?;
    }
    if let Some(shard) = &v.shard {
        writeln!(out, "| Shard | {} |", cell(shard))?;
    }
    if let Some(merged) = &v.merged {
        writeln!(out, "| Shards | {} |", cell(merged))?;
    }
    if !v.missing_shards.is_empty() {
        writeln!(
            out,
            "| Missing | **partial**: shards {} were not merged |",
            v.missing_shards.join(", ")
        )?;
    }
    for skipped in &v.skipped {
        writeln!(out, "| Skipped | {} |", cell(skipped))?;
    }
    writeln!(out, "| Tool | {} |", v.tool)?;
    writeln!(
        out,
        "| Config | {} · {} |",
        code(&v.config_path),
        code(&v.config_hash)
    )?;
    writeln!(out, "| Machine | {} |\n", v.machine)?;
    for expired in &v.expired {
        writeln!(
            out,
            "> **Expired:** {} — it no longer applies and fails the run until renewed or removed.\n",
            cell(expired)
        )?;
    }
    Ok(())
}

/// Differences across cases grouped by output, path pattern and kind.
fn causes(out: &mut String, v: &RunView) -> fmt::Result {
    let Some(c) = &v.causes else { return Ok(()) };
    writeln!(
        out,
        "## Differences by cause\n\n{} ({} not waived) in {}.\n",
        plural(c.total, "difference"),
        c.unwaived,
        plural(c.count, "cause")
    )?;
    if c.consequences > 0 {
        let (more, verb) = if c.consequences == 1 {
            ("1 more difference".to_owned(), "follows")
        } else {
            (format!("{} more differences", c.consequences), "follow")
        };
        writeln!(
            out,
            "{more} {verb} from a divergent stage (blocked by it: consequences, listed under each case, not causes).\n"
        )?;
    }
    writeln!(
        out,
        "| output | path | kind | differences | waived | cases | example |\n|---|---|---|---:|---:|---:|---|"
    )?;
    for row in &c.rows {
        let example = row
            .example
            .as_ref()
            .map(|e| format!("{}: {} → {}", code(&e.case), code(&e.left), code(&e.right)))
            .unwrap_or_default();
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {example} |",
            code(&row.output),
            code(&row.pattern),
            row.kind,
            row.count,
            row.waived,
            row.cases
        )?;
    }
    if c.more > 0 {
        writeln!(
            out,
            "\n{} more in results.json.",
            crate::units::plural(c.more, "cause")
        )?;
    }
    writeln!(out)
}

/// The performance gate: its settings, the overall verdict per metric, each unit's medians and
/// ratio with its interval, and a chart of the gating ratios.
fn performance_section(out: &mut String, p: &Performance) -> fmt::Result {
    writeln!(out, "\n## Performance\n")?;
    writeln!(
        out,
        "Gate: {} · confidence {} (each fixture {:.4}, overall {:.4}) · budgets {} · {}–{} pairs, {} warm-up · seed {}\n",
        p.gate.join(", "),
        p.confidence,
        p.fixture_confidence,
        p.overall_confidence,
        p.budgets.join(", "),
        p.runs,
        p.max_runs,
        p.warmup,
        p.seed
    )?;
    writeln!(
        out,
        "**{}**: {}\n",
        p.verdict.to_uppercase(),
        cell(&p.describe)
    )?;
    writeln!(
        out,
        "| case | metric | legacy median | candidate median | ratio | interval | budget | verdict | pairs |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---|---:|---|---:|")?;
    for row in &p.rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {:.3} | [{:.3}, {:.3}] | {:.0}% | {} | {} |",
            code(&row.label),
            row.metric,
            row.legacy_median,
            row.candidate_median,
            row.ratio,
            row.low,
            row.high,
            row.budget * 100.0,
            row.verdict,
            row.pairs
        )?;
    }
    for chart in &p.charts {
        let rows: Vec<crate::bench::chart::Row<'_>> = chart
            .rows
            .iter()
            .map(|r| crate::bench::chart::Row {
                label: &r.label,
                ratio: r.ratio,
                low: r.low,
                high: r.high,
            })
            .collect();
        writeln!(
            out,
            "\n{} ratio (candidate / legacy) by case:\n",
            chart.metric
        )?;
        writeln!(
            out,
            "```text\n{}```",
            crate::bench::chart::draw(&rows, chart.budget)
        )?;
    }
    Ok(())
}

fn cases(out: &mut String, v: &RunView) -> fmt::Result {
    writeln!(out, "\n## Cases\n")?;
    writeln!(
        out,
        "| case | verdict | against | differences | waived | legacy | candidate | legacy wall | candidate wall | legacy peak RSS | candidate peak RSS |"
    )?;
    writeln!(out, "|---|---|---|---:|---:|---|---|---:|---:|---:|---:|")?;
    for c in &v.cases {
        writeln!(
            out,
            "| {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            code(&c.label),
            if c.success { "" } else { "❌ " },
            c.verdict,
            c.against,
            c.unwaived,
            c.waived,
            cell(&c.legacy),
            cell(&c.candidate),
            c.legacy_wall,
            c.candidate_wall,
            c.legacy_rss,
            c.candidate_rss,
        )?;
    }
    for label in &v.not_run {
        writeln!(
            out,
            "| {} | not run (interrupted) | | | | | | | | | |",
            code(label)
        )?;
    }
    Ok(())
}

/// Where every golden used came from: the evidence that the reference is the legacy's.
fn goldens(out: &mut String, v: &RunView) -> fmt::Result {
    if v.goldens.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n## Goldens\n")?;
    writeln!(
        out,
        "| case | golden | recorded from | version | recorded at | inputs | parity | state |\n|---|---|---|---|---|---|---|---|"
    )?;
    for g in &v.goldens {
        let state = match (g.stale, &g.pending) {
            (true, _) => "❌ stale".to_owned(),
            (false, Some(pending)) => format!("pending update {}", code(pending)),
            (false, None) => "current".to_owned(),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {state} |",
            code(&g.label),
            code(&g.path),
            g.source,
            g.version.as_deref().map_or("–".to_owned(), code),
            g.recorded_at,
            code(&g.inputs),
            g.parity,
        )?;
    }
    writeln!(out)
}

fn case_details(out: &mut String, case: &CaseDetail) -> fmt::Result {
    writeln!(out, "### {} — {}\n", case.label, case.verdict)?;
    for lead in &case.leads {
        writeln!(out, "**{}**\n", cell(lead))?;
    }
    if !case.bullets.is_empty() {
        for bullet in &case.bullets {
            match bullet {
                Bullet::Text(text) => writeln!(out, "- {text}")?,
                Bullet::Provenance { step, origin } => {
                    let step = step
                        .as_ref()
                        .map(|s| format!(" (step {s})"))
                        .unwrap_or_default();
                    writeln!(out, "- provenance{step}: {}", cell(origin))?;
                }
                Bullet::Kept(dir) => writeln!(out, "- outputs kept in {}", code(dir))?,
            }
        }
        writeln!(out)?;
    }
    steps_table(out, case)?;
    for table in &case.stages {
        stages_table(out, table)?;
    }
    for output in &case.outputs {
        output_table(out, output)?;
    }
    if !case.agreeing.is_empty() {
        for table in &case.agreeing {
            writeln!(
                out,
                "- {} ({}) rows: {}",
                code(&table.name),
                table.format,
                cell(&table.rows)
            )?;
        }
        writeln!(out)?;
    }
    if let Some(rerun) = &case.rerun {
        let f = fence(rerun);
        writeln!(out, "Rerun just this case:\n\n{f}sh\n{rerun}\n{f}\n")?;
    }
    for (side, tail) in &case.stderr {
        writeln!(
            out,
            "{side} stderr (last lines):\n\n```text\n{}\n```\n",
            tail.replace("```", "ˋˋˋ")
        )?;
    }
    Ok(())
}

/// The stages of a case (or of one step): each one's status, what blocked it, its differences.
fn stages_table(out: &mut String, table: &StagesTable) -> fmt::Result {
    if let Some(step) = &table.step {
        writeln!(out, "Stages of step {}:\n", code(step))?;
    }
    writeln!(
        out,
        "| stage | status | blocked by | differences |\n|---|---|---|---:|"
    )?;
    for stage in &table.rows {
        let status = match (stage.diverged, stage.first) {
            (true, true) => "❌ diverged (first)".to_owned(),
            (true, false) => "❌ diverged".to_owned(),
            (false, _) => stage.status.clone(),
        };
        writeln!(
            out,
            "| {} | {status} | {} | {} |",
            code(&stage.name),
            stage.blocked_by.as_deref().map(code).unwrap_or_default(),
            stage.differences
        )?;
    }
    writeln!(out)
}

/// A scenario's steps: each one's verdict, differences and both sides' runs.
fn steps_table(out: &mut String, case: &CaseDetail) -> fmt::Result {
    if case.steps.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "| step | verdict | differences | waived | legacy | candidate | legacy wall | candidate wall |\n|---|---|---:|---:|---|---|---:|---:|"
    )?;
    for step in &case.steps {
        writeln!(
            out,
            "| {} | {}{} | {} | {} | {} | {} | {} | {} |",
            code(&step.step),
            if step.success { "" } else { "❌ " },
            cell(&step.describe),
            step.unwaived,
            step.waived,
            cell(&step.legacy),
            cell(&step.candidate),
            step.legacy_wall,
            step.candidate_wall,
        )?;
    }
    for (step, note) in &case.step_notes {
        writeln!(out, "\n- step {}: {}", code(step), cell(note))?;
    }
    writeln!(out)
}

fn output_table(out: &mut String, output: &OutputDetail) -> fmt::Result {
    let consequence = output
        .blocked_by
        .as_ref()
        .map(|by| format!(" — blocked by {}: consequences, not causes", code(by)))
        .unwrap_or_default();
    writeln!(
        out,
        "{} ({}): {}, {} waived{consequence}\n",
        code(&output.name),
        output.format,
        plural(output.total, "difference"),
        output.waived
    )?;
    if let Some(table) = &output.table {
        table_block(out, table)?;
    }
    writeln!(
        out,
        "| path | kind | {} | {} | note |\n|---|---|---|---|---|",
        output.left, output.right
    )?;
    for d in &output.rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            code(&d.path),
            d.kind,
            code(&d.left),
            code(&d.right),
            cell(&d.note)
        )?;
    }
    if output.more {
        writeln!(
            out,
            "\n{} of {} shown (waived differences: {MAX_WAIVED_ROWS} examples per output); every stored difference is in results.json.",
            output.shown, output.total
        )?;
    }
    for equivalence in &output.equivalences {
        let example = equivalence
            .example
            .as_ref()
            .map(|(path, left, right)| {
                format!(", e.g. {}: {} and {}", code(path), code(left), code(right))
            })
            .unwrap_or_default();
        writeln!(
            out,
            "\nEquivalent, not counted: {} ({}){example}.",
            equivalence.count, equivalence.kind
        )?;
    }
    for note in &output.notes {
        writeln!(out, "\nNote: {}", cell(note))?;
    }
    writeln!(out)
}

/// A keyed table's rows, the columns whose values differ, and the other columns by name.
fn table_block(out: &mut String, table: &TableView) -> fmt::Result {
    writeln!(out, "rows: {}\n", cell(&table.rows))?;
    if !table.columns.is_empty() {
        writeln!(
            out,
            "| column | unequal | largest numeric difference | at key |\n|---|---:|---:|---|"
        )?;
        for c in &table.columns {
            let at = if c.at.is_empty() {
                String::new()
            } else {
                code(&c.at)
            };
            writeln!(
                out,
                "| {} | {} | {} | {at} |",
                code(&c.name),
                c.unequal,
                c.largest
            )?;
        }
        if table.more_columns > 0 {
            writeln!(
                out,
                "\n{} with unequal values in results.json.",
                plural(table.more_columns, "more column")
            )?;
        }
        writeln!(out)?;
    }
    let lines: Vec<String> = table
        .lines
        .iter()
        .map(|line| {
            let names: Vec<String> = line.names.iter().map(|n| code(n)).collect();
            let more = if line.more > 0 {
                format!(" and {} more", line.more)
            } else {
                String::new()
            };
            format!("{}: {}{more}.", line.what, names.join(", "))
        })
        .collect();
    if !lines.is_empty() {
        writeln!(out, "{}\n", lines.join(" "))?;
    }
    Ok(())
}

fn waivers(out: &mut String, v: &RunView) -> fmt::Result {
    if v.waivers.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Waivers\n")?;
    writeln!(
        out,
        "| # | covers | reason | owner | expires | applied |\n|---|---|---|---|---|---:|"
    )?;
    for w in &v.waivers {
        let covers: Vec<String> = w
            .covers
            .iter()
            .map(|(what, value)| format!("{what} {}", code(value)))
            .collect();
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            w.number,
            covers.join(", "),
            cell(&w.reason),
            cell(&w.owner),
            expires(w.expires.as_deref(), w.expired, "never"),
            w.applied
        )?;
    }
    writeln!(out)
}

fn rules(out: &mut String, v: &RunView) -> fmt::Result {
    if v.rules.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Rules\n")?;
    writeln!(
        out,
        "| # | output | rule | path | detail | reason | owner | expires | applied |\n|---|---|---|---|---|---|---|---|---:|"
    )?;
    for rule in &v.rules {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            rule.number,
            code(&rule.output),
            rule.kind,
            rule.path.as_deref().map(code).unwrap_or_default(),
            cell(&rule.detail),
            cell(&rule.reason),
            cell(&rule.owner),
            expires(rule.expires.as_deref(), rule.expired, ""),
            rule.used.describe("**stale**"),
        )?;
    }
    writeln!(out)
}

/// An expiry date for a cell: bold when past, `none` when there is none.
fn expires(date: Option<&str>, expired: bool, none: &str) -> String {
    match (date, expired) {
        (Some(date), true) => format!("**expired {date}**"),
        (Some(date), false) => date.to_owned(),
        (None, _) => none.to_owned(),
    }
}

/// A code fence longer than any run of backticks in `text` (at least three), so a fixture
/// name cannot close it.
pub(crate) fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// Text safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// An inline code span safe inside a table cell, using a longer fence when the text holds a
/// backtick.
fn code(text: &str) -> String {
    let text = cell(text);
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}
