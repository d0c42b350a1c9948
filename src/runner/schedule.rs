//! Scheduling every case: both sides of each case as soon as a process slot is free (at most
//! `jobs` at once), each case's runs handed over as they finish, and cancellation that stops
//! waiting cases and kills running ones.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, watch};

use super::process::Place;
use super::{RunStatus, Side, SideRequest, SideResult};
use crate::config::{Config, SideSpec};
use crate::fixture::{Case, Step};

/// A cancellation flag every run watches; set once by Ctrl-C.
#[derive(Debug, Clone)]
pub struct Cancel {
    sender: Arc<watch::Sender<bool>>,
    receiver: watch::Receiver<bool>,
}

impl Default for Cancel {
    fn default() -> Self {
        let (sender, receiver) = watch::channel(false);
        Cancel {
            sender: Arc::new(sender),
            receiver,
        }
    }
}

impl Cancel {
    pub fn cancel(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Completes once cancelled.
    pub async fn cancelled(&self) {
        let mut receiver = self.receiver.clone();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = receiver.wait_for(|cancelled| *cancelled).await;
    }
}

/// How sides are started: the configuration, the measuring helper and where runs go.
#[derive(Debug, Clone)]
pub struct Launch {
    pub config: Arc<Config>,
    /// The parity binary, started in helper mode for every run.
    pub exe: PathBuf,
    /// Where run directories are created.
    pub work_dir: PathBuf,
    pub jobs: usize,
    /// The cases running now, for whoever reports progress.
    pub running: Arc<Running>,
}

/// The cases whose sides are running now, and since when.
#[derive(Debug, Default)]
pub struct Running {
    cases: std::sync::Mutex<std::collections::BTreeMap<usize, (String, std::time::Instant)>>,
}

impl Running {
    fn start(&self, index: usize, label: String) {
        if let Ok(mut cases) = self.cases.lock() {
            cases
                .entry(index)
                .or_insert_with(|| (label, std::time::Instant::now()));
        }
    }

    fn end(&self, index: usize) {
        if let Ok(mut cases) = self.cases.lock() {
            cases.remove(&index);
        }
    }

    /// The cases running for longer than `limit`, the longest first.
    pub fn longer_than(&self, limit: std::time::Duration) -> Vec<(String, std::time::Duration)> {
        let Ok(cases) = self.cases.lock() else {
            return Vec::new();
        };
        let mut slow: Vec<(String, std::time::Duration)> = cases
            .values()
            .map(|(label, since)| (label.clone(), since.elapsed()))
            .filter(|(_, elapsed)| *elapsed > limit)
            .collect();
        slow.sort_by_key(|(_, elapsed)| std::cmp::Reverse(*elapsed));
        slow
    }
}

impl Launch {
    /// Runs one side, then converts its outputs and runs its suite's teardown (see
    /// [`super::convert`]).
    pub async fn run(&self, request: &SideRequest, cancel: &Cancel) -> SideResult {
        super::convert::run_and_follow(&self.exe, &self.config, request, cancel).await
    }

    /// The directory of one case: `<work>/<suite>/<fixture id>[@variant]`.
    pub fn case_dir(&self, case: &Case) -> PathBuf {
        case.id().dir_in(&self.work_dir)
    }

    /// A side's `{state}` directory for a case: kept across the case's steps, never shared
    /// with the other side, another case or another variant.
    pub fn state_dir(&self, case: &Case, side: Side) -> PathBuf {
        self.case_dir(case).join("state").join(side.as_str())
    }

    /// The run directory of a case (or of one of its steps) and each side's request in it, from
    /// the case's suite (its own sides, or the top-level ones); no legacy request when the
    /// suite's legacy does not run.
    pub fn requests(
        &self,
        case: &Case,
        step: Option<&Step>,
    ) -> (PathBuf, Option<SideRequest>, SideRequest) {
        let case_dir = self.case_dir(case);
        let dir = step.map_or_else(|| case_dir.clone(), |s| case_dir.join(&s.name));
        let config = &self.config;
        let suite = config.suite(&case.fixture.suite);
        let request = |side: Side, spec: &SideSpec| {
            let place = Place {
                step,
                dir: &dir.join(side.as_str()),
                state: &self.state_dir(case, side),
            };
            SideRequest::render(side, spec, config, case, place)
        };
        let legacy = suite
            .map_or(&config.legacy, |s| &s.legacy)
            .spec()
            .map(|spec| request(Side::Legacy, spec));
        // Validation guarantees every suite a candidate: its own or the top-level one.
        let candidate = suite
            .map(|s| &s.candidate)
            .or(config.candidate.as_ref())
            .map(|spec| request(Side::Candidate, spec))
            .unwrap_or_else(|| SideRequest {
                side: Side::Candidate,
                argv: Vec::new(),
                env: Vec::new(),
                cwd: config.base_dir.clone(),
                timeout: crate::config::DEFAULT_TIMEOUT,
                dir: dir.join("candidate"),
                state: self.state_dir(case, Side::Candidate),
                capture_limit: super::CAPTURE_LIMIT,
                convert: false,
                teardown: None,
                vars: crate::config::RunVars::default(),
            });
        (dir, legacy, candidate)
    }
}

/// Which sides a pass over the cases runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sides {
    Both,
    /// Recording goldens.
    Legacy,
    /// Comparing against goldens only.
    Candidate,
}

/// One case's runs, as far as the pass ran them.
#[derive(Debug)]
pub struct CaseRuns {
    /// The case's directory.
    pub dir: PathBuf,
    /// One element for a case without steps; for a scenario, the steps that ran, in order
    /// (after a step where a side failed, the rest do not run).
    pub steps: Vec<StepRuns>,
}

/// The runs of one step (or of a case without steps).
#[derive(Debug)]
pub struct StepRuns {
    /// The step's name; `None` for a case without steps.
    pub step: Option<String>,
    pub legacy: Option<SideResult>,
    pub candidate: Option<SideResult>,
}

impl StepRuns {
    /// True when every side that ran succeeded: the next step may run.
    fn went_well(&self) -> bool {
        [&self.legacy, &self.candidate]
            .into_iter()
            .flatten()
            .all(|r| r.run.status.is_success())
    }
}

/// Which sides a pass runs for each case.
pub type SidesOf = Arc<dyn Fn(&Case) -> Sides + Send + Sync>;

/// Runs the chosen sides of every case with at most `launch.jobs` processes at once, and sends
/// each case's runs, with its index, as soon as they are all done. Cases cut short by
/// cancellation (a side interrupted, or never started) are not sent: they were not run. The
/// channel closes when every case is sent or left out.
///
/// Sides start strictly in case order, a case's legacy and candidate one after the other, so
/// the two runs of a case happen close together and an interruption leaves whole cases behind
/// it, never a case with one side run. A scenario's later steps start when its earlier ones
/// end (each side's `{state}` carries over), queued behind the runs already waiting; after a
/// step where a side failed, its later steps do not run. Nothing here judges: that is the
/// caller's.
pub async fn run_cases(
    launch: Arc<Launch>,
    cases: Vec<Case>,
    sides: SidesOf,
    cancel: Cancel,
) -> mpsc::UnboundedReceiver<(usize, CaseRuns)> {
    let permits = Arc::new(Semaphore::new(launch.jobs.max(1)));
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for (index, case) in cases.into_iter().enumerate() {
            let sides = sides(&case);
            let dir = launch.case_dir(&case);
            // A case starts from empty states (a resumed run may find a stopped one's).
            let _ = std::fs::remove_dir_all(dir.join("state"));
            let first = start_step(&launch, &case, 0, sides, &permits, &cancel).await;
            launch.running.start(index, case.label());
            let (launch, permits, cancel, done) = (
                Arc::clone(&launch),
                Arc::clone(&permits),
                cancel.clone(),
                done_tx.clone(),
            );
            let stopped = cancel.is_cancelled();
            tokio::spawn(async move {
                let mut steps = Vec::new();
                let mut started = first;
                loop {
                    let Some(step) = collect_step(started, &cancel).await else {
                        launch.running.end(index);
                        return;
                    };
                    let next = steps.len() + 1;
                    let went_well = step.went_well();
                    steps.push(step);
                    if !went_well || next >= case.steps.len() {
                        break;
                    }
                    started = start_step(&launch, &case, next, sides, &permits, &cancel).await;
                }
                launch.running.end(index);
                let _ = done.send((index, CaseRuns { dir, steps }));
            });
            if stopped {
                break;
            }
        }
    });
    done_rx
}

/// The runs of one step, started.
struct Started {
    step: Option<String>,
    wanted: usize,
    runs: Vec<(Side, tokio::task::JoinHandle<SideResult>)>,
}

/// Starts the sides of step `index` of `case` (the case itself when it has no steps), each as
/// soon as a process slot is free; stops starting when cancelled.
async fn start_step(
    launch: &Arc<Launch>,
    case: &Case,
    index: usize,
    sides: Sides,
    permits: &Arc<Semaphore>,
    cancel: &Cancel,
) -> Started {
    let step = case.steps.get(index);
    let (_, legacy, candidate) = launch.requests(case, step);
    let legacy = legacy.filter(|_| sides != Sides::Candidate);
    let candidate = (sides != Sides::Legacy).then_some(candidate);
    let requests: Vec<SideRequest> = [legacy, candidate].into_iter().flatten().collect();
    let wanted = requests.len();
    let mut runs = Vec::new();
    for request in requests {
        let permit = tokio::select! {
            biased;
            () = cancel.cancelled() => None,
            permit = Arc::clone(permits).acquire_owned() => permit.ok(),
        };
        let Some(permit) = permit else { break };
        let (launch, cancel) = (Arc::clone(launch), cancel.clone());
        runs.push((
            request.side,
            tokio::spawn(async move {
                let result = launch.run(&request, &cancel).await;
                drop(permit);
                result
            }),
        ));
    }
    Started {
        step: step.map(|s| s.name.clone()),
        wanted,
        runs,
    }
}

/// Waits for a step's runs, unless cancellation cut it short.
async fn collect_step(started: Started, cancel: &Cancel) -> Option<StepRuns> {
    let (mut legacy, mut candidate) = (None, None);
    let complete = started.runs.len() == started.wanted;
    for (side, handle) in started.runs {
        let result = handle.await.ok();
        match side {
            Side::Legacy => legacy = result,
            Side::Candidate => candidate = result,
        }
    }
    let interrupted = [&legacy, &candidate]
        .into_iter()
        .flatten()
        .any(|r| r.run.status == RunStatus::Interrupted);
    if cancel.is_cancelled() && (interrupted || !complete) {
        return None;
    }
    Some(StepRuns {
        step: started.step,
        legacy,
        candidate,
    })
}
