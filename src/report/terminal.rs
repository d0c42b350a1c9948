//! The terminal summary printed after a run: failing cases with their first differences and
//! the command that reruns each alone, stale rules and expired waivers, the verdict counts, and where the reports are. Colour goes through
//! anstream, which drops it when the stream is not a terminal or `NO_COLOR` is set.

use crate::style::{BOLD, DIM, FAIL, PASS, WARN};
use std::io::{self, Write};
use std::path::PathBuf;

use super::inert::inert_line as shown;
use super::{golden_origin, short_value};
use crate::bench::BudgetVerdict;
use crate::outcome::{GoldenCheck, RunResults, Verdict};
use crate::units::plural;

/// Differences shown per failing case.
const SHOWN: usize = 3;
/// Causes (difference clusters) listed.
const CAUSES: usize = 5;

/// Where a failing case's unwaived differences can be read: report.md lists the first
/// [`markdown::MAX_ROWS`] of each output, results.json stores the first `[report]
/// max_differences` of each output, and the counts are exact either way.
fn where_the_rest_is(case: &crate::outcome::CaseOutcome, unwaived: usize) -> String {
    let per_output: Vec<usize> = case
        .comparisons()
        .iter()
        .flat_map(|c| c.outputs)
        .map(|o| o.differences.iter().filter(|d| d.waiver.is_none()).count())
        .collect();
    let stored: usize = per_output.iter().sum();
    let listed: usize = per_output
        .iter()
        .map(|n| (*n).min(super::markdown::MAX_ROWS))
        .sum();
    if listed >= unwaived {
        " in report.md".to_owned()
    } else if stored >= unwaived {
        format!(" (report.md lists {listed}; results.json holds all {unwaived})")
    } else {
        format!(
            " (report.md lists {listed}; results.json holds the first {stored} of {unwaived}, \
             the rest are counted, not stored)"
        )
    }
}

/// The rows of a failing case's first keyed table that does not agree, in one line: `rows of
/// prices.csv: 999,998 in both (999,990 identical, 8 differ) · 1 only legacy` (and how many
/// more such tables report.md shows).
fn table_line(comparisons: &[crate::outcome::Compared<'_>]) -> Option<String> {
    let mut tables = comparisons.iter().flat_map(|c| {
        c.outputs.iter().filter_map(move |o| {
            let table = o.table.as_ref()?;
            let agrees = table.differing == 0 && table.only_left == 0 && table.only_right == 0;
            (!agrees).then_some((c, o, table))
        })
    });
    let (c, o, table) = tables.next()?;
    let first = format!(
        "rows of {}: {}",
        c.name(&o.output),
        super::view::rows_line(table, (c.left, c.right))
    );
    Some(match tables.count() {
        0 => first,
        more => format!("{first} (and {} in report.md)", plural(more, "more table")),
    })
}

/// Writes what the run found about its rules (for stderr: it is advice, not the result): rules
/// the whole run never exercised, and, for a selection, how many it did not.
pub fn write_rule_warnings(w: &mut dyn Write, results: &RunResults) -> io::Result<()> {
    for rule in results.rules.iter().filter(|r| r.stale) {
        writeln!(
            w,
            "{WARN}warning{WARN:#}: rule {} ({} {} on `{}`) matched no value that differed in \
             this run; is it still needed?",
            rule.id + 1,
            rule.kind,
            rule.path.as_deref().unwrap_or(""),
            rule.output
        )?;
    }
    let idle: Vec<String> = results
        .rules
        .iter()
        .filter(|r| r.not_exercised)
        .map(|r| (r.id + 1).to_string())
        .collect();
    if !idle.is_empty() {
        writeln!(
            w,
            "{DIM}note: {} not exercised: this selection did not run them, or their block's \
             outputs did not come up (only a whole run comparing them can tell whether a rule is \
             still needed): {}{DIM:#}",
            plural(idle.len(), "rule"),
            idle.join(", ")
        )?;
    }
    Ok(())
}

/// Writes the summary of `results`; `reports` are the files written.
pub fn write_summary(
    w: &mut dyn Write,
    results: &RunResults,
    reports: &[PathBuf],
) -> io::Result<()> {
    for case in results.cases.iter().filter(|c| !c.verdict.is_success()) {
        let unwaived = case.differences() - case.waived();
        writeln!(
            w,
            "{FAIL}✗{FAIL:#} {BOLD}{}{BOLD:#}  {}{}",
            shown(&case.label()),
            case.verdict.describe(),
            if unwaived > 0 {
                format!(", {}", plural(unwaived, "difference"))
            } else {
                String::new()
            }
        )?;
        for (side, run) in case.runs() {
            if !run.status.is_success() {
                let last = run.stderr_tail.lines().last().unwrap_or("");
                writeln!(
                    w,
                    "    {side}: {}{}",
                    shown(&run.status.describe()),
                    if last.is_empty() {
                        String::new()
                    } else {
                        format!(" {DIM}— {}{DIM:#}", shown(last))
                    }
                )?;
            }
        }
        for lead in case.stage_leads() {
            writeln!(w, "    {BOLD}{}{BOLD:#}", shown(&lead))?;
        }
        if let Some(steps) = super::steps_line(case) {
            writeln!(w, "    steps: {}", shown(&steps))?;
        }
        for note in &case.notes {
            writeln!(w, "    {DIM}{}{DIM:#}", shown(note))?;
        }
        let golden_matters = |g: &&GoldenCheck| {
            g.stale
                || g.pending.is_some()
                || case.legacy.is_none()
                || matches!(case.verdict, Verdict::GoldenMismatch { .. })
        };
        for (step, golden) in case
            .goldens()
            .into_iter()
            .filter(|(_, g)| golden_matters(g))
        {
            let step = step.map(|s| format!(" (step {s})")).unwrap_or_default();
            writeln!(
                w,
                "    {DIM}provenance{step}: {}{DIM:#}",
                shown(&golden_origin(golden))
            )?;
        }
        let comparisons = case.comparisons();
        if let Some(rows) = table_line(&comparisons) {
            writeln!(w, "    {}", shown(&rows))?;
        }
        // Causes first: differences that follow from a divergent stage come after.
        let mut differences: Vec<_> = comparisons
            .iter()
            .flat_map(|c| {
                c.outputs.iter().flat_map(move |o| {
                    o.differences
                        .iter()
                        .filter(|d| d.waiver.is_none())
                        .map(move |d| (o.blocked_by.is_some(), c.name(&o.output), d))
                })
            })
            .collect();
        differences.sort_by_key(|(consequence, _, _)| *consequence);
        let differences = differences.into_iter().map(|(_, name, d)| (name, d));
        for (output, d) in differences.take(SHOWN) {
            writeln!(
                w,
                "    {DIM}{}{DIM:#} {} {DIM}{}{DIM:#}: {}",
                shown(&output),
                shown(&d.path),
                d.kind,
                super::moved_summary(d, 60).unwrap_or_else(|| match (&d.left, &d.right, &d.note) {
                    // Nothing on either side to show (a failed conversion, a FIFO): what
                    // happened is the note.
                    (None, None, Some(note)) => shown(note).into_owned(),
                    _ => format!(
                        "{} → {}",
                        short_value(d.left.as_ref(), 60),
                        short_value(d.right.as_ref(), 60)
                    ),
                })
            )?;
        }
        if unwaived > SHOWN {
            writeln!(
                w,
                "    {DIM}… {} more{}{DIM:#}",
                unwaived - SHOWN,
                where_the_rest_is(case, unwaived)
            )?;
        }
        writeln!(
            w,
            "    {DIM}rerun: {}{DIM:#}",
            shown(&super::rerun_command(results, case))
        )?;
    }
    for expired in results.expired_exceptions() {
        writeln!(
            w,
            "{FAIL}expired{FAIL:#}: {expired}; it no longer applies and fails the run until renewed or removed"
        )?;
    }
    let unwaived: Vec<_> = results
        .clusters
        .iter()
        .filter(|c| c.unwaived() > 0)
        .collect();
    if unwaived.len() > 1 {
        let total: usize = unwaived.iter().map(|c| c.unwaived()).sum();
        writeln!(
            w,
            "{BOLD}{} in {}:{BOLD:#}",
            plural(total, "difference"),
            plural(unwaived.len(), "cause")
        )?;
        for cluster in unwaived.iter().take(CAUSES) {
            writeln!(
                w,
                "  {:>6}× {} {} {DIM}{}{DIM:#} {DIM}({}){DIM:#}",
                cluster.unwaived(),
                shown(&cluster.output),
                shown(&cluster.pattern),
                cluster.kind,
                plural(cluster.cases, "case")
            )?;
        }
        if unwaived.len() > CAUSES {
            writeln!(
                w,
                "  {DIM}… {} more in report.md{DIM:#}",
                plural(unwaived.len() - CAUSES, "cause")
            )?;
        }
    }
    if let Some(bench) = &results.bench {
        for case in results.cases.iter().filter(|c| c.verdict.is_success()) {
            for (label, cb) in case.benches() {
                for (metric, m) in cb.metrics.iter().filter(|(_, m)| {
                    m.judgement.gating && m.judgement.verdict != BudgetVerdict::Within
                }) {
                    let style = if m.judgement.verdict == BudgetVerdict::Exceeded {
                        FAIL
                    } else {
                        WARN
                    };
                    writeln!(
                        w,
                        "{style}{}{style:#} {} {}: {} {DIM}({} → {}, {} pairs){DIM:#}",
                        m.judgement.verdict.as_str(),
                        label,
                        metric.as_str(),
                        m.judgement.describe(),
                        metric.format(m.legacy_median),
                        metric.format(m.candidate_median),
                        cb.valid_pairs
                    )?;
                }
            }
        }
        let style = match bench.verdict {
            BudgetVerdict::Within => PASS,
            BudgetVerdict::Inconclusive => WARN,
            BudgetVerdict::Exceeded => FAIL,
        };
        writeln!(
            w,
            "performance {style}{}{style:#}: {}",
            bench.verdict.as_str(),
            bench.describe()
        )?;
    }
    let counts: Vec<String> = results
        .summary
        .by_verdict
        .iter()
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    let (style, word) = if results.summary.exit_code == 0 {
        (PASS, "PASS")
    } else {
        (FAIL, "FAIL")
    };
    writeln!(
        w,
        "{style}{word}{style:#} {} {DIM}({}; exit {}){DIM:#}",
        shown(&results.summary.headline),
        if counts.is_empty() {
            "no cases".to_owned()
        } else {
            counts.join(", ")
        },
        results.summary.exit_code
    )?;
    let pending = results
        .cases
        .iter()
        .flat_map(|c| c.goldens())
        .filter(|(_, g)| g.pending.is_some())
        .count();
    if pending > 0 {
        writeln!(
            w,
            "{WARN}review{WARN:#}: {} written; decide with `parity golden review` (or `parity golden accept|reject`)",
            plural(pending, "pending golden change")
        )?;
    }
    if let Some(first) = reports.first() {
        let dir = first
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let names: Vec<String> = reports
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        writeln!(w, "{DIM}reports: {dir}/{{{}}}{DIM:#}", names.join(","))?;
    }
    Ok(())
}
