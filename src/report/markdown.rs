//! `report.md`: the evidence a person signs off from. It says what was covered, the verdict of
//! every case, every difference with its path and both values, what was waived, by whom and
//! until when, which rules hid what, and the tool, config and machine that produced it.

use std::fmt::Write;

use super::{Render, ReportError, format_kib, plural, short_value};
use crate::diff::Difference;
use crate::outcome::{CaseOutcome, OutputComparison, RunResults};
use crate::runner::format_ms;

pub struct Markdown;

/// Difference rows shown per output; results.json has the rest.
const MAX_ROWS: usize = 50;
/// Waived difference rows shown per output, as examples of what the waiver covers.
const MAX_WAIVED_ROWS: usize = 5;
/// Characters of a value shown in a table cell.
const VALUE_WIDTH: usize = 80;

impl Render for Markdown {
    fn render(&self, results: &RunResults) -> Result<String, ReportError> {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = render(&mut out, results);
        Ok(out)
    }
}

fn render(out: &mut String, r: &RunResults) -> std::fmt::Result {
    let pass = r.summary.exit_code == 0;
    writeln!(
        out,
        "# parity report: {}\n",
        if pass { "PASS" } else { "FAIL" }
    )?;
    writeln!(out, "| | |\n|---|---|")?;
    writeln!(
        out,
        "| Result | **{}** (exit {}): {} |",
        if pass { "PASS" } else { "FAIL" },
        r.summary.exit_code,
        cell(&r.summary.headline)
    )?;
    writeln!(
        out,
        "| Run | {} → {}{} |",
        r.started_at,
        r.finished_at,
        if r.interrupted { " (interrupted)" } else { "" }
    )?;
    let suites: Vec<String> = r.selection.suites.iter().map(|s| code(s)).collect();
    writeln!(
        out,
        "| Selection | suites {} · {} cases · {} jobs |",
        suites.join(", "),
        r.summary.cases + r.summary.not_run,
        r.selection.jobs
    )?;
    writeln!(out, "| Tool | {} {} |", r.tool.name, r.tool.version)?;
    writeln!(
        out,
        "| Config | {} · {} |",
        code(&r.config.path),
        code(&r.config.hash)
    )?;
    let env = &r.environment;
    writeln!(
        out,
        "| Machine | {} {} · {} · {} cores{} |\n",
        env.os,
        env.arch,
        env.cpu.as_deref().unwrap_or("unknown CPU"),
        env.cores,
        env.kernel
            .as_ref()
            .map(|k| format!(" · kernel {k}"))
            .unwrap_or_default()
    )?;

    writeln!(out, "## Verdicts\n\n| verdict | cases |\n|---|---:|")?;
    for (verdict, count) in &r.summary.by_verdict {
        writeln!(out, "| {verdict} | {count} |")?;
    }
    if r.summary.not_run > 0 {
        writeln!(out, "| not run (interrupted) | {} |", r.summary.not_run)?;
    }

    writeln!(out, "\n## Cases\n")?;
    writeln!(
        out,
        "| case | verdict | differences | waived | legacy | candidate | legacy wall | candidate wall | legacy peak RSS | candidate peak RSS |"
    )?;
    writeln!(out, "|---|---|---:|---:|---|---|---:|---:|---:|---:|")?;
    for case in &r.cases {
        let rss = |kib: Option<u64>| kib.map_or("–".to_owned(), format_kib);
        writeln!(
            out,
            "| {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} |",
            code(&case.label()),
            if case.verdict.is_success() {
                ""
            } else {
                "❌ "
            },
            case.verdict.describe(),
            case.differences() - case.waived(),
            case.waived(),
            cell(&case.legacy.status.describe()),
            cell(&case.candidate.status.describe()),
            format_ms(case.legacy.wall_ms),
            format_ms(case.candidate.wall_ms),
            rss(case.legacy.peak_rss_kib),
            rss(case.candidate.peak_rss_kib),
        )?;
    }
    for label in &r.not_run {
        writeln!(out, "| {} | not run | | | | | | | | |", code(label))?;
    }

    let detailed: Vec<&CaseOutcome> = r
        .cases
        .iter()
        .filter(|c| !c.verdict.is_success() || c.differences() > 0 || !c.notes.is_empty())
        .collect();
    if !detailed.is_empty() {
        writeln!(out, "\n## Details\n")?;
        for case in detailed {
            case_details(out, case)?;
        }
    }

    if !r.waivers.is_empty() {
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
                "| {} | {} | {} | {} | {} | {} |",
                w.index + 1,
                covers.join(", "),
                cell(&w.reason),
                cell(&w.owner),
                expires,
                w.applied
            )?;
        }
        writeln!(out)?;
    }

    if !r.rules.is_empty() {
        writeln!(out, "## Rules\n")?;
        writeln!(
            out,
            "| # | output | rule | path | detail | reason | owner | applied |\n|---|---|---|---|---|---|---|---:|"
        )?;
        for rule in &r.rules {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {}{} |",
                rule.id + 1,
                code(&rule.output),
                rule.kind,
                rule.path.as_deref().map(code).unwrap_or_default(),
                cell(&rule.detail),
                cell(rule.reason.as_deref().unwrap_or("")),
                cell(rule.owner.as_deref().unwrap_or("")),
                rule.applied,
                if rule.stale {
                    " (**stale**: applied nowhere)"
                } else {
                    ""
                }
            )?;
        }
        writeln!(out)?;
    }
    if let Some(floor) = r.measurement.helper_floor_kib {
        writeln!(
            out,
            "Peak RSS is each program's own (measured with `wait4` through a helper whose floor is {}).",
            format_kib(floor)
        )?;
    }
    Ok(())
}

fn case_details(out: &mut String, case: &CaseOutcome) -> std::fmt::Result {
    writeln!(out, "### {} — {}\n", case.label(), case.verdict.describe())?;
    let mut bullets = Vec::new();
    for (side, run) in [("legacy", &case.legacy), ("candidate", &case.candidate)] {
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
    for output in case.outputs.iter().filter(|o| o.total > 0) {
        output_table(out, output)?;
    }
    for (side, run) in [("legacy", &case.legacy), ("candidate", &case.candidate)] {
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

fn output_table(out: &mut String, output: &OutputComparison) -> std::fmt::Result {
    writeln!(
        out,
        "{} ({}): {}, {} waived\n",
        code(&output.output),
        output.format.map_or("file", |f| f.as_str()),
        plural(output.total, "difference"),
        output.waived
    )?;
    writeln!(
        out,
        "| path | kind | legacy | candidate | note |\n|---|---|---|---|---|"
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
    writeln!(out)
}

fn difference_row(out: &mut String, d: &Difference) -> std::fmt::Result {
    let mut note = d.note.clone().unwrap_or_default();
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
