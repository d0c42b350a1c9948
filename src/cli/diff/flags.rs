//! The rule flags of `parity diff`, parsed once and turned into rules per file format.

use anyhow::{Context, bail};
use regex::Regex;
use serde_json::Value;

use super::super::DiffArgs;
use crate::config::rule_selector;
use crate::diff::{
    self, ArrayMatch, CsvOptions, DiffSpec, Format, Normalize, Replacement, Rule, Rules,
    TextOptions, Tolerance, ValueMap,
};

/// The rule flags, parsed once; [`Flags::spec`] turns them into rules for one format.
pub(super) struct Flags {
    pub format: Option<Format>,
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
    pub fn parse(args: &DiffArgs) -> anyhow::Result<Self> {
        let format = args.format;
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
            .map(|p| (p.clone(), ArrayMatch::Multiset))
            .collect();
        for spec in &args.matching {
            let (path, mode) = split_last(spec, '=', "--match", "PATH=MODE, e.g. '$.tags=set'")?;
            let mode = match mode {
                "set" => ArrayMatch::Set,
                "multiset" | "unordered" => ArrayMatch::Multiset,
                "aligned" => ArrayMatch::Aligned,
                "positional" => ArrayMatch::Positional,
                other => bail!(
                    "--match `{spec}`: unknown mode `{other}`; use unordered (a multiset), set, multiset, aligned or positional (by key: --key PATH=FIELD)"
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
    pub fn spec(&self, format: Format) -> anyhow::Result<DiffSpec> {
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
