//! Loading and validating `parity.toml` into a [`Config`] of real objects: parsed templates and
//! durations, compiled globs, JSONPath selectors and regexes, and one flat list of rules with ids.
//!
//! Loading is two-phase: [`raw`] mirrors the file for serde, then [`validate`] checks everything
//! and collects every problem it finds (not just the first), each located by file, line and
//! column. Code outside this module sees only the validated types.

mod error;
mod raw;
pub mod template;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use globset::{Glob, GlobBuilder, GlobMatcher};
use regex::Regex;
use serde::Serialize;
use toml::Spanned;

pub use error::{ConfigError, Located};
pub use template::{Template, Vars};

use crate::diff::{
    ArrayMatch, DiffSpec, Format, JsonPath, Normalize, Rule, Rules, Segment, Tolerance,
};
use raw::{RawCompare, RawConfig, RawFormat, RawMatchMode, RawSide, RawSuite, RawWaiver};

/// The file parity looks for.
pub const FILE_NAME: &str = "parity.toml";
/// Default time limit of one run of one side.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// Default report directory, relative to the configuration file.
pub const DEFAULT_REPORT_DIR: &str = "reports/latest";
/// Default number of differences kept per output (counts stay exact beyond it).
pub const DEFAULT_MAX_DIFFERENCES: usize = 1000;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration file.
    pub path: PathBuf,
    /// Its directory: relative paths in the file are resolved against it.
    pub base_dir: PathBuf,
    /// The file's text, kept for results.json.
    pub source: String,
    /// `blake3:<hex>` of the file's bytes.
    pub hash: String,
    pub legacy: SideSpec,
    pub candidate: SideSpec,
    /// Sorted by name.
    pub suites: Vec<Suite>,
    /// Sorted by name; empty when the file defines none.
    pub variants: Vec<Variant>,
    pub compares: Vec<CompareBlock>,
    pub waivers: Vec<Waiver>,
    /// Every rule of every compare block, indexed by rule id.
    pub rules: Vec<RuleInfo>,
    pub report: ReportSettings,
}

/// How to run one side.
#[derive(Debug, Clone)]
pub struct SideSpec {
    pub cmd: Vec<Template>,
    pub env: Vec<(String, Template)>,
    /// Working directory; the configuration's directory when absent. Relative to it otherwise.
    pub cwd: Option<Template>,
    pub timeout: Duration,
}

/// A named set of fixtures.
#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub root: PathBuf,
    pub include: Vec<EntryPattern>,
    pub exclude: Vec<EntryPattern>,
    /// Whether a plain `parity run` covers this suite.
    pub default: bool,
}

/// A glob over paths relative to a suite root; a trailing `/` in the source means directories.
#[derive(Debug, Clone)]
pub struct EntryPattern {
    pub text: String,
    pub dirs: bool,
    pub matcher: GlobMatcher,
}

impl EntryPattern {
    pub fn matches(&self, relative: &str, is_dir: bool) -> bool {
        self.dirs == is_dir && self.matcher.is_match(relative)
    }
}

/// Extra arguments and environment applied to both sides.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub args: Vec<Template>,
    pub env: Vec<(String, Template)>,
}

/// Which output a compare block covers.
#[derive(Debug, Clone)]
pub enum OutputSelector {
    Stdout,
    Stderr,
    /// The exit status (always compared; a block may name it for clarity).
    Exit,
    /// Files under `{out}` whose relative path matches.
    Files {
        pattern: String,
        matcher: GlobMatcher,
        /// True when the pattern has no glob characters: the file is expected to exist.
        literal: bool,
    },
}

impl OutputSelector {
    pub fn label(&self) -> &str {
        match self {
            OutputSelector::Stdout => "stdout",
            OutputSelector::Stderr => "stderr",
            OutputSelector::Exit => "exit",
            OutputSelector::Files { pattern, .. } => pattern,
        }
    }
}

/// One `[[compare]]` block.
#[derive(Debug, Clone)]
pub struct CompareBlock {
    pub index: usize,
    pub output: OutputSelector,
    /// `None`: detect from the file name, then the content.
    pub format: Option<Format>,
    pub spec: DiffSpec,
}

/// An accepted, known difference.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub index: usize,
    pub path: Option<JsonPath>,
    pub output: Option<(String, GlobMatcher)>,
    pub fixture: Option<(String, GlobMatcher)>,
    pub value: Option<Regex>,
    pub reason: String,
    pub owner: String,
    pub expires: Option<NaiveDate>,
}

impl Waiver {
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        self.expires.is_some_and(|date| date < today)
    }

    /// Does this waiver cover a difference at `path` in `output` of `fixture`, whose right-hand
    /// value renders as `value`?
    pub fn covers(
        &self,
        fixture: &str,
        output: &str,
        path: &str,
        value: Option<&serde_json::Value>,
    ) -> bool {
        if let Some((_, glob)) = &self.fixture
            && !glob.is_match(fixture)
        {
            return false;
        }
        if let Some((_, glob)) = &self.output
            && !glob.is_match(output)
        {
            return false;
        }
        if let Some(selector) = &self.path {
            let Ok(location) = JsonPath::parse(path) else {
                return false;
            };
            if !selector.matches(location.segments()) {
                return false;
            }
        }
        if let Some(regex) = &self.value {
            let text = match value {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return false,
            };
            if !regex.is_match(&text) {
                return false;
            }
        }
        true
    }
}

/// What a rule does, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Ignore,
    Match,
    Key,
    Tolerance,
    Normalize,
}

/// A rule as reports describe it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    pub id: usize,
    /// Index of its `[[compare]]` block.
    pub compare: usize,
    pub output: String,
    pub kind: RuleKind,
    pub path: Option<String>,
    /// What it does: `by advisory_id`, `as set`, `abs 1e-9`, `/pattern/ -> replace`.
    pub detail: String,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<String>,
}

/// `[report]`.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// Absolute report directory.
    pub dir: PathBuf,
    pub max_differences: usize,
}

/// Finds `parity.toml` in `start` or the nearest parent.
pub fn discover(start: &Path) -> Result<PathBuf, ConfigError> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| ConfigError::NotFound {
            start: start.to_owned(),
        })
}

/// Reads and validates the configuration at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let source = String::from_utf8(bytes).map_err(|e| {
        ConfigError::Invalid(vec![Located::new(
            path,
            "",
            None,
            format!(
                "the file is not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )])
    })?;
    parse(path, &source)
}

/// Validates configuration text; `path` locates it for messages and relative paths.
pub fn parse(path: &Path, source: &str) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(source).map_err(|e| {
        ConfigError::Invalid(vec![Located::new(
            path,
            source,
            e.span(),
            e.message().trim_end(),
        )])
    })?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let base_dir = absolute.parent().map(Path::to_owned).unwrap_or_default();
    let mut v = Validator {
        file: absolute.clone(),
        source,
        base_dir: base_dir.clone(),
        errors: Vec::new(),
    };
    let config = v.config(raw, absolute, base_dir);
    match config {
        Some(config) if v.errors.is_empty() => Ok(config),
        _ => Err(ConfigError::Invalid(v.errors)),
    }
}

struct Validator<'s> {
    file: PathBuf,
    source: &'s str,
    base_dir: PathBuf,
    errors: Vec<Located>,
}

impl Validator<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let located = Located::new(&self.file, self.source, Some(span), message);
        self.errors.push(located);
    }

    fn config(&mut self, raw: RawConfig, path: PathBuf, base_dir: PathBuf) -> Option<Config> {
        let legacy = self.required_side(raw.legacy, "legacy");
        let candidate = self.required_side(raw.candidate, "candidate");
        if raw.suites.is_empty() {
            self.error(
                0..0,
                "no suites: add a `[suites.NAME]` table with `root` and `include`",
            );
        }
        let suites: Vec<Suite> = raw
            .suites
            .into_iter()
            .filter_map(|(name, suite)| self.suite(name, suite))
            .collect();
        let variants = raw
            .variants
            .into_iter()
            .map(|(name, variant)| {
                let variant = variant.into_inner();
                Variant {
                    name,
                    args: variant
                        .args
                        .iter()
                        .filter_map(|a| self.template(a))
                        .collect(),
                    env: self.env(&variant.env),
                }
            })
            .collect();
        let mut rules = Vec::new();
        let compares = raw
            .compare
            .into_iter()
            .enumerate()
            .filter_map(|(index, block)| self.compare(index, block, &mut rules))
            .collect();
        let today = chrono::Utc::now().date_naive();
        let waivers = raw
            .waiver
            .into_iter()
            .enumerate()
            .filter_map(|(index, waiver)| self.waiver(index, waiver, today))
            .collect();
        let report = ReportSettings {
            dir: raw.report.dir.as_ref().map_or_else(
                || base_dir.join(DEFAULT_REPORT_DIR),
                |d| base_dir.join(d.get_ref()),
            ),
            max_differences: match raw.report.max_differences {
                Some(n) if *n.get_ref() < 1 => {
                    self.error(n.span(), "`max_differences` must be at least 1");
                    DEFAULT_MAX_DIFFERENCES
                }
                Some(n) => usize::try_from(*n.get_ref()).unwrap_or(usize::MAX),
                None => DEFAULT_MAX_DIFFERENCES,
            },
        };
        Some(Config {
            hash: format!("blake3:{}", blake3::hash(self.source.as_bytes()).to_hex()),
            source: self.source.to_owned(),
            path,
            base_dir,
            legacy: legacy?,
            candidate: candidate?,
            suites,
            variants,
            compares,
            waivers,
            rules,
            report,
        })
    }

    fn required_side(&mut self, side: Option<Spanned<RawSide>>, name: &str) -> Option<SideSpec> {
        match side {
            Some(side) => self.side(side.into_inner()),
            None => {
                self.error(
                    0..0,
                    format!("missing table `[{name}]`: it needs at least `cmd = [\"program\", \"arg\", ...]`"),
                );
                None
            }
        }
    }

    fn side(&mut self, raw: RawSide) -> Option<SideSpec> {
        if raw.cmd.get_ref().is_empty() {
            self.error(
                raw.cmd.span(),
                "`cmd` must name a program: `cmd = [\"program\", \"arg\", ...]`",
            );
        }
        let cmd = raw
            .cmd
            .get_ref()
            .iter()
            .filter_map(|a| self.template(a))
            .collect();
        let env = self.env(&raw.env);
        let cwd = raw.cwd.as_ref().and_then(|c| self.template(c));
        let timeout = match &raw.timeout {
            Some(text) => {
                match humantime::parse_duration(text.get_ref()) {
                    Ok(duration) if !duration.is_zero() => duration,
                    Ok(_) => {
                        self.error(text.span(), "`timeout` must be longer than zero");
                        DEFAULT_TIMEOUT
                    }
                    Err(e) => {
                        self.error(
                        text.span(),
                        format!("invalid duration `{}` ({e}); write e.g. \"30s\", \"2m\", \"1h 30m\"", text.get_ref()),
                    );
                        DEFAULT_TIMEOUT
                    }
                }
            }
            None => DEFAULT_TIMEOUT,
        };
        Some(SideSpec {
            cmd,
            env,
            cwd,
            timeout,
        })
    }

    fn template(&mut self, text: &Spanned<String>) -> Option<Template> {
        match Template::parse(text.get_ref()) {
            Ok(template) => Some(template),
            Err((_, message)) => {
                self.error(text.span(), message);
                None
            }
        }
    }

    fn env(&mut self, env: &BTreeMap<String, Spanned<String>>) -> Vec<(String, Template)> {
        env.iter()
            .filter_map(|(k, v)| self.template(v).map(|t| (k.clone(), t)))
            .collect()
    }

    fn suite(&mut self, name: String, suite: Spanned<RawSuite>) -> Option<Suite> {
        let span = suite.span();
        let raw = suite.into_inner();
        let root = self.base_dir.join(raw.root.get_ref());
        if !root.is_dir() {
            self.error(
                raw.root.span(),
                format!(
                    "suite `{name}`: root `{}` is not a directory (resolved to {})",
                    raw.root.get_ref(),
                    root.display()
                ),
            );
        }
        let Some(include) = raw.include else {
            self.error(
                span,
                format!("suite `{name}` needs `include`: e.g. `include = [\"*/\"]` (each directory is a fixture) or `[\"*.json\"]` (each file is one)"),
            );
            return None;
        };
        if include.get_ref().is_empty() {
            self.error(
                include.span(),
                "`include` is empty, so the suite has no fixtures",
            );
        }
        let include = include
            .get_ref()
            .iter()
            .filter_map(|p| self.entry_pattern(p))
            .collect();
        let exclude = raw
            .exclude
            .iter()
            .filter_map(|p| self.entry_pattern(p))
            .collect();
        Some(Suite {
            name,
            root,
            include,
            exclude,
            default: raw.default.unwrap_or(true),
        })
    }

    fn entry_pattern(&mut self, pattern: &Spanned<String>) -> Option<EntryPattern> {
        let text = pattern.get_ref();
        let dirs = text.ends_with('/');
        let glob = text.trim_end_matches('/');
        match GlobBuilder::new(glob).literal_separator(true).build() {
            Ok(g) => Some(EntryPattern {
                text: text.clone(),
                dirs,
                matcher: g.compile_matcher(),
            }),
            Err(e) => {
                self.error(
                    pattern.span(),
                    format!("invalid glob `{text}`: {}", e.kind()),
                );
                None
            }
        }
    }

    fn compare(
        &mut self,
        index: usize,
        block: Spanned<RawCompare>,
        rules: &mut Vec<RuleInfo>,
    ) -> Option<CompareBlock> {
        let raw = block.into_inner();
        let output_text = raw.output.get_ref().clone();
        let output = match output_text.as_str() {
            "stdout" => OutputSelector::Stdout,
            "stderr" => OutputSelector::Stderr,
            "exit" => OutputSelector::Exit,
            pattern => {
                let literal = !pattern.contains(['*', '?', '[', '{']);
                OutputSelector::Files {
                    pattern: pattern.to_owned(),
                    matcher: self.output_glob(&raw.output)?,
                    literal,
                }
            }
        };
        let format = match raw.format.as_ref().map(|f| *f.get_ref()) {
            None | Some(RawFormat::Auto) => None,
            Some(RawFormat::Json) => Some(Format::Json),
            Some(RawFormat::Ndjson) => Some(Format::Ndjson),
            Some(RawFormat::Csv) => Some(Format::Csv),
            Some(RawFormat::Tsv) => Some(Format::Tsv),
            Some(RawFormat::Text) => Some(Format::Text),
            Some(RawFormat::Bytes) => Some(Format::Bytes),
        };
        if let OutputSelector::Exit = output {
            let has_rules = raw.format.is_some()
                || !raw.ignore.is_empty()
                || !raw.matching.is_empty()
                || raw.key.is_some()
                || !raw.tolerance.is_empty()
                || !raw.normalize.is_empty();
            if has_rules {
                self.error(
                    raw.output.span(),
                    "the exit status is always compared and takes no format or rules; remove them from this block",
                );
            }
        }
        let mut ctx = RuleCtx {
            compare: index,
            output: output_text,
            format,
            rules: Rules::default(),
            infos: rules,
        };
        self.rules(&raw, &mut ctx);
        let delimiter = raw
            .delimiter
            .as_ref()
            .and_then(|d| match d.get_ref().as_bytes() {
                [b] if d.get_ref().is_ascii() => Some(*b),
                _ if d.get_ref() == "\\t" => Some(b'\t'),
                _ => {
                    self.error(
                        d.span(),
                        "`delimiter` must be one ASCII character, e.g. \",\", \";\" or \"\\t\"",
                    );
                    None
                }
            });
        if let Some(d) = &raw.delimiter
            && delimiter.is_some()
            && !matches!(format, Some(Format::Csv | Format::Tsv))
        {
            self.error(
                d.span(),
                "`delimiter` applies to `format = \"csv\"` or `\"tsv\"` only",
            );
        }
        Some(CompareBlock {
            index,
            output,
            format,
            spec: DiffSpec {
                rules: ctx.rules,
                delimiter,
            },
        })
    }

    fn output_glob(&mut self, output: &Spanned<String>) -> Option<GlobMatcher> {
        let text = output.get_ref();
        if text.is_empty() || text.starts_with('/') || text.split('/').any(|c| c == "..") {
            self.error(
                output.span(),
                "`output` is `stdout`, `stderr`, `exit`, or a relative path glob under `{out}` such as `*.json`",
            );
            return None;
        }
        // Like .gitignore: a pattern without `/` matches the file name at any depth.
        let pattern = if text.contains('/') {
            text.clone()
        } else {
            format!("**/{text}")
        };
        match GlobBuilder::new(&pattern).literal_separator(true).build() {
            Ok(glob) => Some(glob.compile_matcher()),
            Err(e) => {
                self.error(
                    output.span(),
                    format!("invalid glob `{text}`: {}", e.kind()),
                );
                None
            }
        }
    }

    fn rules(&mut self, raw: &RawCompare, ctx: &mut RuleCtx<'_>) {
        let structured = !matches!(ctx.format, Some(Format::Text | Format::Bytes));
        let rule_spans = raw
            .ignore
            .iter()
            .map(|r| r.span())
            .chain(raw.matching.iter().map(|r| r.span()))
            .chain(raw.tolerance.iter().map(|r| r.span()))
            .chain(raw.key.iter().map(|r| r.span()));
        if !structured {
            for span in rule_spans {
                self.error(
                    span,
                    format!("`{}` outputs take only `normalize` rules; ignore, match, key and tolerance need a structured format (json, ndjson, csv, tsv)", ctx.format.map_or("auto", Format::as_str)),
                );
            }
            if ctx.format == Some(Format::Bytes) {
                for rule in &raw.normalize {
                    self.error(
                        rule.span(),
                        "`bytes` outputs take no rules; use `format = \"text\"` to normalise",
                    );
                }
            }
        }
        if let Some(key) = &raw.key {
            if matches!(ctx.format, Some(Format::Json)) {
                self.error(key.span(), "`key` matches NDJSON or CSV records; for arrays inside JSON use `match = [{ path = \"$.items\", by = \"id\" }]`");
            } else if key.get_ref().0.is_empty() {
                self.error(key.span(), "`key` needs at least one field name");
            } else if structured {
                let fields = key.get_ref().0.clone();
                let id = ctx.info(
                    RuleKind::Key,
                    Some("$".into()),
                    format!("by {}", fields.join(", ")),
                    &raw::RawMeta::default(),
                );
                ctx.rules = std::mem::take(&mut ctx.rules).with_record_key(id, fields);
            }
        }
        for (spanned, rule) in raw.ignore.iter().map(|r| (r, r.get_ref())) {
            let span = if rule.path.span() == (0..0) {
                spanned.span()
            } else {
                rule.path.span()
            };
            if let Some(path) = self.selector(rule.path.get_ref(), span, ctx.format) {
                self.check_expiry(&rule.meta);
                let id = ctx.info(
                    RuleKind::Ignore,
                    Some(path.to_string()),
                    "ignored".into(),
                    &rule.meta,
                );
                ctx.rules.ignore.push(Rule {
                    id,
                    path: Some(path),
                    action: (),
                });
            }
        }
        for spanned in &raw.matching {
            let rule = spanned.get_ref();
            let meta = raw::RawMeta {
                reason: rule.reason.clone(),
                owner: rule.owner.clone(),
                expires: rule.expires.clone(),
            };
            let action = match (&rule.by, &rule.mode) {
                (Some(by), None) if !by.get_ref().0.is_empty() => {
                    ArrayMatch::Keyed(by.get_ref().0.clone())
                }
                (None, Some(mode)) => match mode.get_ref() {
                    RawMatchMode::Positional => ArrayMatch::Positional,
                    RawMatchMode::Set => ArrayMatch::Set,
                    RawMatchMode::Multiset => ArrayMatch::Multiset,
                },
                _ => {
                    self.error(spanned.span(), "a match rule needs exactly one of `by = \"field\"` (or `[\"f1\", \"f2\"]`) and `as = \"set\" | \"multiset\" | \"positional\"`");
                    continue;
                }
            };
            let Some(path) = self.selector(rule.path.get_ref(), rule.path.span(), ctx.format)
            else {
                continue;
            };
            self.check_expiry(&meta);
            let detail = match &action {
                ArrayMatch::Keyed(fields) => format!("by {}", fields.join(", ")),
                ArrayMatch::Positional => "as positional".into(),
                ArrayMatch::Set => "as set".into(),
                ArrayMatch::Multiset => "as multiset".into(),
            };
            let id = ctx.info(RuleKind::Match, Some(path.to_string()), detail, &meta);
            ctx.rules.matching.push(Rule {
                id,
                path: Some(path),
                action,
            });
        }
        for spanned in &raw.tolerance {
            let rule = spanned.get_ref();
            let meta = raw::RawMeta {
                reason: rule.reason.clone(),
                owner: rule.owner.clone(),
                expires: rule.expires.clone(),
            };
            let bound = |v: &Option<Spanned<f64>>, this: &mut Self| match v {
                Some(x) if !(x.get_ref().is_finite() && *x.get_ref() >= 0.0) => {
                    this.error(x.span(), "a tolerance must be a finite number ≥ 0");
                    None
                }
                other => other.as_ref().map(|x| *x.get_ref()),
            };
            let tolerance = Tolerance {
                abs: bound(&rule.abs, self),
                rel: bound(&rule.rel, self),
            };
            if rule.abs.is_none() && rule.rel.is_none() {
                self.error(spanned.span(), "a tolerance needs `abs`, `rel` or both, e.g. `{ path = \"$..score\", abs = 1e-9 }`");
                continue;
            }
            let Some(path) = self.selector(rule.path.get_ref(), rule.path.span(), ctx.format)
            else {
                continue;
            };
            self.check_expiry(&meta);
            let id = ctx.info(
                RuleKind::Tolerance,
                Some(path.to_string()),
                tolerance.describe(),
                &meta,
            );
            ctx.rules.tolerance.push(Rule {
                id,
                path: Some(path),
                action: tolerance,
            });
        }
        for spanned in &raw.normalize {
            let rule = spanned.get_ref();
            let meta = raw::RawMeta {
                reason: rule.reason.clone(),
                owner: rule.owner.clone(),
                expires: rule.expires.clone(),
            };
            let regex = match regex::RegexBuilder::new(rule.pattern.get_ref())
                .multi_line(true)
                .build()
            {
                Ok(regex) => regex,
                Err(e) => {
                    self.error(rule.pattern.span(), format!("invalid regex: {e}"));
                    continue;
                }
            };
            let path = match &rule.path {
                Some(p) if structured => match self.selector(p.get_ref(), p.span(), ctx.format) {
                    Some(path) => Some(path),
                    None => continue,
                },
                Some(p) => {
                    self.error(
                        p.span(),
                        "text normalisation applies to every line; remove `path`",
                    );
                    continue;
                }
                None => None,
            };
            self.check_expiry(&meta);
            let detail = format!("/{}/ -> {:?}", rule.pattern.get_ref(), rule.replace);
            let id = ctx.info(
                RuleKind::Normalize,
                path.as_ref().map(ToString::to_string),
                detail,
                &meta,
            );
            ctx.rules.normalize.push(Rule {
                id,
                path,
                action: Normalize {
                    regex,
                    replace: rule.replace.clone(),
                },
            });
        }
    }

    fn selector(
        &mut self,
        text: &str,
        span: Range<usize>,
        format: Option<Format>,
    ) -> Option<JsonPath> {
        match rule_selector(text, format) {
            Ok(path) => Some(path),
            Err(e) => {
                let hint = if is_record_format(format) {
                    String::new()
                } else if !text.starts_with('$') {
                    format!(
                        " (did you mean `$.{text}`? CSV and NDJSON blocks also accept a bare column name)"
                    )
                } else {
                    String::new()
                };
                self.error(span, format!("{e}{hint}"));
                None
            }
        }
    }

    fn date(&mut self, text: &Spanned<String>) -> Option<NaiveDate> {
        match NaiveDate::parse_from_str(text.get_ref(), "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => {
                self.error(
                    text.span(),
                    format!(
                        "invalid date `{}`: write YYYY-MM-DD, e.g. \"2027-03-01\"",
                        text.get_ref()
                    ),
                );
                None
            }
        }
    }

    fn check_expiry(&mut self, meta: &raw::RawMeta) {
        if let Some(expires) = &meta.expires {
            self.date(expires);
        }
    }

    fn waiver(
        &mut self,
        index: usize,
        waiver: Spanned<RawWaiver>,
        _today: NaiveDate,
    ) -> Option<Waiver> {
        let span = waiver.span();
        let raw = waiver.into_inner();
        if raw.path.is_none() && raw.output.is_none() && raw.value.is_none() {
            self.error(span, "a waiver must say what it covers: give `path`, `output` or `value` (and `fixture` to narrow it)");
            return None;
        }
        for (field, text) in [("reason", &raw.reason), ("owner", &raw.owner)] {
            if text.get_ref().trim().is_empty() {
                self.error(
                    text.span(),
                    format!("a waiver's `{field}` must not be empty"),
                );
            }
        }
        let path = match &raw.path {
            Some(p) => Some(self.selector(p.get_ref(), p.span(), None)?),
            None => None,
        };
        let glob = |g: &Option<Spanned<String>>,
                    this: &mut Self|
         -> Option<Option<(String, GlobMatcher)>> {
            match g {
                None => Some(None),
                Some(text) => match Glob::new(text.get_ref()) {
                    Ok(glob) => Some(Some((text.get_ref().clone(), glob.compile_matcher()))),
                    Err(e) => {
                        this.error(
                            text.span(),
                            format!("invalid glob `{}`: {}", text.get_ref(), e.kind()),
                        );
                        None
                    }
                },
            }
        };
        let output = glob(&raw.output, self)?;
        let fixture = glob(&raw.fixture, self)?;
        let value = match &raw.value {
            Some(text) => match Regex::new(text.get_ref()) {
                Ok(regex) => Some(regex),
                Err(e) => {
                    self.error(text.span(), format!("invalid regex: {e}"));
                    return None;
                }
            },
            None => None,
        };
        let expires = match &raw.expires {
            Some(text) => Some(self.date(text)?),
            None => None,
        };
        Some(Waiver {
            index,
            path,
            output,
            fixture,
            value,
            reason: raw.reason.into_inner(),
            owner: raw.owner.into_inner(),
            expires,
        })
    }
}

fn is_record_format(format: Option<Format>) -> bool {
    matches!(format, Some(Format::Csv | Format::Tsv | Format::Ndjson))
}

/// A rule path: JSONPath, or, for record formats (CSV, TSV, NDJSON), a bare column name meaning
/// `$[*].column`.
pub fn rule_selector(
    text: &str,
    format: Option<Format>,
) -> Result<JsonPath, crate::diff::PathError> {
    if is_record_format(format) && !text.starts_with('$') {
        return Ok(JsonPath::root()
            .child(Segment::Wildcard)
            .child(Segment::Field(text.to_owned())));
    }
    JsonPath::parse(text)
}

/// Accumulates the rules of one compare block and their descriptions.
struct RuleCtx<'a> {
    compare: usize,
    output: String,
    format: Option<Format>,
    rules: Rules,
    infos: &'a mut Vec<RuleInfo>,
}

impl RuleCtx<'_> {
    fn info(
        &mut self,
        kind: RuleKind,
        path: Option<String>,
        detail: String,
        meta: &raw::RawMeta,
    ) -> usize {
        let id = self.infos.len();
        self.infos.push(RuleInfo {
            id,
            compare: self.compare,
            output: self.output.clone(),
            kind,
            path,
            detail,
            reason: meta.reason.clone(),
            owner: meta.owner.clone(),
            expires: meta.expires.as_ref().map(|e| e.get_ref().clone()),
        });
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIDES: &str = "[legacy]\ncmd = [\"python3\", \"legacy.py\", \"{fixture}\", \"{out}\"]\n\n[candidate]\ncmd = [\"python3\", \"-m\", \"pipeline\", \"{fixture}\"]\ntimeout = \"30s\"\n\n[suites.main]\nroot = \".\"\ninclude = [\"*/\"]\n";

    /// Parses `text` as `<tempdir>/parity.toml` and returns the error with the directory replaced.
    fn error_of(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parity.toml");
        match parse(&path, text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e
                .to_string()
                .replace(&dir.path().to_string_lossy().into_owned(), "<dir>"),
        }
    }

    fn ok(text: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        parse(&dir.path().join("parity.toml"), text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_full_config_validates() {
        let config = ok(&format!(
            "{SIDES}\n[suites.bugs]\nroot = \".\"\ninclude = [\"*.json\"]\ndefault = false\n\n[variants.offline]\nargs = [\"--offline\"]\n\n[[compare]]\noutput = \"advisory_current.json\"\nformat = \"json\"\nignore = [\"$.generated_at\", {{ path = \"$.run_id\", reason = \"random\", owner = \"me\", expires = \"2030-01-01\" }}]\nmatch = [{{ path = \"$.advisories\", by = \"advisory_id\" }}, {{ path = \"$.advisories[*].sources\", as = \"set\" }}]\ntolerance = [{{ path = \"$..confidence\", abs = 1e-9 }}]\n\n[[compare]]\noutput = \"*.csv\"\nformat = \"csv\"\nkey = [\"advisory_id\", \"seq\"]\nignore = [\"recorded_at\"]\n\n[[compare]]\noutput = \"report.md\"\nformat = \"text\"\nnormalize = [{{ pattern = \"^Run id: .*$\", replace = \"Run id: <id>\" }}]\n\n[[waiver]]\npath = \"$.advisories[*].explanation\"\nvalue = \"^OSV reports\"\nreason = \"reworded\"\nowner = \"jane\"\nexpires = \"2030-01-01\"\n\n[report]\ndir = \"out/reports\"\nmax_differences = 50\n"
        ));
        assert_eq!(
            config
                .suites
                .iter()
                .map(|s| (s.name.as_str(), s.default))
                .collect::<Vec<_>>(),
            [("bugs", false), ("main", true)]
        );
        assert_eq!(config.candidate.timeout, Duration::from_secs(30));
        assert_eq!(config.legacy.timeout, DEFAULT_TIMEOUT);
        assert_eq!(config.compares.len(), 3);
        let kinds: Vec<RuleKind> = config.rules.iter().map(|r| r.kind).collect();
        use RuleKind::*;
        assert_eq!(
            kinds,
            [
                Ignore, Ignore, Match, Match, Tolerance, Key, Ignore, Normalize
            ]
        );
        assert_eq!(config.rules[6].path.as_deref(), Some("$[*].recorded_at"));
        assert_eq!(config.rules[1].reason.as_deref(), Some("random"));
        assert_eq!(config.report.max_differences, 50);
        assert!(config.report.dir.ends_with("out/reports"));
        assert_eq!(config.variants[0].name, "offline");
        assert!(config.hash.starts_with("blake3:"));
    }

    #[test]
    fn config_errors() {
        let cases = [
            ("toml syntax", format!("{SIDES}\n[report\n")),
            (
                "unknown key",
                SIDES.replace("timeout = \"30s\"", "timout = \"30s\""),
            ),
            ("bad duration", SIDES.replace("\"30s\"", "\"soon\"")),
            (
                "unknown template variable",
                SIDES.replace("{out}\"]", "{output}\"]"),
            ),
            (
                "empty command",
                SIDES.replace("[\"python3\", \"-m\", \"pipeline\", \"{fixture}\"]", "[]"),
            ),
            (
                "missing side",
                SIDES.replace(
                    "[legacy]\ncmd = [\"python3\", \"legacy.py\", \"{fixture}\", \"{out}\"]\n",
                    "",
                ),
            ),
            (
                "missing suite root",
                SIDES.replace("root = \".\"", "root = \"nowhere\""),
            ),
            ("missing include", SIDES.replace("include = [\"*/\"]\n", "")),
            ("bad glob", SIDES.replace("\"*/\"", "\"[*/\"")),
            (
                "bad format",
                format!("{SIDES}\n[[compare]]\noutput = \"a.json\"\nformat = \"jsn\"\n"),
            ),
            (
                "bad jsonpath",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\nignore = [\"$.a[\"]\n"
                ),
            ),
            (
                "path without dollar",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\nignore = [\"generated_at\"]\n"
                ),
            ),
            (
                "match needs by or as",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\nmatch = [{{ path = \"$.a\" }}]\n"
                ),
            ),
            (
                "bad match mode",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\nmatch = [{{ path = \"$.a\", as = \"bag\" }}]\n"
                ),
            ),
            (
                "key on json",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\nkey = \"id\"\n"
                ),
            ),
            (
                "rules on text",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.txt\"\nformat = \"text\"\nignore = [\"$.a\"]\n"
                ),
            ),
            (
                "tolerance without bounds",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\ntolerance = [{{ path = \"$.a\" }}]\n"
                ),
            ),
            (
                "negative tolerance",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\ntolerance = [{{ path = \"$.a\", abs = -1.0 }}]\n"
                ),
            ),
            (
                "bad regex",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.txt\"\nformat = \"text\"\nnormalize = [{{ pattern = \"(unclosed\", replace = \"\" }}]\n"
                ),
            ),
            (
                "absolute output",
                format!("{SIDES}\n[[compare]]\noutput = \"/etc/passwd\"\n"),
            ),
            (
                "rules on exit",
                format!("{SIDES}\n[[compare]]\noutput = \"exit\"\nformat = \"json\"\n"),
            ),
            (
                "waiver without scope",
                format!("{SIDES}\n[[waiver]]\nreason = \"r\"\nowner = \"o\"\n"),
            ),
            (
                "waiver without owner",
                format!("{SIDES}\n[[waiver]]\npath = \"$.a\"\nreason = \"r\"\n"),
            ),
            (
                "bad expiry date",
                format!(
                    "{SIDES}\n[[waiver]]\npath = \"$.a\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"next year\"\n"
                ),
            ),
            (
                "several errors at once",
                SIDES
                    .replace("\"30s\"", "\"soon\"")
                    .replace("{out}\"]", "{output}\"]"),
            ),
        ];
        let mut all = String::new();
        for (name, text) in cases {
            all.push_str(&format!("=== {name}\n{}\n\n", error_of(&text)));
        }
        insta::assert_snapshot!(all);
    }

    #[test]
    fn discovery_walks_up_to_the_nearest_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "").unwrap();
        assert_eq!(
            discover(&dir.path().join("a/b")).unwrap(),
            dir.path().join(FILE_NAME)
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            discover(empty.path()),
            Err(ConfigError::NotFound { .. })
        ));
    }
}
