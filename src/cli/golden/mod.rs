//! `parity golden record|check|prune` here, `review|accept|reject` in [`decide`]: the commands
//! that make and keep the goldens the candidate is judged against once the legacy is gone.
//! Nothing here writes under the golden directory when `CI` is set.

mod decide;

use crate::style::{DIM, FAIL, PASS, WARN};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use super::{CaseArgs, load_config};
use crate::config::Config;
use crate::exit_code;
use crate::fixture::{self, Case, Selection};
use crate::flow::execute::each_finished;
use crate::golden::review::{self, Decision};
use crate::golden::{Golden, GoldenStore, Recorded, Staged, Stored};
use crate::golden::{Provenance, in_ci};
use crate::runner::{self, Cancel, CaseRuns, Launch, RunStatus, Sides};

#[derive(Debug, Args)]
pub struct GoldenArgs {
    #[command(subcommand)]
    pub command: GoldenCommand,
}

#[derive(Debug, Subcommand)]
pub enum GoldenCommand {
    /// Run the legacy over the selected fixtures and store its outputs, normalised by the
    /// rules, as goldens (with provenance). Unchanged goldens are left untouched.
    #[command(after_help = RECORD_HELP)]
    Record(RecordArgs),
    /// Fail (exit 1) on goldens with no fixture, stale goldens and pending changes.
    #[command(after_help = CHECK_HELP)]
    Check(StoreArgs),
    /// Walk through pending changes one by one: a accept, r reject, s skip, A/R accept/reject
    /// every pending change with the same differences, q quit.
    Review(ReviewArgs),
    /// Accept pending changes: they replace their goldens. Logged with who, when and why.
    Accept(DecideArgs),
    /// Reject pending changes: they are removed. Logged with who, when and why.
    Reject(DecideArgs),
    /// Remove goldens with no fixture, pending changes with no golden and leftovers of an
    /// interrupted recording.
    Prune(PruneArgs),
}

const RECORD_HELP: &str = "\
Exit codes:
  0  every selected case recorded (or unchanged)
  2  a case could not be recorded (the legacy did not run to completion), or CI is set
  4  no fixture matched the selection";

const CHECK_HELP: &str = "\
Exit codes:
  0  every golden has its fixture, matches its inputs, and nothing is pending
  1  an orphaned or stale golden, or a pending change
  2  configuration error";

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Configuration file [default: parity.toml in the current directory or a parent].
    #[arg(long, env = "PARITY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub cases: CaseArgs,
    /// Record every suite, including those marked `default = false`.
    #[arg(long, conflicts_with = "suites")]
    pub all_suites: bool,
    /// Why these goldens are (re)recorded, for the review log.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Review only changes whose case (`suite/fixture`) or fixture id matches this glob.
    #[arg(long = "fixture", short = 'f', value_name = "GLOB")]
    pub fixtures: Vec<String>,
    /// Why, for the review log [default: "reviewed interactively"].
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Decide changes whose case (`suite/fixture`) or fixture id matches this glob (repeatable).
    #[arg(
        long = "fixture",
        short = 'f',
        value_name = "GLOB",
        required_unless_present = "all"
    )]
    pub fixtures: Vec<String>,
    /// Decide every pending change.
    #[arg(long, conflicts_with = "fixtures")]
    pub all: bool,
    /// Why, for the review log.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// List what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn golden(args: GoldenArgs) -> anyhow::Result<i32> {
    match args.command {
        GoldenCommand::Record(args) => record(args),
        GoldenCommand::Check(args) => check(args),
        GoldenCommand::Review(args) => decide::review(args),
        GoldenCommand::Accept(args) => decide::accept_or_reject(args, Decision::Accept),
        GoldenCommand::Reject(args) => decide::accept_or_reject(args, Decision::Reject),
        GoldenCommand::Prune(args) => prune(args),
    }
}

/// Refuses to write goldens in CI: they are recorded and reviewed by people, then committed.
fn refuse_in_ci(what: &str) -> anyhow::Result<()> {
    if in_ci() {
        bail!(
            "CI is set: parity never writes goldens in CI ({what}); run it locally and commit the golden directory"
        );
    }
    Ok(())
}

/// The configuration and its golden store.
fn open(args: &StoreArgs) -> anyhow::Result<(Config, GoldenStore)> {
    let config = load_config(args.config.as_deref())?;
    let store = GoldenStore::new(&config.golden_dir);
    Ok((config, store))
}

/// A path as the user knows it: relative to the configuration's directory.
fn shown(config: &Config, path: &Path) -> String {
    path.strip_prefix(&config.base_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// What happened to each step of a case in `record` (one, unnamed, without steps).
type CaseRecorded = Vec<(Option<String>, RecordOutcome)>;

/// What happened to one case in `record`.
enum RecordOutcome {
    Recorded {
        staged: Box<Staged>,
        status: RunStatus,
    },
    Failed(String),
    /// A scenario's step after the one where the legacy failed: not run, nothing recorded.
    Blocked {
        by: String,
    },
}

fn record(args: RecordArgs) -> anyhow::Result<i32> {
    refuse_in_ci("golden record")?;
    let config = load_config(args.cases.config.as_deref())?;
    let store = GoldenStore::new(&config.golden_dir);
    let mut selection = args.cases.selection();
    if args.all_suites {
        selection.suites = config.suites.iter().map(|s| s.name.clone()).collect();
    }
    let cases = fixture::select(&config, &selection)?;
    if cases.is_empty() {
        eprintln!("no fixture matched the selection");
        return Ok(exit_code::NOTHING_SELECTED);
    }
    if let Some((suite, why)) = crate::flow::plan::without_legacy(&config, &cases) {
        bail!(
            "the legacy of suite `{suite}` is {why} in {}: goldens are recorded from the legacy",
            config.path.display()
        );
    }
    let versions =
        crate::flow::plan::legacy_versions(&config, &cases).map_err(anyhow::Error::msg)?;
    let scratch = tempfile::Builder::new()
        .prefix("parity-record-")
        .tempdir()
        .context("cannot create a scratch directory for the legacy's outputs")?;
    let jobs = args.cases.jobs();
    let config = Arc::new(config);
    let launch = Arc::new(Launch {
        config: Arc::clone(&config),
        exe: std::env::current_exe().context("cannot locate the parity binary")?,
        work_dir: scratch.path().to_owned(),
        jobs,
        running: Default::default(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let cancel = Cancel::default();
    runner::stop_on_signals(
        &runtime,
        &cancel,
        &indicatif::ProgressBar::hidden(),
        "the goldens already recorded are kept",
    );
    let finish = {
        let (config, store) = (Arc::clone(&config), store.clone());
        move |case: &Case, runs: CaseRuns| {
            let version = versions.get(&case.fixture.suite).cloned();
            record_case(&config, &store, case, runs, version)
        }
    };
    let mut out = crate::cli::output::stdout();
    let outcomes = runtime.block_on(async {
        each_finished(
            runner::run_cases(
                launch,
                cases.clone(),
                Arc::new(|_: &Case| Sides::Legacy),
                cancel,
            )
            .await,
            &cases,
            finish,
            |case, outcomes: &CaseRecorded| {
                for (step, outcome) in outcomes {
                    // Progress lines; a closed stdout must not stop the recording.
                    let _ = print_recorded(&mut out, &config, &store, case, step, outcome);
                }
            },
        )
        .await
    });
    runtime.shutdown_background();
    summarise_recording(&config, &store, outcomes, args.reason.as_deref())
}

/// Records each step of a case (the case itself when it has no steps) from the legacy's runs;
/// steps after one where the legacy failed did not run and are blocked.
fn record_case(
    config: &Config,
    store: &GoldenStore,
    case: &Case,
    runs: CaseRuns,
    version: Option<String>,
) -> CaseRecorded {
    let inputs = crate::golden::hash_inputs(&case.fixture.path)
        .map_err(|e| format!("cannot hash the fixture's inputs: {e}"));
    let mut outcomes: Vec<(Option<String>, RecordOutcome)> = runs
        .steps
        .into_iter()
        .map(|step| {
            let outcome = match (step.legacy, &inputs) {
                (None, _) => RecordOutcome::Failed("the legacy was not run".to_owned()),
                (Some(_), Err(message)) => RecordOutcome::Failed(message.clone()),
                (Some(legacy), Ok(inputs)) => record_step(
                    config,
                    store,
                    case,
                    step.step.as_deref(),
                    &legacy,
                    version.clone(),
                    inputs,
                ),
            };
            (step.step, outcome)
        })
        .collect();
    let last = outcomes.last().and_then(|(step, _)| step.clone());
    for step in case.steps.iter().skip(outcomes.len()) {
        outcomes.push((
            Some(step.name.clone()),
            RecordOutcome::Blocked {
                by: last.clone().unwrap_or_default(),
            },
        ));
    }
    let _ = std::fs::remove_dir_all(&runs.dir);
    outcomes
}

fn record_step(
    config: &Config,
    store: &GoldenStore,
    case: &Case,
    step: Option<&str>,
    legacy: &crate::runner::SideResult,
    version: Option<String>,
    inputs: &str,
) -> RecordOutcome {
    let status = legacy.run.status.clone();
    if !status.ran_to_end() {
        return RecordOutcome::Failed(format!(
            "the legacy did not run to completion ({}); nothing recorded",
            status.describe()
        ));
    }
    let provenance = Provenance::of(
        config,
        case,
        step,
        legacy,
        "legacy",
        version,
        inputs.to_owned(),
    );
    match store.stage(config, case, step, legacy, provenance) {
        Ok(staged) => RecordOutcome::Recorded {
            staged: Box::new(staged),
            status,
        },
        Err(e) => RecordOutcome::Failed(e.detail()),
    }
}

fn print_recorded(
    out: &mut dyn std::io::Write,
    config: &Config,
    store: &GoldenStore,
    case: &Case,
    step: &Option<String>,
    outcome: &RecordOutcome,
) -> std::io::Result<()> {
    let dir = shown(config, &store.golden_dir(case, step.as_deref()));
    match outcome {
        RecordOutcome::Recorded { staged, status } => {
            let outcome = &staged.outcome;
            let failed = if status.is_success() {
                String::new()
            } else {
                format!(
                    " {WARN}(the legacy failed: {}; the golden records that failure){WARN:#}",
                    status.describe()
                )
            };
            match outcome {
                Recorded::New => writeln!(out, "{PASS}new{PASS:#}       {dir}{failed}"),
                Recorded::Unchanged => writeln!(out, "{DIM}unchanged {dir}{DIM:#}{failed}"),
                Recorded::Updated { changed } => writeln!(
                    out,
                    "{WARN}updated{WARN:#}   {dir} {DIM}({}){DIM:#}{failed}",
                    changed.join(", ")
                ),
            }
        }
        RecordOutcome::Failed(message) => {
            writeln!(
                out,
                "{FAIL}failed{FAIL:#}    {dir}: legacy, {}: {message}",
                case.label()
            )
        }
        RecordOutcome::Blocked { by } => writeln!(
            out,
            "{DIM}blocked   {dir} (the legacy failed at step {by}, so this step did not run){DIM:#}"
        ),
    }
}

/// Logs every change the recording staged as one entry, then puts them in place: a golden
/// never changes before its log entry exists (when the log cannot be written, none does).
fn summarise_recording(
    config: &Config,
    store: &GoldenStore,
    outcomes: Vec<Option<CaseRecorded>>,
    reason: Option<&str>,
) -> anyhow::Result<i32> {
    let (mut new, mut unchanged, mut updated, mut failed, mut not_run) = (0, 0, 0, 0, 0);
    let mut blocked = 0;
    let mut staged = Vec::new();
    let steps = outcomes.into_iter().flat_map(|case| match case {
        Some(steps) => steps.into_iter().map(|(_, o)| Some(o)).collect(),
        None => vec![None],
    });
    for outcome in steps {
        match outcome {
            Some(RecordOutcome::Recorded { staged: change, .. }) => {
                match change.outcome {
                    Recorded::New => new += 1,
                    Recorded::Unchanged => unchanged += 1,
                    Recorded::Updated { .. } => updated += 1,
                }
                staged.push(*change);
            }
            Some(RecordOutcome::Failed(_)) => failed += 1,
            Some(RecordOutcome::Blocked { .. }) => blocked += 1,
            None => not_run += 1,
        }
    }
    let changed: Vec<String> = staged
        .iter()
        .filter(|s| s.outcome != Recorded::Unchanged)
        .map(|s| s.label.clone())
        .collect();
    review::log(
        store,
        Decision::Record,
        reason.unwrap_or("recorded from the legacy"),
        &changed,
    )
    .context("nothing was recorded: every change of a golden is logged first")?;
    for change in staged {
        let label = change.label.clone();
        if let Err(e) = store.apply(change) {
            eprintln!("error: {label}: {}", e.detail());
            failed += 1;
        }
    }
    writeln!(
        crate::cli::output::stdout(),
        "{new} new, {updated} updated, {unchanged} unchanged, {failed} failed{}{} in {}",
        if blocked > 0 {
            format!(", {blocked} blocked")
        } else {
            String::new()
        },
        if not_run > 0 {
            format!(", {not_run} not run (interrupted)")
        } else {
            String::new()
        },
        shown(config, &store.dir)
    )?;
    if failed + not_run > 0 {
        return Ok(exit_code::TROUBLE);
    }
    Ok(exit_code::OK)
}

/// What `check` and `prune` find wrong in the store.
#[derive(Debug, Default)]
struct Findings {
    /// Goldens whose fixture (or suite, or variant) no longer exists.
    orphans: Vec<PathBuf>,
    /// Pending changes whose golden does not exist.
    orphan_pending: Vec<PathBuf>,
    /// Pending changes.
    pending: Vec<PathBuf>,
    /// Goldens whose fixture's inputs changed: (golden, fixture).
    stale: Vec<(PathBuf, PathBuf)>,
    /// Goldens that cannot be read: (directory, why).
    unreadable: Vec<(PathBuf, String)>,
    /// Goldens whose stored outputs no longer match their provenance's content hash.
    edited: Vec<PathBuf>,
    /// Leftovers of an interrupted recording or replacement.
    leftovers: Vec<PathBuf>,
    /// Goldens in good order.
    current: usize,
    /// Cases (or steps of a scenario) with no golden, as their place in the store.
    missing: Vec<String>,
    /// Why the review log cannot be read, when it cannot.
    log: Option<String>,
}

/// Every case of every suite and variant: what goldens may exist for.
fn every_case(config: &Config) -> anyhow::Result<Vec<Case>> {
    let selection = Selection {
        suites: config.suites.iter().map(|s| s.name.clone()).collect(),
        fixtures: Vec::new(),
        variants: Vec::new(),
    };
    Ok(fixture::select(config, &selection)?)
}

fn inspect(config: &Config, store: &GoldenStore) -> anyhow::Result<Findings> {
    let cases = every_case(config)?;
    // Every golden a case has: one, or one per step of a scenario.
    let known: std::collections::BTreeMap<PathBuf, &Case> = cases
        .iter()
        .flat_map(|c| store.golden_dirs(c).into_iter().map(move |d| (d, c)))
        .collect();
    let stored = store
        .stored()
        .with_context(|| format!("cannot list {}", store.dir.display()))?;
    let mut findings = Findings::default();
    let mut present = BTreeSet::new();
    for (dir, kind) in stored {
        if kind == Stored::Leftover {
            findings.leftovers.push(dir);
            continue;
        }
        if kind == Stored::Pending {
            if crate::golden::golden_of(&dir)
                .is_some_and(|golden| golden.join(crate::golden::PROVENANCE_FILE).is_file())
            {
                findings.pending.push(dir);
            } else {
                findings.orphan_pending.push(dir);
            }
            continue;
        }
        let Some(case) = known.get(&dir) else {
            findings.orphans.push(dir);
            continue;
        };
        present.insert(dir.clone());
        match Golden::read(&dir) {
            Ok(Some(golden)) if golden.is_stale(&case.fixture.path) => {
                findings.stale.push((dir, case.fixture.path.clone()));
            }
            Ok(Some(golden)) if !golden.is_intact().unwrap_or(false) => {
                findings.edited.push(dir);
            }
            Ok(_) => findings.current += 1,
            Err(e) => findings.unreadable.push((dir, e.detail())),
        }
    }
    findings.log = crate::golden::review::read_log(store)
        .err()
        .map(|e| e.detail());
    findings.missing = known
        .keys()
        .filter(|dir| !present.contains(*dir))
        .map(|dir| store.relative(dir))
        .collect();
    Ok(findings)
}

fn check(args: StoreArgs) -> anyhow::Result<i32> {
    let (config, store) = open(&args)?;
    let findings = inspect(&config, &store)?;
    let mut out = crate::cli::output::stdout();
    let show = |p: &Path| shown(&config, p);
    let mut problems = 0;
    let mut problem = |out: &mut dyn std::io::Write, text: String| -> std::io::Result<()> {
        problems += 1;
        writeln!(out, "{FAIL}✗{FAIL:#} {text}")
    };
    for dir in &findings.orphans {
        problem(
            &mut out,
            format!(
                "orphan: {} has no fixture (parity golden prune removes it)",
                show(dir)
            ),
        )?;
    }
    for (dir, fixture) in &findings.stale {
        problem(
            &mut out,
            format!(
                "stale: {}: the inputs of {} changed since it was recorded (parity golden record --fixture …)",
                show(dir),
                show(fixture)
            ),
        )?;
    }
    for dir in &findings.edited {
        problem(
            &mut out,
            format!(
                "edited: {} no longer holds what was recorded (its content hash differs); re-record it or accept a reviewed change",
                show(dir)
            ),
        )?;
    }
    for dir in &findings.pending {
        problem(
            &mut out,
            format!(
                "pending: {} awaits review (parity golden review, or accept/reject)",
                show(dir)
            ),
        )?;
    }
    for dir in &findings.orphan_pending {
        problem(
            &mut out,
            format!(
                "orphan: pending change {} has no golden (parity golden prune removes it)",
                show(dir)
            ),
        )?;
    }
    for (dir, why) in &findings.unreadable {
        problem(&mut out, format!("unreadable: {}: {why}", show(dir)))?;
    }
    if let Some(why) = &findings.log {
        problem(
            &mut out,
            format!("review log: {why}; the log is append-only, restore it from version control"),
        )?;
    }
    for dir in &findings.leftovers {
        problem(
            &mut out,
            format!(
                "leftover: {} is what an interrupted recording left (parity golden prune removes it)",
                show(dir)
            ),
        )?;
    }
    if !findings.missing.is_empty() {
        writeln!(
            out,
            "{DIM}{} missing: {}{DIM:#}",
            crate::units::plural(findings.missing.len(), "golden"),
            findings.missing.join(", ")
        )?;
    }
    let verdict = if problems == 0 {
        format!("{PASS}ok{PASS:#}")
    } else {
        format!(
            "{FAIL}{}{FAIL:#}",
            crate::units::plural(problems, "problem")
        )
    };
    writeln!(
        out,
        "{verdict}: {} current in {}",
        crate::units::plural(findings.current, "golden"),
        show(&store.dir)
    )?;
    Ok(if problems == 0 {
        exit_code::OK
    } else {
        exit_code::DIFFERENT
    })
}

fn prune(args: PruneArgs) -> anyhow::Result<i32> {
    if !args.dry_run {
        refuse_in_ci("golden prune")?;
    }
    let (config, store) = open(&args.store)?;
    let findings = inspect(&config, &store)?;
    let doomed: Vec<(&str, &PathBuf)> = findings
        .orphans
        .iter()
        .map(|d| ("golden with no fixture", d))
        .chain(
            findings
                .orphan_pending
                .iter()
                .map(|d| ("pending change with no golden", d)),
        )
        .chain(
            findings
                .leftovers
                .iter()
                .map(|d| ("leftover of an interrupted recording", d)),
        )
        .collect();
    let mut out = crate::cli::output::stdout();
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    // Removing a golden changes the reference: it is logged first, like any other change.
    let removed_goldens: Vec<String> = findings.orphans.iter().map(|d| shown(&config, d)).collect();
    if !args.dry_run {
        review::log(
            &store,
            Decision::Prune,
            "its fixture no longer exists",
            &removed_goldens,
        )
        .context("nothing was pruned: every removal of a golden is logged first")?;
    }
    for (why, dir) in &doomed {
        if !args.dry_run {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot remove {}", dir.display()))?;
        }
        writeln!(out, "{verb} {} ({why})", shown(&config, dir))?;
    }
    if doomed.is_empty() {
        writeln!(out, "nothing to prune in {}", shown(&config, &store.dir))?;
    }
    Ok(exit_code::OK)
}
