//! GitHub Actions: the step summary (GitHub-flavoured Markdown appended to the file named by
//! `$GITHUB_STEP_SUMMARY`) and the annotations (`::error` lines the runner shows on the run's
//! page), from the [`RunView`] like every report.
//!
//! GitHub drops a step summary above 1 MiB entirely ("supports content up to a size of
//! 1024k"), so the summary is built most important first and cut at [`SUMMARY_BUDGET`] bytes
//! with a pointer to the full report. It keeps at most 10 error annotations per step: the 10
//! most important failures are annotated and one `::notice` counts the rest. Data in a
//! workflow command is escaped as the runner expects (`%` `\r` `\n`, and `:` `,` in
//! properties).

use std::fmt::Write;

use super::view::{CaseDetail, RunView};
use super::{Render, ReportError};
use crate::outcome::RunResults;

/// The summary's size limit: GitHub's 1 MiB, with room for the pointer to the artifact.
pub const SUMMARY_BUDGET: usize = 1_000_000;
/// Error annotations GitHub keeps per step.
pub const MAX_ERRORS: usize = 10;
/// Differences shown per failing case in the summary.
const SHOWN: usize = 5;

/// The step summary, as `parity report --format github` writes it.
pub struct Github;

impl Render for Github {
    fn render(&self, results: &RunResults) -> Result<String, ReportError> {
        Ok(super::inert::inert(&summary(&RunView::of(results))).into_owned())
    }
}

/// The step summary: verdict, causes, each failing case with its first differences, cut at
/// [`SUMMARY_BUDGET`] bytes with a pointer to the full report.
pub fn summary(v: &RunView) -> String {
    let mut head = String::new();
    let word = if v.pass { "✅ PASS" } else { "❌ FAIL" };
    let _ = writeln!(
        head,
        "## parity: {word}\n\n{} (exit {})\n",
        cell(&v.headline),
        v.exit_code
    );
    let counts: Vec<String> = v
        .verdicts
        .iter()
        .map(|(verdict, n)| format!("{n} {verdict}"))
        .chain((!v.not_run.is_empty()).then(|| format!("{} not run", v.not_run.len())))
        .collect();
    let _ = writeln!(head, "{}\n", counts.join(" · "));
    if let Some(c) = &v.causes {
        let _ = writeln!(
            head,
            "### {} in {}\n",
            crate::units::plural(c.unwaived, "difference"),
            crate::units::plural(c.count, "cause")
        );
        let _ = writeln!(
            head,
            "| output | path | kind | differences | cases |\n|---|---|---|---:|---:|"
        );
        for row in c.rows.iter().take(10) {
            let _ = writeln!(
                head,
                "| {} | {} | {} | {} | {} |",
                code(&row.output),
                code(&row.pattern),
                row.kind,
                row.count - row.waived,
                row.cases
            );
        }
        let _ = writeln!(head);
    }
    if let Some(p) = &v.performance {
        let _ = writeln!(
            head,
            "**performance {}**: {}\n",
            p.verdict,
            cell(&p.describe)
        );
    }
    let pointer = "\n> … cut here: the summary stops at 1 MB. Every case is in the run's \
        report.html and report.md (upload the report directory as an artifact).\n";
    let mut out = head;
    let failing: Vec<&CaseDetail> = v.details.iter().filter(|d| !d.success).collect();
    if !failing.is_empty() {
        out.push_str("### Failing cases\n\n");
    }
    for (shown, case) in failing.iter().enumerate() {
        let section = case_section(case);
        if out.len() + section.len() + pointer.len() > SUMMARY_BUDGET {
            let _ = writeln!(
                out,
                "{pointer}> {} of {} failing cases shown.",
                shown,
                failing.len()
            );
            return out;
        }
        out.push_str(&section);
    }
    out
}

/// One failing case: its verdict, first divergence, and first differences, folded.
fn case_section(case: &CaseDetail) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<details><summary><code>{}</code> — {}</summary>\n",
        html(&case.label),
        html(&case.verdict)
    );
    for lead in &case.leads {
        let _ = writeln!(s, "**{}**\n", cell(lead));
    }
    let rows: Vec<(&str, &super::view::DiffRow)> = case
        .outputs
        .iter()
        .flat_map(|o| {
            o.rows
                .iter()
                .filter(|r| !r.waived)
                .map(move |r| (o.name.as_str(), r))
        })
        .take(SHOWN)
        .collect();
    if !rows.is_empty() {
        let _ = writeln!(
            s,
            "| output | path | kind | legacy | candidate |\n|---|---|---|---|---|"
        );
        for (output, row) in rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                code(output),
                code(&row.path),
                row.kind,
                code(&row.left),
                code(&row.right)
            );
        }
    }
    for (side, tail) in &case.stderr {
        let last = tail.lines().last().unwrap_or("");
        let _ = writeln!(s, "\n{side}: {}", code(last));
    }
    if let Some(rerun) = &case.rerun {
        let f = super::markdown::fence(rerun);
        let _ = writeln!(s, "\n{f}sh\n{rerun}\n{f}");
    }
    s.push_str("\n</details>\n\n");
    s
}

/// The annotations for a run: at most [`MAX_ERRORS`] `::error` lines for the most important
/// failures (expired exceptions first, then failing cases, those whose difference is a cause
/// before those that only follow one, most differences first), and a `::notice` counting the
/// rest.
pub fn annotations(v: &RunView) -> Vec<String> {
    let mut errors: Vec<(String, String)> = v
        .expired
        .iter()
        .map(|e| {
            (
                "expired".to_owned(),
                format!(
                    "{e} expired: it no longer applies and fails the run until renewed or removed"
                ),
            )
        })
        .collect();
    let mut failing: Vec<&CaseDetail> = v.details.iter().filter(|d| !d.success).collect();
    let unwaived = |d: &CaseDetail| -> usize { d.outputs.iter().map(|o| o.total - o.waived).sum() };
    failing.sort_by_key(|d| std::cmp::Reverse(unwaived(d)));
    for case in failing {
        let first = case
            .outputs
            .iter()
            .flat_map(|o| o.rows.iter().filter(|r| !r.waived).map(move |r| (o, r)))
            .next()
            .map(|(o, r)| format!("{} {} {}: {} → {}", o.name, r.path, r.kind, r.left, r.right));
        let mut message = case.verdict.clone();
        if let Some(lead) = case.leads.first() {
            let _ = write!(message, "; {lead}");
        }
        if let Some(first) = first {
            let _ = write!(message, "\n{first}");
        }
        errors.push((case.label.clone(), message));
    }
    let mut lines: Vec<String> = errors
        .iter()
        .take(MAX_ERRORS)
        .map(|(title, message)| {
            format!(
                "::error title={}::{}",
                property(&format!("parity: {title}")),
                data(message)
            )
        })
        .collect();
    if errors.len() > MAX_ERRORS {
        lines.push(format!(
            "::notice title=parity::{}",
            data(&format!(
                "{} more failures are not annotated (GitHub keeps {MAX_ERRORS} per step): see the step summary and report.html",
                errors.len() - MAX_ERRORS
            ))
        ));
    }
    lines
}

/// Data of a workflow command: `%`, CR and LF escaped.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property of a workflow command: as data, and `:` and `,` escaped too.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Text safe in a GFM table cell.
fn cell(text: &str) -> String {
    html(text).replace('|', "\\|").replace('\n', " ")
}

/// An inline code span in a GFM table cell (HTML is not interpreted inside it).
fn code(text: &str) -> String {
    let text = text.replace('|', "\\|").replace('\n', " ");
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// Text safe in the summary's HTML (`<details>`): GitHub renders HTML in Markdown.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Whether the run is a GitHub Actions step (`GITHUB_ACTIONS=true`).
pub fn in_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// In a GitHub Actions step: appends the step summary to `$GITHUB_STEP_SUMMARY` (when set)
/// and prints the annotations on `out`. Outside one, nothing.
pub fn publish(results: &RunResults, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if !in_actions() {
        return Ok(());
    }
    let view = RunView::of(results);
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        append_summary(std::path::Path::new(&path), &view)?;
    }
    for line in annotations(&view) {
        writeln!(out, "{}", super::inert::inert_line(&line))?;
    }
    Ok(())
}

/// Appends the step summary for `results` to the file `$GITHUB_STEP_SUMMARY` names.
pub fn append_summary(path: &std::path::Path, v: &RunView) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(super::inert::inert(&summary(v)).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escapes() {
        assert_eq!(data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(property("a: b, c"), "a%3A b%2C c");
    }
}
