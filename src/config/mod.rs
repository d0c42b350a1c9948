//! Loading and validating `parity.toml` into a [`Config`] of real objects: parsed templates and
//! durations, compiled globs, JSONPath selectors and regexes, and one flat list of rules with ids.
//!
//! Loading is two-phase: [`raw`] mirrors the file and reads it value by value ([`read`]), then
//! [`validate`] checks everything; both collect every problem they find (not just the first),
//! each located by file, line and column, and report them together in file order. Only a TOML
//! syntax error stops at once. Code outside this module sees only the validated types.

#[cfg(test)]
mod all_errors;
mod bench;
mod compare;
mod error;
mod raw;
mod read;
mod rules;
mod stage;
mod suite;
pub mod template;
mod validate;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use globset::GlobMatcher;
use regex::Regex;
use serde::Serialize;

pub use bench::parse_budget;
pub use error::{ConfigError, Located};
pub use template::{RunVars, Template, Var, Vars};

use crate::bench::BenchSettings;
use crate::diff::{DiffSpec, Format, JsonPath, Segment};
use raw::RawConfig;

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
    /// `[legacy]`: run, retired, or absent. The default of suites without their own; what a
    /// suite runs is [`Suite::legacy`].
    pub legacy: Legacy,
    /// `[candidate]`, the default of suites without their own; absent only when every suite has
    /// its own. What a suite runs is [`Suite::candidate`].
    pub candidate: Option<SideSpec>,
    /// `[golden] dir`, absolute (default `golden` next to the configuration).
    pub golden_dir: PathBuf,
    /// Sorted by name.
    pub suites: Vec<Suite>,
    /// Sorted by name; empty when the file defines none.
    pub variants: Vec<Variant>,
    pub compares: Vec<CompareBlock>,
    /// `[[stage]]` blocks in declaration order, which is an order they can run in (each depends
    /// only on stages above it).
    pub stages: Vec<Stage>,
    pub waivers: Vec<Waiver>,
    /// Every rule of every compare block, then of every stage, indexed by rule id.
    pub rules: Vec<RuleInfo>,
    pub report: ReportSettings,
    /// `[bench]`, with defaults for what the file leaves out; `seed` is 0 unless set.
    pub bench: BenchSettings,
    /// `[bench] seed`, when the file fixes one.
    pub bench_seed: Option<u64>,
}

impl Config {
    /// The suite named `name`.
    pub fn suite(&self, name: &str) -> Option<&Suite> {
        self.suites
            .binary_search_by(|suite| suite.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.suites[i])
    }

    /// The first `[[compare]]` block whose file glob matches `relative` (a path under `{out}`);
    /// never a stage's block (stages name their files on each side).
    pub fn block_for(&self, relative: &str) -> Option<&CompareBlock> {
        self.compares.iter().find(|block| match &block.output {
            OutputSelector::Files { matcher, .. } => matcher.is_match(relative),
            OutputSelector::Stdout
            | OutputSelector::Stderr
            | OutputSelector::Exit
            | OutputSelector::Stage { .. } => false,
        })
    }

    /// The blocks that convert a side's file at `relative`, in order: every `[[compare]]`
    /// block with `convert` whose glob matches it (one block per table is allowed). A file
    /// that one converts is compared as converted only, never as it is.
    pub fn converters_for(&self, relative: &str) -> Vec<&CompareBlock> {
        self.compares
            .iter()
            .filter(|block| {
                block.convert.is_some()
                    && matches!(&block.output, OutputSelector::Files { matcher, .. } if matcher.is_match(relative))
            })
            .collect()
    }

    /// Whether `side`'s file at `relative` is compared as converted (a block converts it and
    /// it is not one of the side's stage files, which their stage compares).
    pub fn converts(&self, relative: &str, side: Side) -> bool {
        !self.stages.iter().any(|s| s.path(side) == relative)
            && !self.converters_for(relative).is_empty()
    }

    /// The block, and the table, behind the converted output `name` (`FILE` or `FILE#TABLE`,
    /// as [`Convert`] names them): the first converting block of `FILE` that names the table
    /// (or, for `FILE`, that has no tables).
    pub fn block_of_converted<'a>(
        &self,
        name: &'a str,
    ) -> Option<(&CompareBlock, Option<&'a str>)> {
        if let Some((file, table)) = name.rsplit_once(TABLE_SEPARATOR)
            && let Some(block) = self.converters_for(file).into_iter().find(|b| {
                b.convert
                    .as_ref()
                    .is_some_and(|c| c.tables.iter().any(|t| t == table))
            })
        {
            return Some((block, Some(table)));
        }
        self.converters_for(name)
            .into_iter()
            .find(|b| b.convert.as_ref().is_some_and(|c| c.tables.is_empty()))
            .map(|b| (b, None))
    }

    /// The `[[compare]]` or `[[stage]]` block numbered `index` (stage blocks continue the
    /// numbering of compare blocks).
    pub fn block(&self, index: usize) -> Option<&CompareBlock> {
        self.compares
            .iter()
            .chain(self.stages.iter().map(|s| &s.block))
            .find(|b| b.index == index)
    }

    /// The block a file `side` wrote at `relative` is compared by: its stage's, when it is one
    /// of the side's stage files, else the first `[[compare]]` block whose glob matches.
    pub fn block_of_file(&self, relative: &str, side: Side) -> Option<&CompareBlock> {
        self.stages
            .iter()
            .find(|stage| stage.path(side) == relative)
            .map(|stage| &stage.block)
            .or_else(|| self.block_for(relative))
    }
}

/// Which side of a comparison.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Legacy,
    Candidate,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Legacy => "legacy",
            Side::Candidate => "candidate",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The legacy side of a configuration (or of a suite).
#[derive(Debug, Clone)]
pub enum Legacy {
    /// It runs: its command (and `version_cmd`, in the spec).
    Runs { spec: SideSpec },
    /// `retired = true`: the legacy is gone (or must not be run); goldens are the reference.
    Retired,
    /// No `[legacy]` table: goldens are the reference.
    Absent,
}

impl Legacy {
    /// Its command, when it runs.
    pub fn spec(&self) -> Option<&SideSpec> {
        match self {
            Legacy::Runs { spec, .. } => Some(spec),
            Legacy::Retired | Legacy::Absent => None,
        }
    }

    /// Why it does not run, for messages: `retired` or `not configured`.
    pub fn why_not(&self) -> Option<&'static str> {
        match self {
            Legacy::Runs { .. } => None,
            Legacy::Retired => Some("retired"),
            Legacy::Absent => Some("not configured"),
        }
    }
}

/// How to run one side.
#[derive(Debug, Clone)]
pub struct SideSpec {
    pub cmd: Vec<Template>,
    pub env: Vec<(String, Template)>,
    /// Working directory; the configuration's directory when absent. Relative to it otherwise.
    pub cwd: Option<Template>,
    pub timeout: Duration,
    /// `version_cmd`: argv printing the side's version (a commit, a release), run once per
    /// run in the configuration's directory, for results.json and golden provenance.
    pub version_cmd: Option<Vec<String>>,
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
    /// `steps`: each fixture is a scenario, and every entry inside it that this matches is one
    /// step, run in name order with the side's `{state}` kept across them. Only directory
    /// fixtures have steps.
    pub steps: Option<EntryPattern>,
    /// The legacy this suite runs: its own `[suites.NAME.legacy]`, else the top-level one.
    pub legacy: Legacy,
    /// The candidate this suite runs: its own `[suites.NAME.candidate]`, else the top-level one.
    pub candidate: SideSpec,
    /// Whether `legacy` is the suite's own (reports say which legacy ran).
    pub own_legacy: bool,
    /// Whether `candidate` is the suite's own.
    pub own_candidate: bool,
    /// `teardown`: run after each run of either side and its conversions, with that run's
    /// values (`{run_id}`, `{side}`, `{out}`…): what drops the schema a side loaded.
    pub teardown: Option<Vec<Template>>,
    /// `requires`: a command that must succeed for the suite to run (`pg_isready`); when it
    /// fails, the suite is skipped with its message, never failed.
    pub requires: Option<Vec<String>>,
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
    /// The file of the `[[stage]]` named `name` (a path of its own on each side).
    Stage {
        name: String,
    },
}

impl OutputSelector {
    /// How reports name it: `stdout`, `stderr`, `exit`, the file pattern, or `stage:NAME`.
    pub fn label(&self) -> Cow<'_, str> {
        match self {
            OutputSelector::Stdout => "stdout".into(),
            OutputSelector::Stderr => "stderr".into(),
            OutputSelector::Exit => "exit".into(),
            OutputSelector::Files { pattern, .. } => pattern.into(),
            OutputSelector::Stage { name } => format!("stage:{name}").into(),
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
    /// `convert`: the files it matches are compared as a command's stdout, not as they are.
    pub convert: Option<Convert>,
}

/// `convert` in a `[[compare]]` block (git's textconv for migrations): each side's matching
/// file is turned by a command into the block's `format` (a database dumped as CSV, Parquet as
/// NDJSON), and that stdout is what is compared, under the block's rules.
#[derive(Debug, Clone)]
pub struct Convert {
    /// The command, with `{file}` (the side's output), `{table}`, `{side}`, `{out}`,
    /// `{state}`, `{run_id}` and the other side variables.
    pub argv: Vec<Template>,
    /// `tables`: one conversion per table, each its own output `FILE#TABLE`; empty: one
    /// conversion per file, named as the file.
    pub tables: Vec<String>,
    /// How long one conversion may take (`convert_timeout`; default the side's `timeout`).
    pub timeout: Option<Duration>,
}

/// The separator between a converted file and its table in an output's name:
/// `warehouse.db#advisories`.
pub const TABLE_SEPARATOR: char = '#';

/// One `[[stage]]`: an intermediate output both sides write (a monolith's dumped
/// intermediates, a pipeline's checkpoints), compared like a `[[compare]]` block so a case can
/// name its first divergent stage.
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: String,
    /// Its path under the legacy's `{out}`.
    pub legacy: String,
    /// Its path under the candidate's `{out}`.
    pub candidate: String,
    /// The stages it depends on, as indices into [`Config::stages`]; each is smaller than this
    /// stage's own index.
    pub after: Vec<usize>,
    /// How it is compared: `output` is [`OutputSelector::Stage`], and `index` continues the
    /// numbering of the `[[compare]]` blocks (rules name it in [`RuleInfo::compare`]).
    pub block: CompareBlock,
}

impl Stage {
    /// Where `side` writes this stage's file, under its `{out}`.
    pub fn path(&self, side: Side) -> &str {
        match side {
            Side::Legacy => &self.legacy,
            Side::Candidate => &self.candidate,
        }
    }
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
    Map,
    Rename,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Ignore => "ignore",
            RuleKind::Match => "match",
            RuleKind::Key => "key",
            RuleKind::Tolerance => "tolerance",
            RuleKind::Normalize => "normalize",
            RuleKind::Map => "map",
            RuleKind::Rename => "rename",
        }
    }
}

/// A rule as reports describe it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    pub id: usize,
    /// Index of its `[[compare]]` block, or of its stage's block (numbered after them).
    pub compare: usize,
    pub output: String,
    pub kind: RuleKind,
    pub path: Option<String>,
    /// What it does: `by advisory_id`, `as set`, `abs 1e-9`, `/pattern/ -> replace`.
    pub detail: String,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<String>,
    /// Past its `expires` date when the configuration was loaded: it no longer applies, and the
    /// run fails until someone renews or removes it.
    pub expired: bool,
}

/// `[report]`.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// Absolute report directory.
    pub dir: PathBuf,
    pub max_differences: usize,
    /// `on_finish`: a program and its arguments, run once after the reports are written, with
    /// `PARITY_EXIT_CODE`, `PARITY_VERDICT` (`pass`/`fail`) and `PARITY_REPORT_DIR` in its
    /// environment; its failure is a warning and never changes the exit code.
    pub on_finish: Option<Vec<String>>,
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
    let document = toml::de::DeTable::parse(source).map_err(|e| {
        ConfigError::Syntax(Located::new(path, source, e.span(), e.message().trim_end()))
    })?;
    let mut reader = read::Reader::default();
    let raw = reader.document(document, RawConfig::read);
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    validate::validate(raw, reader.problems, &absolute, source).map_err(ConfigError::Invalid)
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
        assert_eq!(
            config.candidate.as_ref().map(|c| c.timeout),
            Some(Duration::from_secs(30))
        );
        assert_eq!(config.legacy.spec().unwrap().timeout, DEFAULT_TIMEOUT);
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
    fn convert_tables_and_suite_commands_load() {
        let text = format!(
            "{SIDES}teardown = [\"psql\", \"-c\", \"drop schema if exists {{run_id}} cascade\"]\nrequires = [\"pg_isready\", \"-q\"]\n\n[[compare]]\noutput = \"*.db\"\nformat = \"csv\"\nkey = \"id\"\nconvert = [\"python3\", \"dump.py\", \"{{file}}\", \"{{table}}\", \"{{side}}\"]\ntables = [\"advisories\", \"history\"]\nconvert_timeout = \"2m\"\n\n[[compare]]\noutput = \"*.parquet\"\nformat = \"ndjson\"\nconvert = [\"duckdb\", \"-json\", \"-c\", \"copy (from '{{file}}') to '/dev/stdout' (format json)\"]\n"
        );
        let config = ok(&text);
        let convert = config.compares[0].convert.as_ref().expect("convert");
        assert_eq!(convert.tables, ["advisories", "history"]);
        assert_eq!(convert.timeout, Some(Duration::from_secs(120)));
        let (block, table) = config
            .block_of_converted("sub/warehouse.db#history")
            .expect("a converted table");
        assert_eq!((block.index, table), (0, Some("history")));
        // Not one of the tables: no converted output of block 1 is called that.
        assert!(config.block_of_converted("warehouse.db#other").is_none());
        assert_eq!(
            config
                .block_of_converted("x.parquet")
                .map(|(b, t)| (b.index, t)),
            Some((1, None))
        );
        assert!(config.block_of_converted("x.json").is_none());
        let suite = config.suite("main").expect("suite");
        assert_eq!(
            suite.requires.as_deref(),
            Some(&["pg_isready".to_owned(), "-q".to_owned()][..])
        );
        let teardown: Vec<&str> = suite.teardown.iter().flatten().map(Template::raw).collect();
        assert_eq!(
            teardown,
            ["psql", "-c", "drop schema if exists {run_id} cascade"]
        );
        // One block per table, each with its own key.
        let per_table = format!(
            "{SIDES}\n[[compare]]\noutput = \"w.pg\"\nformat = \"csv\"\nkey = \"advisory_id\"\nconvert = [\"psql\", \"{{table}}\"]\ntables = [\"advisories\"]\n\n[[compare]]\noutput = \"w.pg\"\nformat = \"csv\"\nkey = [\"advisory_id\", \"seq\"]\nconvert = [\"psql\", \"{{table}}\"]\ntables = [\"state_history\"]\n"
        );
        let config = ok(&per_table);
        assert_eq!(config.converters_for("w.pg").len(), 2);
        let index = |name| config.block_of_converted(name).map(|(b, _)| b.index);
        assert_eq!(index("w.pg#advisories"), Some(0));
        assert_eq!(index("w.pg#state_history"), Some(1));
    }

    #[test]
    fn convert_errors() {
        let block = |body: &str| format!("{SIDES}\n[[compare]]\noutput = \"*.db\"\n{body}\n");
        let cases = [
            (
                "convert without format",
                block("convert = [\"dump\", \"{file}\"]"),
            ),
            (
                "convert on stdout",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"stdout\"\nformat = \"csv\"\nconvert = [\"dump\"]\n"
                ),
            ),
            ("empty convert", block("format = \"csv\"\nconvert = []")),
            (
                "tables without convert",
                block("format = \"csv\"\ntables = [\"a\"]\nconvert_timeout = \"1s\""),
            ),
            (
                "tables without {table}",
                block("format = \"csv\"\nconvert = [\"dump\", \"{file}\"]\ntables = [\"a\"]"),
            ),
            (
                "{table} without tables",
                block("format = \"csv\"\nconvert = [\"dump\", \"{file}\", \"{table}\"]"),
            ),
            (
                "bad table names",
                block(
                    "format = \"csv\"\nconvert = [\"dump\", \"{table}\"]\ntables = [\"a#b\", \"\", \"c\", \"c\"]",
                ),
            ),
            (
                "empty tables",
                block("format = \"csv\"\nconvert = [\"dump\", \"{table}\"]\ntables = []"),
            ),
            (
                "bad convert_timeout",
                block("format = \"csv\"\nconvert = [\"dump\"]\nconvert_timeout = \"0s\""),
            ),
            (
                "unknown variable in convert",
                block("format = \"csv\"\nconvert = [\"dump\", \"{files}\"]"),
            ),
            ("{file} in a side", SIDES.replace("{out}\"]", "{file}\"]")),
            (
                "{table} in a teardown",
                format!("{SIDES}teardown = [\"drop\", \"{{table}}\"]\n"),
            ),
            ("empty requires", format!("{SIDES}requires = []\n")),
            (
                "the same table converted twice",
                block(
                    "format = \"csv\"\nconvert = [\"dump\", \"{table}\"]\ntables = [\"a\", \"b\"]\n\n[[compare]]\noutput = \"*.db\"\nformat = \"csv\"\nconvert = [\"dump\", \"{table}\"]\ntables = [\"b\"]",
                ),
            ),
            (
                "convert in a stage",
                format!(
                    "{SIDES}\n[[stage]]\nname = \"a\"\nlegacy = \"a.csv\"\ncandidate = \"a.csv\"\nconvert = [\"dump\"]\n"
                ),
            ),
        ];
        let mut all = String::new();
        for (name, text) in cases {
            all.push_str(&format!("=== {name}\n{}\n\n", error_of(&text)));
        }
        insta::assert_snapshot!(all);
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
                "missing candidate",
                SIDES.replace(
                    "[candidate]\ncmd = [\"python3\", \"-m\", \"pipeline\", \"{fixture}\"]\n",
                    "",
                ),
            ),
            (
                "legacy without a command",
                SIDES.replace(
                    "cmd = [\"python3\", \"legacy.py\", \"{fixture}\", \"{out}\"]\n",
                    "version_cmd = [\"git\", \"rev-parse\", \"HEAD\"]\n",
                ),
            ),
            (
                "retired on the candidate",
                SIDES.replace("timeout = \"30s\"", "timeout = \"30s\"\nretired = true"),
            ),
            (
                "empty version_cmd on the candidate",
                SIDES.replace("timeout = \"30s\"", "timeout = \"30s\"\nversion_cmd = []"),
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
            (
                "normalize needs replace or placeholder",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.txt\"\nformat = \"text\"\nnormalize = [{{ pattern = \"x\" }}]\n"
                ),
            ),
            (
                "bad placeholder name",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.txt\"\nformat = \"text\"\nnormalize = [{{ pattern = \"x\", placeholder = \"a b\" }}]\n"
                ),
            ),
            (
                "map needs values or rename",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\nmap = [{{ path = \"$.a\" }}]\n"
                ),
            ),
            (
                "text options on json",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\nwhitespace = \"all\"\n"
                ),
            ),
            (
                "csv options on text",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.txt\"\nformat = \"text\"\nquote = \"'\"\n"
                ),
            ),
            (
                "bad whitespace mode",
                format!(
                    "{SIDES}\n[[compare]]\noutput = \"a.txt\"\nformat = \"text\"\nwhitespace = \"some\"\n"
                ),
            ),
            (
                "bench budget not a percentage",
                format!("{SIDES}\n[bench]\nbudget = {{ cpu = \"five\" }}\n"),
            ),
            (
                "bench unknown metric",
                format!("{SIDES}\n[bench]\ngate = [\"cpu\", \"disk\"]\n"),
            ),
            (
                "bench max_runs below runs",
                format!("{SIDES}\n[bench]\nruns = 20\nmax_runs = 10\n"),
            ),
            (
                "bench confidence",
                format!("{SIDES}\n[bench]\nconfidence = 95\n"),
            ),
            (
                "steps on file fixtures",
                format!(
                    "{SIDES}\n[suites.history]\nroot = \".\"\ninclude = [\"*/\", \"*.json\"]\nsteps = \"*/\"\n"
                ),
            ),
            (
                "steps below the fixture's entries",
                format!(
                    "{SIDES}\n[suites.history]\nroot = \".\"\ninclude = [\"*/\"]\nsteps = \"*/input/\"\n"
                ),
            ),
            (
                "empty steps",
                format!(
                    "{SIDES}\n[suites.history]\nroot = \".\"\ninclude = [\"*/\"]\nsteps = \"/\"\n"
                ),
            ),
            (
                "suite without a candidate when the top level has none",
                format!(
                    "{}\n[suites.other]\nroot = \".\"\ninclude = [\"*/\"]\n\n[suites.other.candidate]\ncmd = [\"python3\", \"other.py\"]\n",
                    SIDES.replace(
                        "[candidate]\ncmd = [\"python3\", \"-m\", \"pipeline\", \"{fixture}\"]\ntimeout = \"30s\"\n",
                        "",
                    )
                ),
            ),
            (
                "retired on a suite's candidate",
                format!(
                    "{SIDES}\n[suites.main.candidate]\ncmd = [\"python3\", \"other.py\"]\nretired = true\n"
                ),
            ),
            (
                "suite legacy without a command",
                format!("{SIDES}\n[suites.main.legacy]\ntimeout = \"1m\"\n"),
            ),
            (
                "bad template in a suite's side",
                format!("{SIDES}\n[suites.main.legacy]\ncmd = [\"old\", \"{{input}}\"]\n"),
            ),
            (
                "stage without a name",
                format!("{SIDES}\n[[stage]]\noutput = \"a.json\"\n"),
            ),
            (
                "invalid stage name",
                format!("{SIDES}\n[[stage]]\nname = \"in gest\"\noutput = \"a.json\"\n"),
            ),
            (
                "duplicate stage name",
                format!("{SIDES}\n[[stage]]\nname = \"ingest\"\noutput = \"a.json\"\n\n[[stage]]\nname = \"ingest\"\noutput = \"b.json\"\n"),
            ),
            (
                "stage with output and legacy",
                format!("{SIDES}\n[[stage]]\nname = \"ingest\"\noutput = \"a.json\"\nlegacy = \"stages/a.json\"\n"),
            ),
            (
                "stage missing its candidate path",
                format!("{SIDES}\n[[stage]]\nname = \"ingest\"\nlegacy = \"stages/ingest.json\"\n"),
            ),
            (
                "stage without any path",
                format!("{SIDES}\n[[stage]]\nname = \"ingest\"\nformat = \"json\"\n"),
            ),
            (
                "after naming an unknown stage",
                format!("{SIDES}\n[[stage]]\nname = \"ingest\"\noutput = \"a.json\"\n\n[[stage]]\nname = \"decide\"\nafter = [\"ingest\", \"normalise\"]\noutput = \"b.json\"\n"),
            ),
            (
                "after naming a later stage",
                format!("{SIDES}\n[[stage]]\nname = \"ingest\"\nafter = [\"decide\"]\noutput = \"a.json\"\n\n[[stage]]\nname = \"decide\"\nafter = []\noutput = \"b.json\"\n"),
            ),
            (
                "after naming itself or a stage twice",
                format!("{SIDES}\n[[stage]]\nname = \"ingest\"\noutput = \"a.json\"\n\n[[stage]]\nname = \"decide\"\nafter = [\"ingest\", \"decide\", \"ingest\"]\noutput = \"b.json\"\n"),
            ),
            (
                "absolute stage path",
                format!("{SIDES}\n[[stage]]\nname = \"ingest\"\nlegacy = \"stages/ingest.json\"\ncandidate = \"/tmp/01-ingest.json\"\n"),
            ),
            (
                "stage paths that are not one file under out",
                format!("{SIDES}\n[[stage]]\nname = \"ingest\"\nlegacy = \"../stages/ingest.json\"\ncandidate = \"checkpoints/*.json\"\n\n[[stage]]\nname = \"decide\"\noutput = \"stdout\"\n"),
            ),
            (
                "stage with a broken legacy path and no candidate",
                format!("{SIDES}\n[[stage]]\nname = \"ingest\"\nlegacy = 1\n\n[[stage]]\nname = \"decide\"\ncandidate = \"checkpoints/\"\nlegacy = \"stages/decide.json\"\n"),
            ),
            (
                "stage rules are checked like a compare block's",
                format!("{SIDES}\n[[stage]]\nname = \"ingest\"\noutput = \"a.json\"\nformat = \"json\"\nkey = \"id\"\nignore = [\"$.a[\"]\nwhitespace = \"all\"\noutptu = \"x\"\n"),
            ),
            (
                "empty on_finish",
                format!("{SIDES}\n[report]\non_finish = []\n"),
            ),
            (
                "on_finish without a program",
                format!("{SIDES}\n[report]\non_finish = [\"\", \"--notify\"]\n"),
            ),
        ];
        let mut all = String::new();
        for (name, text) in cases {
            all.push_str(&format!("=== {name}\n{}\n\n", error_of(&text)));
        }
        insta::assert_snapshot!(all);
    }

    #[test]
    fn new_rule_kinds_and_expired_rules() {
        let config = ok(&format!(
            "{SIDES}\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\nstrict_numbers = true\nmap = [{{ path = \"$..active\", values = {{ Y = true, N = false }} }}, {{ path = \"$.items[*]\", rename = {{ cve = \"cve_id\" }} }}]\nignore = [{{ path = \"$.old\", expires = \"2020-01-01\" }}]\nnormalize = [{{ pattern = \"[0-9a-f]{{8}}\", placeholder = \"id\" }}]\n\n[[compare]]\noutput = \"b.txt\"\nformat = \"text\"\nwhitespace = \"change\"\nignore_case = true\n\n[[compare]]\noutput = \"c.csv\"\nformat = \"csv\"\ndelimiter = \";\"\nquote = \"\"\n"
        ));
        let spec = &config.compares[0].spec;
        assert!(spec.rules.strict_numbers);
        assert_eq!(
            spec.rules.map_values[0].action["Y"],
            serde_json::json!(true)
        );
        assert_eq!(spec.rules.rename[0].action["cve"], "cve_id");
        assert!(
            spec.rules.ignore.is_empty(),
            "an expired rule is not applied"
        );
        assert!(
            config
                .rules
                .iter()
                .any(|r| r.kind == RuleKind::Ignore && r.expired)
        );
        assert!(spec.rules.has_placeholders());
        assert_eq!(
            config.compares[1].spec.text.whitespace,
            crate::diff::Whitespace::Change
        );
        assert!(config.compares[1].spec.text.ignore_case);
        assert_eq!(config.compares[2].spec.csv.delimiter, Some(b';'));
        assert_eq!(config.compares[2].spec.csv.quote, None);
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

    /// Every key of the file once, for [`valid_configs_load_as_before`].
    const EVERY_KEY: &str = r#"
[legacy]
cmd = ["python3", "legacy.py", "{fixture}", "{out}", "{suite}", "{variant}", "{fixture_id}"]
env = { TZ = "UTC", RUN = "{fixture_id}" }
cwd = "{fixture}"
timeout = "1m 30s"
retired = false
version_cmd = ["git", "rev-parse", "HEAD"]

[candidate]
cmd = ["python3", "-m", "pipeline", '{"json": true}', "{{out}}"]
timeout = "2h"

[suites.main]
root = "."
include = ["*/", "**/*.json"]
exclude = ["skip*/"]

[suites.other]
root = "."
include = ["*.csv"]
default = false

[variants.offline]
args = ["--offline", "{variant}"]
env = { OFFLINE = "1" }

[variants.online]

[[compare]]
output = "stdout"
format = "json"
ignore = ["$.a", { path = "$.b", reason = "r", owner = "o", expires = "2099-01-01" }, { path = "$.c", expires = "2020-01-01" }]
match = [{ path = "$.items", by = "id" }, { path = "$.pairs", by = ["a", "b"], owner = "me" }, { path = "$.tags", as = "set" }, { path = "$.bag", as = "multiset" }, { path = "$.seq", as = "positional" }, { path = "$.al", as = "aligned" }]
tolerance = [{ path = "$..score", abs = 1e-9 }, { path = "$..price", rel = 0.01, reason = "rounding" }, { path = "$..both", abs = 1, rel = 0.5 }]
normalize = [{ path = "$.msg", pattern = "[0-9]+", replace = "N" }, { pattern = "[0-9a-f]{8}", placeholder = "id" }]
map = [{ path = "$..active", values = { Y = true, N = false, n = 0, f = 1.5, s = "yes" } }, { path = "$.items[*]", rename = { cve = "cve_id" }, expires = "2099-12-31" }]
strict_numbers = true

[[compare]]
output = "stderr"
format = "text"
whitespace = "change"
ignore_case = true
normalize = [{ pattern = '^Run id: .*$', replace = "Run id: <id>", reason = "random", owner = "ops" }]

[[compare]]
output = "exit"

[[compare]]
output = "out/*.csv"
format = "csv"
key = ["advisory_id", "seq"]
ignore = ["recorded_at"]
delimiter = ";"
quote = ""
escape = "\\"

[[compare]]
output = "data.tsv"
format = "tsv"
key = "id"
delimiter = "\t"

[[compare]]
output = "blob.bin"
format = "bytes"

[[compare]]
output = "x.ndjson"
format = "ndjson"
key = "id"
tolerance = [{ path = "score", abs = 0.5 }]

[[compare]]
output = "y.json"
format = "auto"

[[waiver]]
path = "$.advisories[*].explanation"
output = "*.json"
fixture = "main/*"
value = "^OSV reports"
reason = "reworded"
owner = "jane"
expires = "2099-03-01"

[[waiver]]
output = "report.md"
reason = "old"
owner = "bob"
expires = "2020-03-01"

[report]
dir = "out/reports"
max_differences = 50

[bench]
runs = 12
max_runs = 40
warmup = 2
budget = { wall = "10%", cpu = "2.5%", memory = "0%" }
confidence = 0.9
gate = ["wall", "cpu"]
seed = 42

[golden]
dir = "goldens"
"#;

    /// What a loaded configuration holds, in stable words (no compiled internals).
    fn describe(config: &Config) -> String {
        fn templates(ts: &[Template]) -> Vec<&str> {
            ts.iter().map(Template::raw).collect()
        }
        let env = |env: &[(String, Template)]| {
            env.iter()
                .map(|(k, v)| format!("{k}={}", v.raw()))
                .collect::<Vec<_>>()
        };
        let side = |s: &SideSpec| {
            format!(
                "cmd {:?} env {:?} cwd {:?} timeout {:?}",
                templates(&s.cmd),
                env(&s.env),
                s.cwd.as_ref().map(Template::raw),
                s.timeout
            )
        };
        let patterns = |ps: &[EntryPattern]| {
            ps.iter()
                .map(|p| format!("{} dirs={}", p.text, p.dirs))
                .collect::<Vec<_>>()
        };
        let mut out = vec![
            format!("legacy: {:?}", config.legacy.spec().map(side)),
            format!(
                "retired {} version_cmd {:?}",
                matches!(config.legacy, Legacy::Retired),
                config.legacy.spec().and_then(|s| s.version_cmd.clone())
            ),
            format!(
                "candidate: {}",
                config
                    .candidate
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), side)
            ),
            format!("golden {}", config.golden_dir.display()),
        ];
        for s in &config.suites {
            out.push(format!(
                "suite {} root {} include {:?} exclude {:?} default {}",
                s.name,
                s.root.display(),
                patterns(&s.include),
                patterns(&s.exclude),
                s.default
            ));
        }
        for v in &config.variants {
            out.push(format!(
                "variant {} args {:?} env {:?}",
                v.name,
                templates(&v.args),
                env(&v.env)
            ));
        }
        for c in &config.compares {
            out.push(format!(
                "compare {} {} {:?} {:?} {:?} strict_numbers {} placeholders {}",
                c.index,
                c.output.label(),
                c.format,
                c.spec.csv,
                c.spec.text,
                c.spec.rules.strict_numbers,
                c.spec.rules.has_placeholders()
            ));
        }
        out.extend(config.rules.iter().map(|r| format!("{r:?}")));
        for w in &config.waivers {
            out.push(format!(
                "waiver {} path {:?} output {:?} fixture {:?} value {:?} reason {:?} owner {:?} expires {:?}",
                w.index,
                w.path.as_ref().map(ToString::to_string),
                w.output.as_ref().map(|o| &o.0),
                w.fixture.as_ref().map(|f| &f.0),
                w.value.as_ref().map(Regex::as_str),
                w.reason,
                w.owner,
                w.expires
            ));
        }
        out.push(format!(
            "report {} {}",
            config.report.dir.display(),
            config.report.max_differences
        ));
        out.push(format!(
            "bench {:?} seed {:?}",
            config.bench, config.bench_seed
        ));
        out.join("\n")
    }

    /// Guards the move from serde's derive to reading value by value: a file using every key
    /// loads into the same `Config` as before (the snapshot was recorded with the serde reader).
    #[test]
    fn valid_configs_load_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let config =
            parse(&dir.path().join(FILE_NAME), EVERY_KEY).unwrap_or_else(|e| panic!("{e}"));
        let text = describe(&config).replace(&dir.path().to_string_lossy().into_owned(), "<dir>");
        insta::assert_snapshot!(text);
    }

    /// The pipeline keys of PRODUCT.md ("Pipelines, not just programs") once each: scenario
    /// steps, suites with their own sides, stages, `[report] on_finish`.
    const PIPELINE_KEYS: &str = r#"
[legacy]
cmd = ["python3", "legacy/monolith.py", "{fixture}", "{out}", "--state", "{state}"]
version_cmd = ["git", "rev-parse", "HEAD"]

[candidate]
cmd = ["python3", "-m", "pipeline", "{fixture}", "{out}", "--step", "{step}"]

[suites.history]
root = "."
include = ["*/"]
steps = "*/"

[suites.feed]
root = "."
include = ["*/"]

[suites.feed.legacy]
cmd = ["python3", "legacy/feed_monolith.py", "{fixture}", "{out}"]
timeout = "5m"

[suites.retired]
root = "."
include = ["*.json"]
default = false

[suites.retired.legacy]
retired = true

[suites.retired.candidate]
cmd = ["python3", "-m", "pipeline", "--retired", "{fixture}"]

[[compare]]
output = "advisory_current.json"
format = "json"
ignore = ["$.generated_at"]

[[stage]]
name = "ingest"
legacy = "stages/ingest.json"
candidate = "checkpoints/01-ingest.json"
format = "json"
ignore = ["$.fetched_at"]
match = [{ path = "$.records", by = "id" }]

[[stage]]
name = "normalise"
output = "stages/normalise.ndjson"
format = "ndjson"
key = "id"
tolerance = [{ path = "score", abs = 1e-9 }]

[[stage]]
name = "decide"
after = ["ingest", "normalise"]
legacy = "stages/decide.json"
candidate = "checkpoints/03-decide.json"

[[stage]]
name = "report"
after = []
output = "report.txt"
format = "text"
normalize = [{ pattern = "[0-9]+", replace = "N" }]

[report]
on_finish = ["notify-send", "parity finished"]
"#;

    #[test]
    fn version_cmd_belongs_to_both_sides() {
        let config = ok(&format!(
            "{}\n[suites.main.candidate]\ncmd = [\"python3\", \"other.py\"]\nversion_cmd = [\"other\", \"--version\"]\n\n[suites.bugs]\nroot = \".\"\ninclude = [\"*/\"]\n",
            SIDES
                .replace("{out}\"]\n", "{out}\"]\nversion_cmd = [\"git\", \"rev-parse\", \"HEAD\"]\n")
                .replace("timeout = \"30s\"", "timeout = \"30s\"\nversion_cmd = [\"python3\", \"-m\", \"pipeline\", \"--version\"]")
        ));
        let version = |spec: Option<&SideSpec>| spec.and_then(|s| s.version_cmd.clone());
        let main = config.suite("main").expect("suite main");
        let bugs = config.suite("bugs").expect("suite bugs");
        assert_eq!(
            version(main.legacy.spec()),
            Some(vec!["git".into(), "rev-parse".into(), "HEAD".into()])
        );
        assert_eq!(
            version(Some(&main.candidate)),
            Some(vec!["other".into(), "--version".into()]),
            "a suite's own candidate brings its own version_cmd"
        );
        assert_eq!(
            version(Some(&bugs.candidate)).map(|v| v.join(" ")),
            Some("python3 -m pipeline --version".to_owned())
        );
    }

    #[test]
    fn pipeline_keys_load() {
        let config = ok(PIPELINE_KEYS);
        let top_candidate = config.candidate.as_ref().expect("top-level candidate");
        assert_eq!(top_candidate.cmd.last().map(Template::raw), Some("{step}"));

        let history = config.suite("history").expect("suite history");
        let steps = history.steps.as_ref().expect("steps");
        assert_eq!((steps.text.as_str(), steps.dirs), ("*/", true));
        assert!(steps.matches("2-override", true));
        assert!(!steps.matches("2-override", false));
        assert!(!history.own_legacy && !history.own_candidate);
        assert!(matches!(
            &history.legacy,
            Legacy::Runs { spec } if spec.cmd[1].raw() == "legacy/monolith.py" && spec.version_cmd.is_some()
        ));
        assert_eq!(history.candidate.cmd[2].raw(), "pipeline");

        let feed = config.suite("feed").expect("suite feed");
        assert!(feed.steps.is_none());
        assert!(feed.own_legacy && !feed.own_candidate);
        let spec = feed.legacy.spec().expect("the feed's legacy runs");
        assert_eq!(spec.cmd[1].raw(), "legacy/feed_monolith.py");
        assert_eq!(spec.timeout, Duration::from_secs(300));
        assert!(
            spec.version_cmd.is_none(),
            "a suite's legacy replaces the top-level one, version_cmd included"
        );

        let retired = config.suite("retired").expect("suite retired");
        assert!(retired.own_legacy && retired.own_candidate);
        assert!(matches!(retired.legacy, Legacy::Retired));
        assert_eq!(retired.candidate.cmd[3].raw(), "--retired");
        assert!(config.suite("nope").is_none());

        assert_eq!(
            config.report.on_finish.as_deref(),
            Some(&["notify-send".to_owned(), "parity finished".to_owned()][..])
        );

        assert_eq!(config.compares.len(), 1);
        let stages: Vec<_> = config
            .stages
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.legacy.as_str(),
                    s.candidate.as_str(),
                    s.after.as_slice(),
                    s.block.index,
                    s.block.output.label().into_owned(),
                )
            })
            .collect();
        assert_eq!(
            stages,
            [
                (
                    "ingest",
                    "stages/ingest.json",
                    "checkpoints/01-ingest.json",
                    &[][..],
                    1,
                    "stage:ingest".to_owned()
                ),
                (
                    "normalise",
                    "stages/normalise.ndjson",
                    "stages/normalise.ndjson",
                    &[0][..],
                    2,
                    "stage:normalise".to_owned()
                ),
                (
                    "decide",
                    "stages/decide.json",
                    "checkpoints/03-decide.json",
                    &[0, 1][..],
                    3,
                    "stage:decide".to_owned()
                ),
                (
                    "report",
                    "report.txt",
                    "report.txt",
                    &[][..],
                    4,
                    "stage:report".to_owned()
                ),
            ],
            "`after` defaults to the stage above; block indices continue after [[compare]]"
        );
        assert!(
            matches!(&config.stages[2].block.output, OutputSelector::Stage { name } if name == "decide")
        );
        assert_eq!(config.stages[0].block.format, Some(Format::Json));
        assert_eq!(config.stages[0].block.spec.rules.ignore.len(), 1);
        assert_eq!(config.stages[1].block.format, Some(Format::Ndjson));
        assert_eq!(config.stages[3].block.spec.rules.normalize.len(), 1);

        let rules: Vec<_> = config
            .rules
            .iter()
            .map(|r| (r.id, r.compare, r.output.as_str(), r.kind))
            .collect();
        use RuleKind::*;
        assert_eq!(
            rules,
            [
                (0, 0, "advisory_current.json", Ignore),
                (1, 1, "stage:ingest", Ignore),
                (2, 1, "stage:ingest", Match),
                (3, 2, "stage:normalise", Key),
                (4, 2, "stage:normalise", Tolerance),
                (5, 4, "stage:report", Normalize),
            ],
            "stage rules continue the ids of the compare blocks' rules"
        );
        assert_eq!(config.stages[0].block.spec.rules.ignore[0].id, 1);

        assert_eq!(
            config.block_for("advisory_current.json").map(|b| b.index),
            Some(0)
        );
        for stage_file in [
            "stages/ingest.json",
            "report.txt",
            "stages/normalise.ndjson",
        ] {
            assert!(config.block_for(stage_file).is_none(), "{stage_file}");
        }
    }

    /// The top-level `[candidate]` may be left out once every suite has its own.
    #[test]
    fn suites_with_their_own_candidates_need_no_top_level_one() {
        let config = ok(
            "[suites.a]\nroot = \".\"\ninclude = [\"*/\"]\n\n[suites.a.candidate]\ncmd = [\"a\"]\n\n[suites.b]\nroot = \".\"\ninclude = [\"*/\"]\n\n[suites.b.candidate]\ncmd = [\"b\"]\n",
        );
        assert!(config.candidate.is_none());
        assert!(matches!(config.legacy, Legacy::Absent));
        let cmds: Vec<&str> = config
            .suites
            .iter()
            .map(|s| s.candidate.cmd[0].raw())
            .collect();
        assert_eq!(cmds, ["a", "b"]);
    }
}
