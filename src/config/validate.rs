//! Validation of the raw configuration into [`super::Config`]: sides, suites, variants,
//! compare blocks and waivers (rules inside compare blocks are in [`super::rules`]). Every problem
//! is collected with its location; nothing stops at the first.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use chrono::NaiveDate;
use globset::{Glob, GlobBuilder, GlobMatcher};
use regex::Regex;
use toml::Spanned;

use super::raw::{RawConfig, RawSide, RawSuite, RawWaiver};
use super::*;

/// Validates `raw`, read from `file` (absolute) whose text is `source`.
pub(super) fn validate(
    raw: RawConfig,
    file: &std::path::Path,
    source: &str,
) -> Result<Config, Vec<Located>> {
    let base_dir = file
        .parent()
        .map(std::path::Path::to_owned)
        .unwrap_or_default();
    let mut validator = Validator {
        file: file.to_owned(),
        source,
        base_dir: base_dir.clone(),
        errors: Vec::new(),
        today: chrono::Utc::now().date_naive(),
    };
    match validator.config(raw, file.to_owned(), base_dir) {
        Some(config) if validator.errors.is_empty() => Ok(config),
        _ => Err(validator.errors),
    }
}

pub(super) struct Validator<'s> {
    pub file: PathBuf,
    pub source: &'s str,
    pub base_dir: PathBuf,
    pub errors: Vec<Located>,
    /// Rules and waivers past this date no longer apply.
    pub today: NaiveDate,
}

impl Validator<'_> {
    pub(super) fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let located = Located::new(&self.file, self.source, Some(span), message);
        self.errors.push(located);
    }

    pub(super) fn config(
        &mut self,
        raw: RawConfig,
        path: PathBuf,
        base_dir: PathBuf,
    ) -> Option<Config> {
        let (legacy, legacy_retired, legacy_version_cmd) = self.legacy(raw.legacy);
        let candidate = self.required_side(raw.candidate, "candidate");
        let golden_dir = raw
            .golden
            .dir
            .as_ref()
            .map_or_else(|| base_dir.join("golden"), |d| base_dir.join(d.get_ref()));
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
        let waivers = raw
            .waiver
            .into_iter()
            .enumerate()
            .filter_map(|(index, waiver)| self.waiver(index, waiver))
            .collect();
        let (bench, bench_seed) = self.bench(raw.bench);
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
            legacy,
            candidate: candidate?,
            suites,
            variants,
            compares,
            waivers,
            rules,
            report,
            bench,
            bench_seed,
            legacy_retired,
            legacy_version_cmd,
            golden_dir,
        })
    }

    fn required_side(&mut self, side: Option<Spanned<RawSide>>, name: &str) -> Option<SideSpec> {
        let Some(side) = side else {
            self.error(0..0, format!("missing table `[{name}]`: it needs at least `cmd = [\"program\", \"arg\", ...]`"));
            return None;
        };
        let table = side.span();
        let side = side.into_inner();
        for (key, span) in [
            ("retired", side.retired.as_ref().map(Spanned::span)),
            ("version_cmd", side.version_cmd.as_ref().map(Spanned::span)),
        ] {
            if let Some(span) = span {
                self.error(
                    span,
                    format!("`{key}` belongs in `[legacy]`, not `[{name}]`"),
                );
            }
        }
        self.side(side, table, name)
    }

    /// `[legacy]`: the side (unless retired without a command), `retired`, and `version_cmd`.
    fn legacy(
        &mut self,
        raw: Option<Spanned<RawSide>>,
    ) -> (Option<SideSpec>, bool, Option<Vec<String>>) {
        let Some(raw) = raw else {
            return (None, false, None);
        };
        let table = raw.span();
        let raw = raw.into_inner();
        let retired = raw.retired.as_ref().is_some_and(|r| *r.get_ref());
        let version_cmd = raw.version_cmd.as_ref().map(|v| {
            v.get_ref()
                .iter()
                .map(|a| a.get_ref().clone())
                .collect::<Vec<_>>()
        });
        if let (Some(cmd), Some(v)) = (&version_cmd, &raw.version_cmd)
            && cmd.is_empty()
        {
            self.error(
                v.span(),
                "`version_cmd` must name a program, e.g. [\"git\", \"rev-parse\", \"HEAD\"]",
            );
        }
        let side = if raw.cmd.is_none() && retired {
            None
        } else {
            self.side(raw, table, "legacy")
        };
        (side, retired, version_cmd)
    }

    fn side(&mut self, raw: RawSide, table: Range<usize>, name: &str) -> Option<SideSpec> {
        let Some(cmd) = &raw.cmd else {
            let hint = if name == "legacy" {
                " (only a retired legacy, `retired = true`, may leave it out)"
            } else {
                ""
            };
            self.error(
                table,
                format!("`[{name}]` needs `cmd = [\"program\", \"arg\", ...]`{hint}"),
            );
            return None;
        };
        if cmd.get_ref().is_empty() {
            self.error(
                cmd.span(),
                "`cmd` must name a program: `cmd = [\"program\", \"arg\", ...]`",
            );
        }
        let cmd = cmd
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

    pub(super) fn selector(
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

    pub(super) fn check_expiry(&mut self, meta: &raw::RawMeta) {
        if let Some(expires) = &meta.expires {
            self.date(expires);
        }
    }

    fn waiver(&mut self, index: usize, waiver: Spanned<RawWaiver>) -> Option<Waiver> {
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
