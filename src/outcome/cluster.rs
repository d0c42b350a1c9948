//! Differences across cases grouped by cause: output × path pattern (indices and keys folded to
//! `[*]`) × kind, with counts, the number of cases affected and a few examples. Differences of
//! outputs blocked by a divergent stage are consequences of that stage's, and are left out. Twelve fixtures
//! each showing the same wrong `state` are one cluster, so an engineer sees "412 differences,
//! 3 causes" rather than 412 lines.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{CaseOutcome, OutputComparison};
use crate::diff::model::{EXAMPLES, fold_path};
use crate::diff::{DiffKind, fold};

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

/// Clusters of every case's differences, the most unwaived first. Waived and unwaived
/// differences never share a cluster (a waived example must not stand for a real bug), and
/// member names that are data fold to `.*` over the whole run ([`crate::diff::fold`]).
pub fn clusters(cases: &[CaseOutcome]) -> Vec<Cluster> {
    let outputs: Vec<(String, String, &OutputComparison)> = cases
        .iter()
        .flat_map(|case| {
            let label = case.label();
            // A difference that follows from a divergent stage is a consequence, not a cause.
            case.comparisons()
                .into_iter()
                .flat_map(|c| {
                    c.outputs
                        .iter()
                        .filter(|o| o.blocked_by.is_none())
                        .map(move |o| (c.name(&o.output), o))
                })
                .map(move |(name, o)| (label.clone(), name, o))
                .collect::<Vec<_>>()
        })
        .collect();
    // Each output's patterns, folded over every case.
    let mut patterns: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (_, name, output) in &outputs {
        let set = patterns.entry(name.as_str()).or_default();
        set.extend(output.clusters.iter().map(|t| t.pattern.as_str()));
    }
    let folded: BTreeMap<&str, BTreeMap<String, String>> = patterns
        .into_iter()
        .map(|(name, set)| (name, fold::data_keys(set)))
        .collect();
    let mut by_key: BTreeMap<(String, String, DiffKind, bool), Cluster> = BTreeMap::new();
    let mut last_case: BTreeMap<(String, String, DiffKind, bool), String> = BTreeMap::new();
    for (label, name, output) in &outputs {
        let fold = &folded[name.as_str()];
        let pattern_of = |raw: &str| fold.get(raw).cloned().unwrap_or_else(|| raw.to_owned());
        // Each stored difference's cluster pattern, worked out once per output, not per tally.
        let stored: Vec<String> = output
            .differences
            .iter()
            .map(|d| pattern_of(&fold_path(&d.path)))
            .collect();
        for tally in &output.clusters {
            let pattern = pattern_of(&tally.pattern);
            let parts = [(false, tally.count - tally.waived), (true, tally.waived)];
            for (waived, count) in parts.into_iter().filter(|(_, n)| *n > 0) {
                let key = (name.clone(), pattern.clone(), tally.kind, waived);
                let cluster = by_key.entry(key).or_insert_with(|| Cluster {
                    output: name.clone(),
                    pattern: pattern.clone(),
                    kind: tally.kind,
                    count: 0,
                    waived: 0,
                    cases: 0,
                    examples: Vec::new(),
                });
                cluster.count += count;
                if waived {
                    cluster.waived += count;
                }
                // Several raw patterns of one case may fold into this cluster: count it once
                // (cases come one after another).
                let key = (name.clone(), pattern.clone(), tally.kind, waived);
                if last_case.get(&key) != Some(label) {
                    cluster.cases += 1;
                    last_case.insert(key, label.clone());
                }
                // Examples from the stored differences, in case order.
                let taken = |index: usize| {
                    cluster
                        .examples
                        .iter()
                        .any(|e| &e.case == label && e.difference == index)
                };
                if cluster.examples.len() < EXAMPLES
                    && let Some((index, d)) =
                        output.differences.iter().enumerate().find(|(i, d)| {
                            d.kind == tally.kind
                                && d.waiver.is_some() == waived
                                && !taken(*i)
                                && stored[*i] == pattern
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
