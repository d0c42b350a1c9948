//! `parity minimize`: shrink a failing case's fixture while the same difference persists, with
//! delta debugging (Zeller & Hildebrandt, "Simplifying and Isolating Failure-Inducing Input",
//! IEEE Transactions on Software Engineering 28(2), 2002; [`ddmin`]).
//!
//! The flow, data in one direction:
//!
//! ```text
//! results.json + CASE ──find──▶ outcome, Case ──Failure::of──▶ what to keep (a cluster)
//!   fixture ──Input::read──▶ records ──ddmin (each try: write, run both sides, judge)──▶ kept
//!   ──write──▶ DIR/<fixture id> + DIR/minimize.json
//! ```
//!
//! [`failure`] says what "fails the same way" means, [`input`] cuts a fixture into records
//! ([`records`], per format) and writes any subset back, [`ddmin`] is the algorithm, generic
//! over its test; each test is one run of the case's sides on a smaller input
//! ([`crate::flow::single`]), in a temporary work directory that is removed. [`human`] prints
//! the progress and the result. [`minimize`] is the whole of it.

pub mod ddmin;
pub mod failure;
mod find;
pub mod human;
pub mod input;
pub mod records;
pub mod report;
mod trial;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::fixture::Case;
use crate::flow::single::Single;
use crate::runner::Cancel;
use ddmin::{Options, Reduction, Stop};
use failure::{Failure, Unfit};
use input::{Input, Unit};
pub use report::REPORT_FILE;
use trial::{Trial, Tried};

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Request {
    /// A results.json written by `parity run`.
    pub results: PathBuf,
    /// `suite/fixture[variant]`, or a fixture id that names one case.
    pub case: String,
    /// Where the smallest failing input goes: `DIR/<fixture id>`.
    pub out: PathBuf,
    /// Which of the case's clusters to keep (1-based); the largest when absent.
    pub cluster: Option<usize>,
    /// Inputs tried at once.
    pub jobs: usize,
    /// Inputs tried in all (the original's check included).
    pub max_runs: usize,
    /// Replace what is already at `DIR/<fixture id>`.
    pub force: bool,
}

/// Why minimising could not start or finish. Each is exit 2.
#[derive(Debug, thiserror::Error)]
pub enum MinimizeError {
    #[error(
        "{} was written with another configuration than {} now holds ({recorded} then, {now} now); \
         run `parity run` again, then minimize",
        results.display(), config.display()
    )]
    ConfigChanged {
        results: PathBuf,
        config: PathBuf,
        recorded: String,
        now: String,
    },
    #[error("no case `{asked}` in {}; its cases are: {known}", results.display())]
    UnknownCase {
        asked: String,
        results: PathBuf,
        known: String,
    },
    #[error("`{asked}` names several cases; say which: {matches}")]
    Ambiguous { asked: String, matches: String },
    #[error("cannot minimize {case}")]
    Unfit {
        case: String,
        #[source]
        source: Unfit,
    },
    #[error(
        "cannot minimize {case}: the legacy of suite `{suite}` is {why}, and every smaller input is \
         compared with the legacy's run on it"
    )]
    NoLegacy {
        case: String,
        suite: String,
        why: &'static str,
    },
    #[error("the fixture of {case} is no longer in suite `{suite}` of {}", config.display())]
    FixtureGone {
        case: String,
        suite: String,
        config: PathBuf,
    },
    #[error(
        "{case} does not fail the same way when run again on its own fixture (now: {now}); \
         a flaky failure cannot be minimized"
    )]
    NotReproduced { case: String, now: String },
    #[error("{} already exists and is not empty; pass --force to replace it", path.display())]
    OutExists { path: PathBuf },
    #[error("{} is the fixture itself; write the smaller input somewhere else", path.display())]
    OutIsFixture { path: PathBuf },
    #[error("interrupted before the original fixture was checked; nothing was written")]
    Interrupted,
}

/// What minimising found and wrote.
#[derive(Debug)]
pub struct Minimized {
    /// `suite/fixture[variant]`.
    pub case: String,
    pub failure: String,
    /// The smallest failing input found, written (as DIR was given: relative to the current
    /// directory when DIR is).
    pub written: PathBuf,
    /// minimize.json.
    pub report: PathBuf,
    pub original_records: usize,
    pub records: usize,
    /// Files and their records, before and after: `(path, original, kept)` (`None`: kept
    /// whole).
    pub files: Vec<(String, Option<(usize, usize)>)>,
    /// Runs of the case (the original's check included).
    pub runs: usize,
    pub stop: Stop,
    pub elapsed: Duration,
}

impl Minimized {
    /// 0 when the input written is smaller, 1 when the original could not be reduced, 2 when
    /// interrupted (what was found so far is written).
    pub fn exit_code(&self) -> i32 {
        match self.stop {
            Stop::Interrupted => crate::exit_code::TROUBLE,
            Stop::Minimal | Stop::Budget if self.records < self.original_records => {
                crate::exit_code::OK
            }
            Stop::Minimal | Stop::Budget => crate::exit_code::DIFFERENT,
        }
    }
}

/// Minimises the case `request` names: finds it, checks that its failure comes back, runs
/// ddmin over its records, and writes the smallest failing input found and minimize.json.
pub fn minimize(request: &Request, cwd: &Path) -> anyhow::Result<Minimized> {
    let started = Instant::now();
    let found = Found::resolve(request, cwd)?;
    let input = Input::read(&found.case.fixture.path)?;
    let units = input.units();
    let progress = human::Progress::start(&found, &input, request.max_runs);
    let reduction = search(request, &found, &input, &units, &progress);
    progress.finish();
    let reduction = reduction?;
    if found.dest.exists() {
        remove(&found.dest)?;
    }
    input.write(&reduction.kept, &found.dest)?;
    let minimized = Minimized {
        case: found.label.clone(),
        failure: found.failure.describe(),
        written: request.out.join(&found.case.fixture.id),
        report: request.out.join(REPORT_FILE),
        original_records: units.len(),
        records: reduction.kept.len(),
        files: files(&input, &reduction.kept),
        runs: reduction.tests + 1,
        stop: reduction.stop,
        elapsed: started.elapsed(),
    };
    let report = cwd.join(&request.out).join(REPORT_FILE);
    report::write_report(
        &report,
        &minimized,
        &found.case,
        &found.failure,
        &found.results,
    )?;
    Ok(minimized)
}

/// What `request` names, resolved before anything runs.
struct Found {
    results: PathBuf,
    /// `suite/fixture[variant]`.
    label: String,
    case: Case,
    failure: Failure,
    /// The case's clusters, as `--cluster` numbers them.
    clusters: Vec<failure::CaseCluster>,
    config: Arc<crate::config::Config>,
    /// `DIR/<fixture id>`.
    dest: PathBuf,
}

impl Found {
    fn resolve(request: &Request, cwd: &Path) -> anyhow::Result<Found> {
        let results_path = cwd.join(&request.results);
        let results = crate::report::read_results(&results_path)?;
        let config = Arc::new(find::load_config(&results, &results_path)?);
        let outcome = find::find_outcome(&results, &request.case, &results_path)?;
        let label = outcome.label();
        let failure =
            Failure::of(outcome, request.cluster).map_err(|source| MinimizeError::Unfit {
                case: label.clone(),
                source,
            })?;
        let clusters = failure::clusters(outcome);
        let case = find::find_case(&config, outcome)?;
        let dest = cwd.join(&request.out).join(&case.fixture.id);
        find::check_dest(&dest, &case.fixture.path, request.force)?;
        Ok(Found {
            results: results_path,
            label,
            case,
            failure,
            clusters,
            config,
            dest,
        })
    }
}

/// Runs the original once (its failure must come back), then ddmin over `units`, each try in a
/// temporary work directory; Ctrl-C stops it with what was found so far.
fn search(
    request: &Request,
    found: &Found,
    input: &Input,
    units: &[Unit],
    progress: &human::Progress,
) -> anyhow::Result<Reduction<Unit>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let cancel = Cancel::default();
    crate::runner::stop_on_signals(
        &runtime,
        &cancel,
        progress.bar(),
        "the smallest failing input found so far is written",
    );
    let work = tempfile::Builder::new()
        .prefix("parity-minimize-")
        .tempdir()
        .context("cannot create a temporary work directory")?;
    let single = Single {
        config: Arc::clone(&found.config),
        exe: std::env::current_exe()
            .context("cannot locate the parity binary to start the measuring helper")?,
        today: chrono::Utc::now().date_naive(),
        cancel,
    };
    let trial = Trial::new(
        single,
        runtime.handle().clone(),
        &found.case,
        input,
        work.path(),
    );
    let failure = &found.failure;
    let reduction = (|| {
        let original = match trial.run(units) {
            Tried::Ran(outcome) => outcome,
            Tried::Interrupted => return Err(MinimizeError::Interrupted.into()),
            Tried::Trouble => return Err(trial.take_trouble()),
        };
        if !failure.persists_in(&original) {
            return Err(MinimizeError::NotReproduced {
                case: found.label.clone(),
                now: human::how_it_ended(&original),
            }
            .into());
        }
        progress.confirmed();
        let options = Options {
            jobs: request.jobs.max(1),
            max_tests: request.max_runs.saturating_sub(1),
        };
        let test = |kept: &[Unit]| match trial.run(kept) {
            Tried::Ran(outcome) => {
                progress.ran();
                Some(failure.persists_in(&outcome))
            }
            Tried::Interrupted | Tried::Trouble => None,
        };
        let reduction = ddmin::ddmin(units, options, test, |event| progress.event(event));
        match trial.trouble() {
            Some(trouble) => Err(trouble),
            None => Ok(reduction),
        }
    })();
    runtime.shutdown_background();
    reduction
}

fn remove(path: &Path) -> anyhow::Result<()> {
    let removed = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => Ok(()),
    };
    removed.with_context(|| format!("cannot remove {} (--force)", path.display()))
}

/// Each file's records before and after.
fn files(input: &Input, kept: &[Unit]) -> Vec<(String, Option<(usize, usize)>)> {
    input
        .files()
        .into_iter()
        .map(|f| {
            let after = kept.iter().filter(|u| u.file == f.index).count();
            (f.path, f.records.map(|n| (n, after)))
        })
        .collect()
}
