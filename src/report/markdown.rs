//! `report.md`: the evidence a person signs off from. It says what was covered, the verdict of
//! every case, the causes of the differences across cases, every difference with its path and
//! both values, what was waived, by whom and until when, which rules hid what, and the tool,
//! config and machine that produced it.

use std::fmt::{self, Write};

use super::{Render, ReportError, golden_origin, short_value};
use crate::diff::Difference;
use crate::outcome::{
    CaseOutcome, Compared, GoldenCheck, OutputComparison, Reference, RunResults, StageStatus,
    Stages,
};
use crate::units::format_ms;
use crate::units::{format_kib, plural};

pub struct Markdown;

/// Difference rows shown per output; results.json has the rest.
pub(crate) const MAX_ROWS: usize = 50;
/// Waived difference rows shown per output, as examples of what the waiver covers.
const MAX_WAIVED_ROWS: usize = 5;
/// Causes listed at the top.
const MAX_CLUSTERS: usize = 30;
/// Characters of a value shown in a table cell.
const VALUE_WIDTH: usize = 80;

impl Render for Markdown {
    fn render(&self, results: &RunResults) -> Result<String, ReportError> {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = render(&mut out, results);
        // Values, stderr and file names come from the programs under test: no control
        // character of theirs reaches a reader's terminal or renderer.
        Ok(super::inert::inert(&out).into_owned())
    }
}

fn render(out: &mut String, r: &RunResults) -> fmt::Result {
    header(out, r)?;
    causes(out, r)?;
    verdicts(out, r)?;
    performance(out, r)?;
    cases(out, r)?;
    let detailed: Vec<&CaseOutcome> = r
        .cases
        .iter()
        .filter(|c| {
            !c.verdict.is_success()
                || c.differences() > 0
                || !c.notes.is_empty()
                || c.steps.iter().any(|s| !s.notes.is_empty())
        })
        .collect();
    if !detailed.is_empty() {
        writeln!(out, "\n## Details\n")?;
        for case in detailed {
            case_details(out, case)?;
        }
    }
    goldens(out, r)?;
    waivers(out, r)?;
    rules(out, r)?;
    if let Some(floor) = r.measurement.helper_floor_kib {
        writeln!(
            out,
            "Peak RSS is each program's own (measured with `wait4` through a helper whose floor is {}).",
            format_kib(floor)
        )?;
    }
    Ok(())
}

fn header(out: &mut String, r: &RunResults) -> fmt::Result {
    let verdict = if r.summary.exit_code == 0 {
        "PASS"
    } else {
        "FAIL"
    };
    writeln!(out, "# parity report: {verdict}\n")?;
    writeln!(out, "| | |\n|---|---|")?;
    writeln!(
        out,
        "| Result | **{verdict}** (exit {}): {} |",
        r.summary.exit_code,
        cell(&r.summary.headline)
    )?;
    let interrupted = if r.interrupted { " (interrupted)" } else { "" };
    writeln!(
        out,
        "| Run | {} → {}{interrupted} |",
        r.started_at, r.finished_at
    )?;
    let suites: Vec<String> = r.selection.suites.iter().map(|s| code(s)).collect();
    writeln!(
        out,
        "| Selection | suites {} · {} cases · {} jobs |",
        suites.join(", "),
        r.summary.cases + r.summary.not_run,
        r.selection.jobs
    )?;
    sides(out, r)?;
    writeln!(out, "| Tool | {} {} |", r.tool.name, r.tool.version)?;
    writeln!(
        out,
        "| Config | {} · {} |",
        code(&r.config.path),
        code(&r.config.hash)
    )?;
    let env = &r.environment;
    let kernel = env
        .kernel
        .as_ref()
        .map(|k| format!(" · kernel {k}"))
        .unwrap_or_default();
    let cpu = env.cpu.as_deref().unwrap_or("unknown CPU");
    writeln!(
        out,
        "| Machine | {} {} · {cpu} · {} cores{kernel} |\n",
        env.os, env.arch, env.cores
    )?;
    for expired in r.expired_exceptions() {
        writeln!(
            out,
            "> **Expired:** {} — it no longer applies and fails the run until renewed or removed.\n",
            cell(&expired)
        )?;
    }
    Ok(())
}

/// Which programs ran: one row for the sides every suite shares, one per suite that has its
/// own (one candidate replacing several monoliths).
fn sides(out: &mut String, r: &RunResults) -> fmt::Result {
    let shared = r.sides.iter().find(|s| !s.own_legacy && !s.own_candidate);
    if let Some(s) = shared {
        writeln!(
            out,
            "| Sides | legacy {} · candidate {} |",
            code(&s.legacy),
            code(&s.candidate)
        )?;
    }
    for s in r.sides.iter().filter(|s| s.own_legacy || s.own_candidate) {
        let whose = |own: bool| if own { "its own" } else { "the shared" };
        writeln!(
            out,
            "| Sides of `{}` | suite `{}`: {} legacy {} · {} candidate {} |",
            cell(&s.suite),
            cell(&s.suite),
            whose(s.own_legacy),
            code(&s.legacy),
            whose(s.own_candidate),
            code(&s.candidate)
        )?;
    }
    Ok(())
}

/// Differences across cases grouped by output, path pattern and kind.
fn causes(out: &mut String, r: &RunResults) -> fmt::Result {
    if r.clusters.is_empty() {
        return Ok(());
    }
    let total: usize = r.clusters.iter().map(|c| c.count).sum();
    let unwaived: usize = r.clusters.iter().map(|c| c.unwaived()).sum();
    writeln!(
        out,
        "## Differences by cause\n\n{} ({} not waived) in {}.\n",
        plural(total, "difference"),
        unwaived,
        plural(r.clusters.len(), "cause")
    )?;
    let consequences: usize = r.cases.iter().map(CaseOutcome::consequences).sum();
    if consequences > 0 {
        let (more, verb) = if consequences == 1 {
            ("1 more difference".to_owned(), "follows")
        } else {
            (format!("{consequences} more differences"), "follow")
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
    for cluster in r.clusters.iter().take(MAX_CLUSTERS) {
        let example = cluster
            .examples
            .first()
            .and_then(|e| Some((e, r.example(cluster, e)?)))
            .map(|(e, d)| {
                format!(
                    "{}: {} → {}",
                    code(&e.case),
                    code(&short_value(d.left.as_ref(), 40)),
                    code(&short_value(d.right.as_ref(), 40))
                )
            })
            .unwrap_or_default();
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {example} |",
            code(&cluster.output),
            code(&cluster.pattern),
            cluster.kind,
            cluster.count,
            cluster.waived,
            cluster.cases
        )?;
    }
    if r.clusters.len() > MAX_CLUSTERS {
        writeln!(
            out,
            "\n{} more causes in results.json.",
            r.clusters.len() - MAX_CLUSTERS
        )?;
    }
    writeln!(out)
}

fn verdicts(out: &mut String, r: &RunResults) -> fmt::Result {
    writeln!(out, "## Verdicts\n\n| verdict | cases |\n|---|---:|")?;
    for (verdict, count) in &r.summary.by_verdict {
        writeln!(out, "| {verdict} | {count} |")?;
    }
    if r.summary.not_run > 0 {
        writeln!(out, "| not run (interrupted) | {} |", r.summary.not_run)?;
    }
    Ok(())
}

/// The performance gate: its settings, the overall verdict per metric, each case's medians and
/// ratio with its interval, and a chart of the gating ratios.
fn performance(out: &mut String, r: &RunResults) -> fmt::Result {
    let Some(bench) = &r.bench else { return Ok(()) };
    writeln!(out, "\n## Performance\n")?;
    let gate: Vec<&str> = bench.gate.iter().map(|m| m.as_str()).collect();
    let budgets: Vec<String> = bench
        .budgets
        .iter()
        .map(|(m, b)| format!("{} {:.0}%", m.as_str(), b * 100.0))
        .collect();
    writeln!(
        out,
        "Gate: {} · confidence {} (each fixture {:.4}, overall {:.4}) · budgets {} · {}–{} pairs, {} warm-up · seed {}\n",
        gate.join(", "),
        bench.confidence,
        bench.fixture_confidence,
        bench.overall_confidence,
        budgets.join(", "),
        bench.runs,
        bench.max_runs,
        bench.warmup,
        bench.seed
    )?;
    writeln!(
        out,
        "**{}**: {}\n",
        bench.verdict.as_str().to_uppercase(),
        cell(&bench.describe())
    )?;
    writeln!(
        out,
        "| case | metric | legacy median | candidate median | ratio | interval | budget | verdict | pairs |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---|---:|---|---:|")?;
    for case in &r.cases {
        for (label, cb) in case.benches() {
            bench_rows(out, case, &label, cb)?;
        }
    }
    for metric in &bench.gate {
        let rows: Vec<(String, &crate::bench::MetricResult)> = r
            .cases
            .iter()
            .filter(|c| c.verdict.is_success())
            .flat_map(|c| c.benches())
            .filter_map(|(label, b)| Some((label, b.metrics.get(metric)?)))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let chart_rows: Vec<crate::bench::chart::Row<'_>> = rows
            .iter()
            .map(|(label, m)| crate::bench::chart::Row {
                label,
                ratio: m.judgement.ratio,
                low: m.judgement.low,
                high: m.judgement.high,
            })
            .collect();
        writeln!(
            out,
            "\n{} ratio (candidate / legacy) by case:\n",
            metric.as_str()
        )?;
        writeln!(
            out,
            "```text\n{}```",
            crate::bench::chart::draw(
                &chart_rows,
                bench.budgets.get(metric).copied().unwrap_or(0.05)
            )
        )?;
    }
    Ok(())
}

/// One row per metric of what the gate measured for `label` (a case or a scenario's step).
fn bench_rows(
    out: &mut String,
    case: &CaseOutcome,
    label: &str,
    cb: &crate::bench::CaseBench,
) -> fmt::Result {
    for (metric, m) in &cb.metrics {
        let verdict = match (m.judgement.gating, m.judgement.verdict) {
            _ if !case.verdict.is_success() => {
                format!("not counted ({})", case.verdict.name())
            }
            (true, crate::bench::BudgetVerdict::Exceeded) => "❌ exceeded".to_owned(),
            (true, v) => v.as_str().to_owned(),
            (false, v) => format!("{} (not gating)", v.as_str()),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {:.3} | [{:.3}, {:.3}] | {:.0}% | {verdict} | {} |",
            code(label),
            metric.as_str(),
            metric.format(m.legacy_median),
            metric.format(m.candidate_median),
            m.judgement.ratio,
            m.judgement.low,
            m.judgement.high,
            m.judgement.budget * 100.0,
            cb.valid_pairs
        )?;
    }
    Ok(())
}

fn cases(out: &mut String, r: &RunResults) -> fmt::Result {
    writeln!(out, "\n## Cases\n")?;
    writeln!(
        out,
        "| case | verdict | against | differences | waived | legacy | candidate | legacy wall | candidate wall | legacy peak RSS | candidate peak RSS |"
    )?;
    writeln!(out, "|---|---|---|---:|---:|---|---|---:|---:|---:|---:|")?;
    let rss = |kib: Option<u64>| kib.map_or("–".to_owned(), format_kib);
    for case in &r.cases {
        writeln!(
            out,
            "| {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            code(&case.label()),
            if case.verdict.is_success() {
                ""
            } else {
                "❌ "
            },
            case.verdict.describe(),
            against(case),
            case.differences() - case.waived(),
            case.waived(),
            case.legacy
                .as_ref()
                .map_or("not run".to_owned(), |l| cell(&l.status.describe())),
            cell(&case.candidate.status.describe()),
            case.legacy
                .as_ref()
                .map_or("–".to_owned(), |l| format_ms(l.wall_ms)),
            format_ms(case.candidate.wall_ms),
            rss(case.legacy.as_ref().and_then(|l| l.peak_rss_kib)),
            rss(case.candidate.peak_rss_kib),
        )?;
    }
    for case in &r.not_run {
        writeln!(
            out,
            "| {} | not run (interrupted) | | | | | | | | | |",
            code(&case.id.label())
        )?;
    }
    Ok(())
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

/// Where every golden used came from: the evidence that the reference is the legacy's.
fn goldens(out: &mut String, r: &RunResults) -> fmt::Result {
    let used: Vec<(String, &GoldenCheck)> = r
        .cases
        .iter()
        .flat_map(|c| {
            c.goldens().into_iter().map(|(step, golden)| {
                let label = match step {
                    Some(step) => format!("{} (step {step})", c.label()),
                    None => c.label(),
                };
                (label, golden)
            })
        })
        .collect();
    if used.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n## Goldens\n")?;
    writeln!(
        out,
        "| case | golden | recorded from | version | recorded at | inputs | parity | state |\n|---|---|---|---|---|---|---|---|"
    )?;
    for (label, golden) in used {
        let p = &golden.provenance;
        let state = match (golden.stale, &golden.pending) {
            (true, _) => "❌ stale".to_owned(),
            (false, Some(pending)) => format!("pending update {}", code(pending)),
            (false, None) => "current".to_owned(),
        };
        let inputs: String = p.inputs.chars().take(19).collect();
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {state} |",
            code(&label),
            code(&golden.path),
            p.source,
            p.version.as_deref().map_or("–".to_owned(), code),
            p.recorded_at,
            code(&inputs),
            p.parity_version,
        )?;
    }
    writeln!(out)
}

fn case_details(out: &mut String, case: &CaseOutcome) -> fmt::Result {
    writeln!(out, "### {} — {}\n", case.label(), case.verdict.describe())?;
    for lead in case.stage_leads() {
        writeln!(out, "**{}**\n", cell(&lead))?;
    }
    let mut bullets = Vec::new();
    for (side, run) in case.runs() {
        if !run.status.is_success() {
            bullets.push(format!("{side}: {}", run.status.describe()));
        }
        bullets.extend(run.notes.iter().map(|note| format!("{side}: {note}")));
        for (name, stream) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if stream.truncated {
                bullets.push(format!(
                    "{side}: {name} was truncated: {} written, only the first {} kept",
                    format_kib(stream.bytes / 1024),
                    format_kib(crate::runner::CAPTURE_LIMIT / 1024)
                ));
            }
        }
    }
    for (step, golden) in case.goldens() {
        let step = step.map(|s| format!(" (step {s})")).unwrap_or_default();
        bullets.push(format!(
            "provenance{step}: {}",
            cell(&golden_origin(golden))
        ));
    }
    bullets.extend(case.notes.iter().cloned());
    if let Some(dir) = &case.kept_outputs {
        bullets.push(format!("outputs kept in {}", code(dir)));
    }
    if !bullets.is_empty() {
        for bullet in bullets {
            writeln!(out, "- {bullet}")?;
        }
        writeln!(out)?;
    }
    steps_table(out, case)?;
    stages_table(out, None, &case.stages)?;
    for step in &case.steps {
        stages_table(out, Some(&step.step), &step.stages)?;
    }
    for compared in case.comparisons() {
        for output in compared.outputs.iter().filter(|o| o.total > 0) {
            output_table(out, &compared, output)?;
        }
    }
    for (side, run) in case.runs() {
        if !run.status.is_success() && !run.stderr_tail.is_empty() {
            writeln!(
                out,
                "{side} stderr (last lines):\n\n```text\n{}\n```\n",
                run.stderr_tail.replace("```", "ˋˋˋ")
            )?;
        }
    }
    Ok(())
}

/// The stages of a case (or of one step): each one's status, what blocked it, its differences.
fn stages_table(out: &mut String, step: Option<&str>, stages: &Stages) -> fmt::Result {
    // Stages that all agree say nothing a reader needs (results.json has them).
    if stages.stages.iter().all(|s| s.status == StageStatus::Agree) {
        return Ok(());
    }
    if let Some(step) = step {
        writeln!(out, "Stages of step {}:\n", code(step))?;
    }
    writeln!(
        out,
        "| stage | status | blocked by | differences |\n|---|---|---|---:|"
    )?;
    for stage in &stages.stages {
        let status = match stage.status {
            StageStatus::Diverged if stages.first() == Some(stage.name.as_str()) => {
                "❌ diverged (first)".to_owned()
            }
            StageStatus::Diverged => "❌ diverged".to_owned(),
            other => other.as_str().to_owned(),
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
fn steps_table(out: &mut String, case: &CaseOutcome) -> fmt::Result {
    if case.steps.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "| step | verdict | differences | waived | legacy | candidate | legacy wall | candidate wall |\n|---|---|---:|---:|---|---|---:|---:|"
    )?;
    for step in &case.steps {
        let total: usize = step.outputs.iter().map(|o| o.total).sum();
        let waived: usize = step.outputs.iter().map(|o| o.waived).sum();
        let status = |run: &Option<crate::runner::SideRun>| {
            run.as_ref()
                .map_or("not run".to_owned(), |r| cell(&r.status.describe()))
        };
        let wall = |run: &Option<crate::runner::SideRun>| {
            run.as_ref()
                .map_or("–".to_owned(), |r| format_ms(r.wall_ms))
        };
        writeln!(
            out,
            "| {} | {}{} | {} | {waived} | {} | {} | {} | {} |",
            code(&step.step),
            if step.is_success() { "" } else { "❌ " },
            cell(&step.describe()),
            total - waived,
            status(&step.legacy),
            status(&step.candidate),
            wall(&step.legacy),
            wall(&step.candidate),
        )?;
    }
    for step in &case.steps {
        for note in &step.notes {
            writeln!(out, "\n- step {}: {}", code(&step.step), cell(note))?;
        }
    }
    writeln!(out)
}

fn output_table(out: &mut String, compared: &Compared, output: &OutputComparison) -> fmt::Result {
    let consequence = output
        .blocked_by
        .as_ref()
        .map(|by| format!(" — blocked by {}: consequences, not causes", code(by)))
        .unwrap_or_default();
    writeln!(
        out,
        "{} ({}): {}, {} waived{consequence}\n",
        code(&compared.name(&output.output)),
        output.format.map_or("file", |f| f.as_str()),
        plural(output.total, "difference"),
        output.waived
    )?;
    writeln!(
        out,
        "| path | kind | {} | {} | note |\n|---|---|---|---|---|",
        compared.left, compared.right
    )?;
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
    let mut shown = 0;
    for d in unwaived.chain(waived) {
        difference_row(out, d)?;
        shown += 1;
    }
    if output.total > shown {
        writeln!(
            out,
            "\n{shown} of {} shown (waived differences: {MAX_WAIVED_ROWS} examples per output); every stored difference is in results.json.",
            output.total
        )?;
    }
    for equivalence in &output.equivalences {
        let example = equivalence
            .examples
            .first()
            .map(|d| {
                format!(
                    ", e.g. {}: {} and {}",
                    code(&d.path),
                    code(&short_value(d.left.as_ref(), 30)),
                    code(&short_value(d.right.as_ref(), 30))
                )
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

fn difference_row(out: &mut String, d: &Difference) -> fmt::Result {
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
    writeln!(
        out,
        "| {} | {} | {} | {} | {} |",
        code(&d.path),
        d.kind,
        code(&short_value(d.left.as_ref(), VALUE_WIDTH)),
        code(&short_value(d.right.as_ref(), VALUE_WIDTH)),
        cell(&note)
    )
}

fn waivers(out: &mut String, r: &RunResults) -> fmt::Result {
    if r.waivers.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Waivers\n")?;
    writeln!(
        out,
        "| # | covers | reason | owner | expires | applied |\n|---|---|---|---|---|---:|"
    )?;
    for w in &r.waivers {
        let mut covers = Vec::new();
        if let Some(p) = &w.path {
            covers.push(format!("path {}", code(p)));
        }
        if let Some(o) = &w.output {
            covers.push(format!("output {}", code(o)));
        }
        if let Some(f) = &w.fixture {
            covers.push(format!("fixture {}", code(f)));
        }
        if let Some(v) = &w.value {
            covers.push(format!("value ~ {}", code(v)));
        }
        let expires = match (&w.expires, w.expired) {
            (Some(date), true) => format!("**expired {date}**"),
            (Some(date), false) => date.clone(),
            (None, _) => "never".to_owned(),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {expires} | {} |",
            w.index + 1,
            covers.join(", "),
            cell(&w.reason),
            cell(&w.owner),
            w.applied
        )?;
    }
    writeln!(out)
}

fn rules(out: &mut String, r: &RunResults) -> fmt::Result {
    if r.rules.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Rules\n")?;
    writeln!(
        out,
        "| # | output | rule | path | detail | reason | owner | expires | applied |\n|---|---|---|---|---|---|---|---|---:|"
    )?;
    for rule in &r.rules {
        let expires = match (&rule.expires, rule.expired) {
            (Some(date), true) => format!("**expired {date}**"),
            (Some(date), false) => date.clone(),
            (None, _) => String::new(),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {expires} | {} |",
            rule.id + 1,
            code(&rule.output),
            rule.kind,
            rule.path.as_deref().map(code).unwrap_or_default(),
            cell(&rule.detail),
            cell(rule.reason.as_deref().unwrap_or("")),
            cell(rule.owner.as_deref().unwrap_or("")),
            super::rule_use(rule, "**stale**"),
        )?;
    }
    writeln!(out)
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
