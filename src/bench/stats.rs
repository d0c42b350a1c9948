//! The statistics behind the performance gate.
//!
//! Method. Each pair of runs (legacy, candidate, in random order) gives one log-ratio
//! `ln(candidate / legacy)` per metric. The candidate/legacy ratio is estimated by the
//! Hodges–Lehmann estimator of those log-ratios (the median of all Walsh averages
//! `(r_i + r_j) / 2`, `i <= j`: a robust location estimate, nearly as efficient as the mean
//! under normal noise and unmoved by a few outliers from a busy neighbour), exponentiated.
//! Its confidence interval is a percentile bootstrap: [`BOOTSTRAP_RESAMPLES`] resamples of the
//! pairs with replacement, the estimator recomputed on each, the interval read off the
//! `(1 - confidence) / 2` and `(1 + confidence) / 2` quantiles (Efron & Tibshirani, *An
//! Introduction to the Bootstrap*, 1993, ch. 13). Pairing plus alternation cancels the drift
//! that makes "all legacy runs, then all candidate runs" report 9–20% between identical programs.
//!
//! Verdict for a budget `b`: `within` when the upper bound is at most `1 + b`, `exceeded` when
//! the lower bound is above `1 + b`, otherwise `inconclusive`. The resampling stream comes from
//! [`SplitMix64`] (Steele, Lea & Flood, 2014) seeded by the run's recorded seed, so any verdict
//! can be recomputed from the raw samples in results.json.

use serde::{Deserialize, Serialize};

/// Bootstrap resamples per interval: enough for stable 2.5%/97.5% quantiles (the percentile
/// interval's Monte Carlo error at 2000 resamples is well under the noise of real timings).
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// A small, fully specified PRNG, so a seed means the same stream in every version of parity.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by multiply-shift.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    pub fn coin(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }
}

/// The median of a non-empty slice (reordered in place).
pub(super) fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    let mid = n / 2;
    let (_, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        let lower = values[..mid]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

/// The Hodges–Lehmann estimate: the median of the Walsh averages of `samples`.
pub fn hodges_lehmann(samples: &[f64]) -> f64 {
    let mut walsh = Vec::with_capacity(samples.len() * (samples.len() + 1) / 2);
    walsh_averages(samples, &mut walsh);
    median(&mut walsh)
}

fn walsh_averages(samples: &[f64], out: &mut Vec<f64>) {
    out.clear();
    for (i, a) in samples.iter().enumerate() {
        for b in &samples[i..] {
            out.push((a + b) / 2.0);
        }
    }
}

/// A ratio estimate with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Candidate / legacy.
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    /// Whether enough pairs stand behind the interval for a verdict (see [`min_pairs`]).
    pub conclusive: bool,
}

impl Estimate {
    /// From a point estimate of the log-ratio and bootstrap estimates of it over `pairs` pairs:
    /// the ratio and the percentile interval at `confidence`.
    fn from_logs(point: f64, mut estimates: Vec<f64>, confidence: f64, pairs: usize) -> Self {
        estimates.sort_by(f64::total_cmp);
        let (low, high) = quantile_pair(&estimates, confidence);
        Estimate {
            ratio: point.exp(),
            low: low.exp(),
            high: high.exp(),
            conclusive: pairs >= min_pairs(confidence),
        }
    }
}

/// The fewest pairs that can support a verdict at `confidence`: the smallest `n` with
/// `0.5^n <= (1 - confidence) / 2`. Below it even a distribution-free test (the sign test:
/// every pair on one side of the limit) could not reach the confidence, and a bootstrap
/// interval, which never reaches beyond the observed pairs, would be narrower than the data
/// can justify — one pair gives an interval of zero width. 6 pairs at 0.95, 7 at 0.975, 11 at
/// 0.9986 (nine fixtures with two gating metrics).
pub fn min_pairs(confidence: f64) -> usize {
    let tail = ((1.0 - confidence) / 2.0).clamp(f64::MIN_POSITIVE, 0.5);
    (1.0 / tail).log2().ceil().max(1.0) as usize
}

/// Estimates the ratio from per-pair log-ratios, with a `confidence` bootstrap interval: the
/// one-fixture case of [`geometric_mean`] (the mean of one estimate is that estimate, and the
/// resampling stream is the same).
pub fn estimate(log_ratios: &[f64], confidence: f64, seed: u64) -> Option<Estimate> {
    geometric_mean(&[log_ratios], confidence, seed)
}

/// The `(1 - c) / 2` and `(1 + c) / 2` quantiles of sorted values (nearest rank).
fn quantile_pair(sorted: &[f64], confidence: f64) -> (f64, f64) {
    let n = sorted.len();
    let tail = (1.0 - confidence) / 2.0;
    let at = |q: f64| sorted[((q * n as f64).floor() as usize).min(n - 1)];
    (at(tail), at(1.0 - tail))
}

/// The budget verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetVerdict {
    Within,
    Inconclusive,
    Exceeded,
}

impl BudgetVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetVerdict::Within => "within",
            BudgetVerdict::Inconclusive => "inconclusive",
            BudgetVerdict::Exceeded => "exceeded",
        }
    }
}

/// `within` when the whole interval is at most `1 + budget`, `exceeded` when all of it is above;
/// `inconclusive` otherwise, and whenever too few pairs stand behind the interval.
pub fn verdict(estimate: &Estimate, budget: f64) -> BudgetVerdict {
    let limit = 1.0 + budget;
    if !estimate.conclusive {
        BudgetVerdict::Inconclusive
    } else if estimate.high <= limit {
        BudgetVerdict::Within
    } else if estimate.low > limit {
        BudgetVerdict::Exceeded
    } else {
        BudgetVerdict::Inconclusive
    }
}

/// The geometric mean ratio over several fixtures, with a bootstrap interval from resampling
/// each fixture's pairs (the fixtures themselves are fixed: they are the suite, not a sample).
pub fn geometric_mean(per_fixture: &[&[f64]], confidence: f64, seed: u64) -> Option<Estimate> {
    let fixtures: Vec<&[f64]> = per_fixture
        .iter()
        .copied()
        .filter(|s| !s.is_empty())
        .collect();
    if fixtures.is_empty() {
        return None;
    }
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
    let point = mean(
        &fixtures
            .iter()
            .map(|s| hodges_lehmann(s))
            .collect::<Vec<_>>(),
    );
    let mut rng = SplitMix64::new(seed);
    let mut resample = Vec::new();
    let mut walsh = Vec::new();
    let estimates: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            let per: Vec<f64> = fixtures
                .iter()
                .map(|samples| {
                    resample.clear();
                    resample.extend((0..samples.len()).map(|_| samples[rng.below(samples.len())]));
                    walsh_averages(&resample, &mut walsh);
                    median(&mut walsh)
                })
                .collect();
            mean(&per)
        })
        .collect();
    Some(Estimate::from_logs(
        point,
        estimates,
        confidence,
        fixtures.iter().map(|s| s.len()).sum(),
    ))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn logs(ratios: &[f64]) -> Vec<f64> {
        ratios.iter().map(|r: &f64| r.ln()).collect()
    }

    #[test]
    fn hodges_lehmann_of_small_samples() {
        assert_eq!(hodges_lehmann(&[1.0]), 1.0);
        // Walsh averages of [0, 1, 10]: 0, 0.5, 5, 1, 5.5, 10 -> median (1 + 5) / 2.
        assert_eq!(hodges_lehmann(&[0.0, 1.0, 10.0]), 3.0);
        // Robust: one wild outlier barely moves it.
        let calm = hodges_lehmann(&[0.0, 0.01, -0.01, 0.02, -0.02, 0.0]);
        let wild = hodges_lehmann(&[0.0, 0.01, -0.01, 0.02, -0.02, 5.0]);
        assert!((wild - calm).abs() < 0.02, "{calm} vs {wild}");
    }

    #[test]
    fn the_same_seed_gives_the_same_interval() {
        let samples = logs(&[1.01, 0.99, 1.03, 1.0, 0.98, 1.02, 1.04, 0.97]);
        let a = estimate(&samples, 0.95, 42).unwrap();
        let b = estimate(&samples, 0.95, 42).unwrap();
        let c = estimate(&samples, 0.95, 43).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.low <= a.ratio && a.ratio <= a.high);
    }

    #[test]
    fn verdict_boundaries_are_exact() {
        let at = |low, high| Estimate {
            ratio: (low + high) / 2.0,
            low,
            high,
            conclusive: true,
        };
        assert_eq!(verdict(&at(0.9, 1.05), 0.05), BudgetVerdict::Within);
        assert_eq!(
            verdict(&at(0.9, 1.0500001), 0.05),
            BudgetVerdict::Inconclusive
        );
        assert_eq!(verdict(&at(1.05, 1.2), 0.05), BudgetVerdict::Inconclusive);
        assert_eq!(verdict(&at(1.0500001, 1.2), 0.05), BudgetVerdict::Exceeded);
    }

    #[test]
    fn too_few_pairs_never_decide() {
        assert_eq!(min_pairs(0.95), 6);
        assert_eq!(min_pairs(0.975), 7);
        assert_eq!(min_pairs(1.0 - 0.05 / 36.0), 11);
        // Five pairs all twice as slow: a zero-doubt look, but five coin flips can do that.
        let five = logs(&[2.0; 5]);
        let estimate = estimate(&five, 0.95, 1).unwrap();
        assert!(estimate.low > 1.9);
        assert_eq!(verdict(&estimate, 0.05), BudgetVerdict::Inconclusive);
        let six = logs(&[2.0; 6]);
        assert_eq!(
            verdict(&super::estimate(&six, 0.95, 1).unwrap(), 0.05),
            BudgetVerdict::Exceeded
        );
        let spread = [&five[..], &five[..1]];
        assert_eq!(
            verdict(&geometric_mean(&spread, 0.95, 1).unwrap(), 0.05),
            BudgetVerdict::Exceeded,
            "six pairs over two fixtures"
        );
    }

    #[test]
    fn clear_cases_are_decided() {
        let same = logs(&[1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01, 0.99, 1.0]);
        assert_eq!(
            verdict(&estimate(&same, 0.95, 1).unwrap(), 0.05),
            BudgetVerdict::Within
        );
        let slow = logs(&[1.5, 1.48, 1.52, 1.5, 1.49, 1.51, 1.5, 1.53, 1.47, 1.5]);
        assert_eq!(
            verdict(&estimate(&slow, 0.95, 1).unwrap(), 0.05),
            BudgetVerdict::Exceeded
        );
        let noisy = logs(&[0.8, 1.3, 0.9, 1.25, 1.0, 1.2, 0.85, 1.1]);
        assert_eq!(
            verdict(&estimate(&noisy, 0.95, 1).unwrap(), 0.05),
            BudgetVerdict::Inconclusive
        );
    }

    #[test]
    fn geometric_mean_of_fixtures() {
        let a = logs(&[1.1, 1.1, 1.1, 1.1]);
        let b = logs(&[1.0 / 1.1, 1.0 / 1.1, 1.0 / 1.1, 1.0 / 1.1]);
        let overall = geometric_mean(&[&a, &b], 0.95, 7).unwrap();
        assert!((overall.ratio - 1.0).abs() < 1e-12);
        assert!(geometric_mean(&[], 0.95, 7).is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Slowing every candidate run down never makes the verdict better.
        #[test]
        fn verdict_is_monotone_in_the_candidate_times(
            base in prop::collection::vec(-0.2f64..0.2, 3..20),
            slower in 0.0f64..0.5,
            seed in any::<u64>(),
        ) {
            let before = verdict(&estimate(&base, 0.95, seed).unwrap(), 0.05);
            let shifted: Vec<f64> = base.iter().map(|r| r + slower).collect();
            let after = verdict(&estimate(&shifted, 0.95, seed).unwrap(), 0.05);
            prop_assert!(after >= before, "{before:?} -> {after:?}");
        }

        /// The interval holds the point estimate, and a wider confidence never narrows it.
        #[test]
        fn intervals_nest(samples in prop::collection::vec(-0.3f64..0.3, 2..25), seed in any::<u64>()) {
            let narrow = estimate(&samples, 0.90, seed).unwrap();
            let wide = estimate(&samples, 0.99, seed).unwrap();
            prop_assert!(narrow.low <= narrow.ratio + 1e-12 && narrow.ratio <= narrow.high + 1e-12);
            prop_assert!(wide.low <= narrow.low && narrow.high <= wide.high);
        }
    }
}
