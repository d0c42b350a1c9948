//! Scheduling every case: both sides of each case as soon as a process slot is free (at most
//! `jobs` at once), comparison on a blocking thread as each pair finishes, and cancellation that
//! stops waiting cases and kills running ones.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{Semaphore, watch};

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

/// Everything the scheduler needs besides the cases.
#[derive(Debug, Clone)]
pub struct Plan {
    pub config: Arc<Config>,
    /// The parity binary, started in helper mode for every run.
    pub exe: PathBuf,
    /// Where run directories are created.
    pub work_dir: PathBuf,
    pub jobs: usize,
}

impl Plan {
    /// The directory of one case: `<work>/<suite>/<fixture id>[@variant]`.
    pub fn case_dir(&self, case: &Case) -> PathBuf {
        let mut dir = self
            .work_dir
            .join(&case.fixture.suite)
            .join(&case.fixture.id);
        if let Some(variant) = case.variant_name() {
            let mut name = dir.file_name().unwrap_or_default().to_os_string();
            name.push(format!("@{variant}"));
            dir.set_file_name(name);
        }
        dir
    }

    /// The run directory of a case and each side's request in it (no legacy request when the
    /// configuration has no legacy to run).
    pub fn requests(&self, case: &Case) -> (PathBuf, Option<SideRequest>, SideRequest) {
        let dir = self.case_dir(case);
        let config = &self.config;
        let legacy = config
            .legacy
            .as_ref()
            .map(|spec| SideRequest::render(Side::Legacy, spec, config, case, &dir.join("legacy")));
        let candidate = SideRequest::render(
            Side::Candidate,
            &config.candidate,
            config,
            case,
            &dir.join("candidate"),
        );
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

/// Runs the chosen sides of every case with at most `plan.jobs` processes at once, and hands
/// each finished case to `finish` on a blocking thread (comparison is CPU work). `on_done` sees
/// each result as it arrives. Returns the results in case order; cases cut short by cancellation
/// are left out.
pub async fn run_cases<T, F, D>(
    plan: Arc<Plan>,
    cases: Vec<Case>,
    sides: Sides,
    cancel: Cancel,
    finish: F,
    mut on_done: D,
) -> Vec<Option<T>>
where
    T: Send + 'static,
    F: Fn(&Case, CaseRuns) -> T + Send + Sync + 'static,
    D: FnMut(&Case, &T),
{
    let permits = Arc::new(Semaphore::new(plan.jobs.max(1)));
    let finish = Arc::new(finish);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, case) in cases.iter().cloned().enumerate() {
        let plan = Arc::clone(&plan);
        let permits = Arc::clone(&permits);
        let cancel = cancel.clone();
        let finish = Arc::clone(&finish);
        tasks.spawn(async move {
            let (dir, legacy, candidate) = plan.requests(&case);
            let legacy = legacy.filter(|_| sides != Sides::Candidate);
            let candidate = (sides != Sides::Legacy).then_some(candidate);
            let run = |request: Option<SideRequest>| {
                let permits = Arc::clone(&permits);
                let cancel = cancel.clone();
                let exe = plan.exe.clone();
                async move {
                    let request = request?;
                    let _permit = tokio::select! {
                        permit = permits.acquire_owned() => permit.ok()?,
                        () = cancel.cancelled() => return None,
                    };
                    Some(run_side(&exe, &request, &cancel).await)
                }
            };
            let (legacy, candidate) = tokio::join!(run(legacy), run(candidate));
            let interrupted = |r: &Option<SideResult>| {
                r.as_ref()
                    .is_some_and(|r| r.run.status == RunStatus::Interrupted)
            };
            if cancel.is_cancelled()
                && (interrupted(&legacy)
                    || interrupted(&candidate)
                    || (legacy.is_none() && candidate.is_none()))
            {
                return (index, None);
            }
            let runs = CaseRuns {
                dir,
                legacy,
                candidate,
            };
            let result = tokio::task::spawn_blocking(move || finish(&case, runs)).await;
            (index, result.ok())
        });
    }
    let mut results: Vec<Option<T>> = (0..cases.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, Some(result))) = joined {
            on_done(&cases[index], &result);
            results[index] = Some(result);
        }
    }
    results
}
