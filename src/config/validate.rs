//! Validation of the raw configuration into [`super::Config`]: sides, variants and waivers, and
//! the order of the rest (suites are in [`super::suite`], compare blocks in [`super::compare`],
//! stages in [`super::stage`], the rules inside them in [`super::rules`]). Every problem
//! is collected with its location; nothing stops at the first.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use chrono::NaiveDate;
use globset::{Glob, GlobMatcher};
use regex::Regex;
use toml::Spanned;

use super::raw::{RawConfig, RawSide, RawSuite, RawWaiver};
use super::read::Problem;
use super::*;

/// Validates `raw`, read from `file` (absolute) whose text is `source`; `problems` are what
/// reading it found. Every error comes out in file order, each once.
pub(super) fn validate(
    raw: RawConfig,
    problems: Vec<Problem>,
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
        converted: Vec::new(),
    };
    for problem in problems {
        validator.error(problem.span, problem.message);
    }
    match validator.config(raw, file.to_owned(), base_dir) {
        Some(config) if validator.errors.is_empty() => Ok(config),
        _ => Err(in_file_order(validator.errors)),
    }
}

/// Sorts errors by position (stable, so one place keeps the order they were found in) and
/// drops repeats.
fn in_file_order(mut errors: Vec<Located>) -> Vec<Located> {
    errors.sort_by_key(|e| (e.line, e.column));
    let mut seen = std::collections::BTreeSet::new();
    errors.retain(|e| seen.insert((e.line, e.column, e.message.clone())));
    errors
}

pub(super) struct Validator<'s> {
    pub file: PathBuf,
    pub source: &'s str,
    pub base_dir: PathBuf,
    pub errors: Vec<Located>,
    /// Rules and waivers past this date no longer apply.
    pub today: NaiveDate,
    /// The converted outputs the `[[compare]]` blocks seen so far name: (`output`, table).
    pub converted: Vec<(String, Option<String>)>,
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
        let legacy = self.legacy(raw.legacy, "legacy");
        let has_candidate = raw.candidate.is_some() || raw.broken.contains(&"candidate");
        let candidate = raw
            .candidate
            .and_then(|side| self.candidate(side, "candidate", "legacy"));
        if !has_candidate {
            self.missing_candidate(&raw.suites);
        }
        let golden_dir = raw
            .golden
            .dir
            .as_ref()
            .map_or_else(|| base_dir.join("golden"), |d| base_dir.join(d.get_ref()));
        if raw.suites.is_empty() && !raw.broken.contains(&"suites") {
            self.error(
                0..0,
                "no suites: add a `[suites.NAME]` table with `root` and `include`",
            );
        }
        let suites: Vec<Suite> = raw
            .suites
            .into_iter()
            .filter_map(|(name, suite)| self.suite(name, suite, &legacy, candidate.as_ref()))
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
        let first_stage_block = raw.compare.len();
        let compares = raw
            .compare
            .into_iter()
            .enumerate()
            .filter_map(|(index, block)| self.compare(index, block, &mut rules))
            .collect();
        let stages = self.stages(raw.stage, first_stage_block, &mut rules);
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
            on_finish: raw
                .report
                .on_finish
                .as_ref()
                .and_then(|cmd| self.on_finish(cmd)),
        };
        Some(Config {
            hash: format!("blake3:{}", blake3::hash(self.source.as_bytes()).to_hex()),
            source: self.source.to_owned(),
            path,
            base_dir,
            legacy,
            candidate,
            suites,
            variants,
            compares,
            stages,
            waivers,
            rules,
            report,
            bench,
            bench_seed,
            golden_dir,
        })
    }

    /// No top-level `[candidate]`: an error unless every suite has its own.
    fn missing_candidate(&mut self, suites: &BTreeMap<String, Spanned<RawSuite>>) {
        let without: Vec<String> = suites
            .iter()
            .filter(|(_, suite)| {
                let suite = suite.get_ref();
                suite.candidate.is_none() && !suite.broken.contains(&"candidate")
            })
            .map(|(name, _)| format!("`{name}`"))
            .collect();
        let hint = "it needs at least `cmd = [\"program\", \"arg\", ...]`";
        if suites.is_empty() || without.len() == suites.len() {
            self.error(0..0, format!("missing table `[candidate]`: {hint}"));
        } else if !without.is_empty() {
            self.error(
                0..0,
                format!(
                    "missing table `[candidate]`, needed by the suites without a `[suites.NAME.candidate]` of their own: {}; {hint} (or give each of those suites its own)",
                    without.join(", ")
                ),
            );
        }
    }

    /// A `[candidate]` table (top-level or a suite's, named `name`); `legacy` names the legacy
    /// table beside it, where `retired` belongs.
    pub(super) fn candidate(
        &mut self,
        side: Spanned<RawSide>,
        name: &str,
        legacy: &str,
    ) -> Option<SideSpec> {
        let table = side.span();
        let side = side.into_inner();
        if let Some(retired) = &side.retired {
            self.error(
                retired.span(),
                format!("`retired` belongs in `[{legacy}]`, not `[{name}]`"),
            );
        }
        self.side(side, table, name)
    }

    /// A `[legacy]` table (top-level or a suite's, named `name`): the side, unless retired (a
    /// retired legacy's command is checked, then not used).
    pub(super) fn legacy(&mut self, raw: Option<Spanned<RawSide>>, name: &str) -> Legacy {
        let Some(raw) = raw else {
            return Legacy::Absent;
        };
        let table = raw.span();
        let raw = raw.into_inner();
        let retired = raw.retired.as_ref().is_some_and(|r| *r.get_ref());
        if raw.cmd.is_none() && retired {
            self.version_cmd(&raw);
            return Legacy::Retired;
        }
        match self.side(raw, table, name) {
            _ if retired => Legacy::Retired,
            Some(spec) => Legacy::Runs { spec },
            // Reported; what is valid goes on being checked.
            None => Legacy::Absent,
        }
    }

    /// `version_cmd`: a program and its arguments, run as they are (no templates).
    fn version_cmd(&mut self, raw: &RawSide) -> Option<Vec<String>> {
        let spanned = raw.version_cmd.as_ref()?;
        let cmd: Vec<String> = spanned
            .get_ref()
            .iter()
            .map(|a| a.get_ref().clone())
            .collect();
        if cmd.is_empty() {
            self.error(
                spanned.span(),
                "`version_cmd` must name a program, e.g. [\"git\", \"rev-parse\", \"HEAD\"]",
            );
        }
        Some(cmd)
    }

    fn side(&mut self, raw: RawSide, table: Range<usize>, name: &str) -> Option<SideSpec> {
        let version_cmd = self.version_cmd(&raw);
        let cmd = self.command(&raw, table, name);
        let env = self.env(&raw.env);
        let cwd = raw.cwd.as_ref().and_then(|c| self.template(c));
        let timeout = raw
            .timeout
            .as_ref()
            .and_then(|text| self.duration(text, "timeout"))
            .unwrap_or(DEFAULT_TIMEOUT);
        Some(SideSpec {
            cmd: cmd?,
            env,
            cwd,
            timeout,
            version_cmd,
        })
    }

    /// `cmd`: the program and its arguments, each a template.
    fn command(&mut self, raw: &RawSide, table: Range<usize>, name: &str) -> Option<Vec<Template>> {
        let Some(cmd) = &raw.cmd else {
            if !raw.broken.contains(&"cmd") {
                let hint = if name.ends_with("legacy") {
                    " (only a retired legacy, `retired = true`, may leave it out)"
                } else {
                    ""
                };
                self.error(
                    table,
                    format!("`[{name}]` needs `cmd = [\"program\", \"arg\", ...]`{hint}"),
                );
            }
            return None;
        };
        if cmd.get_ref().is_empty() {
            self.error(
                cmd.span(),
                "`cmd` must name a program: `cmd = [\"program\", \"arg\", ...]`",
            );
        }
        if let Some(program) = cmd.get_ref().first()
            && program
                .get_ref()
                .starts_with(crate::scaffold::PLACEHOLDER_PREFIX)
        {
            self.error(program.span(), format!("replace the placeholder command in `[{name}]`: `{}` (written by `parity init`) stands for the program that runs this side on one fixture", program.get_ref()));
        }
        Some(
            cmd.get_ref()
                .iter()
                .filter_map(|a| self.template(a))
                .collect(),
        )
    }

    /// `[report] on_finish`: a program and its arguments, run as written (no templates).
    fn on_finish(&mut self, cmd: &Spanned<Vec<Spanned<String>>>) -> Option<Vec<String>> {
        let hint = "`on_finish = [\"program\", \"arg\", ...]`";
        match cmd.get_ref().first() {
            None => {
                self.error(
                    cmd.span(),
                    format!("`on_finish` must name a program: {hint}"),
                );
                None
            }
            Some(program) if program.get_ref().trim().is_empty() => {
                self.error(
                    program.span(),
                    format!("the first element of `on_finish` names the program to run; it is empty: {hint}"),
                );
                None
            }
            Some(_) => Some(cmd.get_ref().iter().map(|a| a.get_ref().clone()).collect()),
        }
    }

    /// A duration such as `30s` (`what` names the key in messages); longer than zero.
    pub(super) fn duration(&mut self, text: &Spanned<String>, what: &str) -> Option<Duration> {
        match humantime::parse_duration(text.get_ref()) {
            Ok(duration) if !duration.is_zero() => Some(duration),
            Ok(_) => {
                self.error(text.span(), format!("`{what}` must be longer than zero"));
                None
            }
            Err(e) => {
                self.error(
                    text.span(),
                    format!(
                        "invalid duration `{}` ({e}); write e.g. \"30s\", \"2m\", \"1h 30m\"",
                        text.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// A template of a side's `cmd`, `env` or `cwd`, or of a suite's `teardown`: every variable
    /// but `{file}` and `{table}`, which only a converter has.
    pub(super) fn template(&mut self, text: &Spanned<String>) -> Option<Template> {
        let template = self.any_template(text)?;
        if let Some(var) = template
            .vars()
            .find(|v| matches!(v, Var::File | Var::Table))
        {
            self.error(
                text.span(),
                format!(
                    "`{}` is known only in a `[[compare]]` block's `convert` (the output being converted)",
                    var.placeholder()
                ),
            );
            return None;
        }
        Some(template)
    }

    /// A template where every variable is known (a converter's argv).
    pub(super) fn any_template(&mut self, text: &Spanned<String>) -> Option<Template> {
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
        let scope = ["path", "output", "value"];
        let unscoped = raw.path.is_none() && raw.output.is_none() && raw.value.is_none();
        if unscoped && !scope.iter().any(|key| raw.broken.contains(key)) {
            self.error(span, "a waiver must say what it covers: give `path`, `output` or `value` (and `fixture` to narrow it)");
        }
        for (field, text) in [("reason", &raw.reason), ("owner", &raw.owner)] {
            if let Some(text) = text
                && text.get_ref().trim().is_empty()
            {
                self.error(
                    text.span(),
                    format!("a waiver's `{field}` must not be empty"),
                );
            }
        }
        // Each part is `None` when it is wrong (and reported), `Some(None)` when it is absent;
        // every part is checked before giving up on the waiver.
        let path = checked(&raw.path, |p| self.selector(p.get_ref(), p.span(), None));
        let output = checked(&raw.output, |g| self.glob(g));
        let fixture = checked(&raw.fixture, |g| self.glob(g));
        let value = checked(&raw.value, |text| match Regex::new(text.get_ref()) {
            Ok(regex) => Some(regex),
            Err(e) => {
                self.error(text.span(), format!("invalid regex: {e}"));
                None
            }
        });
        let expires = checked(&raw.expires, |text| self.date(text));
        if unscoped {
            return None;
        }
        Some(Waiver {
            index,
            path: path?,
            output: output?,
            fixture: fixture?,
            value: value?,
            reason: raw.reason?.into_inner(),
            owner: raw.owner?.into_inner(),
            expires: expires?,
        })
    }

    /// A glob over output names or fixture ids, kept with its text.
    fn glob(&mut self, text: &Spanned<String>) -> Option<(String, GlobMatcher)> {
        match Glob::new(text.get_ref()) {
            Ok(glob) => Some((text.get_ref().clone(), glob.compile_matcher())),
            Err(e) => {
                self.error(
                    text.span(),
                    format!("invalid glob `{}`: {}", text.get_ref(), e.kind()),
                );
                None
            }
        }
    }
}

/// An optional value through `check`: `Some(None)` when absent, `None` when `check` rejects it.
fn checked<T, U>(value: &Option<T>, check: impl FnOnce(&T) -> Option<U>) -> Option<Option<U>> {
    match value {
        None => Some(None),
        Some(value) => check(value).map(Some),
    }
}
