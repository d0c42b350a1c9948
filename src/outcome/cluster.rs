//! Differences across cases grouped by cause: output × path pattern (indices and keys folded to
//! `[*]`) × kind, with counts, the number of cases affected and a few examples. Twelve fixtures
//! each showing the same wrong `state` are one cluster, so an engineer sees "412 differences,
//! 3 causes" rather than 412 lines.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CaseOutcome;
use crate::diff::DiffKind;
use crate::diff::model::{EXAMPLES, fold_path};

/// One cause of differences across the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// The output (file name, `stdout`, `exit`).
    pub output: String,
    /// The path with indices and keys folded to `[*]`; `@@` for text hunks.
    pub pattern: String,
    pub kind: DiffKind,
    /// Differences in this cluster, in every case.
    pub count: usize,
    /// Of `count`, how many waivers covered.
    pub waived: usize,
    /// Cases with at least one such difference.
    pub cases: usize,
    pub examples: Vec<ClusterExample>,
}

impl Cluster {
    pub fn unwaived(&self) -> usize {
        self.count - self.waived
    }
}

/// Where an example difference is: the case, and its index among the stored differences of
/// the cluster's output in that case. Values are stored once, in the case; see
/// [`super::RunResults::example`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterExample {
    /// `suite/fixture` or `suite/fixture[variant]`.
    pub case: String,
    pub path: String,
    /// Index into the case's `outputs[…].differences` of the cluster's output.
    pub difference: usize,
}

/// Clusters of every case's differences, the most unwaived first.
pub fn clusters(cases: &[CaseOutcome]) -> Vec<Cluster> {
    let mut by_key: BTreeMap<(String, String, DiffKind), Cluster> = BTreeMap::new();
    for case in cases {
        let label = case.label();
        let comparisons = case.comparisons();
        let outputs = comparisons
            .iter()
            .flat_map(|c| c.outputs.iter().map(move |o| (c.name(&o.output), o)));
        for (name, output) in outputs {
            for tally in &output.clusters {
                let key = (name.clone(), tally.pattern.clone(), tally.kind);
                let cluster = by_key.entry(key).or_insert_with(|| Cluster {
                    output: name.clone(),
                    pattern: tally.pattern.clone(),
                    kind: tally.kind,
                    count: 0,
                    waived: 0,
                    cases: 0,
                    examples: Vec::new(),
                });
                cluster.count += tally.count;
                cluster.waived += tally.waived;
                cluster.cases += 1;
                // Examples from the stored differences, one per case first, so they show spread.
                if cluster.examples.len() < EXAMPLES
                    && let Some((index, d)) =
                        output.differences.iter().enumerate().find(|(_, d)| {
                            d.kind == tally.kind && fold_path(&d.path) == tally.pattern
                        })
                {
                    cluster.examples.push(ClusterExample {
                        case: label.clone(),
                        path: d.path.clone(),
                        difference: index,
                    });
                }
            }
        }
    }
    let mut clusters: Vec<Cluster> = by_key.into_values().collect();
    clusters.sort_by(|a, b| {
        b.unwaived()
            .cmp(&a.unwaived())
            .then(b.count.cmp(&a.count))
            .then_with(|| (&a.output, &a.pattern, a.kind).cmp(&(&b.output, &b.pattern, b.kind)))
    });
    clusters
}
