//! What one repeat of a side shows: run k of a side on a fixture compared with its run 1, once
//! without rules ([`Configs::raw`]) and once under the configured rules ([`Configs::ruled`]),
//! each difference turned into an [`Observation`] keyed by output, path pattern and kind, with
//! the [`Evidence`] a rule proposal needs (how far numbers moved, which fields could key a
//! reordered array, the stable parts of a varying line).
//!
//! The main entry is [`compare_repeat`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde_json::Value;

use super::documents::Documents;
pub use super::documents::{EVIDENCE_CAP, Order};
use super::lines::LineSplit;
use crate::compare::compare_case;
use crate::config::Config;
use crate::diff::model::fold_path;
use crate::diff::{DiffKind, DiffSpec, Difference, Format, Rules};
use crate::outcome::OutputComparison;
use crate::runner::{RunStatus, SideResult};

/// Relative difference up to which two numbers that are not both integers are float noise
/// (summation order, rounding: a few units in the last place, ~1e-16 each), answered by a
/// tolerance rather than an ignore. Well below what any clock moves between passes, which start
/// at least a second apart: a time in any unit moves by ≥ 1 s / (now since 1970) ≈ 6e-10.
pub const FLOAT_NOISE: f64 = 1e-12;

/// Distinct varying parts of lines kept per pattern.
const MIDDLES: usize = 20;

/// The configuration twice: without rules, to see everything that varies, and with the
/// configured rules, to see what they leave uncovered. Neither has waivers: a waiver accepts a
/// difference between the legacy and the candidate, not noise within one side.
#[derive(Debug, Clone)]
pub struct Configs {
    pub raw: Config,
    pub ruled: Config,
}

impl Configs {
    pub fn new(config: &Config) -> Configs {
        let mut ruled = config.clone();
        ruled.waivers.clear();
        ruled.report.max_differences = EVIDENCE_CAP;
        let mut raw = ruled.clone();
        raw.rules.clear();
        for block in &mut raw.compares {
            block.spec.rules = Rules::default();
        }
        for stage in &mut raw.stages {
            stage.block.spec.rules = Rules::default();
        }
        Configs { raw, ruled }
    }
}

/// What a repeat showed, with and without the rules.
#[derive(Debug, Clone, Default)]
pub struct RepeatFindings {
    pub raw: Vec<Observation>,
    pub ruled: Vec<Observation>,
    pub notes: Vec<String>,
}

/// Where a variation is: the output, the path pattern (indices and keys folded to `[*]`, or for
/// text the line with its varying part elided) and the kind of difference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub output: String,
    pub pattern: String,
    pub kind: DiffKind,
}

/// One kind of variation at one place in one repeat.
#[derive(Debug, Clone)]
pub struct Observation {
    pub key: Key,
    pub format: Option<Format>,
    /// Index of the `[[compare]]` block that covers the output.
    pub block: Option<usize>,
    /// Differences of this kind at this pattern in the repeat.
    pub values: usize,
    pub example: Example,
    pub evidence: Evidence,
}

/// The first difference seen at a pattern: its concrete path and both values.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Example {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<Value>,
}

/// What the differences at one pattern looked like, merged over every repeat.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    pub numbers: Option<Numbers>,
    pub order: Option<Order>,
    pub line: Option<Line>,
}

/// Numbers that differed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Numbers {
    pub count: usize,
    /// Of `count`, how many were float noise (see [`FLOAT_NOISE`]).
    pub noise: usize,
    pub max_delta: f64,
}

/// Lines that varied between stable parts (every line of a pattern shares them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub prefix: String,
    pub suffix: String,
    /// Some of the varying parts seen (at most [`MIDDLES`]).
    pub middles: BTreeSet<String>,
    /// Every varying part was one word: no whitespace, not empty.
    pub single_words: bool,
}

impl Evidence {
    pub fn merge(&mut self, other: &Evidence) {
        self.numbers = match (self.numbers, other.numbers) {
            (Some(a), Some(b)) => Some(Numbers {
                count: a.count + b.count,
                noise: a.noise + b.noise,
                max_delta: a.max_delta.max(b.max_delta),
            }),
            (a, b) => a.or(b),
        };
        self.order = match (self.order.take(), &other.order) {
            (Some(a), Some(b)) => Some(Order {
                keys: match (a.keys, &b.keys) {
                    (Some(x), Some(y)) => Some(x.intersection(y).cloned().collect()),
                    _ => None,
                },
            }),
            (a, b) => a.or_else(|| b.clone()),
        };
        self.line = match (self.line.take(), &other.line) {
            (Some(mut a), Some(b)) => {
                for middle in &b.middles {
                    if a.middles.len() < MIDDLES {
                        a.middles.insert(middle.clone());
                    }
                }
                a.single_words &= b.single_words;
                Some(a)
            }
            (a, b) => a.or_else(|| b.clone()),
        };
    }
}

/// Compares run k of a side with its run 1. `None` when they cannot be compared: the runs ended
/// differently (that is a finding of its own) or one did not finish.
pub fn compare_repeat(
    configs: &Configs,
    fixture_id: &str,
    first: &SideResult,
    repeat: &SideResult,
    today: NaiveDate,
) -> Option<RepeatFindings> {
    let finished = |r: &SideResult| {
        matches!(
            r.run.status,
            RunStatus::Exited { .. } | RunStatus::Signaled { .. }
        )
    };
    if first.run.status != repeat.run.status || !finished(first) || !finished(repeat) {
        return None;
    }
    let mut findings = RepeatFindings::default();
    for (config, into) in [
        (&configs.raw, &mut findings.raw),
        (&configs.ruled, &mut findings.ruled),
    ] {
        let compared = compare_case(
            config,
            fixture_id,
            ("first run", first),
            ("repeat", repeat),
            today,
        );
        for output in compared.outputs.iter().filter(|o| o.output != "exit") {
            let (observations, note) = observe_output(config, output, (first, repeat));
            into.extend(observations);
            findings.notes.extend(note);
        }
    }
    findings.notes.sort();
    findings.notes.dedup();
    Some(findings)
}

/// The observations of one compared output, and a note when only part of its differences were
/// kept as evidence.
fn observe_output(
    config: &Config,
    output: &OutputComparison,
    runs: (&SideResult, &SideResult),
) -> (Vec<Observation>, Option<String>) {
    let spec = spec_for(config, output);
    let mut documents = Documents::new(config, output, spec, runs);
    let block_rules = spec.map(|s| s.rules.clone()).unwrap_or_default();
    let structured = matches!(
        output.format,
        Some(Format::Json | Format::Ndjson | Format::Csv | Format::Tsv)
    );
    let realigned = structured
        .then(|| documents.realign(&output.differences, &block_rules))
        .flatten();
    let (differences, rules, arrays) = match &realigned {
        Some(r) => (&r.differences[..], &r.rules, &r.arrays[..]),
        None => (&output.differences[..], &block_rules, &[][..]),
    };
    let mut observed: BTreeMap<Key, Observation> = BTreeMap::new();
    let mut add = |observation: Observation| match observed.get_mut(&observation.key) {
        Some(seen) => {
            seen.values += observation.values;
            seen.evidence.merge(&observation.evidence);
        }
        None => {
            observed.insert(observation.key.clone(), observation);
        }
    };
    for difference in differences {
        observe(output, spec, difference, rules, &mut documents)
            .into_iter()
            .for_each(&mut add);
    }
    for (location, order) in arrays {
        let reordered = Difference::new(location.clone(), DiffKind::OrderChanged);
        let mut observation = observation_of(output, &reordered, Evidence::default());
        observation.evidence.order = Some(order.clone());
        add(observation);
    }
    let note = (output.differences.len() < output.total).then(|| {
        format!(
            "`{}`: rules were chosen from the first {} of {} differences",
            output.output,
            output.differences.len(),
            output.total
        )
    });
    (observed.into_values().collect(), note)
}

/// The spec of the compare block that covered an output, if one did.
fn spec_for<'c>(config: &'c Config, output: &OutputComparison) -> Option<&'c DiffSpec> {
    config.block(output.compare?).map(|b| &b.spec)
}

/// One difference as an observation at its folded path.
fn observation_of(
    output: &OutputComparison,
    difference: &Difference,
    evidence: Evidence,
) -> Observation {
    Observation {
        key: Key {
            output: output.output.clone(),
            pattern: fold_path(&difference.path),
            kind: difference.kind,
        },
        format: output.format,
        block: output.compare,
        values: 1,
        example: Example {
            path: difference.path.clone(),
            first: difference.left.clone(),
            repeat: difference.right.clone(),
        },
        evidence,
    }
}

/// One difference as observations: a text hunk of changed lines gives one per line.
fn observe(
    output: &OutputComparison,
    spec: Option<&DiffSpec>,
    difference: &Difference,
    rules: &Rules,
    documents: &mut Documents<'_>,
) -> Vec<Observation> {
    if output.format == Some(Format::Text)
        && let Some(lines) = changed_lines(difference, spec)
    {
        return lines
            .into_iter()
            .map(|split| {
                let evidence = Evidence {
                    line: Some(line_evidence(&split)),
                    ..Evidence::default()
                };
                let mut observation = observation_of(output, difference, evidence);
                observation.key.pattern = split.template();
                observation.key.kind = DiffKind::Changed;
                observation.example.first = Some(Value::String(split.left));
                observation.example.repeat = Some(Value::String(split.right));
                observation
            })
            .collect();
    }
    let evidence = Evidence {
        numbers: number_evidence(difference),
        order: (difference.kind == DiffKind::OrderChanged)
            .then(|| documents.order_evidence(&difference.path, rules)),
        line: None,
    };
    vec![observation_of(output, difference, evidence)]
}

/// The changed lines of a text hunk that replaces as many lines as it removes, paired and split
/// (after the block's whitespace and case folding, as the comparison sees them); `None` for
/// other hunks (lines added or removed, a final newline).
fn changed_lines(difference: &Difference, spec: Option<&DiffSpec>) -> Option<Vec<LineSplit>> {
    if difference.kind != DiffKind::Changed || !difference.path.starts_with("@@") {
        return None;
    }
    let (Some(Value::String(left)), Some(Value::String(right))) =
        (&difference.left, &difference.right)
    else {
        return None;
    };
    let (left, right): (Vec<&str>, Vec<&str>) =
        (left.split('\n').collect(), right.split('\n').collect());
    if left.len() != right.len() {
        return None;
    }
    let options = spec.map(|s| s.text).unwrap_or_default();
    let fold = |line: &str| crate::diff::text::fold(line, options).into_owned();
    Some(
        left.iter()
            .zip(&right)
            .filter_map(|(l, r)| LineSplit::of(&fold(l), &fold(r)))
            .collect(),
    )
}

fn line_evidence(split: &LineSplit) -> Line {
    let single = |m: &str| !m.is_empty() && !m.chars().any(char::is_whitespace);
    Line {
        prefix: split.prefix.clone(),
        suffix: split.suffix.clone(),
        middles: [split.left.clone(), split.right.clone()].into(),
        single_words: single(&split.left) && single(&split.right),
    }
}

/// How far two numbers moved, for `changed` and `over_tolerance` differences between numbers.
fn number_evidence(difference: &Difference) -> Option<Numbers> {
    if !matches!(difference.kind, DiffKind::Changed | DiffKind::OverTolerance) {
        return None;
    }
    let (Some(Value::Number(l)), Some(Value::Number(r))) = (&difference.left, &difference.right)
    else {
        return None;
    };
    let (a, b) = (l.as_f64()?, r.as_f64()?);
    let delta = (a - b).abs();
    let integers = !l.is_f64() && !r.is_f64();
    let scale = a.abs().max(b.abs());
    let noise = !integers && delta.is_finite() && delta <= FLOAT_NOISE * scale;
    Some(Numbers {
        count: 1,
        noise: usize::from(noise),
        max_delta: delta,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn float_noise_and_integers() {
        let changed = |l: Value, r: Value| {
            number_evidence(&Difference::new("$.x", DiffKind::Changed).left(l).right(r))
        };
        let noise = changed(json!(0.6), json!(0.6000000000000001)).unwrap();
        assert_eq!((noise.count, noise.noise), (1, 1));
        assert!(noise.max_delta > 0.0 && noise.max_delta < 1e-15);
        let epoch = changed(json!(1_795_363_885), json!(1_795_363_886)).unwrap();
        assert_eq!(epoch.noise, 0, "integers that move are not float noise");
        let duration = changed(json!(0.123), json!(0.131)).unwrap();
        assert_eq!(duration.noise, 0);
        assert!(changed(json!("a"), json!("b")).is_none());
    }

    #[test]
    fn evidence_merges() {
        let mut a = Evidence {
            order: Some(Order {
                keys: Some(["id".to_owned(), "n".to_owned()].into()),
            }),
            ..Evidence::default()
        };
        a.merge(&Evidence {
            order: Some(Order {
                keys: Some(["id".to_owned()].into()),
            }),
            numbers: Some(Numbers {
                count: 1,
                noise: 1,
                max_delta: 1e-16,
            }),
            line: None,
        });
        assert_eq!(a.order.unwrap().keys, Some(["id".to_owned()].into()));
        assert_eq!(a.numbers.unwrap().count, 1);
    }
}
