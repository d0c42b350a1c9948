//! The performance gate's real pair source ([`PairSource`] in [`crate::bench`], which is
//! statistics only):  both sides of one case run one after the other (never in
//! parallel with anything else), in the order the gate asks, each through the measuring helper;
//! every pair's outputs are compared (warm-up runs too). A pair whose outputs differ or whose
//! side failed is not a timing of the same work: it is kept, marked invalid, and ends the
//! measuring, and its runs are kept for the case to be judged on — the sides do not behave the
//! same from one run to the next, which is a finding, not noise.

use chrono::NaiveDate;

use crate::bench::{Pair, PairSource, Sample};
use crate::compare::compare_case;
use crate::config::Config;
use crate::fixture::Case;
use crate::outcome::Verdict;
use crate::runner::{Cancel, Launch, Side, SideRequest, SideResult, SideRun};

/// Runs pairs of one case.
pub struct RealPairs<'a> {
    pub runtime: &'a tokio::runtime::Runtime,
    pub launch: &'a Launch,
    pub config: &'a Config,
    pub case: &'a Case,
    /// The scenario step measured (an index into the case's steps): each run of it starts
    /// from a fresh state brought to that step by running the steps before it, unmeasured.
    pub step: Option<usize>,
    pub cancel: &'a Cancel,
    pub today: NaiveDate,
    /// Pairs run so far, warm-ups included.
    pub runs: usize,
    /// The first pair whose sides disagreed: its number (from 1, warm-ups included) and runs.
    pub failed: Option<FailedPair>,
    /// Where to say how many pairs ran.
    pub progress: Option<&'a super::progress::Progress>,
}

/// A pair whose sides disagreed, kept to judge the case on.
pub struct FailedPair {
    pub number: usize,
    pub warmup: bool,
    pub verdict: Verdict,
    pub legacy: SideResult,
    pub candidate: SideResult,
}

impl RealPairs<'_> {
    fn run(&self, request: &SideRequest) -> Result<SideResult, String> {
        if self.cancel.is_cancelled() {
            return Err("interrupted".to_owned());
        }
        let result = self.runtime.block_on(self.launch.run(request, self.cancel));
        if self.cancel.is_cancelled() {
            return Err("interrupted".to_owned());
        }
        Ok(result)
    }

    /// Runs both sides once, in the given order, and counts the pair; returns (legacy,
    /// candidate).
    pub fn run_both(&mut self, legacy_first: bool) -> Result<(SideResult, SideResult), String> {
        self.runs += 1;
        if let Some(progress) = self.progress {
            let step = self
                .step
                .and_then(|k| self.case.steps.get(k))
                .map(|s| format!(" (step {})", s.name))
                .unwrap_or_default();
            progress.message(format!("{}{step}: pair {}", self.case.label(), self.runs));
        }
        let step = self.step.and_then(|k| self.case.steps.get(k));
        let (_, legacy, candidate) = self.launch.requests(self.case, step);
        let Some(legacy) = legacy else {
            return Err(
                "the performance gate needs a legacy to run; this suite has none (retired)"
                    .to_owned(),
            );
        };
        if legacy_first {
            let l = self.prepared(&legacy)?;
            Ok((l, self.prepared(&candidate)?))
        } else {
            let c = self.prepared(&candidate)?;
            Ok((self.prepared(&legacy)?, c))
        }
    }

    /// Runs `request` from the state it needs: for a scenario's step, a fresh state brought
    /// there by the steps before it (unmeasured; one that fails stops the measuring).
    fn prepared(&self, request: &SideRequest) -> Result<SideResult, String> {
        let Some(k) = self.step else {
            return self.run(request);
        };
        let state = self.launch.state_dir(self.case, request.side);
        let _ = std::fs::remove_dir_all(&state);
        for earlier in &self.case.steps[..k] {
            let (_, legacy, candidate) = self.launch.requests(self.case, Some(earlier));
            let replay = match request.side {
                Side::Legacy => legacy,
                Side::Candidate => Some(candidate),
            };
            let Some(replay) = replay else { continue };
            let result = self.run(&replay)?;
            if !result.run.status.is_success() {
                return Err(format!(
                    "the {} failed at step {} while bringing its state to this step: {}",
                    request.side,
                    earlier.name,
                    result.run.status.describe()
                ));
            }
        }
        self.run(request)
    }

    /// Warm-up runs: `n` of each side, alternating, timings dropped (caches, page cache and the
    /// interpreter's first start are not what the gate measures); outputs are still compared.
    pub fn warm_up(&mut self, n: usize) -> Result<(), String> {
        for i in 0..n {
            if self.settled() {
                break;
            }
            self.run_pair(i % 2 == 0, true)?;
        }
        Ok(())
    }

    /// Runs and compares one pair; the first that disagrees is kept in `failed`.
    fn run_pair(&mut self, legacy_first: bool, warmup: bool) -> Result<Pair, String> {
        let (legacy, candidate) = self.run_both(legacy_first)?;
        let comparison = compare_case(
            self.config,
            &self.case.fixture.id,
            ("legacy", &legacy),
            ("candidate", &candidate),
            self.today,
        );
        let verdict = Verdict::decide(
            &legacy.run.status,
            &candidate.run.status,
            &comparison.outputs,
        );
        let pair = pair_of(legacy_first, &legacy.run, &candidate.run, &verdict);
        if !verdict.is_success() && self.failed.is_none() {
            self.failed = Some(FailedPair {
                number: self.runs,
                warmup,
                verdict,
                legacy,
                candidate,
            });
        }
        Ok(pair)
    }
}

/// A run's measurements, when it finished normally.
pub fn sample(run: &SideRun) -> Option<Sample> {
    Some(Sample {
        wall_ms: run.wall_ms,
        cpu_ms: run.cpu_ms()?,
        rss_kib: run.peak_rss_kib? as f64,
    })
}

/// A pair from two finished runs, valid when both succeeded with the same outputs (`verdict`).
pub fn pair_of(
    legacy_first: bool,
    legacy: &SideRun,
    candidate: &SideRun,
    verdict: &Verdict,
) -> Pair {
    let (l, c) = (sample(legacy), sample(candidate));
    let zero = Sample {
        wall_ms: 0.0,
        cpu_ms: 0.0,
        rss_kib: 0.0,
    };
    let note =
        (!verdict.is_success()).then(|| format!("not a valid timing: {}", verdict.describe()));
    Pair {
        legacy_first,
        legacy: l.unwrap_or(zero),
        candidate: c.unwrap_or(zero),
        valid: verdict.is_success() && l.is_some() && c.is_some(),
        note,
    }
}

impl PairSource for RealPairs<'_> {
    fn pair(&mut self, legacy_first: bool) -> Result<Pair, String> {
        self.run_pair(legacy_first, false)
    }

    fn settled(&self) -> bool {
        self.failed.is_some()
    }
}
