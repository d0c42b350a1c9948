//! The human summary of a [`Calibration`]: per side, a table of what varies between runs and
//! whether the rules cover it; then the findings, notes, the proposed rules as parity.toml text,
//! and a last line with the outcome and exit code. Plain text, so it reads the same in a
//! terminal, a CI log and a snapshot.

use std::fmt::Write as _;

use super::{Calibration, SideCalibration, Variation};
use crate::report::short_value;
use crate::units::plural;

/// Characters of each value shown in a table's example column.
const EXAMPLE: usize = 40;

/// Renders the summary.
pub fn render(calibration: &Calibration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Calibrated {}: {} runs of each side; each later run compared with the first of its side.",
        plural(calibration.cases.len(), "fixture"),
        calibration.runs
    );
    for (name, side) in [
        ("legacy", &calibration.legacy),
        ("candidate", &calibration.candidate),
    ] {
        out.push('\n');
        side_section(&mut out, name, side);
    }
    findings_section(&mut out, calibration);
    if !calibration.notes.is_empty() {
        out.push_str("\nNotes:\n");
        for note in &calibration.notes {
            let _ = writeln!(out, "  · {note}");
        }
    }
    out.push('\n');
    let rules = calibration.proposal.rule_count();
    if rules > 0 {
        let _ = writeln!(
            out,
            "{} for the legacy's uncovered variation; review before adding to the configuration:\n",
            plural(rules, "proposed rule")
        );
    }
    out.push_str(&calibration.proposed_toml);
    out.push('\n');
    let _ = writeln!(out, "{}", verdict(calibration));
    // What the programs wrote (values, file names) reaches a terminal: keep it inert.
    crate::report::inert::inert(&out).into_owned()
}

fn side_section(out: &mut String, name: &str, side: &SideCalibration) {
    let uncovered = side
        .varies
        .iter()
        .filter(|v| v.covered == Some(false))
        .count();
    if side.varies.is_empty() {
        let _ = writeln!(
            out,
            "{name}: nothing varies between runs ({} compared)",
            plural(side.repeats, "repeat")
        );
        return;
    }
    let coverage = match uncovered {
        0 => "all covered by the rules".to_owned(),
        n => format!("{n} not covered by the rules"),
    };
    let _ = writeln!(
        out,
        "{name}: varies in {} ({coverage}), over {}:",
        plural(side.varies.len(), "place"),
        plural(side.repeats, "repeat")
    );
    let header = [
        "output", "pattern", "kind", "repeats", "values", "covered", "example",
    ];
    let rows: Vec<[String; 7]> = side
        .varies
        .iter()
        .map(|v| {
            [
                v.output.clone(),
                v.pattern.clone(),
                v.kind.as_str().to_owned(),
                format!("{}/{}", v.repeats, side.repeats),
                v.values.to_string(),
                if v.covered == Some(true) { "yes" } else { "no" }.to_owned(),
                example(v),
            ]
        })
        .collect();
    table(out, &header, &rows);
}

/// Left-aligned columns, two spaces apart, the last one unpadded.
fn table<const N: usize>(out: &mut String, header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cells: [&str; N]| {
        let mut text = String::from("  ");
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 < N {
                let pad = widths[i] - cell.chars().count();
                let _ = write!(text, "{cell}{}  ", " ".repeat(pad));
            } else {
                text.push_str(cell);
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(out, *header);
    for row in rows {
        line(out, row.each_ref().map(String::as_str));
    }
}

fn example(v: &Variation) -> String {
    if v.example.first.is_none() && v.example.repeat.is_none() {
        return String::new();
    }
    format!(
        "{} → {}",
        short_value(v.example.first.as_ref(), EXAMPLE),
        short_value(v.example.repeat.as_ref(), EXAMPLE)
    )
}

fn findings_section(out: &mut String, calibration: &Calibration) {
    let findings = &calibration.findings;
    if findings.count() == 0 && findings.candidate_only_covered.is_empty() {
        return;
    }
    out.push_str("\nFindings:\n");
    for v in &findings.candidate_only {
        let _ = writeln!(
            out,
            "  ✗ only the candidate varies: {} {} {} in {}/{} repeats ({}); the rules do not cover it and the legacy does not vary there",
            v.output,
            v.pattern,
            v.kind,
            v.repeats,
            calibration.candidate.repeats,
            plural(v.fixtures, "fixture")
        );
    }
    for runs in &findings.inconsistent_runs {
        let statuses: Vec<String> = runs
            .statuses
            .iter()
            .enumerate()
            .map(|(i, s)| format!("run {}: {s}", i + 1))
            .collect();
        let _ = writeln!(
            out,
            "  ✗ {}: the {}'s runs ended differently ({})",
            runs.case,
            runs.side,
            statuses.join(", ")
        );
    }
    for v in &findings.candidate_only_covered {
        let _ = writeln!(
            out,
            "  · only the candidate varies, covered by the rules: {} {} {}",
            v.output, v.pattern, v.kind
        );
    }
}

fn verdict(calibration: &Calibration) -> String {
    let findings = &calibration.findings;
    if findings.count() == 0 {
        return format!(
            "OK: the candidate varies nowhere the legacy does not, and every side's runs ended alike (exit {})",
            calibration.exit_code
        );
    }
    let mut parts = Vec::new();
    if !findings.candidate_only.is_empty() {
        parts.push(format!(
            "the candidate varies in {} where the legacy does not",
            plural(findings.candidate_only.len(), "place")
        ));
    }
    if !findings.inconsistent_runs.is_empty() {
        let cases: std::collections::BTreeSet<&str> = findings
            .inconsistent_runs
            .iter()
            .map(|r| r.case.as_str())
            .collect();
        parts.push(format!(
            "runs of a side ended differently on {}",
            plural(cases.len(), "fixture")
        ));
    }
    format!(
        "FINDINGS: {} (exit {})",
        parts.join("; "),
        calibration.exit_code
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_summary() {
        let calibration = crate::calibrate::tests::sample();
        insta::assert_snapshot!(super::render(&calibration));
    }
}
