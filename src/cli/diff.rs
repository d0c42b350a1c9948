//! `parity diff LEFT RIGHT`: the diff engine on two files or two directories, with rules given
//! as flags. Exit codes follow diff(1): 0 same under the rules, 1 different, 2 trouble (including
//! input that does not parse, reported with file, line and column).

use std::io::Write;
use std::path::Path;

use anstyle::{AnsiColor, Style};
use anyhow::{Context, bail};
use serde_json::json;

use super::{DiffArgs, DiffFormat, DiffOutput};
use crate::config::rule_selector;
use crate::diff::dir::pair_files;
use crate::diff::{
    self, ArrayMatch, DiffKind, DiffSpec, Findings, FindingsSummary, Format, Input, NoWaivers,
    OutputStatus, Rule, Rules, Tolerance,
};
use crate::exit_code;

/// Differences kept per file for printing.
const MAX_DIFFERENCES: usize = 100_000;

/// One compared file.
struct Compared {
    /// Relative path in directory mode.
    name: Option<String>,
    format: Option<Format>,
    status: OutputStatus,
    summary: FindingsSummary,
    /// Both texts, kept for a unified diff when the format is text.
    texts: Option<(String, String)>,
}

pub fn diff(args: DiffArgs) -> anyhow::Result<i32> {
    let forced = match args.format {
        DiffFormat::Auto => None,
        DiffFormat::Json => Some(Format::Json),
        DiffFormat::Ndjson => Some(Format::Ndjson),
        DiffFormat::Csv => Some(Format::Csv),
        DiffFormat::Tsv => Some(Format::Tsv),
        DiffFormat::Text => Some(Format::Text),
        DiffFormat::Bytes => Some(Format::Bytes),
    };
    let delimiter = match args.delimiter {
        Some(c) if c.is_ascii() => Some(c as u8),
        Some(c) => bail!("--delimiter must be one ASCII character, not `{c}`"),
        None => None,
    };
    let (lmeta, rmeta) = (
        std::fs::metadata(&args.left)
            .with_context(|| format!("cannot read `{}`", args.left.display()))?,
        std::fs::metadata(&args.right)
            .with_context(|| format!("cannot read `{}`", args.right.display()))?,
    );
    let compared = match (lmeta.is_dir(), rmeta.is_dir()) {
        (false, false) => vec![compare_file(
            &args,
            None,
            Some(&args.left),
            Some(&args.right),
            forced,
            delimiter,
        )?],
        (true, true) => pair_files(&args.left, &args.right)
            .context("cannot list the directories")?
            .iter()
            .map(|p| {
                compare_file(
                    &args,
                    Some(p.relative.clone()),
                    p.left.as_deref(),
                    p.right.as_deref(),
                    forced,
                    delimiter,
                )
            })
            .collect::<anyhow::Result<_>>()?,
        _ => bail!("cannot compare a file with a directory: give two files or two directories"),
    };
    let malformed = compared
        .iter()
        .flat_map(|c| &c.summary.differences)
        .filter(|d| d.kind == DiffKind::ParseError)
        .filter_map(|d| d.note.clone())
        .collect::<Vec<_>>();
    match args.output {
        DiffOutput::Human => print_human(&args, &compared)?,
        DiffOutput::Json => print_json(&args, &compared)?,
    }
    if !malformed.is_empty() {
        for note in &malformed {
            anstream::eprintln!("error: {note}");
        }
        return Ok(exit_code::TROUBLE);
    }
    let different = compared.iter().any(|c| !c.status.is_success());
    Ok(if different {
        exit_code::DIFFERENT
    } else {
        exit_code::OK
    })
}

fn compare_file(
    args: &DiffArgs,
    name: Option<String>,
    left: Option<&Path>,
    right: Option<&Path>,
    forced: Option<Format>,
    delimiter: Option<u8>,
) -> anyhow::Result<Compared> {
    let mut findings = Findings::new(
        name.clone().unwrap_or_default(),
        &NoWaivers,
        MAX_DIFFERENCES,
    );
    let (Some(left), Some(right)) = (left, right) else {
        let kind = if left.is_some() {
            DiffKind::MissingFile
        } else {
            DiffKind::ExtraFile
        };
        let side = if left.is_some() { "left" } else { "right" };
        findings
            .push(diff::Difference::new("$", kind).note(format!("only in the {side} directory")));
        return Ok(Compared {
            name,
            format: None,
            status: OutputStatus::Different,
            summary: findings.finish(),
            texts: None,
        });
    };
    let lbytes =
        std::fs::read(left).with_context(|| format!("cannot read `{}`", left.display()))?;
    let rbytes =
        std::fs::read(right).with_context(|| format!("cannot read `{}`", right.display()))?;
    let format = forced.unwrap_or_else(|| Format::detect(&left.to_string_lossy(), &lbytes));
    let spec = DiffSpec {
        rules: rules_from_flags(args, format)?,
        delimiter,
    };
    let (lname, rname) = (left.to_string_lossy(), right.to_string_lossy());
    let status = diff::compare(
        format,
        &spec,
        &Input {
            side: "left",
            name: &lname,
            bytes: &lbytes,
        },
        &Input {
            side: "right",
            name: &rname,
            bytes: &rbytes,
        },
        &mut findings,
    );
    let texts = (format == Format::Text && status == OutputStatus::Different).then(|| {
        (
            String::from_utf8_lossy(&lbytes).into_owned(),
            String::from_utf8_lossy(&rbytes).into_owned(),
        )
    });
    Ok(Compared {
        name,
        format: Some(format),
        status,
        summary: findings.finish(),
        texts,
    })
}

/// Builds rules from `--key`, `--ignore`, `--unordered` and `--tolerance` for one format.
fn rules_from_flags(args: &DiffArgs, format: Format) -> anyhow::Result<Rules> {
    let mut rules = Rules::default();
    let mut id = 0;
    let mut next_id = || {
        id += 1;
        id - 1
    };
    let selector =
        |text: &str| rule_selector(text.trim(), Some(format)).map_err(anyhow::Error::from);
    let structured = matches!(
        format,
        Format::Json | Format::Ndjson | Format::Csv | Format::Tsv
    );
    let any_rules = !args.key.is_empty()
        || !args.ignore.is_empty()
        || !args.unordered.is_empty()
        || !args.tolerance.is_empty();
    if any_rules && !structured {
        bail!(
            "--key, --ignore, --unordered and --tolerance need a structured format (json, ndjson, csv, tsv), not {format}"
        );
    }
    for key in &args.key {
        match key.split_once('=') {
            Some((path, fields)) if path.trim_start().starts_with('$') => {
                rules.matching.push(Rule {
                    id: next_id(),
                    path: Some(selector(path)?),
                    action: ArrayMatch::Keyed(split_fields(fields)?),
                })
            }
            _ if format == Format::Json => {
                bail!("--key `{key}`: for JSON give the array's path, e.g. --key '$.items=id'")
            }
            _ => rules = rules.with_record_key(next_id(), split_fields(key)?),
        }
    }
    for path in &args.ignore {
        rules.ignore.push(Rule {
            id: next_id(),
            path: Some(selector(path)?),
            action: (),
        });
    }
    for path in &args.unordered {
        rules.matching.push(Rule {
            id: next_id(),
            path: Some(selector(path)?),
            action: ArrayMatch::Set,
        });
    }
    for spec in &args.tolerance {
        let Some((path, value)) = spec.rsplit_once('=') else {
            bail!("--tolerance `{spec}`: write PATH=VALUE, e.g. '$..score=1e-9' or 'price=0.5%'");
        };
        let (number, relative) = match value.trim().strip_suffix('%') {
            Some(percent) => (percent, true),
            None => (value.trim(), false),
        };
        let number: f64 = number
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite() && *n >= 0.0)
            .with_context(|| format!("--tolerance `{spec}`: `{value}` is not a number ≥ 0"))?;
        let tolerance = if relative {
            Tolerance {
                abs: None,
                rel: Some(number / 100.0),
            }
        } else {
            Tolerance {
                abs: Some(number),
                rel: None,
            }
        };
        rules.tolerance.push(Rule {
            id: next_id(),
            path: Some(selector(path)?),
            action: tolerance,
        });
    }
    Ok(rules)
}

fn split_fields(text: &str) -> anyhow::Result<Vec<String>> {
    let fields: Vec<String> = text
        .split(',')
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    if fields.is_empty() {
        bail!("--key needs at least one field name");
    }
    Ok(fields)
}

const RED: Style = AnsiColor::Red.on_default();
const GREEN: Style = AnsiColor::Green.on_default();
const CYAN: Style = AnsiColor::Cyan.on_default();
const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

fn print_human(args: &DiffArgs, compared: &[Compared]) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    for file in compared.iter().filter(|c| c.summary.total > 0) {
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
        if let Some((l, r)) = &file.texts {
            let text_diff = similar::TextDiff::from_lines(l.as_str(), r.as_str());
            for line in text_diff
                .unified_diff()
                .context_radius(3)
                .to_string()
                .lines()
            {
                let style = match line.chars().next() {
                    Some('-') => RED,
                    Some('+') => GREEN,
                    Some('@') => CYAN,
                    _ => Style::new(),
                };
                writeln!(out, "{style}{line}{style:#}")?;
            }
        } else {
            for d in &file.summary.differences {
                let (mark, style) = match d.kind {
                    DiffKind::Added | DiffKind::ExtraFile => ('+', GREEN),
                    DiffKind::Removed | DiffKind::MissingFile => ('-', RED),
                    _ => ('~', CYAN),
                };
                let values = match (&d.left, &d.right) {
                    (Some(l), Some(r)) => format!("{RED}{l}{RED:#} → {GREEN}{r}{GREEN:#}"),
                    (Some(l), None) => format!("{RED}{l}{RED:#}"),
                    (None, Some(r)) => format!("{GREEN}{r}{GREEN:#}"),
                    (None, None) => String::new(),
                };
                let note = d
                    .note
                    .as_ref()
                    .map(|n| format!(" {DIM}({n}){DIM:#}"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{style}{mark}{style:#} {} {DIM}{}{DIM:#} {values}{note}",
                    d.path, d.kind
                )?;
            }
        }
        if file.summary.total > file.summary.differences.len() {
            writeln!(
                out,
                "{DIM}… {} more differences{DIM:#}",
                file.summary.total - file.summary.differences.len()
            )?;
        }
    }
    let different = compared.iter().filter(|c| !c.status.is_success()).count();
    let total: usize = compared.iter().map(|c| c.summary.total).sum();
    if compared.len() > 1 || total > 0 {
        writeln!(
            out,
            "{DIM}{total} differences in {different} of {} files{DIM:#}",
            compared.len()
        )?;
    }
    Ok(())
}

fn print_json(args: &DiffArgs, compared: &[Compared]) -> anyhow::Result<()> {
    let mut differences = Vec::new();
    for file in compared {
        for d in &file.summary.differences {
            let mut item = serde_json::to_value(d)?;
            if let (Some(name), Some(object)) = (&file.name, item.as_object_mut()) {
                object.insert("file".into(), json!(name));
            }
            differences.push(item);
        }
    }
    let files: Vec<_> = compared
        .iter()
        .map(|c| {
            json!({
                "file": c.name,
                "format": c.format,
                "status": c.status,
                "total": c.summary.total,
            })
        })
        .collect();
    let total: usize = compared.iter().map(|c| c.summary.total).sum();
    let document = json!({
        "left": args.left.display().to_string(),
        "right": args.right.display().to_string(),
        "same": compared.iter().all(|c| c.status.is_success()),
        "total": total,
        "files": files,
        "differences": differences,
    });
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &document)?;
    writeln!(out)?;
    Ok(())
}
