//! Scheduling every case: both sides of each case as soon as a process slot is free (at most
//! `jobs` at once), each case's runs handed over as they finish, and cancellation that stops
//! waiting cases and kills running ones.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, watch};

use super::{RunStatus, Side, SideRequest, SideResult, run_side};
use crate::config::Config;
use crate::fixture::Case;

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
}

impl Launch {
    /// The directory of one case: `<work>/<suite>/<fixture id>[@variant]`.
    pub fn case_dir(&self, case: &Case) -> PathBuf {
        case.id().dir_in(&self.work_dir)
    }

    /// The run directory of a case and each side's request in it (no legacy request when the
    /// configuration has no legacy to run).
    pub fn requests(&self, case: &Case) -> (PathBuf, Option<SideRequest>, SideRequest) {
        let dir = self.case_dir(case);
        let config = &self.config;
        let legacy = config
            .legacy
            .spec()
            .map(|spec| SideRequest::render(Side::Legacy, spec, config, case, &dir.join("legacy")));
        // The suite's candidate: its own, or the top-level one it falls back to.
        let spec = config
            .suite(&case.fixture.suite)
            .map(|suite| &suite.candidate)
            .or(config.candidate.as_ref())
            .expect("a case's suite is in its configuration");
        let candidate =
            SideRequest::render(Side::Candidate, spec, config, case, &dir.join("candidate"));
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
pub struct CaseRuns {
    pub dir: PathBuf,
    pub legacy: Option<SideResult>,
    pub candidate: Option<SideResult>,
}

/// Runs the chosen sides of every case with at most `launch.jobs` processes at once, and sends
/// each case's runs, with its index, as soon as they are all done. Cases cut short by
/// cancellation (a side interrupted, or never started) are not sent: they were not run. Call it
/// from inside the runtime; the channel closes when every case is sent or left out.
///
/// Sides start strictly in case order, a case's legacy and candidate one after the other, so
/// the two runs of a case happen close together and an interruption leaves whole cases behind
/// it, never a case with one side run. Nothing here judges: that is the caller's.
pub async fn run_cases(
    launch: Arc<Launch>,
    cases: Vec<Case>,
    sides: Sides,
    cancel: Cancel,
) -> mpsc::UnboundedReceiver<(usize, CaseRuns)> {
    let permits = Arc::new(Semaphore::new(launch.jobs.max(1)));
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for (index, case) in cases.into_iter().enumerate() {
            let (dir, legacy, candidate) = launch.requests(&case);
            let legacy = legacy.filter(|_| sides != Sides::Candidate);
            let candidate = (sides != Sides::Legacy).then_some(candidate);
            let requests: Vec<SideRequest> = [legacy, candidate].into_iter().flatten().collect();
            let wanted = requests.len();
            let mut started = Vec::new();
            for request in requests {
                let permit = tokio::select! {
                    biased;
                    () = cancel.cancelled() => None,
                    permit = Arc::clone(&permits).acquire_owned() => permit.ok(),
                };
                let Some(permit) = permit else { break };
                let (exe, cancel) = (launch.exe.clone(), cancel.clone());
                started.push((
                    request.side,
                    tokio::spawn(async move {
                        let result = run_side(&exe, &request, &cancel).await;
                        drop(permit);
                        result
                    }),
                ));
            }
            let (case_cancel, done) = (cancel.clone(), done_tx.clone());
            tokio::spawn(async move {
                if let Some(runs) = collect_case(dir, started, wanted, &case_cancel).await {
                    let _ = done.send((index, runs));
                }
            });
            if cancel.is_cancelled() {
                break;
            }
        }
    });
    done_rx
}

/// Waits for a case's runs, unless cancellation cut the case short.
async fn collect_case(
    dir: PathBuf,
    started: Vec<(Side, tokio::task::JoinHandle<SideResult>)>,
    wanted: usize,
    cancel: &Cancel,
) -> Option<CaseRuns> {
    let (mut legacy, mut candidate) = (None, None);
    let complete = started.len() == wanted;
    for (side, handle) in started {
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
    Some(CaseRuns {
        dir,
        legacy,
        candidate,
    })
}
