//! Scheduling every case: both sides of each case as soon as a process slot is free (at most
//! `jobs` at once), comparison on a blocking thread as each pair finishes, and cancellation that
//! stops waiting cases and kills running ones.

use std::path::{Path, PathBuf};
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

    /// The run directory of a case and both sides' requests in it.
    pub fn requests(&self, case: &Case) -> (PathBuf, SideRequest, SideRequest) {
        let dir = self.case_dir(case);
        let config = &self.config;
        let legacy = SideRequest::render(
            Side::Legacy,
            &config.legacy,
            config,
            case,
            &dir.join("legacy"),
        );
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

/// Runs both sides of every case with at most `plan.jobs` processes at once, and hands each
/// finished pair to `finish` on a blocking thread (comparison is CPU work). `on_done` sees each
/// result as it arrives. Returns the results in case order; cases cut short by cancellation are
/// left out.
pub async fn run_cases<T, F, D>(
    plan: Arc<Plan>,
    cases: Vec<Case>,
    cancel: Cancel,
    finish: F,
    mut on_done: D,
) -> Vec<Option<T>>
where
    T: Send + 'static,
    F: Fn(&Case, &Path, SideResult, SideResult) -> T + Send + Sync + 'static,
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
            let run = |request: SideRequest| {
                let permits = Arc::clone(&permits);
                let cancel = cancel.clone();
                let exe = plan.exe.clone();
                async move {
                    let _permit = tokio::select! {
                        permit = permits.acquire_owned() => permit.ok()?,
                        () = cancel.cancelled() => return None,
                    };
                    Some(run_side(&exe, &request, &cancel).await)
                }
            };
            let (legacy, candidate) = tokio::join!(run(legacy), run(candidate));
            let (Some(legacy), Some(candidate)) = (legacy, candidate) else {
                return (index, None);
            };
            if cancel.is_cancelled()
                && [&legacy.run.status, &candidate.run.status].contains(&&RunStatus::Interrupted)
            {
                return (index, None);
            }
            let result =
                tokio::task::spawn_blocking(move || finish(&case, &dir, legacy, candidate)).await;
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
