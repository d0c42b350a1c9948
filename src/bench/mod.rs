//! The performance gate: pairs of runs in alternating random order, adaptive until the budget
//! verdict is clear or `max_runs` is reached, with per-fixture verdicts corrected for multiple
//! comparisons and one overall verdict from the geometric mean of the fixtures' ratios.
//!
//! Where the pairs come from is behind [`PairSource`]: real processes in the run's flow
//! (`crate::flow`), synthetic samples in tests. The statistics are in [`stats`].
//!
//! Error budget: with `k` gating verdicts per fixture over `n` fixtures and `g` gating metrics,
//! each fixture verdict uses confidence `1 - α/(2kn)` and each overall verdict `1 - α/(2g)`
//! (Bonferroni), so the chance of any false `exceeded` in a run is at most `α = 1 - confidence`,
//! however many fixtures there are.

pub mod chart;
pub mod stats;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use stats::{BudgetVerdict, Estimate};

/// A measured quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Wall-clock time of the run.
    Wall,
    /// User + system CPU time of the program and the descendants it waited for.
    Cpu,
    /// Peak resident set size.
    Memory,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::Wall, Metric::Cpu, Metric::Memory];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Wall => "wall",
            Metric::Cpu => "cpu",
            Metric::Memory => "memory",
        }
    }

    pub fn parse(text: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == text)
    }

    fn of(self, sample: &Sample) -> f64 {
        match self {
            Metric::Wall => sample.wall_ms,
            Metric::Cpu => sample.cpu_ms,
            Metric::Memory => sample.rss_kib,
        }
    }

    /// How a value of this metric reads.
    pub fn format(self, value: f64) -> String {
        match self {
            Metric::Wall | Metric::Cpu => crate::units::format_ms(value),
            Metric::Memory => crate::units::format_kib(value as u64),
        }
    }
}

/// Default number of pairs before the first verdict.
pub const DEFAULT_RUNS: usize = 10;
/// Default most pairs per fixture.
pub const DEFAULT_MAX_RUNS: usize = 60;
/// Default warm-up runs of each side per fixture.
pub const DEFAULT_WARMUP: usize = 1;
/// Default confidence of the whole gate.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;
/// Default budgets: the migration's rule is "within 5% of the monolith".
pub const DEFAULT_BUDGETS: [(Metric, f64); 3] = [
    (Metric::Wall, 0.05),
    (Metric::Cpu, 0.05),
    (Metric::Memory, 0.10),
];
/// Metrics that gate by default: CPU time (about 2.5% noise per run on a busy 2-core machine)
/// and peak memory; wall time (about 20% noise there) is measured and reported, and gates only
/// when asked.
pub const DEFAULT_GATE: [Metric; 2] = [Metric::Cpu, Metric::Memory];
/// Time values are floored here before taking ratios, so a run too short to measure reads 1.
const TIME_FLOOR_MS: f64 = 0.001;

/// How the gate runs and decides.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchSettings {
    pub runs: usize,
    pub max_runs: usize,
    pub warmup: usize,
    pub budgets: BTreeMap<Metric, f64>,
    pub confidence: f64,
    /// The metrics that decide the gate; a set, since a metric counted twice would tighten the
    /// multiple-comparison correction for nothing.
    pub gate: BTreeSet<Metric>,
    pub seed: u64,
    /// Inconclusive fails the gate (exit 3) instead of warning.
    pub strict: bool,
}

impl Default for BenchSettings {
    fn default() -> Self {
        BenchSettings {
            runs: DEFAULT_RUNS,
            max_runs: DEFAULT_MAX_RUNS,
            warmup: DEFAULT_WARMUP,
            budgets: DEFAULT_BUDGETS.into_iter().collect(),
            confidence: DEFAULT_CONFIDENCE,
            gate: DEFAULT_GATE.into_iter().collect(),
            seed: 0,
            strict: false,
        }
    }
}

impl From<&BenchSummary> for BenchSettings {
    /// The settings a run's performance gate ran with, from its results (to gate merged shards
    /// as the run would have been gated).
    fn from(summary: &BenchSummary) -> Self {
        BenchSettings {
            runs: summary.runs,
            max_runs: summary.max_runs,
            warmup: summary.warmup,
            budgets: summary.budgets.clone(),
            confidence: summary.confidence,
            gate: summary.gate.clone(),
            seed: summary.seed,
            strict: summary.strict,
        }
    }
}

/// The fewest pairs a run may ask for.
pub const MIN_RUNS: usize = 2;

/// Whether `confidence` is usable: a probability in `[0.5, 1)`.
pub fn confidence_ok(confidence: f64) -> bool {
    (0.5..1.0).contains(&confidence)
}

impl BenchSettings {
    pub fn budget(&self, metric: Metric) -> f64 {
        self.budgets.get(&metric).copied().unwrap_or(0.05)
    }

    /// Confidence of each fixture's verdicts when `fixtures` fixtures are measured.
    pub fn fixture_confidence(&self, fixtures: usize) -> f64 {
        let tests = (self.gate.len().max(1) * fixtures.max(1)) as f64;
        1.0 - (1.0 - self.confidence) / (2.0 * tests)
    }

    /// Confidence of each overall (all fixtures) verdict.
    pub fn overall_confidence(&self) -> f64 {
        1.0 - (1.0 - self.confidence) / (2.0 * self.gate.len().max(1) as f64)
    }
}

/// One run's measurements.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub wall_ms: f64,
    pub cpu_ms: f64,
    pub rss_kib: f64,
}

/// One legacy run and one candidate run, in the order they ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub legacy_first: bool,
    pub legacy: Sample,
    pub candidate: Sample,
    /// False when the outputs differed or a side failed: not a valid timing.
    pub valid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Pair {
    fn log_ratio(&self, metric: Metric) -> f64 {
        let floor = match metric {
            Metric::Wall | Metric::Cpu => TIME_FLOOR_MS,
            Metric::Memory => 1.0,
        };
        (metric.of(&self.candidate).max(floor) / metric.of(&self.legacy).max(floor)).ln()
    }
}

/// Produces pairs of runs: real processes, or synthetic samples in tests.
pub trait PairSource {
    /// Runs one pair in the given order. `Err` is harness trouble (the run was interrupted);
    /// a failing side or differing outputs is an invalid [`Pair`].
    fn pair(&mut self, legacy_first: bool) -> Result<Pair, String>;

    /// True when no further pair is worth running: real runs stop at the first pair whose
    /// sides disagree, since the case has failed and its outputs must be kept as they are.
    fn settled(&self) -> bool {
        false
    }
}

/// A ratio's estimate and interval judged against its budget: the part a fixture's metric and
/// the overall metric share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    pub budget: f64,
    pub verdict: BudgetVerdict,
    /// Whether this metric decides the gate.
    pub gating: bool,
}

impl Judgement {
    pub fn new(estimate: &Estimate, budget: f64, gating: bool) -> Self {
        Judgement {
            ratio: estimate.ratio,
            low: estimate.low,
            high: estimate.high,
            budget,
            verdict: stats::verdict(estimate, budget),
            gating,
        }
    }

    /// `1.742 [1.687, 1.797] > 1.05`: the estimate, its interval, and how it stands to the limit.
    pub fn describe(&self) -> String {
        let relation = match self.verdict {
            BudgetVerdict::Within => "≤",
            BudgetVerdict::Inconclusive => "~",
            BudgetVerdict::Exceeded => ">",
        };
        format!(
            "{:.3} [{:.3}, {:.3}] {relation} {:.2}",
            self.ratio,
            self.low,
            self.high,
            1.0 + self.budget
        )
    }
}

/// One metric of one fixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricResult {
    pub legacy_median: f64,
    pub candidate_median: f64,
    #[serde(flatten)]
    pub judgement: Judgement,
}

/// The performance of one fixture × variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseBench {
    pub warmup: usize,
    /// Every pair, valid or not, in the order run.
    pub pairs: Vec<Pair>,
    pub valid_pairs: usize,
    /// Seed of this fixture's bootstrap.
    pub seed: u64,
    /// Confidence of these intervals (corrected for the number of verdicts in the run).
    pub confidence: f64,
    pub metrics: BTreeMap<Metric, MetricResult>,
    /// The worst verdict of the gating metrics.
    pub verdict: BudgetVerdict,
}

impl CaseBench {
    /// The valid pairs' log-ratios for `metric`.
    pub fn log_ratios(&self, metric: Metric) -> Vec<f64> {
        self.pairs
            .iter()
            .filter(|p| p.valid)
            .map(|p| p.log_ratio(metric))
            .collect()
    }
}

fn median_of(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    stats::median(&mut values)
}

/// Measures one fixture: `runs` valid pairs (plus `first`, already run), then more while a
/// gating metric is inconclusive, up to `max_runs` pairs in all.
pub fn measure(
    source: &mut dyn PairSource,
    settings: &BenchSettings,
    first: Option<Pair>,
    confidence: f64,
    seed: u64,
) -> Result<CaseBench, String> {
    let mut order = stats::SplitMix64::new(seed ^ 0x006f_7264_6572);
    let mut pairs: Vec<Pair> = first.into_iter().collect();
    let step = (settings.runs / 2).max(1);
    let mut target = settings.runs.max(stats::min_pairs(confidence));
    loop {
        while pairs.iter().filter(|p| p.valid).count() < target
            && pairs.len() < settings.max_runs
            && !source.settled()
        {
            pairs.push(source.pair(order.coin())?);
        }
        let bench = evaluate(settings, pairs.clone(), confidence, seed);
        let undecided = bench
            .metrics
            .values()
            .any(|m| m.judgement.gating && m.judgement.verdict == BudgetVerdict::Inconclusive);
        if !undecided
            || pairs.len() >= settings.max_runs
            || bench.valid_pairs == 0
            || source.settled()
        {
            return Ok(bench);
        }
        target = bench.valid_pairs + step;
    }
}

/// Recomputes every metric of a fixture from its pairs (also how `parity report` could re-judge
/// a past run).
pub fn evaluate(
    settings: &BenchSettings,
    pairs: Vec<Pair>,
    confidence: f64,
    seed: u64,
) -> CaseBench {
    let valid: Vec<&Pair> = pairs.iter().filter(|p| p.valid).collect();
    let mut metrics = BTreeMap::new();
    for (i, metric) in Metric::ALL.into_iter().enumerate() {
        let ratios: Vec<f64> = valid.iter().map(|p| p.log_ratio(metric)).collect();
        let Some(estimate) = stats::estimate(&ratios, confidence, seed.wrapping_add(i as u64))
        else {
            continue;
        };
        let budget = settings.budget(metric);
        metrics.insert(
            metric,
            MetricResult {
                legacy_median: median_of(valid.iter().map(|p| metric.of(&p.legacy)).collect()),
                candidate_median: median_of(
                    valid.iter().map(|p| metric.of(&p.candidate)).collect(),
                ),
                judgement: Judgement::new(&estimate, budget, settings.gate.contains(&metric)),
            },
        );
    }
    let verdict = metrics
        .values()
        .filter(|m| m.judgement.gating)
        .map(|m| m.judgement.verdict)
        .max()
        .unwrap_or(BudgetVerdict::Inconclusive);
    CaseBench {
        warmup: settings.warmup,
        valid_pairs: valid.len(),
        pairs,
        seed,
        confidence,
        metrics,
        verdict,
    }
}

/// The overall result of one metric across fixtures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverallMetric {
    /// The geometric mean of the fixtures' ratios, judged.
    #[serde(flatten)]
    pub judgement: Judgement,
    pub fixtures: usize,
}

/// The performance gate over the whole run, kept in results.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchSummary {
    pub seed: u64,
    pub confidence: f64,
    pub fixture_confidence: f64,
    pub overall_confidence: f64,
    pub runs: usize,
    pub max_runs: usize,
    pub warmup: usize,
    pub gate: BTreeSet<Metric>,
    pub budgets: BTreeMap<Metric, f64>,
    pub strict: bool,
    pub overall: BTreeMap<Metric, OverallMetric>,
    /// The worst of the overall and per-fixture gating verdicts.
    pub verdict: BudgetVerdict,
}

impl BenchSummary {
    /// The gating metrics' overall ratios, e.g. `cpu 1.02 [0.99, 1.04] ≤ 1.05, memory 1.00 …`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .overall
            .iter()
            .filter(|(_, m)| m.judgement.gating)
            .map(|(metric, m)| format!("{} {}", metric.as_str(), m.judgement.describe()))
            .collect();
        if parts.is_empty() {
            return "not measured: no case's outputs agreed".to_owned();
        }
        parts.join(", ")
    }
}

/// Combines the fixtures' results into the gate's verdict.
/// The overall verdict from the cases measured; `units` is how many units the whole run
/// corrected each unit's confidence for (every case, or step of a scenario, selected).
pub fn summarise<'a>(
    settings: &BenchSettings,
    units: usize,
    cases: impl Iterator<Item = &'a CaseBench>,
) -> BenchSummary {
    let cases: Vec<&CaseBench> = cases.collect();
    let confidence = settings.overall_confidence();
    let mut overall = BTreeMap::new();
    for (i, metric) in Metric::ALL.into_iter().enumerate() {
        let ratios: Vec<Vec<f64>> = cases.iter().map(|c| c.log_ratios(metric)).collect();
        let slices: Vec<&[f64]> = ratios.iter().map(Vec::as_slice).collect();
        let seed = settings.seed.wrapping_mul(31).wrapping_add(i as u64);
        let Some(estimate) = stats::geometric_mean(&slices, confidence, seed) else {
            continue;
        };
        let budget = settings.budget(metric);
        overall.insert(
            metric,
            OverallMetric {
                judgement: Judgement::new(&estimate, budget, settings.gate.contains(&metric)),
                fixtures: slices.iter().filter(|s| !s.is_empty()).count(),
            },
        );
    }
    let verdict = overall
        .values()
        .filter(|m| m.judgement.gating)
        .map(|m| m.judgement.verdict)
        .chain(cases.iter().map(|c| c.verdict))
        .max()
        .unwrap_or(BudgetVerdict::Inconclusive);
    BenchSummary {
        seed: settings.seed,
        confidence: settings.confidence,
        fixture_confidence: settings.fixture_confidence(units),
        overall_confidence: confidence,
        runs: settings.runs,
        max_runs: settings.max_runs,
        warmup: settings.warmup,
        gate: settings.gate.clone(),
        budgets: settings.budgets.clone(),
        strict: settings.strict,
        overall,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs from a formula: the candidate is `factor` times the legacy, with deterministic
    /// noise of amplitude `noise` (a fraction) on each run.
    struct Synthetic {
        factor: f64,
        noise: f64,
        rng: stats::SplitMix64,
        served: usize,
    }

    impl Synthetic {
        fn new(factor: f64, noise: f64, seed: u64) -> Self {
            Synthetic {
                factor,
                noise,
                rng: stats::SplitMix64::new(seed),
                served: 0,
            }
        }

        fn jitter(&mut self) -> f64 {
            let unit = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            1.0 + self.noise * (2.0 * unit - 1.0)
        }
    }

    impl PairSource for Synthetic {
        fn pair(&mut self, legacy_first: bool) -> Result<Pair, String> {
            self.served += 1;
            let base = 100.0;
            let legacy = Sample {
                wall_ms: base * self.jitter(),
                cpu_ms: base * self.jitter(),
                rss_kib: 10_000.0,
            };
            let slow = base * self.factor;
            let candidate = Sample {
                wall_ms: slow * self.jitter(),
                cpu_ms: slow * self.jitter(),
                rss_kib: 10_000.0,
            };
            Ok(Pair {
                legacy_first,
                legacy,
                candidate,
                valid: true,
                note: None,
            })
        }
    }

    /// One fixture measured with seed 9.
    fn measure_one(source: &mut Synthetic, settings: &BenchSettings) -> CaseBench {
        measure(source, settings, None, settings.fixture_confidence(1), 9).unwrap()
    }

    #[test]
    fn identical_sides_are_within_after_the_first_batch() {
        let settings = BenchSettings::default();
        let mut source = Synthetic::new(1.0, 0.02, 1);
        let bench = measure_one(&mut source, &settings);
        assert_eq!(bench.verdict, BudgetVerdict::Within, "{:?}", bench.metrics);
        assert_eq!(source.served, settings.runs);
    }

    #[test]
    fn a_clear_slowdown_is_exceeded() {
        let settings = BenchSettings::default();
        let mut source = Synthetic::new(1.5, 0.02, 2);
        let bench = measure_one(&mut source, &settings);
        assert_eq!(
            bench.metrics[&Metric::Cpu].judgement.verdict,
            BudgetVerdict::Exceeded
        );
        assert_eq!(bench.verdict, BudgetVerdict::Exceeded);
    }

    #[test]
    fn borderline_cases_add_pairs_up_to_the_limit() {
        let settings = BenchSettings::default();
        let mut source = Synthetic::new(1.05, 0.05, 3);
        let bench = measure_one(&mut source, &settings);
        assert_eq!(bench.pairs.len(), settings.max_runs);
        assert_eq!(bench.verdict, BudgetVerdict::Inconclusive);
    }

    #[test]
    fn invalid_pairs_do_not_count() {
        struct Flaky(Synthetic);
        impl PairSource for Flaky {
            fn pair(&mut self, legacy_first: bool) -> Result<Pair, String> {
                let mut pair = self.0.pair(legacy_first)?;
                pair.valid = !self.0.served.is_multiple_of(3);
                Ok(pair)
            }
        }
        let settings = BenchSettings::default();
        let mut source = Flaky(Synthetic::new(1.0, 0.01, 4));
        let bench = measure(&mut source, &settings, None, 0.95, 1).unwrap();
        assert_eq!(bench.valid_pairs, settings.runs);
        assert!(bench.pairs.len() > settings.runs);
    }

    #[test]
    fn a_seed_reproduces_the_run() {
        let settings = BenchSettings::default();
        let run = |seed| {
            measure(
                &mut Synthetic::new(1.07, 0.03, 5),
                &settings,
                None,
                0.975,
                seed,
            )
            .unwrap()
        };
        assert_eq!(run(11), run(11));
    }

    #[test]
    fn many_fixtures_correct_their_confidence() {
        let settings = BenchSettings::default();
        assert!((settings.fixture_confidence(1) - 0.9875).abs() < 1e-12);
        assert!(settings.fixture_confidence(50) > 0.999);
        assert!((settings.overall_confidence() - 0.9875).abs() < 1e-12);
    }

    #[test]
    fn the_overall_verdict_is_the_worst_gating_one() {
        let settings = BenchSettings::default();
        let fast = measure(&mut Synthetic::new(1.0, 0.01, 6), &settings, None, 0.99, 1).unwrap();
        let slow = measure(&mut Synthetic::new(1.4, 0.01, 7), &settings, None, 0.99, 2).unwrap();
        let summary = summarise(&settings, 2, [&fast, &slow].into_iter());
        assert_eq!(summary.verdict, BudgetVerdict::Exceeded);
        let ratio = summary.overall[&Metric::Cpu].judgement.ratio;
        assert!((ratio - 1.4f64.sqrt()).abs() < 0.02, "{ratio}");
        let summary = summarise(&settings, 2, [&fast].into_iter());
        assert_eq!(summary.verdict, BudgetVerdict::Within);
    }
}
