//! An [`Explanation`] for people: the verdict, both sides' commands, the input hash, then each
//! differing output as a table of its differing fields, legacy and candidate side by side, and
//! the rerun line last. Plain text (no colour), so the same text goes to a terminal and to a
//! bundle's `explain.txt`; every value from the programs is made inert first.

use std::fmt::{self, Write};

use super::{Explanation, OutputView, Row, RunView};
use crate::report::human::split_record;
use crate::report::inert::{inert, inert_line};
use crate::report::short_value;
use crate::units::plural;

/// Characters of a value shown in a table cell.
pub const VALUE_WIDTH: usize = 40;
/// Widest path column; a longer path takes a line of its own.
const PATH_WIDTH: usize = 64;
/// Unwaived differences shown per output (every stored one is in `--format json`).
const ROWS: usize = 50;
/// Waived differences shown per output.
const WAIVED_ROWS: usize = 10;

/// The explanation as people read it.
pub fn render(e: &Explanation) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_all(&mut out, e);
    out
}

fn write_all(out: &mut String, e: &Explanation) -> fmt::Result {
    let counts = match (e.unwaived, e.waived) {
        (0, 0) => String::new(),
        (n, 0) => format!(", {}", plural(n, "difference")),
        (n, w) => format!(", {} ({w} waived)", plural(n, "difference")),
    };
    writeln!(out, "{}: {}{counts}", inert_line(&e.case), e.verdict_text)?;
    for lead in &e.leads {
        writeln!(out, "{}", inert_line(lead))?;
    }
    if let Some(steps) = &e.steps {
        writeln!(out, "steps: {}", inert_line(steps))?;
    }
    writeln!(out)?;
    inputs(out, e)?;
    for run in &e.runs {
        write_run(out, run)?;
    }
    for output in &e.outputs {
        writeln!(out)?;
        write_output(out, output)?;
    }
    if !e.notes.is_empty() {
        writeln!(out, "\nnotes:")?;
        for note in &e.notes {
            writeln!(out, "  - {}", inert_line(note))?;
        }
    }
    writeln!(out)?;
    match &e.kept_outputs {
        Some(dir) => writeln!(
            out,
            "outputs kept in {} (next to results.json)",
            inert_line(dir)
        )?,
        None => writeln!(
            out,
            "outputs: not kept (a run keeps them for failing cases, and for all with --keep-outputs)"
        )?,
    }
    writeln!(out, "rerun: {}", inert_line(&e.rerun))
}

fn inputs(out: &mut String, e: &Explanation) -> fmt::Result {
    match (&e.inputs, &e.inputs_now) {
        (Some(then), Some(now)) if then == now => writeln!(
            out,
            "inputs: {then} (the fixture is unchanged since the run)"
        )?,
        (Some(then), Some(now)) => writeln!(
            out,
            "inputs: {then} (the fixture CHANGED since the run: it is now {now})"
        )?,
        (Some(then), None) => writeln!(out, "inputs: {then}")?,
        (None, Some(now)) => writeln!(
            out,
            "inputs: not recorded by the run; the fixture is now {now}"
        )?,
        (None, None) => writeln!(out, "inputs: not recorded by the run")?,
    }
    for golden in &e.goldens {
        let step = golden
            .step
            .as_ref()
            .map(|s| format!(" (step {})", inert_line(s)))
            .unwrap_or_default();
        let same = match &e.inputs {
            Some(inputs) if *inputs == golden.inputs => " (the run's inputs)",
            Some(_) => " (not the run's inputs)",
            None => "",
        };
        writeln!(
            out,
            "golden{step}: {}\n  recorded from inputs {}{same}",
            inert_line(&golden.origin),
            inert_line(&golden.inputs)
        )?;
    }
    Ok(())
}

fn write_run(out: &mut String, run: &RunView) -> fmt::Result {
    let step = run
        .step
        .as_ref()
        .map(|s| format!("step {}, ", inert_line(s)))
        .unwrap_or_default();
    writeln!(out, "\n{step}{}: {}", run.side, inert_line(&run.status))?;
    writeln!(out, "  {}", inert_line(&run.command))?;
    for note in &run.notes {
        writeln!(out, "  note: {}", inert_line(note))?;
    }
    if !run.stderr_tail.is_empty() {
        writeln!(out, "  stderr (last lines):")?;
        for line in inert(&run.stderr_tail).lines() {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}

/// One table line: path, the reference's value, the compared side's value, what else to say;
/// a line with only a path heads a record's fields.
struct Line {
    path: String,
    left: String,
    right: String,
    note: String,
}

fn write_output(out: &mut String, o: &OutputView) -> fmt::Result {
    let consequence = o
        .blocked_by
        .as_ref()
        .map(|by| format!(" — blocked by {}: consequences, not causes", inert_line(by)))
        .unwrap_or_default();
    writeln!(
        out,
        "{} ({}): {}, {} waived{consequence}",
        inert_line(&o.name),
        o.format.map_or("file", |f| f.as_str()),
        plural(o.total, "difference"),
        o.waived
    )?;
    let unwaived = o.rows.iter().filter(|r| r.waived_by.is_none()).take(ROWS);
    let waived = o
        .rows
        .iter()
        .filter(|r| r.waived_by.is_some())
        .take(WAIVED_ROWS);
    let shown: Vec<&Row> = unwaived.chain(waived).collect();
    let lines = lines(&shown);
    table(out, o, &lines)?;
    if o.total > shown.len() {
        let stored = o.rows.len();
        let rest = if stored > shown.len() {
            "the rest stored are in `--format json` and results.json"
        } else {
            "the rest are counted, not stored"
        };
        writeln!(out, "  … {} of {} shown; {rest}", shown.len(), o.total)?;
    }
    for equivalence in &o.equivalences {
        writeln!(out, "  equivalent, not counted: {equivalence}")?;
    }
    for note in &o.notes {
        writeln!(out, "  note: {}", inert_line(note))?;
    }
    Ok(())
}

/// The rows as table lines, a record's fields under one line naming its key.
fn lines(rows: &[&Row]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut record: Option<String> = None;
    for row in rows {
        let path = match split_record(&row.path) {
            Some((key, field)) => {
                if record.as_deref() != Some(key.as_str()) {
                    lines.push(Line {
                        path: inert_line(&key).into_owned(),
                        left: String::new(),
                        right: String::new(),
                        note: String::new(),
                    });
                    record = Some(key);
                }
                format!("  {}", inert_line(&field))
            }
            None => {
                record = None;
                inert_line(&row.path).into_owned()
            }
        };
        let mut note = Vec::new();
        if !matches!(row.kind, crate::diff::DiffKind::Changed) {
            note.push(row.kind.to_string());
        }
        note.extend(row.note.iter().map(|n| inert_line(n).into_owned()));
        if let Some(w) = row.waived_by {
            note.push(format!("waived by #{w}"));
        }
        let (left, right) = match &row.moved {
            Some(moved) => (moved.clone(), String::new()),
            None => (
                short_value(row.left.as_ref(), VALUE_WIDTH),
                short_value(row.right.as_ref(), VALUE_WIDTH),
            ),
        };
        lines.push(Line {
            path,
            left,
            right,
            note: note.join("; "),
        });
    }
    lines
}

fn width(text: &str) -> usize {
    text.chars().count()
}

fn table(out: &mut String, o: &OutputView, lines: &[Line]) -> fmt::Result {
    let path_width = lines
        .iter()
        .filter(|l| !l.left.is_empty() || !l.right.is_empty())
        .map(|l| width(&l.path))
        .filter(|w| *w <= PATH_WIDTH)
        .chain([width("path")])
        .max()
        .unwrap_or(0);
    let left_width = lines
        .iter()
        .filter(|l| !l.right.is_empty())
        .map(|l| width(&l.left))
        .chain([width(o.left)])
        .max()
        .unwrap_or(0);
    let right_width = lines
        .iter()
        .map(|l| width(&l.right))
        .chain([width(o.right)])
        .max()
        .unwrap_or(0);
    let pad =
        |text: &str, to: usize| format!("{text}{}", " ".repeat(to.saturating_sub(width(text))));
    let mut row = |path: &str, left: &str, right: &str, note: &str| -> fmt::Result {
        let cells = if right.is_empty() && note.is_empty() {
            format!("{}  {left}", pad(path, path_width))
        } else if right.is_empty() {
            format!(
                "{}  {}  {note}",
                pad(path, path_width),
                pad(left, left_width)
            )
        } else {
            format!(
                "{}  {}  {}  {note}",
                pad(path, path_width),
                pad(left, left_width),
                pad(right, right_width)
            )
        };
        writeln!(out, "  {}", cells.trim_end())
    };
    row("path", o.left, o.right, "")?;
    for line in lines {
        let bare = line.left.is_empty() && line.right.is_empty();
        if bare {
            row(&line.path, "", "", &line.note)?;
        } else if width(&line.path) > path_width {
            row(&line.path, "", "", "")?;
            row("", &line.left, &line.right, &line.note)?;
        } else {
            row(&line.path, &line.left, &line.right, &line.note)?;
        }
    }
    Ok(())
}
