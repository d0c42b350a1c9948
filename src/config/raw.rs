//! The raw mirror of `parity.toml`: field names and shapes exactly as users write them, with
//! spans kept for every value validation may complain about. Each type reads itself from the
//! parsed TOML tree through [`super::read`], which reports every wrong type, unknown key and
//! missing key (not just the first) and keeps reading. Nothing outside `config` reads these
//! types; [`super::Config`] is the validated form.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::read::{Node, Reader, Table};
use crate::diff::Format;

/// Keys of a table that were present but could not be read (already reported): validation does
/// not also call them missing.
pub type Broken = Vec<&'static str>;

#[derive(Debug)]
pub struct RawConfig {
    pub legacy: Option<Spanned<RawSide>>,
    pub candidate: Option<Spanned<RawSide>>,
    pub suites: BTreeMap<String, Spanned<RawSuite>>,
    pub variants: BTreeMap<String, Spanned<RawVariant>>,
    pub compare: Vec<Spanned<RawCompare>>,
    pub stage: Vec<Spanned<RawStage>>,
    pub waiver: Vec<Spanned<RawWaiver>>,
    pub report: RawReport,
    pub bench: RawBench,
    pub golden: RawGolden,
    pub broken: Broken,
}

impl RawConfig {
    pub fn read(r: &mut Reader, t: &mut Table<'_>) -> RawConfig {
        RawConfig {
            legacy: t.get(r, "legacy", side),
            candidate: t.get(r, "candidate", side),
            suites: t
                .get(r, "suites", |r, p, n| {
                    r.entries(p, n, |r, p, n| r.table(p, n, RawSuite::read))
                })
                .map(Spanned::into_inner)
                .unwrap_or_default(),
            variants: t
                .get(r, "variants", |r, p, n| {
                    r.entries(p, n, |r, p, n| r.table(p, n, RawVariant::read))
                })
                .map(Spanned::into_inner)
                .unwrap_or_default(),
            compare: t
                .get(r, "compare", |r, p, n| {
                    r.elements(p, n, "an array of tables `[[compare]]`", |r, p, n| {
                        r.table(p, n, RawCompare::read)
                    })
                })
                .unwrap_or_default(),
            stage: t
                .get(r, "stage", |r, p, n| {
                    r.elements(p, n, "an array of tables `[[stage]]`", |r, p, n| {
                        r.table(p, n, RawStage::read)
                    })
                })
                .unwrap_or_default(),
            waiver: t
                .get(r, "waiver", |r, p, n| {
                    r.elements(p, n, "an array of tables `[[waiver]]`", |r, p, n| {
                        r.table(p, n, RawWaiver::read)
                    })
                })
                .unwrap_or_default(),
            report: section(t, r, "report", RawReport::read),
            bench: section(t, r, "bench", RawBench::read),
            golden: section(t, r, "golden", RawGolden::read),
            broken: t.broken(),
        }
    }
}

fn side(r: &mut Reader, path: &str, node: Node<'_>) -> Option<Spanned<RawSide>> {
    r.table(path, node, RawSide::read)
}

/// A table that may be left out (`[report]`, `[bench]`, `[golden]`).
fn section<'i, T: Default>(
    t: &mut Table<'i>,
    r: &mut Reader,
    key: &'static str,
    read: fn(&mut Reader, &mut Table<'i>) -> Option<T>,
) -> T {
    t.get(r, key, |r, p, n| r.table(p, n, read))
        .map(Spanned::into_inner)
        .unwrap_or_default()
}

/// An array of strings: `cmd = ["python3", "x.py"]`.
fn strings(r: &mut Reader, path: &str, node: Node<'_>) -> Option<Spanned<Vec<Spanned<String>>>> {
    r.array(path, node, "an array of strings", Reader::string)
}

/// `env = { TZ = "UTC" }`.
fn env(
    r: &mut Reader,
    path: &str,
    node: Node<'_>,
) -> Option<Spanned<BTreeMap<String, Spanned<String>>>> {
    r.entries(path, node, Reader::string)
}

/// `[golden]`: where goldens live.
#[derive(Debug, Default)]
pub struct RawGolden {
    pub dir: Option<Spanned<String>>,
}

impl RawGolden {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        Some(RawGolden {
            dir: t.get(r, "dir", Reader::string),
        })
    }
}

/// `[bench]`: the performance gate.
#[derive(Debug, Default)]
pub struct RawBench {
    pub runs: Option<Spanned<i64>>,
    pub max_runs: Option<Spanned<i64>>,
    pub warmup: Option<Spanned<i64>>,
    pub budget: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    pub confidence: Option<Spanned<f64>>,
    pub gate: Option<Spanned<Vec<Spanned<String>>>>,
    pub seed: Option<Spanned<i64>>,
}

impl RawBench {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        Some(RawBench {
            runs: t.get(r, "runs", Reader::integer),
            max_runs: t.get(r, "max_runs", Reader::integer),
            warmup: t.get(r, "warmup", Reader::integer),
            budget: t.get(r, "budget", |r, p, n| {
                r.entries(p, n, |r, p, n| r.text(p, n, "a percentage such as \"5%\""))
            }),
            confidence: t.get(r, "confidence", Reader::number),
            gate: t.get(r, "gate", strings),
            seed: t.get(r, "seed", Reader::integer),
        })
    }
}

#[derive(Debug)]
pub struct RawSide {
    pub cmd: Option<Spanned<Vec<Spanned<String>>>>,
    pub env: BTreeMap<String, Spanned<String>>,
    pub cwd: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    /// Legacy only: the legacy is gone; compare against goldens.
    pub retired: Option<Spanned<bool>>,
    /// A command whose output names the side's version (e.g. a commit).
    pub version_cmd: Option<Spanned<Vec<Spanned<String>>>>,
    pub broken: Broken,
}

impl RawSide {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        Some(RawSide {
            cmd: t.get(r, "cmd", strings),
            env: t
                .get(r, "env", env)
                .map(Spanned::into_inner)
                .unwrap_or_default(),
            cwd: t.get(r, "cwd", Reader::string),
            timeout: t.get(r, "timeout", |r, p, n| {
                r.text(p, n, "a duration such as \"30s\" or \"2m\"")
            }),
            retired: t.get(r, "retired", Reader::boolean),
            version_cmd: t.get(r, "version_cmd", strings),
            broken: t.broken(),
        })
    }
}

#[derive(Debug)]
pub struct RawSuite {
    /// Required; `None` only when reading already reported it.
    pub root: Option<Spanned<String>>,
    pub include: Option<Spanned<Vec<Spanned<String>>>>,
    pub exclude: Vec<Spanned<String>>,
    pub default: Option<bool>,
    /// Scenario suites: a glob over the entries inside each fixture, each one step.
    pub steps: Option<Spanned<String>>,
    /// The suite's own sides, replacing `[legacy]` and `[candidate]` for it.
    pub legacy: Option<Spanned<RawSide>>,
    pub candidate: Option<Spanned<RawSide>>,
    pub teardown: Option<Spanned<Vec<Spanned<String>>>>,
    pub requires: Option<Spanned<Vec<Spanned<String>>>>,
    pub broken: Broken,
}

impl RawSuite {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        Some(RawSuite {
            root: t.required(
                r,
                "root",
                "the directory holding the fixtures, e.g. `root = \"fixtures\"`",
                Reader::string,
            ),
            include: t.get(r, "include", strings),
            exclude: t
                .get(r, "exclude", strings)
                .map(Spanned::into_inner)
                .unwrap_or_default(),
            default: t
                .get(r, "default", Reader::boolean)
                .map(Spanned::into_inner),
            steps: t.get(r, "steps", Reader::string),
            legacy: t.get(r, "legacy", side),
            candidate: t.get(r, "candidate", side),
            teardown: t.get(r, "teardown", strings),
            requires: t.get(r, "requires", strings),
            broken: t.broken(),
        })
    }
}

#[derive(Debug)]
pub struct RawVariant {
    pub args: Vec<Spanned<String>>,
    pub env: BTreeMap<String, Spanned<String>>,
}

impl RawVariant {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        Some(RawVariant {
            args: t
                .get(r, "args", strings)
                .map(Spanned::into_inner)
                .unwrap_or_default(),
            env: t
                .get(r, "env", env)
                .map(Spanned::into_inner)
                .unwrap_or_default(),
        })
    }
}

/// `format = ...` in a `[[compare]]` or `[[stage]]` block: `auto` (`None`: detect it) or one of
/// [`Format`]'s names. Not a second format enum: `auto` is the absence of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatName(pub Option<Format>);

impl<'de> Deserialize<'de> for FormatName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const NAMES: &[&str] = &["auto", "json", "ndjson", "csv", "tsv", "text", "bytes"];
        let name = String::deserialize(deserializer)?;
        if name == "auto" {
            return Ok(FormatName(None));
        }
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == name)
            .map(|f| FormatName(Some(f)))
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, NAMES))
    }
}

#[derive(Debug)]
pub struct RawCompare {
    /// Required; `None` only when reading already reported it.
    pub output: Option<Spanned<String>>,
    pub block: RawBlock,
    pub convert: Option<Spanned<Vec<Spanned<String>>>>,
    pub tables: Option<Spanned<Vec<Spanned<String>>>>,
    pub convert_timeout: Option<Spanned<String>>,
}

/// What a `[[compare]]` block and a `[[stage]]` share: the format, the rules, and the CSV and
/// text options.
#[derive(Debug)]
pub struct RawBlock {
    pub format: Option<Spanned<FormatName>>,
    pub ignore: Vec<Spanned<RawIgnore>>,
    pub matching: Vec<Spanned<RawMatch>>,
    pub key: Option<Spanned<OneOrMany>>,
    pub tolerance: Vec<Spanned<RawTolerance>>,
    pub normalize: Vec<Spanned<RawNormalize>>,
    pub map: Vec<Spanned<RawMap>>,
    pub strict_numbers: Option<bool>,
    pub whitespace: Option<Spanned<crate::diff::Whitespace>>,
    pub ignore_case: Option<Spanned<bool>>,
    pub delimiter: Option<Spanned<String>>,
    pub quote: Option<Spanned<String>>,
    pub escape: Option<Spanned<String>>,
}

/// The rules of one kind in a block: `ignore = [...]`; each rule with a mistake is reported and
/// left out, the others are kept.
fn rules<'i, T>(
    t: &mut Table<'i>,
    r: &mut Reader,
    key: &'static str,
    rule: fn(&mut Reader, &str, Node<'i>) -> Option<Spanned<T>>,
) -> Vec<Spanned<T>> {
    t.get(r, key, |r, p, n| {
        r.elements(p, n, "an array of rules `[{ ... }]`", rule)
    })
    .unwrap_or_default()
}

impl RawCompare {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        Some(RawCompare {
            output: t.required(
                r,
                "output",
                "`stdout`, `stderr`, `exit` or a path glob under `{out}`, e.g. `output = \"*.json\"`",
                Reader::string,
            ),
            block: RawBlock::read(r, t),
            convert: t.get(r, "convert", strings),
            tables: t.get(r, "tables", strings),
            convert_timeout: t.get(r, "convert_timeout", |r, p, n| {
                r.text(p, n, "a duration such as \"30s\" or \"2m\"")
            }),
        })
    }
}

impl RawBlock {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Self {
        RawBlock {
            format: t.get(r, "format", Reader::name),
            ignore: rules(t, r, "ignore", RawIgnore::read),
            matching: rules(t, r, "match", |r, p, n| r.rule(p, n, RawMatch::read)),
            key: t.get(r, "key", OneOrMany::read),
            tolerance: rules(t, r, "tolerance", |r, p, n| {
                r.rule(p, n, RawTolerance::read)
            }),
            normalize: rules(t, r, "normalize", |r, p, n| {
                r.rule(p, n, RawNormalize::read)
            }),
            map: rules(t, r, "map", |r, p, n| r.rule(p, n, RawMap::read)),
            strict_numbers: t
                .get(r, "strict_numbers", Reader::boolean)
                .map(Spanned::into_inner),
            whitespace: t.get(r, "whitespace", Reader::name),
            ignore_case: t.get(r, "ignore_case", Reader::boolean),
            delimiter: t.get(r, "delimiter", Reader::string),
            quote: t.get(r, "quote", Reader::string),
            escape: t.get(r, "escape", Reader::string),
        }
    }

    /// Spans of the keys that only make sense for text outputs.
    pub fn text_options(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        self.whitespace
            .iter()
            .map(Spanned::span)
            .chain(self.ignore_case.iter().map(Spanned::span))
    }

    /// Spans of the keys that only make sense for CSV and TSV outputs.
    pub fn csv_options(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        [&self.delimiter, &self.quote, &self.escape]
            .into_iter()
            .flatten()
            .map(Spanned::span)
    }
}

/// `[[stage]]`: an intermediate output of both sides, compared like a `[[compare]]` block.
#[derive(Debug)]
pub struct RawStage {
    /// Required; `None` only when reading already reported it.
    pub name: Option<Spanned<String>>,
    /// Stages this one depends on; absent means the stage declared just above.
    pub after: Option<Spanned<Vec<Spanned<String>>>>,
    /// Path under the legacy's `{out}`.
    pub legacy: Option<Spanned<String>>,
    /// Path under the candidate's `{out}`.
    pub candidate: Option<Spanned<String>>,
    /// The path when both sides write the same one.
    pub output: Option<Spanned<String>>,
    pub block: RawBlock,
    pub broken: Broken,
}

impl RawStage {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        Some(RawStage {
            name: t.required(
                r,
                "name",
                "the stage's name, e.g. `name = \"ingest\"`",
                Reader::string,
            ),
            after: t.get(r, "after", strings),
            legacy: t.get(r, "legacy", Reader::string),
            candidate: t.get(r, "candidate", Reader::string),
            output: t.get(r, "output", Reader::string),
            block: RawBlock::read(r, t),
            broken: t.broken(),
        })
    }
}

/// `map = [{ path, values = { "Y" = true } }]` or `[{ path, rename = { old = "new" } }]`.
#[derive(Debug)]
pub struct RawMap {
    pub path: Spanned<String>,
    pub values: Option<Spanned<BTreeMap<String, toml::Value>>>,
    pub rename: Option<Spanned<BTreeMap<String, String>>>,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<Spanned<String>>,
}

impl RawMap {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let path = t.required(r, "path", PATH_HINT, Reader::string);
        let values = t.get(r, "values", |r, p, n| r.entries(p, n, Reader::value));
        let rename = t.get(r, "rename", |r, p, n| {
            r.entries(p, n, |r, p, n| r.string(p, n).map(Spanned::into_inner))
        });
        let meta = RawMeta::read(r, t);
        Some(RawMap {
            path: path?,
            values,
            rename,
            reason: meta.reason,
            owner: meta.owner,
            expires: meta.expires,
        })
    }
}

const PATH_HINT: &str = "the JSONPath it applies to, e.g. `path = \"$.items\"`";

/// Who stands behind a rule or waiver, and until when.
#[derive(Debug, Default, Clone)]
pub struct RawMeta {
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<Spanned<String>>,
}

impl RawMeta {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Self {
        RawMeta {
            reason: t.get(r, "reason", Reader::string).map(Spanned::into_inner),
            owner: t.get(r, "owner", Reader::string).map(Spanned::into_inner),
            expires: t.get(r, "expires", Reader::date),
        }
    }
}

/// `ignore = ["$.a", { path = "$.b", reason = "..." }]`.
#[derive(Debug)]
pub struct RawIgnore {
    pub path: Spanned<String>,
    pub meta: RawMeta,
}

impl RawIgnore {
    /// A bare path string, or a table with `path` and the rule's `reason`, `owner`, `expires`.
    fn read(r: &mut Reader, path: &str, node: Node<'_>) -> Option<Spanned<RawIgnore>> {
        let span = node.span();
        if node.get_ref().is_str() {
            let path = r.string(path, node)?;
            let meta = RawMeta::default();
            return Some(Spanned::new(span, RawIgnore { path, meta }));
        }
        if !node.get_ref().is_table() {
            r.wrong_type(
                path,
                &node,
                "a path string or a table `{ path = \"$.a\", reason = \"...\" }`",
            );
            return None;
        }
        r.rule(path, node, |r, t| {
            let path = t.required(r, "path", PATH_HINT, Reader::string);
            let meta = RawMeta::read(r, t);
            Some(RawIgnore { path: path?, meta })
        })
    }
}

/// How an array is matched: `as = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawMatchMode {
    Positional,
    Aligned,
    Set,
    Multiset,
    /// Order does not matter, how often each element occurs does: a multiset.
    Unordered,
}

#[derive(Debug)]
pub struct RawMatch {
    pub path: Spanned<String>,
    pub by: Option<Spanned<OneOrMany>>,
    pub mode: Option<Spanned<RawMatchMode>>,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<Spanned<String>>,
}

impl RawMatch {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let path = t.required(r, "path", PATH_HINT, Reader::string);
        let by = t.get(r, "by", OneOrMany::read);
        let mode = t.get(r, "as", Reader::name);
        let meta = RawMeta::read(r, t);
        Some(RawMatch {
            path: path?,
            by,
            mode,
            reason: meta.reason,
            owner: meta.owner,
            expires: meta.expires,
        })
    }
}

#[derive(Debug)]
pub struct RawTolerance {
    pub path: Spanned<String>,
    pub abs: Option<Spanned<f64>>,
    pub rel: Option<Spanned<f64>>,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<Spanned<String>>,
}

impl RawTolerance {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let path = t.required(r, "path", PATH_HINT, Reader::string);
        let abs = t.get(r, "abs", Reader::number);
        let rel = t.get(r, "rel", Reader::number);
        let meta = RawMeta::read(r, t);
        Some(RawTolerance {
            path: path?,
            abs,
            rel,
            reason: meta.reason,
            owner: meta.owner,
            expires: meta.expires,
        })
    }
}

#[derive(Debug)]
pub struct RawNormalize {
    pub path: Option<Spanned<String>>,
    pub pattern: Spanned<String>,
    pub replace: Option<String>,
    pub placeholder: Option<Spanned<String>>,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<Spanned<String>>,
}

impl RawNormalize {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        let path = t.get(r, "path", Reader::string);
        let pattern = t.required(
            r,
            "pattern",
            "the regex to rewrite, e.g. `pattern = '^Run id: .*$'`",
            Reader::string,
        );
        let replace = t.get(r, "replace", Reader::string).map(Spanned::into_inner);
        let placeholder = t.get(r, "placeholder", Reader::string);
        let meta = RawMeta::read(r, t);
        Some(RawNormalize {
            path,
            pattern: pattern?,
            replace,
            placeholder,
            reason: meta.reason,
            owner: meta.owner,
            expires: meta.expires,
        })
    }
}

#[derive(Debug)]
pub struct RawWaiver {
    pub path: Option<Spanned<String>>,
    pub output: Option<Spanned<String>>,
    pub fixture: Option<Spanned<String>>,
    pub value: Option<Spanned<String>>,
    /// Required; `None` only when reading already reported it.
    pub reason: Option<Spanned<String>>,
    /// Required; `None` only when reading already reported it.
    pub owner: Option<Spanned<String>>,
    pub expires: Option<Spanned<String>>,
    pub broken: Broken,
}

impl RawWaiver {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        Some(RawWaiver {
            path: t.get(r, "path", Reader::string),
            output: t.get(r, "output", Reader::string),
            fixture: t.get(r, "fixture", Reader::string),
            value: t.get(r, "value", Reader::string),
            reason: t.required(
                r,
                "reason",
                "why the difference is accepted, e.g. `reason = \"reworded, see ticket 123\"`",
                Reader::string,
            ),
            owner: t.required(
                r,
                "owner",
                "who accepted it, e.g. `owner = \"jane\"`",
                Reader::string,
            ),
            expires: t.get(r, "expires", Reader::date),
            broken: t.broken(),
        })
    }
}

#[derive(Debug, Default)]
pub struct RawReport {
    pub dir: Option<Spanned<String>>,
    pub max_differences: Option<Spanned<i64>>,
    /// A command run once the reports are written.
    pub on_finish: Option<Spanned<Vec<Spanned<String>>>>,
}

impl RawReport {
    fn read(r: &mut Reader, t: &mut Table<'_>) -> Option<Self> {
        Some(RawReport {
            dir: t.get(r, "dir", Reader::string),
            max_differences: t.get(r, "max_differences", Reader::integer),
            on_finish: t.get(r, "on_finish", strings),
        })
    }
}

/// `reason`, `owner` and `expires` of a rule table, as one value.
macro_rules! meta_accessor {
    ($($ty:ty),*) => {$(
        impl $ty {
            pub fn meta(&self) -> RawMeta {
                RawMeta {
                    reason: self.reason.clone(),
                    owner: self.owner.clone(),
                    expires: self.expires.clone(),
                }
            }
        }
    )*};
}

meta_accessor!(RawMatch, RawTolerance, RawNormalize, RawMap);

/// A string or an array of strings: `by = "id"` or `by = ["id", "seq"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany(pub Vec<String>);

impl OneOrMany {
    fn read(r: &mut Reader, path: &str, node: Node<'_>) -> Option<Spanned<OneOrMany>> {
        let span = node.span();
        if node.get_ref().is_str() {
            let name = r.string(path, node)?.into_inner();
            return Some(Spanned::new(span, OneOrMany(vec![name])));
        }
        let names = r.array(
            path,
            node,
            "a field name or an array of field names",
            |r, p, n| r.string(p, n).map(Spanned::into_inner),
        )?;
        Some(Spanned::new(span, OneOrMany(names.into_inner())))
    }
}
