//! `parity diff LEFT RIGHT`: the diff engine on two files or two directories, with rules given
//! as flags (or, for directories, the `[[compare]]` blocks of a parity.toml). Exit codes follow
//! diff(1): 0 same under the rules, 1 different, 2 trouble (including input that does not
//! parse, reported with file, line and column).

use std::io::Write;
use std::path::Path;

use anstyle::Style;
use anyhow::{Context, bail};
use regex::Regex;
use serde_json::{Value, json};

use super::{DiffArgs, DiffFormat, DiffOutput};
use crate::compare::block_for;
use crate::config::{self, rule_selector};
use crate::diff::dir::pair_files;
use crate::diff::stream::StreamInput;
use crate::diff::{
    self, ArrayMatch, CsvOptions, DiffKind, DiffSpec, Findings, FindingsSummary, Format, NoWaivers,
    Normalize, OutputStatus, Replacement, Rule, Rules, TextOptions, Tolerance, ValueMap,
};
use crate::exit_code;
use crate::report::{human, plural};

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
    let flags = Flags::parse(&args)?;
    let config = match &args.config {
        Some(path) => Some(config::load(path)?),
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
            &flags,
            None,
            None,
            Some(&args.left),
            Some(&args.right),
        )?],
        (true, true) => pair_files(&args.left, &args.right)
            .context("cannot list the directories")?
            .iter()
            .map(|p| {
                let block = config.as_ref().and_then(|c| block_for(c, &p.relative));
                compare_file(
                    &args,
                    &flags,
                    block,
                    Some(p.relative.clone()),
                    p.left.as_deref(),
                    p.right.as_deref(),
                )
            })
            .collect::<anyhow::Result<_>>()?,
        _ => bail!("cannot compare a file with a directory: give two files or two directories"),
    };
    let malformed: Vec<String> = compared
        .iter()
        .flat_map(|c| &c.summary.differences)
        .filter(|d| d.kind == DiffKind::ParseError)
        .filter_map(|d| d.note.clone())
        .collect();
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
    flags: &Flags,
    block: Option<&config::CompareBlock>,
    name: Option<String>,
    left: Option<&Path>,
    right: Option<&Path>,
) -> anyhow::Result<Compared> {
    let mut findings = Findings::new(
        name.clone().unwrap_or_default(),
        &NoWaivers,
        args.max_differences,
    );
    let (Some(left), Some(right)) = (left, right) else {
        let (kind, side) = if left.is_some() {
            (DiffKind::MissingFile, "left")
        } else {
            (DiffKind::ExtraFile, "right")
        };
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
    let (lname, rname) = (left.to_string_lossy(), right.to_string_lossy());
    let format = match block.and_then(|b| b.format).or(flags.format) {
        Some(format) => format,
        None => {
            Format::detect_file(&lname, left).with_context(|| format!("cannot read `{lname}`"))?
        }
    };
    let flag_spec;
    let spec = match block {
        Some(block) => &block.spec,
        None => {
            flag_spec = flags.spec(format)?;
            &flag_spec
        }
    };
    let (_, status) = diff::compare_files(
        Some(format),
        spec,
        &StreamInput {
            side: "left",
            name: &lname,
            path: left,
        },
        &StreamInput {
            side: "right",
            name: &rname,
            path: right,
        },
        &mut findings,
    )
    .with_context(|| format!("cannot compare `{lname}` and `{rname}`"))?;
    let read_text =
        |path: &Path| std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned());
    let texts = if format == Format::Text && status == OutputStatus::Different {
        Some((read_text(left)?, read_text(right)?))
    } else {
        None
    };
    Ok(Compared {
        name,
        format: Some(format),
        status,
        summary: findings.finish(),
        texts,
    })
}

/// The rule flags, parsed once; [`Flags::spec`] turns them into rules for one format.
struct Flags {
    format: Option<Format>,
    keys: Vec<(Option<String>, Vec<String>)>,
    ignore: Vec<String>,
    matching: Vec<(String, ArrayMatch)>,
    tolerance: Vec<(String, Tolerance)>,
    normalize: Vec<Normalize>,
    map: Vec<(String, String, Value)>,
    rename: Vec<(String, String, String)>,
    strict_numbers: bool,
    text: TextOptions,
    csv: CsvOptions,
}

impl Flags {
    fn parse(args: &DiffArgs) -> anyhow::Result<Self> {
        let format = match args.format {
            DiffFormat::Auto => None,
            DiffFormat::Json => Some(Format::Json),
            DiffFormat::Ndjson => Some(Format::Ndjson),
            DiffFormat::Csv => Some(Format::Csv),
            DiffFormat::Tsv => Some(Format::Tsv),
            DiffFormat::Text => Some(Format::Text),
            DiffFormat::Bytes => Some(Format::Bytes),
        };
        let keys = args
            .key
            .iter()
            .map(|key| match key.rsplit_once('=') {
                Some((path, fields)) if path.trim_start().starts_with('$') => {
                    Ok((Some(path.to_owned()), split_fields(fields)?))
                }
                _ => Ok((None, split_fields(key)?)),
            })
            .collect::<anyhow::Result<_>>()?;
        let mut matching: Vec<(String, ArrayMatch)> = args
            .unordered
            .iter()
            .map(|p| (p.clone(), ArrayMatch::Set))
            .collect();
        for spec in &args.matching {
            let (path, mode) = split_last(spec, '=', "--match", "PATH=MODE, e.g. '$.tags=set'")?;
            let mode = match mode {
                "set" => ArrayMatch::Set,
                "multiset" => ArrayMatch::Multiset,
                "aligned" => ArrayMatch::Aligned,
                "positional" => ArrayMatch::Positional,
                other => bail!(
                    "--match `{spec}`: unknown mode `{other}`; use set, multiset, aligned or positional (by key: --key PATH=FIELD)"
                ),
            };
            matching.push((path.to_owned(), mode));
        }
        let tolerance = args
            .tolerance
            .iter()
            .map(|spec| parse_tolerance(spec))
            .collect::<anyhow::Result<_>>()?;
        let mut normalize = Vec::new();
        for spec in &args.normalize {
            let (pattern, replacement) =
                split_last(spec, '=', "--normalize", "PATTERN=REPLACEMENT")?;
            normalize.push(Normalize {
                regex: compile(pattern, "--normalize")?,
                replace: Replacement::Text(replacement.to_owned()),
            });
        }
        for spec in &args.redact {
            let Some((name, pattern)) = spec.split_once('=') else {
                bail!("--redact `{spec}`: write NAME=PATTERN, e.g. 'uuid=[0-9a-f-]{{36}}'");
            };
            normalize.push(Normalize {
                regex: compile(pattern, "--redact")?,
                replace: Replacement::Placeholder(name.to_owned()),
            });
        }
        let mut map = Vec::new();
        for spec in &args.map {
            let (path, pair) =
                split_last(spec, '=', "--map", "PATH=FROM:TO, e.g. '$..active=Y:true'")?;
            let Some((from, to)) = pair.split_once(':') else {
                bail!("--map `{spec}`: write PATH=FROM:TO, e.g. '$..active=Y:true'");
            };
            let to = serde_json::from_str(to).unwrap_or_else(|_| Value::String(to.to_owned()));
            map.push((path.to_owned(), from.to_owned(), to));
        }
        let mut rename = Vec::new();
        for spec in &args.rename {
            let (path, pair) = split_last(
                spec,
                '=',
                "--rename",
                "PATH=OLD:NEW, e.g. '$.items[*]=cve:cve_id'",
            )?;
            let Some((old, new)) = pair.split_once(':') else {
                bail!("--rename `{spec}`: write PATH=OLD:NEW, e.g. '$.items[*]=cve:cve_id'");
            };
            rename.push((path.to_owned(), old.to_owned(), new.to_owned()));
        }
        let one_char = |c: char, flag: &str| -> anyhow::Result<u8> {
            if c.is_ascii() {
                Ok(c as u8)
            } else {
                bail!("{flag} must be one ASCII character, not `{c}`")
            }
        };
        let quote = match args.quote.as_deref() {
            None => Some(b'"'),
            Some("") => None,
            Some(q) if q.len() == 1 && q.is_ascii() => Some(q.as_bytes()[0]),
            Some(q) => bail!(
                "--quote must be one ASCII character (or empty to turn quoting off), not `{q}`"
            ),
        };
        Ok(Flags {
            format,
            keys,
            ignore: args.ignore.clone(),
            matching,
            tolerance,
            normalize,
            map,
            rename,
            strict_numbers: args.strict_numbers,
            text: TextOptions {
                whitespace: args.whitespace.unwrap_or_default(),
                ignore_case: args.ignore_case,
            },
            csv: CsvOptions {
                delimiter: args
                    .delimiter
                    .map(|c| one_char(c, "--delimiter"))
                    .transpose()?,
                quote,
                escape: args.escape.map(|c| one_char(c, "--escape")).transpose()?,
            },
        })
    }

    /// The rules for one file of `format`; paths resolve as that format reads them.
    fn spec(&self, format: Format) -> anyhow::Result<DiffSpec> {
        let structured = matches!(
            format,
            Format::Json | Format::Ndjson | Format::Csv | Format::Tsv
        );
        let has_structured_rules = !self.keys.is_empty()
            || !self.ignore.is_empty()
            || !self.matching.is_empty()
            || !self.tolerance.is_empty()
            || !self.map.is_empty()
            || !self.rename.is_empty();
        if has_structured_rules && !structured {
            bail!(
                "--key, --ignore, --unordered, --match, --tolerance, --map and --rename need a structured format (json, ndjson, csv, tsv), not {format}"
            );
        }
        let selector =
            |text: &str| rule_selector(text.trim(), Some(format)).map_err(anyhow::Error::from);
        let mut ids = 0..;
        let mut next = || ids.next().unwrap_or_default();
        let mut rules = Rules {
            strict_numbers: self.strict_numbers,
            ..Rules::default()
        };
        for (path, fields) in &self.keys {
            match path {
                Some(path) => rules.matching.push(Rule {
                    id: next(),
                    path: Some(selector(path)?),
                    action: ArrayMatch::Keyed(fields.clone()),
                }),
                None if format == Format::Json => bail!(
                    "--key `{}`: for JSON give the array's path, e.g. --key '$.items=id'",
                    fields.join(",")
                ),
                None => rules = rules.with_record_key(next(), fields.clone()),
            }
        }
        for path in &self.ignore {
            rules.ignore.push(Rule {
                id: next(),
                path: Some(selector(path)?),
                action: (),
            });
        }
        for (path, mode) in &self.matching {
            rules.matching.push(Rule {
                id: next(),
                path: Some(selector(path)?),
                action: mode.clone(),
            });
        }
        for (path, tolerance) in &self.tolerance {
            rules.tolerance.push(Rule {
                id: next(),
                path: Some(selector(path)?),
                action: *tolerance,
            });
        }
        for normalize in &self.normalize {
            rules.normalize.push(Rule {
                id: next(),
                path: None,
                action: normalize.clone(),
            });
        }
        for (path, from, to) in &self.map {
            let values = ValueMap::from([(from.clone(), to.clone())]);
            rules.map_values.push(Rule {
                id: next(),
                path: Some(selector(path)?),
                action: values,
            });
        }
        for (path, old, new) in &self.rename {
            let names = diff::Rename::from([(old.clone(), new.clone())]);
            rules.rename.push(Rule {
                id: next(),
                path: Some(selector(path)?),
                action: names,
            });
        }
        Ok(DiffSpec {
            rules,
            csv: self.csv.clone(),
            text: self.text,
        })
    }
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

/// Splits `spec` at the last `sep` (paths may hold `=` inside filters; values rarely do).
fn split_last<'s>(
    spec: &'s str,
    sep: char,
    flag: &str,
    form: &str,
) -> anyhow::Result<(&'s str, &'s str)> {
    spec.rsplit_once(sep)
        .with_context(|| format!("{flag} `{spec}`: write {form}"))
}

fn compile(pattern: &str, flag: &str) -> anyhow::Result<Regex> {
    regex::RegexBuilder::new(pattern)
        .multi_line(true)
        .build()
        .with_context(|| format!("{flag}: invalid regex `{pattern}`"))
}

fn parse_tolerance(spec: &str) -> anyhow::Result<(String, Tolerance)> {
    let (path, value) = split_last(
        spec,
        '=',
        "--tolerance",
        "PATH=VALUE, e.g. '$..score=1e-9' or 'price=0.5%'",
    )?;
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
    Ok((path.to_owned(), tolerance))
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

fn print_human(args: &DiffArgs, compared: &[Compared]) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
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

fn print_json(args: &DiffArgs, compared: &[Compared]) -> anyhow::Result<()> {
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
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &document)?;
    writeln!(out)?;
    Ok(())
}
