//! Printing what `parity diff` found: grouped and coloured for people, or one JSON document.

use crate::style::{ADDED, BOLD, CHANGED, DIM, REMOVED};
use std::io::Write;

use serde_json::{Value, json};

use super::super::DiffArgs;
use super::Compared;
use crate::diff::{Difference, Format};
use crate::report::human;
use crate::report::inert::inert;
use crate::units::plural;

pub(super) fn print_human(args: &DiffArgs, compared: &[Compared]) -> std::io::Result<()> {
    let mut out = crate::cli::output::stdout();
    for file in compared {
        let equivalences: usize = file.summary.equivalences.values().map(|t| t.count).sum();
        if file.summary.total == 0 && equivalences == 0 && file.summary.notes.is_empty() {
            continue;
        }
        let (lname, rname) = match &file.name {
            Some(name) => (
                format!("{}/{name}", args.left.display()),
                format!("{}/{name}", args.right.display()),
            ),
            None => (
                args.left.display().to_string(),
                args.right.display().to_string(),
            ),
        };
        writeln!(out, "{BOLD}--- {lname}\n+++ {rname}{BOLD:#}")?;
        if file.format == Some(Format::Text) {
            write_hunks(&mut out, &file.summary.differences)?;
        } else {
            human::write_differences(&mut out, &file.summary.differences)?;
        }
        if file.summary.total > file.summary.differences.len() {
            writeln!(
                out,
                "{DIM}… {} more differences (raise --max-differences){DIM:#}",
                file.summary.total - file.summary.differences.len()
            )?;
        }
        for (kind, tally) in &file.summary.equivalences {
            let example = tally
                .examples
                .first()
                .map(|d| format!(", e.g. {}", d.path))
                .unwrap_or_default();
            let count = plural(tally.count, "equivalent value");
            writeln!(out, "{DIM}= {count} ({kind}){example}{DIM:#}")?;
        }
        for note in &file.summary.notes {
            writeln!(out, "{DIM}note: {}{DIM:#}", inert(note))?;
        }
    }
    let different = compared.iter().filter(|c| !c.status.is_success()).count();
    let total: usize = compared.iter().map(|c| c.summary.total).sum();
    if compared.len() > 1 || total > 0 {
        let clusters: usize = compared.iter().map(|c| c.summary.clusters.len()).sum();
        writeln!(
            out,
            "{DIM}{} ({}) in {different} of {}{DIM:#}",
            plural(total, "difference"),
            plural(clusters, "pattern"),
            plural(compared.len(), "file")
        )?;
    }
    Ok(())
}

/// Text differences as unified-diff hunks (without context lines), coloured by line kind, and
/// moved lines as `moved line 12 → line 40: text`; values cut to their limit say so.
fn write_hunks(out: &mut dyn Write, differences: &[Difference]) -> std::io::Result<()> {
    let (red, green, cyan) = (REMOVED, ADDED, CHANGED);
    for d in differences {
        if !d.path.starts_with("@@") {
            human::write_differences(out, std::slice::from_ref(d))?;
            continue;
        }
        if let Some((from, to)) = crate::diff::text::moved_lines(d) {
            let text = |value: &Option<Value>| {
                inert(value.as_ref().and_then(Value::as_str).unwrap_or_default()).into_owned()
            };
            writeln!(
                out,
                "{cyan}moved line {from} → line {to}:{cyan:#} {}",
                text(&d.left)
            )?;
            if d.right != d.left {
                writeln!(out, "{DIM}  (line {to} reads: {}){DIM:#}", text(&d.right))?;
            }
            if let Some(clip) = d.clip_note() {
                writeln!(out, "{DIM}({}){DIM:#}", clip)?;
            }
            continue;
        }
        writeln!(out, "{cyan}{}{cyan:#}", d.path)?;
        for (value, mark, style) in [(&d.left, '-', red), (&d.right, '+', green)] {
            let Some(text) = value.as_ref().and_then(|v| v.as_str()) else {
                continue;
            };
            for line in text.split('\n') {
                writeln!(out, "{style}{mark}{}{style:#}", inert(line))?;
            }
        }
        if let Some(clip) = d.clip_note() {
            writeln!(out, "{DIM}({}){DIM:#}", clip)?;
        }
    }
    Ok(())
}

pub(super) fn print_json(args: &DiffArgs, compared: &[Compared]) -> anyhow::Result<()> {
    let with_file = |file: &Compared, value: &mut Value| {
        if let (Some(name), Some(object)) = (&file.name, value.as_object_mut()) {
            object.insert("file".into(), json!(name));
        }
    };
    let mut differences = Vec::new();
    let mut equivalences = Vec::new();
    let mut clusters = Vec::new();
    for file in compared {
        for d in &file.summary.differences {
            let mut item = serde_json::to_value(d)?;
            with_file(file, &mut item);
            differences.push(item);
        }
        for (kind, tally) in &file.summary.equivalences {
            let mut item =
                json!({ "kind": kind, "count": tally.count, "examples": tally.examples });
            with_file(file, &mut item);
            equivalences.push(item);
        }
        for ((pattern, kind), tally) in &file.summary.clusters {
            let mut item = json!({ "pattern": pattern, "kind": kind, "count": tally.count, "examples": tally.examples });
            with_file(file, &mut item);
            clusters.push(item);
        }
    }
    let files: Vec<_> = compared
        .iter()
        .map(|c| json!({ "file": c.name, "format": c.format, "status": c.status, "total": c.summary.total, "notes": c.summary.notes }))
        .collect();
    let total: usize = compared.iter().map(|c| c.summary.total).sum();
    let document = json!({
        "left": args.left.display().to_string(),
        "right": args.right.display().to_string(),
        "same": compared.iter().all(|c| c.status.is_success()),
        "total": total,
        "files": files,
        "clusters": clusters,
        "equivalences": equivalences,
        "differences": differences,
    });
    // Buffered: standard output writes each line on its own, thousands for one report.
    let mut out = std::io::BufWriter::new(crate::cli::output::raw_stdout());
    serde_json::to_writer_pretty(&mut out, &document)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
