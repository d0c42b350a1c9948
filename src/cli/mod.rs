//! Command-line definitions (clap derive) and the dispatch from a parsed command to its
//! implementation: [`run`] hands `parity run` to [`crate::flow`], [`diff`] exposes the diff
//! engine, [`report`] re-renders a past run, [`explain`] shows one case of it side by side,
//! [`calibrate`] measures each side's nondeterminism, [`init`] writes a first parity.toml,
//! [`completions`] and [`man`] describe the command line to shells and to man(1).

mod calibrate;
mod completions;
mod diff;
mod explain;
mod golden;
mod init;
mod man;
mod merge;
mod minimize;
mod output;
mod report;
mod run;

use std::path::{Path, PathBuf};

use anyhow::Context;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diff::Format;
use crate::exit_code;
use crate::report::ReportFormat;

const ABOUT: &str = "Prove a migration is safe: run the legacy program and its candidate replacement \
over the same fixtures, compare every output field by field, and gate CI on the result.";

#[derive(Debug, Parser)]
#[command(name = "parity", version, about = ABOUT, after_help = exit_code::HELP)]
pub struct Cli {
    /// When to use colour: auto follows the terminal, NO_COLOR, CLICOLOR and CLICOLOR_FORCE.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run legacy and candidate over every selected fixture, compare, and write reports.
    #[command(after_help = exit_code::HELP)]
    Run(RunArgs),
    /// Compare two files or two directories with the same engine `parity run` uses.
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
    /// Measure performance against the budget: warm-up runs, then pairs of runs in alternating
    /// random order until the verdict is clear (outputs are compared on every pair).
    #[command(after_help = exit_code::HELP)]
    Bench(RunArgs),
    /// Record, check and review the goldens: the legacy's outputs kept as the reference for
    /// when the legacy is gone.
    Golden(golden::GoldenArgs),
    /// Render a report from a results.json written by an earlier run.
    Report(ReportArgs),
    /// Combine the results.json of a run's shards (`--shard`) into the whole run's results and
    /// reports, gated as the unsharded run would be.
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
    /// Explain one case of a past run: its verdict, both sides' exact commands, the differing
    /// fields side by side, and the command that reruns just this case.
    #[command(after_help = explain::HELP)]
    Explain(explain::ExplainArgs),
    /// Run each side several times per fixture (A/A runs) and report what varies between runs.
    ///
    /// Says whether the rules cover each place that varies, flags variation only the candidate
    /// has, and proposes rules for the legacy's noise (it never edits parity.toml).
    #[command(after_help = CALIBRATE_HELP)]
    Calibrate(CalibrateArgs),
    /// Shrink a failing case's fixture while the same difference persists (delta debugging),
    /// and write the smallest failing input found.
    ///
    /// Records are JSON array elements (the top-level array, or the largest array member of a
    /// top-level object), NDJSON lines, CSV/TSV rows (the header stays) and text lines, in every
    /// file of a fixture directory (every step of a scenario); other files are kept whole.
    #[command(after_help = MINIMIZE_HELP)]
    Minimize(MinimizeArgs),
    /// Write a commented parity.toml for a directory from a look at its fixtures (never over an
    /// existing one), with placeholder commands to replace.
    #[command(after_help = init::HELP)]
    Init(init::InitArgs),
    /// Print the completion script for a shell.
    #[command(after_help = completions::HELP)]
    Completions(completions::CompletionsArgs),
    /// Print parity's manual page (roff), or write one page per command to a directory.
    #[command(after_help = man::HELP)]
    Man(man::ManArgs),
}

/// The cases a command covers (configuration, suites, fixtures, variants) and how many
/// processes run at once.
#[derive(Debug, Clone, Args)]
pub struct CaseArgs {
    /// Configuration file [default: parity.toml in the current directory or a parent].
    #[arg(long, env = "PARITY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only this suite (repeatable) [default: every suite not marked `default = false`].
    #[arg(long = "suite", short = 's', value_name = "SUITE")]
    pub suites: Vec<String>,
    /// Only fixtures whose id matches this glob (repeatable).
    #[arg(long = "fixture", short = 'f', value_name = "GLOB")]
    pub fixtures: Vec<String>,
    /// Only this variant (repeatable) [default: every variant].
    #[arg(long = "variant", value_name = "VARIANT")]
    pub variants: Vec<String>,
    /// Processes to run at once [default: number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

impl CaseArgs {
    pub fn selection(&self) -> crate::fixture::Selection {
        crate::fixture::Selection {
            suites: self.suites.clone(),
            fixtures: self.fixtures.clone(),
            variants: self.variants.clone(),
        }
    }

    /// `--jobs`, or the number of cores (fewer when file descriptors are short).
    pub fn jobs(&self) -> usize {
        crate::flow::plan::jobs(self.jobs)
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub cases: CaseArgs,
    /// Report directory [default: `[report] dir`, or reports/latest next to the config].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Keep every case's outputs under DIR/outputs, not only those of failing cases.
    #[arg(long)]
    pub keep_outputs: bool,
    /// Continue an interrupted run in the same report directory: the cases it finished are
    /// kept (when parity's version, the configuration and the selection are unchanged), the
    /// rest run.
    #[arg(long)]
    pub resume: bool,
    /// Run one slice of the cases: K/N (by a hash of the case id; also hash:K/N), slice:K/N
    /// (round-robin in id order), or auto (from the CI's variables: GitLab CI_NODE_INDEX/
    /// CI_NODE_TOTAL, Kubernetes JOB_COMPLETION_INDEX/PARITY_SHARD_TOTAL, Slurm
    /// SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, Bazel TEST_SHARD_INDEX/TEST_TOTAL_SHARDS).
    /// Combine the shards' results with `parity merge`.
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<crate::shard::ShardRequest>,
    /// Compare the candidate with the legacy's run, the legacy's goldens, or both [default:
    /// goldens when the legacy is absent or retired, both when goldens exist, else the legacy].
    #[arg(long, value_enum, value_name = "REFERENCE")]
    pub against: Option<crate::flow::Against>,
    /// What to print on stdout: a human summary, or results.json.
    #[arg(long, value_enum, default_value_t = Printed::Human)]
    pub format: Printed,
    /// Also measure performance against the budget (what `parity bench` does). Cases then run
    /// one at a time, never in parallel.
    #[arg(long)]
    pub bench: bool,
    #[command(flatten)]
    pub bench_flags: crate::flow::BenchFlags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Printed {
    Human,
    Json,
}

const DIFF_HELP: &str = "\
Examples:
  parity diff old.json new.json --key '$.advisories=advisory_id' --ignore '$.generated_at'
  parity diff old.csv new.csv --key advisory_id,seq --tolerance confidence=1e-9
  parity diff a.json b.json --redact 'uuid=[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}'
  parity diff a.json b.json --map '$..active=Y:true' --rename '$.items[*]=cve:cve_id'
  parity diff legacy-out/ candidate-out/ --config parity.toml --output json

PATH is JSONPath ($, .name, ['name'], [0], [*], .*, ..name); for CSV and NDJSON a bare column
name means $[*].column.

Exit codes: 0 same (under the rules), 1 different, 2 trouble (unreadable or malformed input).";

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The reference file or directory.
    pub left: PathBuf,
    /// The file or directory compared with it.
    pub right: PathBuf,
    /// Input format [default: by extension, then content].
    #[arg(long, value_parser = format_or_auto(), default_value = "auto", value_name = "FORMAT")]
    pub format: FormatOrAuto,
    /// Match records by key: `FIELD[,FIELD]` for NDJSON/CSV rows, `PATH=FIELD[,FIELD]` for the
    /// elements of an array inside JSON (e.g. `$.advisories=advisory_id`). Repeatable.
    #[arg(long, value_name = "KEY")]
    pub key: Vec<String>,
    /// Ignore values at this path. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub ignore: Vec<String>,
    /// Compare the array at this path as a set, ignoring order. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub unordered: Vec<String>,
    /// Pair the elements of the array at PATH as MODE: set, multiset, aligned (the default: a
    /// longest common subsequence) or positional. Repeatable.
    #[arg(long = "match", value_name = "PATH=MODE")]
    pub matching: Vec<String>,
    /// Allow numbers at PATH to differ by VALUE (absolute), or by VALUE% (relative). Repeatable.
    #[arg(long, value_name = "PATH=VALUE")]
    pub tolerance: Vec<String>,
    /// Replace matches of PATTERN (a regex) by REPLACEMENT in every string and line, on both
    /// sides, before comparing (`$1` refers to a group). Repeatable.
    #[arg(long, value_name = "PATTERN=REPLACEMENT")]
    pub normalize: Vec<String>,
    /// Replace each distinct match of PATTERN by <NAME-1>, <NAME-2>, … numbered per side, so the
    /// same value keeps its placeholder wherever it appears. Repeatable.
    #[arg(long, value_name = "NAME=PATTERN")]
    pub redact: Vec<String>,
    /// Treat the left value FROM at PATH as the right value TO (TO is JSON if it parses, else a
    /// string), e.g. `$..active=Y:true`. Repeatable.
    #[arg(long, value_name = "PATH=FROM:TO")]
    pub map: Vec<String>,
    /// Treat the left member OLD of the objects at PATH as the right member NEW. Repeatable.
    #[arg(long, value_name = "PATH=OLD:NEW")]
    pub rename: Vec<String>,
    /// Numbers equal in value but spelled differently (`1.0`, `1`, `1e3`) are differences.
    #[arg(long)]
    pub strict_numbers: bool,
    /// Text: which whitespace differences do not count.
    #[arg(long, value_enum, value_name = "MODE")]
    pub whitespace: Option<crate::diff::Whitespace>,
    /// Text: compare lines case-insensitively.
    #[arg(long)]
    pub ignore_case: bool,
    /// CSV field delimiter.
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<char>,
    /// CSV quote character; an empty value turns quoting off.
    #[arg(long, value_name = "CHAR")]
    pub quote: Option<String>,
    /// CSV escape character inside quotes (default: a doubled quote).
    #[arg(long, value_name = "CHAR")]
    pub escape: Option<char>,
    /// Compare directories with the `[[compare]]` blocks of this parity.toml: each file by the
    /// first block whose glob matches it (flags apply to files no block covers).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Differences kept per file (counts stay exact).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_differences: usize,
    /// How to print the differences.
    #[arg(long, value_enum, default_value_t = Printed::Human)]
    pub output: Printed,
}

const CALIBRATE_HELP: &str = "\
Every later run of a side is compared with the first run of the same side, without rules and under
the configured rules. A place that varies is covered when the rules hide it. Variation the rules do
not cover is a finding when only the candidate has it, and gets a proposed rule when the legacy has
it (`reason = \"varies between runs of the legacy (calibrate)\"`). Each pass over the fixtures starts
in a new wall-clock second, so timestamps written to the second differ between runs.

Examples:
  parity calibrate
  parity calibrate --runs 5 --suite main --write proposed.toml
  parity calibrate --fixture 'typical_*' --format json

Exit codes:
  0  the candidate varies nowhere the legacy does not, and each side's runs ended alike
  1  findings: the candidate varies where the legacy does not (under the rules), or a side's
     runs on a fixture ended differently (e.g. exit 0, then exit 3)
  2  usage, configuration or harness error (e.g. a side could not be started)
  4  no fixture matched the selection";

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    #[command(flatten)]
    pub cases: CaseArgs,
    /// Runs of each side per fixture (at least 2).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(2..))]
    pub runs: u32,
    /// Also write the proposed rules to FILE, as parity.toml text to review (never the
    /// configuration itself).
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Work directory for the runs' outputs [default: `calibrate` under the report directory].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Keep every run's outputs under DIR/run-N instead of removing them.
    #[arg(long)]
    pub keep_outputs: bool,
    /// What to print on stdout: a human summary, or the calibration as JSON.
    #[arg(long, value_enum, default_value_t = Printed::Human)]
    pub format: Printed,
}

/// A format to use, or `None` to detect it (`auto`). An alias, so clap reads it as one value
/// rather than as an optional argument.
pub type FormatOrAuto = Option<Format>;

/// `--format auto` (detect: `None`) or one of [`Format`]'s names.
fn format_or_auto() -> impl TypedValueParser<Value = FormatOrAuto> {
    let names = std::iter::once("auto").chain(Format::ALL.iter().map(|f| f.as_str()));
    clap::builder::PossibleValuesParser::new(names.collect::<Vec<_>>())
        .map(|name| Format::ALL.into_iter().find(|f| f.as_str() == name))
}

const MINIMIZE_HELP: &str = "\
A smaller input fails the same way when both sides, run on it, end with the case's verdict (and,
when a side failed, the same exit status) and the case still has at least one unwaived difference
of the kept cluster: output x path pattern (indices and keys folded to [*]) x kind, against the
legacy's run. The case's clusters are listed on stderr, largest first, numbered for --cluster (a
number the case does not have is an error that lists them too).

Writes DIR/<fixture id> (a fixture directory or file with the original's name and layout, ready
for a suite to include) and DIR/minimize.json (sizes, runs, what was kept). The runs' outputs go
to a temporary directory that is removed.

Examples:
  parity run --suite regressions --out reports/regressions
  parity minimize reports/regressions/results.json regressions/override_then_newer_scan \\
      --out examples/advisory/fixtures/regressions-min
  parity minimize results.json big_export.ndjson --out min --cluster 2 --max-runs 500

Exit codes:
  0  a smaller failing input was written
  1  the original could not be reduced (it is written as it is)
  2  usage, configuration or harness error; the case passed, or its failure does not come back
     when run again; interrupted (the smallest failing input found so far is written)";

#[derive(Debug, Args)]
pub struct MinimizeArgs {
    /// A results.json written by `parity run`; its configuration must be unchanged since.
    pub results: PathBuf,
    /// The failing case: `suite/fixture[variant]` as results.json names it, or a fixture id
    /// that names one case.
    pub case: String,
    /// Directory to write the smallest failing input to, as DIR/<fixture id>.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Keep the case's cluster N (numbered from 1, largest first) [default: 1].
    #[arg(long, value_name = "N", value_parser = at_least_one())]
    pub cluster: Option<usize>,
    /// Smaller inputs tried at once, each running its two sides one after the other
    /// [default: number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Runs of the case in all, the first on the original fixture; past it, the smallest
    /// failing input found so far is written.
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = at_least_one())]
    pub max_runs: usize,
    /// Replace DIR/<fixture id> when it exists.
    #[arg(long)]
    pub force: bool,
}

/// A count of at least one.
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..)
}

const MERGE_HELP: &str = "\
Refuses (exit 2, naming the files): results of another parity version or configuration, shards
dealt differently or of another count, a shard given twice, a case in two shards, a results.json
that is not a shard's, and a missing shard (unless --allow-partial).

Exit codes: those of `parity run` for the whole run (0 pass, 1 differ, 2 trouble, 3 over budget);
a partial merge in which nothing failed exits 2: what is missing may fail.

Example:
  parity run --shard 1/2 --out shard-1 && parity run --shard 2/2 --out shard-2
  parity merge shard-1/results.json shard-2/results.json --out reports/merged";

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' results.json files.
    #[arg(required = true, value_name = "RESULTS.json")]
    pub results: Vec<PathBuf>,
    /// Where to write the merged results and reports.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Merge what is there when shards are missing; the results say which, and cannot pass.
    #[arg(long)]
    pub allow_partial: bool,
    /// What to print on stdout: a human summary, or results.json.
    #[arg(long, value_enum, default_value_t = Printed::Human)]
    pub format: Printed,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results.json written by `parity run`.
    pub results: PathBuf,
    /// The report to render.
    #[arg(long, value_enum)]
    pub format: ReportFormat,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let choice = match cli.color {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Bench(mut args) => {
            args.bench = true;
            run::run(args)
        }
        Command::Diff(args) => diff::diff(args),
        Command::Golden(args) => golden::golden(args),
        Command::Report(args) => report::report(args),
        Command::Merge(args) => merge::merge(args),
        Command::Explain(args) => explain::explain(args),
        Command::Calibrate(args) => calibrate::calibrate(args),
        Command::Minimize(args) => minimize::minimize(args),
        Command::Init(args) => init::init(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => man::man(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            let mut message = format!("error: {error}");
            for cause in error.chain().skip(1) {
                message.push_str(&format!("\n  caused by: {cause}"));
            }
            anstream::eprintln!("{message}");
            exit_code::TROUBLE
        }
    }
}

/// Loads `path`, or the parity.toml found from the current directory up.
fn load_config(path: Option<&Path>) -> anyhow::Result<crate::config::Config> {
    let cwd = std::env::current_dir().context("cannot determine the current directory")?;
    crate::flow::plan::load_config(path, &cwd)
}
