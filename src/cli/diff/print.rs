//! Printing what `parity diff` found: grouped and coloured for people, or one JSON document.

use std::io::Write;

use anstyle::Style;
use serde_json::{Value, json};

use super::super::DiffArgs;
use super::Compared;
use crate::report::{human, plural};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

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
        match &file.texts {
            Some((l, r)) => write_unified(&mut out, l, r)?,
            None => human::write_differences(&mut out, &file.summary.differences)?,
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
            writeln!(out, "{DIM}note: {note}{DIM:#}")?;
        }
    }
    let different = compared.iter().filter(|c| !c.status.is_success()).count();
    let total: usize = compared.iter().map(|c| c.summary.total).sum();
    if compared.len() > 1 || total > 0 {
        let clusters: usize = compared.iter().map(|c| c.summary.clusters.len()).sum();
        writeln!(
            out,
            "{DIM}{total} differences ({clusters} patterns) in {different} of {} files{DIM:#}",
            compared.len()
        )?;
    }
    Ok(())
}

/// A unified diff of two texts, coloured by line kind.
fn write_unified(out: &mut dyn Write, left: &str, right: &str) -> std::io::Result<()> {
    let text_diff = similar::TextDiff::from_lines(left, right);
    for line in text_diff
        .unified_diff()
        .context_radius(3)
        .to_string()
        .lines()
    {
        let style = match line.chars().next() {
            Some('-') => anstyle::AnsiColor::Red.on_default(),
            Some('+') => anstyle::AnsiColor::Green.on_default(),
            Some('@') => anstyle::AnsiColor::Cyan.on_default(),
            _ => Style::new(),
        };
        writeln!(out, "{style}{line}{style:#}")?;
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
    let mut out = crate::cli::output::raw_stdout();
    serde_json::to_writer_pretty(&mut out, &document)?;
    writeln!(out)?;
    Ok(())
}
