//! The plan of a run, resolved once from the configuration and the flags before anything runs
//! (ripgrep's `HiArgs` is the model): which cases, what the candidate is compared against, the
//! performance gate's settings, where reports and outputs go. Flags are merged with the
//! configuration here and nowhere else; every later stage reads the [`Plan`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};

use super::provenance::{self, Origin, SuiteVersions};
use super::resume::{self, Prior};
use crate::bench::stats::SplitMix64;
use crate::bench::{self, BenchSettings, Metric};
use crate::config::{self, Config, Legacy, Suite};
use crate::fixture::{self, Case, Selection};
use crate::golden::{GoldenStore, in_ci};
use crate::outcome::{ShardInfo, SkippedSuite};
use crate::runner::{Launch, Sides};
use crate::shard::{self, ShardRequest};

/// Subdirectory of the report directory holding run outputs.
pub const OUTPUTS_DIR: &str = "outputs";

/// What the candidate is compared against in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Against {
    Legacy,
    Golden,
    Both,
}

impl Against {
    /// The default for a suite: goldens only when there is no legacy to run (absent or
    /// retired), both when goldens exist, else the legacy.
    pub fn default_for(legacy: &Legacy, store: &GoldenStore) -> Against {
        match (legacy.spec().is_some(), store.has_goldens()) {
            (false, _) => Against::Golden,
            (true, true) => Against::Both,
            (true, false) => Against::Legacy,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Against::Legacy => "legacy",
            Against::Golden => "golden",
            Against::Both => "both",
        }
    }

    pub fn runs_legacy(self) -> bool {
        self != Against::Golden
    }

    /// Which sides each case runs.
    pub fn sides(self) -> Sides {
        if self.runs_legacy() {
            Sides::Both
        } else {
            Sides::Candidate
        }
    }
}

/// What the user asked for: the configuration file and the flags of `parity run` or `parity
/// bench`, before anything is resolved.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub config: Option<PathBuf>,
    pub selection: Selection,
    /// `--jobs`; the number of cores when absent.
    pub jobs: Option<usize>,
    /// `--out`: the report directory.
    pub out: Option<PathBuf>,
    pub keep_outputs: bool,
    pub against: Option<Against>,
    /// The performance gate's flags, when the run measures performance.
    pub bench: Option<BenchFlags>,
    /// `--resume`: keep the cases an interrupted run in the same report directory finished.
    pub resume: bool,
    /// `--shard`: run one slice of the cases.
    pub shard: Option<ShardRequest>,
}

/// The performance gate's flags; they override `[bench]`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BenchFlags {
    /// Pairs of runs before the first verdict [default: `[bench] runs`, or 10].
    #[arg(long, value_name = "N")]
    pub runs: Option<usize>,
    /// Most pairs per fixture while a verdict is inconclusive [default: `[bench] max_runs`, or 60].
    #[arg(long, value_name = "N")]
    pub max_runs: Option<usize>,
    /// Warm-up runs of each side per fixture, not measured [default: `[bench] warmup`, or 1].
    #[arg(long, value_name = "N")]
    pub warmup: Option<usize>,
    /// Allowed slowdown of one metric, e.g. `cpu=5%` (repeatable; wall, cpu, memory).
    #[arg(long, value_name = "METRIC=PCT")]
    pub budget: Vec<String>,
    /// Confidence of the whole gate [default: 0.95].
    #[arg(long, value_name = "P")]
    pub confidence: Option<f64>,
    /// Metrics that decide the gate, e.g. `cpu,memory` [default: cpu,memory].
    #[arg(long, value_delimiter = ',', value_name = "METRICS")]
    pub gate: Vec<String>,
    /// Seed of the run order and the bootstrap, to reproduce a run [default: a fresh one,
    /// recorded in results.json].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// An inconclusive budget verdict fails the run (exit 3) instead of warning.
    #[arg(long)]
    pub strict_bench: bool,
}

/// A run, resolved: everything the later stages need, decided once.
#[derive(Debug)]
pub struct Plan {
    pub config: Arc<Config>,
    pub cases: Vec<Case>,
    /// What was asked for, for the results (and to tell a whole run from a selection).
    pub selection: Selection,
    /// What each suite's candidate is compared against (suites may have their own legacy).
    pub against: BTreeMap<String, Against>,
    /// The performance gate, when the run measures it; cases then run one at a time.
    pub bench: Option<BenchSettings>,
    pub report_dir: PathBuf,
    /// How sides are started, and where their outputs go (`<report dir>/outputs`).
    pub launch: Arc<Launch>,
    pub store: GoldenStore,
    /// `--keep-outputs`: every case keeps its outputs, not only failing ones.
    pub keep_all: bool,
    /// Pending golden updates are written (never in CI).
    pub write_pending: bool,
    /// Each covered suite's sides' versions (from their `version_cmd`), asked once per run.
    pub versions: BTreeMap<String, SuiteVersions>,
    /// Each suite's legacy version, where it is known: pending golden updates recorded from
    /// the legacy carry it.
    pub legacy_versions: BTreeMap<String, String>,
    /// The repository, who runs it, the configuration's path for people (for sign-off).
    pub origin: Origin,
    /// Rules and waivers past this date no longer apply.
    pub today: NaiveDate,
    /// What the interrupted run this one resumes finished (`--resume`).
    pub prior: Option<Prior>,
    /// The shard this run is, with the whole run's size.
    pub shard: Option<ShardInfo>,
    /// Selected suites whose `requires` failed: not run, reported as skipped.
    pub skipped: Vec<SkippedSuite>,
    /// Units the performance gate measures in the whole run (every shard): its correction for
    /// multiple comparisons counts them all, so sharding never loosens the gate.
    pub units_total: usize,
}

impl Plan {
    /// Resolves `request` against the configuration it names (or the one found from `cwd`).
    pub fn resolve(request: Request, cwd: &Path) -> anyhow::Result<Plan> {
        let config = Arc::new(load_config(request.config.as_deref(), cwd)?);
        let all = fixture::select(&config, &request.selection)?;
        let (all, skipped) = skip_unready(&config, all);
        let units_total = super::measure::units(&all);
        let (cases, shard) = match request.shard {
            None => (all, None),
            Some(asked) => {
                let shard = match asked {
                    ShardRequest::Fixed(shard) => shard,
                    ShardRequest::Auto => {
                        let shard = shard::from_env(&|name| std::env::var(name).ok())?;
                        if let Err(e) = shard::touch_bazel_status() {
                            eprintln!("warning: cannot touch TEST_SHARD_STATUS_FILE: {e}");
                        }
                        shard
                    }
                };
                let info = ShardInfo {
                    shard,
                    cases: all.len(),
                    units: units_total,
                };
                (shard.select(all), Some(info))
            }
        };
        let store = GoldenStore::new(&config.golden_dir);
        let against = against(&config, &store, &request, &cases)?;
        let mut bench = request
            .bench
            .as_ref()
            .map(|flags| bench_settings(&config, flags))
            .transpose()?;
        let write_pending = !in_ci();
        let versions = provenance::versions(&config, suites_of(&config, &cases), |suite| {
            against.get(suite).is_none_or(|a| a.runs_legacy())
        });
        let legacy_versions = versions
            .iter()
            .filter_map(|(suite, v)| Some((suite.clone(), v.legacy.clone()?.ok()?)))
            .collect();
        let report_dir = request
            .out
            .as_ref()
            .map_or_else(|| config.report.dir.clone(), |dir| cwd.join(dir));
        let origin = Origin::collect(&config, &report_dir, cwd);
        let prior = if request.resume {
            resume::read(
                &report_dir,
                &config,
                &request.selection,
                &cases,
                bench.is_some(),
            )?
        } else {
            None
        };
        // A resumed run measures with the seed of the run it continues, unless told otherwise.
        if let (Some(settings), Some(seed)) = (&mut bench, prior.as_ref().and_then(|p| p.seed))
            && request.bench.as_ref().is_some_and(|f| f.seed.is_none())
        {
            settings.seed = seed;
        }
        let exe = std::env::current_exe()
            .context("cannot locate the parity binary to start the measuring helper")?;
        let jobs = if bench.is_some() {
            1
        } else {
            jobs(request.jobs)
        };
        let launch = Arc::new(Launch {
            config: Arc::clone(&config),
            exe,
            work_dir: report_dir.join(OUTPUTS_DIR),
            jobs,
            running: Default::default(),
        });
        Ok(Plan {
            config,
            cases,
            selection: request.selection,
            against,
            bench,
            report_dir,
            launch,
            store,
            keep_all: request.keep_outputs,
            write_pending,
            versions,
            legacy_versions,
            origin,
            today: Utc::now().date_naive(),
            prior,
            shard,
            skipped,
            units_total,
        })
    }

    /// What `suite`'s candidate is compared against.
    pub fn against_of(&self, suite: &str) -> Against {
        self.against.get(suite).copied().unwrap_or(Against::Legacy)
    }

    /// Which sides each case runs.
    pub fn sides(&self) -> crate::runner::SidesOf {
        let against = self.against.clone();
        Arc::new(move |case: &Case| {
            against
                .get(&case.fixture.suite)
                .copied()
                .unwrap_or(Against::Legacy)
                .sides()
        })
    }

    /// True when the plan covers the whole configured run: no suite, fixture or variant was
    /// picked and it is not a shard (only such a run can show that a rule is not needed).
    pub fn whole_run(&self) -> bool {
        !self.narrowed() && self.shard.is_none()
    }

    /// True when suites, fixtures or variants were picked (a shard aside).
    pub fn narrowed(&self) -> bool {
        let s = &self.selection;
        !(s.suites.is_empty() && s.fixtures.is_empty() && s.variants.is_empty())
    }
}

/// Loads `path`, or the parity.toml found from `cwd` up.
pub fn load_config(path: Option<&Path>, cwd: &Path) -> anyhow::Result<Config> {
    let path = match path {
        Some(path) => cwd.join(path),
        None => config::discover(cwd)?,
    };
    Ok(config::load(&path)?)
}

/// `--jobs`, or the number of cores; fewer, with a warning, when the file descriptor limit
/// cannot hold that many runs at once.
pub fn jobs(asked: Option<usize>) -> usize {
    let wanted = asked
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let (jobs, why) = crate::runner::limits::fit_jobs(wanted);
    if let Some(why) = why {
        anstream::eprintln!("warning: {why}");
    }
    jobs
}

/// What each suite's candidate is compared against: `--against`, else the legacy when
/// measuring performance, else the default for the suite's legacy and the goldens.
fn against(
    config: &Config,
    store: &GoldenStore,
    request: &Request,
    cases: &[Case],
) -> anyhow::Result<BTreeMap<String, Against>> {
    let measuring = request.bench.is_some();
    let mut chosen = BTreeMap::new();
    for suite in suites_of(config, cases) {
        let against = match (request.against, measuring) {
            (Some(against), _) => against,
            (None, true) => Against::Legacy,
            (None, false) => Against::default_for(&suite.legacy, store),
        };
        if against.runs_legacy()
            && let Some(state) = suite.legacy.why_not()
        {
            let whose = if suite.own_legacy {
                format!("suite `{}`'s own legacy", suite.name)
            } else {
                "the legacy".to_owned()
            };
            if request.against.is_none() {
                bail!(
                    "the performance gate times the candidate against {whose}, which is {state} in {}; \
                     there is nothing to measure against",
                    config.path.display()
                );
            }
            bail!(
                "--against {}: {whose} is {state} in {}; compare against goldens (--against golden)",
                against.as_str(),
                config.path.display()
            );
        }
        if measuring && !against.runs_legacy() {
            bail!(
                "the performance gate times the legacy against the candidate; it cannot run against goldens only"
            );
        }
        chosen.insert(suite.name.clone(), against);
    }
    Ok(chosen)
}

/// The first suite among `cases` whose legacy does not run, and why (`retired`, `not
/// configured`).
pub fn without_legacy<'c>(config: &'c Config, cases: &[Case]) -> Option<(&'c str, &'static str)> {
    suites_of(config, cases).find_map(|suite| Some((suite.name.as_str(), suite.legacy.why_not()?)))
}

/// The suites of `cases`, each once, in order.
fn suites_of<'c>(config: &'c Config, cases: &[Case]) -> impl Iterator<Item = &'c Suite> {
    let mut names: Vec<&str> = cases.iter().map(|c| c.fixture.suite.as_str()).collect();
    names.dedup();
    names.into_iter().filter_map(|name| config.suite(name))
}

/// Each suite's legacy version among `cases` (from its `version_cmd`, run in the
/// configuration's directory), by suite; a suite whose legacy has none is left out.
pub fn legacy_versions(
    config: &Config,
    cases: &[Case],
) -> Result<BTreeMap<String, String>, String> {
    let mut versions = BTreeMap::new();
    for suite in suites_of(config, cases) {
        if let Some(cmd) = suite.legacy.spec().and_then(|s| s.version_cmd.as_ref()) {
            let version = crate::runner::version_of(cmd, &config.base_dir)
                .map_err(|e| format!("suite `{}`: {e}", suite.name))?;
            versions.insert(suite.name.clone(), version);
        }
    }
    Ok(versions)
}

/// `[bench]` overlaid with the flags.
fn bench_settings(config: &Config, flags: &BenchFlags) -> anyhow::Result<BenchSettings> {
    let mut settings = config.bench.clone();
    settings.runs = flags.runs.unwrap_or(settings.runs);
    settings.max_runs = flags.max_runs.unwrap_or(settings.max_runs);
    if settings.runs < bench::MIN_RUNS {
        bail!("--runs must be at least {}", bench::MIN_RUNS);
    }
    if settings.max_runs < settings.runs {
        bail!(
            "--max-runs ({}) must be at least the runs ({})",
            settings.max_runs,
            settings.runs
        );
    }
    settings.warmup = flags.warmup.unwrap_or(settings.warmup);
    for spec in &flags.budget {
        let parsed = spec
            .split_once('=')
            .and_then(|(m, b)| Some((Metric::parse(m.trim())?, config::parse_budget(b)?)));
        let Some((metric, budget)) = parsed else {
            bail!("--budget `{spec}`: write METRIC=PCT, e.g. cpu=5% (metrics: wall, cpu, memory)");
        };
        settings.budgets.insert(metric, budget);
    }
    if let Some(confidence) = flags.confidence {
        if !bench::confidence_ok(confidence) {
            bail!("--confidence is a probability between 0.5 and 1, e.g. 0.95");
        }
        settings.confidence = confidence;
    }
    if !flags.gate.is_empty() {
        settings.gate = flags
            .gate
            .iter()
            .map(|m| {
                Metric::parse(m.trim()).with_context(|| {
                    format!("--gate: unknown metric `{m}`; use wall, cpu or memory")
                })
            })
            .collect::<anyhow::Result<_>>()?;
    }
    settings.strict = flags.strict_bench;
    settings.seed = flags.seed.or(config.bench_seed).unwrap_or_else(fresh_seed);
    Ok(settings)
}

/// A seed nobody chose: the clock and the process id.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    SplitMix64::new(nanos ^ u64::from(std::process::id())).next_u64()
}

/// Runs the `requires` command of each suite among `cases` once; the cases of a suite whose
/// command fails are left out, and the suite is reported skipped (with a notice now).
fn skip_unready(config: &Config, cases: Vec<Case>) -> (Vec<Case>, Vec<SkippedSuite>) {
    let mut checked: BTreeMap<String, Option<SkippedSuite>> = BTreeMap::new();
    for case in &cases {
        let name = &case.fixture.suite;
        if checked.contains_key(name) {
            continue;
        }
        let skipped = config
            .suite(name)
            .and_then(|suite| Some((suite, suite.requires.as_ref()?)))
            .and_then(|(suite, requires)| {
                let reason =
                    crate::runner::run_quick(requires, &config.base_dir, "`requires`", crate::runner::QUICK_TIMEOUT)
                        .err()?;
                anstream::eprintln!(
                    "notice: suite `{}` skipped: {reason} (its `requires` in {}; it runs where that succeeds)",
                    suite.name,
                    config.path.display()
                );
                Some(SkippedSuite {
                    suite: suite.name.clone(),
                    requires: requires.clone(),
                    reason,
                })
            });
        checked.insert(name.clone(), skipped);
    }
    let skipped: Vec<SkippedSuite> = checked.into_values().flatten().collect();
    let cases = cases
        .into_iter()
        .filter(|c| !skipped.iter().any(|s| s.suite == c.fixture.suite))
        .collect();
    (cases, skipped)
}
