//! Executing the plan: every case's runs from the runner, each judged on a blocking thread as
//! soon as it arrives (comparison is CPU work and overlaps the runs still going), its effects
//! applied, and the result reported as progress.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::Session;
use super::progress::Progress;
use crate::fixture::Case;
use crate::runner::{self, Cancel, CaseRuns};

/// The cases of the plan at `todo` (indices), each once, both sides (or the candidate only,
/// against goldens), up to `--jobs` processes at once; judged cases in the order of `todo`,
/// `None` for those the run did not finish.
pub fn in_parallel(
    runtime: &tokio::runtime::Runtime,
    session: &Arc<Session>,
    todo: &[usize],
    cancel: &Cancel,
    progress: &Progress,
) -> Vec<Option<super::judge::Judged>> {
    let plan = &session.plan;
    let cases: Vec<Case> = todo.iter().map(|&i| plan.cases[i].clone()).collect();
    runtime.block_on(async {
        let runs = runner::run_cases(
            Arc::clone(&plan.launch),
            cases.clone(),
            plan.sides(),
            cancel.clone(),
        )
        .await;
        let work = {
            let session = Arc::clone(session);
            move |case: &Case, runs: CaseRuns| session.judge(case, runs)
        };
        each_finished(runs, &cases, work, |case, judged| {
            session.record(judged);
            progress.finished(case, &judged.outcome);
        })
        .await
    })
}

/// Runs `work` on each case's runs as they arrive from `runs` (on blocking threads, so several
/// cases are compared at once), calls `on_done` with each result as it is ready, and returns
/// the results in case order (`None` for cases never sent: not run).
pub async fn each_finished<T, F, D>(
    mut runs: mpsc::UnboundedReceiver<(usize, CaseRuns)>,
    cases: &[Case],
    work: F,
    mut on_done: D,
) -> Vec<Option<T>>
where
    T: Send + 'static,
    F: Fn(&Case, CaseRuns) -> T + Send + Sync + 'static,
    D: FnMut(&Case, &T),
{
    let work = Arc::new(work);
    let mut results: Vec<Option<T>> = (0..cases.len()).map(|_| None).collect();
    let mut working = JoinSet::new();
    let mut arriving = true;
    while arriving || !working.is_empty() {
        tokio::select! {
            received = runs.recv(), if arriving => match received {
                Some((index, case_runs)) => {
                    let (work, case) = (Arc::clone(&work), cases[index].clone());
                    working.spawn_blocking(move || (index, work(&case, case_runs)));
                }
                None => arriving = false,
            },
            Some(done) = working.join_next(), if !working.is_empty() => {
                // A panicking judge loses its case (reported as not run), not the run.
                if let Ok((index, result)) = done {
                    on_done(&cases[index], &result);
                    results[index] = Some(result);
                }
            }
        }
    }
    results
}
