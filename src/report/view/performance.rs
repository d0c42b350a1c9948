//! The performance gate as every report shows it: its settings and verdict, each measured
//! unit's medians and ratio with its interval, and the ratios of each gating metric for a chart.

use serde::Serialize;

use crate::bench::{BudgetVerdict, Metric};
use crate::outcome::RunResults;

/// The performance gate.
#[derive(Debug, Clone, Serialize)]
pub struct Performance {
    pub gate: Vec<String>,
    pub confidence: f64,
    pub fixture_confidence: f64,
    pub overall_confidence: f64,
    /// `wall 5%`, …
    pub budgets: Vec<String>,
    pub runs: usize,
    pub max_runs: usize,
    pub warmup: usize,
    pub seed: u64,
    pub verdict: String,
    pub exceeded: bool,
    pub describe: String,
    pub rows: Vec<BenchRow>,
    pub charts: Vec<Chart>,
}

/// One metric of one measured unit (a case, or a scenario's step).
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub label: String,
    pub metric: String,
    pub legacy_median: String,
    pub candidate_median: String,
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    pub budget: f64,
    pub verdict: String,
    pub pairs: usize,
}

/// The ratios of one gating metric, by unit, against its budget.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub metric: String,
    pub budget: f64,
    pub rows: Vec<ChartRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartRow {
    pub label: String,
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
}

pub(super) fn performance(r: &RunResults) -> Option<Performance> {
    let bench = r.bench.as_ref()?;
    let mut rows = Vec::new();
    for case in &r.cases {
        for (label, cb) in case.benches() {
            for (metric, m) in &cb.metrics {
                let verdict = match (m.judgement.gating, m.judgement.verdict) {
                    _ if !case.verdict.is_success() => {
                        format!("not counted ({})", case.verdict.name())
                    }
                    (true, BudgetVerdict::Exceeded) => "❌ exceeded".to_owned(),
                    (true, v) => v.as_str().to_owned(),
                    (false, v) => format!("{} (not gating)", v.as_str()),
                };
                rows.push(BenchRow {
                    label: label.clone(),
                    metric: metric.as_str().to_owned(),
                    legacy_median: metric.format(m.legacy_median),
                    candidate_median: metric.format(m.candidate_median),
                    ratio: m.judgement.ratio,
                    low: m.judgement.low,
                    high: m.judgement.high,
                    budget: m.judgement.budget,
                    verdict,
                    pairs: cb.valid_pairs,
                });
            }
        }
    }
    let charts = bench
        .gate
        .iter()
        .filter_map(|metric| chart(r, *metric, bench.budgets.get(metric).copied()))
        .collect();
    Some(Performance {
        gate: bench.gate.iter().map(|m| m.as_str().to_owned()).collect(),
        confidence: bench.confidence,
        fixture_confidence: bench.fixture_confidence,
        overall_confidence: bench.overall_confidence,
        budgets: bench
            .budgets
            .iter()
            .map(|(m, b)| format!("{} {:.0}%", m.as_str(), b * 100.0))
            .collect(),
        runs: bench.runs,
        max_runs: bench.max_runs,
        warmup: bench.warmup,
        seed: bench.seed,
        verdict: bench.verdict.as_str().to_owned(),
        exceeded: bench.verdict == BudgetVerdict::Exceeded,
        describe: bench.describe(),
        rows,
        charts,
    })
}

/// The ratios of `metric` over the units whose outputs agreed.
fn chart(r: &RunResults, metric: Metric, budget: Option<f64>) -> Option<Chart> {
    let rows: Vec<ChartRow> = r
        .cases
        .iter()
        .filter(|c| c.verdict.is_success())
        .flat_map(|c| c.benches())
        .filter_map(|(label, b)| {
            let m = b.metrics.get(&metric)?;
            Some(ChartRow {
                label,
                ratio: m.judgement.ratio,
                low: m.judgement.low,
                high: m.judgement.high,
            })
        })
        .collect();
    (!rows.is_empty()).then(|| Chart {
        metric: metric.as_str().to_owned(),
        budget: budget.unwrap_or(0.05),
        rows,
    })
}
