//! Executing the plan under the performance gate: every case in measured pairs, one process at
//! a time — warm-up, a first pair judged in full, then pairs until the budget verdict is clear
//! (the statistics are [`crate::bench`]'s; the pairs come from [`super::pairs`]).

use indicatif::ProgressBar;

use super::Session;
use super::judge::Judged;
use super::pairs::{FailedPair, RealPairs, pair_of};
use crate::bench::stats::SplitMix64;
use crate::bench::{self, BenchSettings};
use crate::fixture::Case;
use crate::outcome::Verdict;
use crate::runner::{Cancel, CaseRuns};

/// The cases of the plan at `todo` (indices), in turn; judged cases in the order of `todo`,
/// `None` for those the run did not finish. Each case's seed and the correction for multiple
/// comparisons come from the whole plan, so a resumed run measures as the first would have.
pub fn in_pairs(
    runtime: &tokio::runtime::Runtime,
    session: &Session,
    todo: &[usize],
    settings: &BenchSettings,
    cancel: &Cancel,
    progress: &ProgressBar,
) -> Vec<Option<Judged>> {
    let cases = &session.plan.cases;
    let confidence = settings.fixture_confidence(cases.len());
    let mut outcomes = Vec::with_capacity(todo.len());
    for &index in todo {
        let case = &cases[index];
        let seed = settings
            .seed
            .wrapping_add((index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let judged = measure_case(runtime, session, settings, case, cancel, confidence, seed);
        if let Some(judged) = &judged {
            super::report_progress(progress, case, &judged.outcome);
        }
        outcomes.push(judged);
        if cancel.is_cancelled() {
            outcomes.resize_with(todo.len(), || None);
            break;
        }
    }
    outcomes
}

fn measure_case(
    runtime: &tokio::runtime::Runtime,
    session: &Session,
    settings: &BenchSettings,
    case: &Case,
    cancel: &Cancel,
    confidence: f64,
    seed: u64,
) -> Option<Judged> {
    let plan = &session.plan;
    let mut pairs = RealPairs {
        runtime,
        launch: &plan.launch,
        config: &plan.config,
        case,
        cancel,
        today: plan.today,
        runs: 0,
        failed: None,
    };
    pairs.warm_up(settings.warmup).ok()?;
    let dir = plan.launch.case_dir(case);
    if let Some(failed) = pairs.failed.take() {
        return Some(judge_failed_pair(session, case, failed, None));
    }
    let legacy_first = SplitMix64::new(seed).coin();
    let (legacy, candidate) = pairs.run_both(legacy_first).ok()?;
    let first = pair_of(
        legacy_first,
        &legacy.run,
        &candidate.run,
        &Verdict::Identical,
    );
    let runs = CaseRuns {
        dir: dir.clone(),
        legacy: Some(legacy),
        candidate: Some(candidate),
    };
    let mut judged = session.judge(case, runs);
    if !judged.outcome.verdict.is_success() {
        return Some(judged);
    }
    let bench = match bench::measure(&mut pairs, settings, Some(first), confidence, seed) {
        Ok(bench) => bench,
        Err(e) => {
            judged
                .outcome
                .notes
                .push(format!("performance not measured: {e}"));
            return Some(judged);
        }
    };
    if let Some(failed) = pairs.failed.take() {
        return Some(judge_failed_pair(session, case, failed, Some(bench)));
    }
    judged.outcome.bench = Some(bench);
    // The pairs after the first left their outputs behind; a passing case keeps none.
    if judged.outcome.kept_outputs.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Some(judged)
}

/// A case whose sides disagreed on a later run than the first: judged on that run (its outputs
/// are still on disk and are kept), with the pairs measured until then.
fn judge_failed_pair(
    session: &Session,
    case: &Case,
    failed: FailedPair,
    bench: Option<bench::CaseBench>,
) -> Judged {
    let runs = CaseRuns {
        dir: session.plan.launch.case_dir(case),
        legacy: Some(failed.legacy),
        candidate: Some(failed.candidate),
    };
    let mut judged = session.judge(case, runs);
    if failed.number > 1 {
        judged.outcome.notes.push(format!(
            "{} on run {}{} of this case, after {} that agreed: the sides do not behave the same \
             from run to run (parity calibrate shows what varies){}",
            failed.verdict.describe(),
            failed.number,
            if failed.warmup { " (a warm-up)" } else { "" },
            if failed.number == 2 { "one" } else { "runs" },
            if bench.is_some() {
                "; measuring stopped there"
            } else {
                ""
            },
        ));
    }
    judged.outcome.bench = bench;
    judged
}
