//! Executing the plan under the performance gate: every case in measured pairs, one process at
//! a time — warm-up, a first pair judged in full, then pairs until the budget verdict is clear
//! (the statistics are [`crate::bench`]'s; the pairs come from [`super::pairs`]). A scenario is
//! run and judged once in full, then each of its steps is measured on its own: every run of a
//! step starts from a fresh state brought there by the steps before it.

use std::sync::Arc;

use super::Session;
use super::execute::each_finished;
use super::judge::Judged;
use super::pairs::{FailedPair, RealPairs, pair_of};
use super::progress::Progress;
use crate::bench::stats::SplitMix64;
use crate::bench::{self, BenchSettings, CaseBench};
use crate::fixture::Case;
use crate::outcome::Verdict;
use crate::runner::{self, Cancel, CaseRuns, StepRuns};

/// How many units the gate measures in `cases`: a case, or each step of a scenario. The
/// correction for multiple comparisons counts them all.
pub fn units(cases: &[Case]) -> usize {
    cases.iter().map(|c| c.steps.len().max(1)).sum()
}

/// The cases of the plan at `todo` (indices), in turn; judged cases in the order of `todo`,
/// `None` for those the run did not finish. Each case's seed and the correction for multiple
/// comparisons come from the whole plan, so a resumed run measures as the first would have.
pub fn in_pairs(
    runtime: &tokio::runtime::Runtime,
    session: &Session,
    todo: &[usize],
    settings: &BenchSettings,
    cancel: &Cancel,
    progress: &Progress,
) -> Vec<Option<Judged>> {
    let cases = &session.plan.cases;
    // The whole run's units, also in a shard: sharding never loosens the gate.
    let confidence = settings.fixture_confidence(session.plan.units_total);
    let mut outcomes = Vec::with_capacity(todo.len());
    for &index in todo {
        let case = &cases[index];
        let seed = settings
            .seed
            .wrapping_add((index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let gate = Gate {
            runtime,
            session,
            settings,
            cancel,
            confidence,
            progress,
        };
        let judged = if case.steps.is_empty() {
            gate.measure_case(case, seed)
        } else {
            gate.measure_scenario(case, seed)
        };
        if let Some(judged) = &judged {
            session.record(judged);
            progress.finished(case, &judged.outcome);
        }
        outcomes.push(judged);
        if cancel.is_cancelled() {
            outcomes.resize_with(todo.len(), || None);
            break;
        }
    }
    outcomes
}

/// What measuring one case needs.
struct Gate<'a> {
    runtime: &'a tokio::runtime::Runtime,
    session: &'a Session,
    settings: &'a BenchSettings,
    cancel: &'a Cancel,
    /// Confidence of each unit's verdicts.
    confidence: f64,
    progress: &'a Progress,
}

impl Gate<'_> {
    fn pairs<'p>(&'p self, case: &'p Case, step: Option<usize>) -> RealPairs<'p> {
        let plan = &self.session.plan;
        RealPairs {
            runtime: self.runtime,
            launch: &plan.launch,
            config: &plan.config,
            case,
            step,
            cancel: self.cancel,
            today: plan.today,
            runs: 0,
            failed: None,
            progress: Some(self.progress),
        }
    }

    fn measure_case(&self, case: &Case, seed: u64) -> Option<Judged> {
        let session = self.session;
        let mut pairs = self.pairs(case, None);
        pairs.warm_up(self.settings.warmup).ok()?;
        let dir = session.plan.launch.case_dir(case);
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
            steps: vec![StepRuns {
                step: None,
                legacy: Some(legacy),
                candidate: Some(candidate),
            }],
        };
        let mut judged = session.judge(case, runs);
        if !judged.outcome.verdict.is_success() {
            return Some(judged);
        }
        let bench = match bench::measure(
            &mut pairs,
            self.settings,
            Some(first),
            self.confidence,
            seed,
        ) {
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

    /// A scenario: run and judged once in full, then each step measured in its own pairs.
    fn measure_scenario(&self, case: &Case, seed: u64) -> Option<Judged> {
        let session = self.session;
        let plan = &session.plan;
        let runs = self.runtime.block_on(async {
            let runs = runner::run_cases(
                Arc::clone(&plan.launch),
                vec![case.clone()],
                plan.sides(),
                self.cancel.clone(),
            )
            .await;
            each_finished(runs, std::slice::from_ref(case), |_, runs| runs, |_, _| {}).await
        });
        let runs = runs.into_iter().next().flatten()?;
        let mut judged = session.judge(case, runs);
        if !judged.outcome.verdict.is_success() {
            return Some(judged);
        }
        for k in 0..case.steps.len() {
            let step_seed = seed.wrapping_add((k as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9));
            let mut pairs = self.pairs(case, Some(k));
            let measured = pairs.warm_up(self.settings.warmup).and_then(|()| {
                if pairs.failed.is_some() {
                    return Err(String::new());
                }
                bench::measure(&mut pairs, self.settings, None, self.confidence, step_seed)
            });
            if self.cancel.is_cancelled() {
                return None;
            }
            if let Some(failed) = pairs.failed.take() {
                let bench = measured.ok();
                rejudge_step(session, case, k, failed, bench, &mut judged);
                return Some(judged);
            }
            match measured {
                Ok(bench) => judged.outcome.steps[k].bench = Some(bench),
                Err(e) => judged.outcome.steps[k]
                    .notes
                    .push(format!("performance not measured: {e}")),
            }
        }
        if judged.outcome.kept_outputs.is_none() {
            let _ = std::fs::remove_dir_all(plan.launch.case_dir(case));
        }
        Some(judged)
    }
}

/// A case whose sides disagreed on a later run than the first: judged on that run (its outputs
/// are still on disk and are kept), with the pairs measured until then.
fn judge_failed_pair(
    session: &Session,
    case: &Case,
    failed: FailedPair,
    bench: Option<CaseBench>,
) -> Judged {
    let number = failed.number;
    let note = unstable(&failed, bench.is_some());
    let runs = CaseRuns {
        dir: session.plan.launch.case_dir(case),
        steps: vec![StepRuns {
            step: None,
            legacy: Some(failed.legacy),
            candidate: Some(failed.candidate),
        }],
    };
    let mut judged = session.judge(case, runs);
    if number > 1 {
        judged.outcome.notes.push(note);
    }
    judged.outcome.bench = bench;
    judged
}

/// Step `k` of a scenario whose sides disagreed on a measured run: the step is judged again on
/// that run (the scenario's verdict is the worst of its steps'), with the pairs measured until
/// then.
fn rejudge_step(
    session: &Session,
    case: &Case,
    k: usize,
    failed: FailedPair,
    bench: Option<CaseBench>,
    judged: &mut Judged,
) {
    let note = unstable(&failed, bench.is_some());
    let step = case.steps[k].clone();
    let alone = Case {
        steps: vec![step.clone()],
        ..case.clone()
    };
    let runs = CaseRuns {
        dir: session.plan.launch.case_dir(case),
        steps: vec![StepRuns {
            step: Some(step.name),
            legacy: Some(failed.legacy),
            candidate: Some(failed.candidate),
        }],
    };
    let again = session.judge(&alone, runs);
    let outcome = &mut judged.outcome;
    if let Some(mut redone) = again.outcome.steps.into_iter().next() {
        redone.notes.push(note);
        redone.bench = bench;
        outcome.steps[k] = redone;
    }
    outcome.verdict = Verdict::worst(outcome.steps.iter().filter_map(|s| s.verdict.as_ref()));
    outcome.kept_outputs = again.outcome.kept_outputs.or(outcome.kept_outputs.take());
}

/// Why a later run that disagreed matters: the sides do not behave the same from run to run.
fn unstable(failed: &FailedPair, measured: bool) -> String {
    format!(
        "{} on run {}{} of this case, after {} that agreed: the sides do not behave the same \
         from run to run (parity calibrate shows what varies){}",
        failed.verdict.describe(),
        failed.number,
        if failed.warmup { " (a warm-up)" } else { "" },
        if failed.number == 2 { "one" } else { "runs" },
        if measured {
            "; measuring stopped there"
        } else {
            ""
        },
    )
}
