//! Rules proposed for what varies between runs of the legacy and the configured rules do not
//! cover: [`propose`] chooses them (rendered as parity.toml text by [`super::render`]).
//!
//! The rule follows the evidence: numbers that moved by float noise get a `tolerance` (the
//! largest move rounded up to a power of ten); arrays holding the same elements in another order
//! get a `match`, by a field unique in every element of every run seen, else `as = "multiset"`
//! (the tightest rule that hides a reordering: unlike a set it still counts repeats); a changed
//! line of text gets a `normalize` whose regex is anchored on the line's stable words; anything
//! else in structured data an `ignore`. Files that come and go, output that does not parse and
//! lines that appear or disappear get no rule: they are listed for a person to look at.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Variation;
use super::documents::preferred_key;
use super::lines::Shape;
use super::observe::Evidence;
use crate::config::{CompareBlock, Config};
use crate::diff::{DiffKind, Format, JsonPath, Segment};
use crate::report::short_value;

/// The reason every proposed rule carries, so the configuration says where it came from.
pub const REASON: &str = "varies between runs of the legacy (calibrate)";

/// Characters of a value shown in an evidence comment.
const SHOWN: usize = 40;

/// The proposed rules, grouped into `[[compare]]` blocks, and the variation no rule can answer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Proposal {
    pub blocks: Vec<ProposedBlock>,
    pub unproposed: Vec<Unproposed>,
}

impl Proposal {
    pub fn rule_count(&self) -> usize {
        self.blocks.iter().map(|b| b.rules.len()).sum()
    }
}

/// The rules proposed for one output (or one existing block's outputs).
#[derive(Debug, Clone, Serialize)]
pub struct ProposedBlock {
    /// `output` of the block: the existing block's glob, or the output's name.
    pub output: String,
    pub format: Option<Format>,
    /// The block that already compares this output: the rules belong in it, since an output is
    /// compared by the first block that matches it and a second block would never apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing: Option<ExistingBlock>,
    pub rules: Vec<ProposedRule>,
}

/// Where an existing `[[compare]]` block is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExistingBlock {
    /// 1-based position among the configuration's `[[compare]]` blocks.
    pub number: usize,
    /// Line of its `[[compare]]` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// One proposed rule, the evidence behind it, and a warning when an earlier rule of the
/// existing block would apply to the same values first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposedRule {
    #[serde(flatten)]
    pub rule: Rule,
    pub reason: &'static str,
    pub evidence: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_by: Option<String>,
}

/// A rule in parity.toml terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    Ignore {
        path: String,
    },
    Match {
        path: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<String>,
        #[serde(rename = "as", skip_serializing_if = "Option::is_none")]
        mode: Option<&'static str>,
    },
    Tolerance {
        path: String,
        abs: f64,
    },
    Normalize {
        pattern: String,
        replace: String,
    },
}

impl Rule {
    /// The parity.toml key the rule goes under.
    pub fn key(&self) -> &'static str {
        match self {
            Rule::Ignore { .. } => "ignore",
            Rule::Match { .. } => "match",
            Rule::Tolerance { .. } => "tolerance",
            Rule::Normalize { .. } => "normalize",
        }
    }

    /// The rule in a few words: `match $.items as set`, `tolerance $..score abs 1e-9`.
    pub fn describe(&self) -> String {
        match self {
            Rule::Ignore { path } => format!("ignore {path}"),
            Rule::Match { path, by, mode } => match (by, mode) {
                (Some(by), _) => format!("match {path} by {by}"),
                (None, Some(mode)) => format!("match {path} as {mode}"),
                (None, None) => format!("match {path}"),
            },
            Rule::Tolerance { path, abs } => format!("tolerance {path} abs {abs:e}"),
            Rule::Normalize { pattern, replace } => {
                format!("normalize /{pattern}/ -> {replace:?}")
            }
        }
    }
}

/// Variation of the legacy that gets no rule, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unproposed {
    pub output: String,
    pub pattern: String,
    pub kinds: Vec<DiffKind>,
    pub why: String,
}

/// Proposes rules for `uncovered`, the legacy's variation under the configured rules; `repeats`
/// is how many repeats of the legacy were compared.
pub fn propose(uncovered: &[Variation], config: &Config, repeats: usize) -> Proposal {
    let mut places: BTreeMap<(&str, &str), Vec<&Variation>> = BTreeMap::new();
    for variation in uncovered {
        places.entry(variation.place()).or_default().push(variation);
    }
    let mut blocks: BTreeMap<String, ProposedBlock> = BTreeMap::new();
    let mut unproposed = Vec::new();
    for ((output, pattern), variations) in places {
        let existing = variations[0]
            .block
            .and_then(|i| config.compares.iter().find(|b| b.index == i));
        let format = existing.and_then(|b| b.format).or(variations[0].format);
        if let Some(stage) = output.strip_prefix(crate::outcome::STAGE_PREFIX) {
            // A stage's rules live in its own `[[stage]]` block, which proposals do not write.
            let why = match choose(format, &variations, repeats) {
                Ok((rule, _)) => format!(
                    "a stage's file: add `{}` to the `[[stage]]` block named `{stage}`",
                    rule.describe()
                ),
                Err(why) => why,
            };
            unproposed.push(Unproposed {
                output: output.to_owned(),
                pattern: pattern.to_owned(),
                kinds: variations.iter().map(|v| v.kind).collect(),
                why,
            });
            continue;
        }
        match choose(format, &variations, repeats) {
            Ok((rule, evidence)) => {
                let shadowed_by = existing
                    .and_then(|b| shadowed_by(config, b, &rule, &variations[0].example.path));
                let block = blocks
                    .entry(
                        existing
                            .map_or_else(|| output.to_owned(), |b| b.output.label().into_owned()),
                    )
                    .or_insert_with(|| ProposedBlock {
                        output: existing
                            .map_or_else(|| output.to_owned(), |b| b.output.label().into_owned()),
                        format,
                        existing: existing.map(|b| ExistingBlock {
                            number: b.index + 1,
                            line: block_line(&config.source, b.index),
                        }),
                        rules: Vec::new(),
                    });
                if !block.rules.iter().any(|r| r.rule == rule) {
                    block.rules.push(ProposedRule {
                        rule,
                        reason: REASON,
                        evidence,
                        shadowed_by,
                    });
                }
            }
            Err(why) => unproposed.push(Unproposed {
                output: output.to_owned(),
                pattern: pattern.to_owned(),
                kinds: variations.iter().map(|v| v.kind).collect(),
                why,
            }),
        }
    }
    Proposal {
        blocks: blocks.into_values().collect(),
        unproposed,
    }
}

/// The rule for the variation at one place (every kind seen there), with the evidence for it,
/// or why there is none.
fn choose(
    format: Option<Format>,
    variations: &[&Variation],
    repeats: usize,
) -> Result<(Rule, String), String> {
    let kinds: BTreeSet<DiffKind> = variations.iter().map(|v| v.kind).collect();
    if let Some(why) = kinds.iter().find_map(|k| unanswerable(*k)) {
        return Err(why.to_owned());
    }
    let mut evidence = Evidence::default();
    for v in variations {
        evidence.merge(&v.evidence);
    }
    let seen = Seen::of(variations, repeats);
    match format {
        Some(Format::Text) => text_rule(&kinds, &evidence, &seen),
        Some(format @ (Format::Json | Format::Ndjson | Format::Csv | Format::Tsv)) => {
            structured_rule(format, &kinds, &evidence, &seen, variations)
        }
        Some(Format::Bytes) | None => Err(
            "binary output: compare it as text or a structured format to see what varies".into(),
        ),
    }
}

/// Kinds of variation no comparison rule hides.
fn unanswerable(kind: DiffKind) -> Option<&'static str> {
    match kind {
        DiffKind::MissingFile | DiffKind::ExtraFile => {
            Some("written in some runs and not in others; no rule hides a missing file")
        }
        DiffKind::ParseError => Some("does not parse in some runs"),
        DiffKind::Unreadable => Some("cannot be read in some runs"),
        DiffKind::SpecialFile => Some("is a FIFO, socket or device, which nothing can compare"),
        DiffKind::Truncated => Some("passed the capture limit, so only its start was compared"),
        DiffKind::DuplicateKey => {
            Some("a key the rules match by repeats within one run; check that `match`/`key` rule")
        }
        DiffKind::ExitStatus => Some("the exit status varies"),
        DiffKind::NumberFormat => {
            Some("numbers are spelled differently between runs; `strict_numbers` makes that count")
        }
        DiffKind::Moved => Some(TEXT_ORDER),
        DiffKind::ConvertFailed => Some("its converter fails in some runs"),
        DiffKind::Changed
        | DiffKind::TypeChanged
        | DiffKind::Added
        | DiffKind::Removed
        | DiffKind::OverTolerance
        | DiffKind::NullVsMissing
        | DiffKind::OrderChanged
        | DiffKind::WithinTolerance
        | DiffKind::Multiplicity => None,
    }
}

/// How often a place varied, for evidence comments.
struct Seen {
    text: String,
    example: String,
}

impl Seen {
    fn of(variations: &[&Variation], repeats: usize) -> Seen {
        let most = |f: fn(&Variation) -> usize| variations.iter().map(|v| f(v)).max().unwrap_or(0);
        let fixtures = most(|v| v.fixtures);
        let first = &variations[0].example;
        Seen {
            text: format!(
                "in {} of {} ({})",
                most(|v| v.repeats),
                crate::units::plural(repeats, "repeat"),
                crate::units::plural(fixtures, "fixture")
            ),
            example: format!(
                "{} → {}",
                short_value(first.first.as_ref(), SHOWN),
                short_value(first.repeat.as_ref(), SHOWN)
            ),
        }
    }
}

/// Why lines that come in another order between runs get no rule.
const TEXT_ORDER: &str =
    "its lines come in another order in some runs; no text rule ignores line order";

fn text_rule(
    kinds: &BTreeSet<DiffKind>,
    evidence: &Evidence,
    seen: &Seen,
) -> Result<(Rule, String), String> {
    let Some(line) = evidence.line.as_ref().filter(|_| kinds.len() == 1) else {
        return Err(if kinds.contains(&DiffKind::OrderChanged) {
            TEXT_ORDER.into()
        } else if kinds.contains(&DiffKind::Changed) {
            "the final newline varies".into()
        } else {
            "lines appear or disappear between runs".into()
        });
    };
    let shape = Shape::common(line.middles.iter().map(String::as_str));
    let anchored = super::lines::anchored(&line.prefix, &line.suffix);
    let (pattern, replace) = if anchored {
        let middle = if line.single_words { r"\S+" } else { ".*" };
        (
            format!(
                "^{}{middle}{}$",
                regex::escape(&line.prefix),
                regex::escape(&line.suffix)
            ),
            format!("{}{}{}", line.prefix, shape.placeholder(), line.suffix).replace('$', "$$"),
        )
    } else {
        let Some(regex) = shape.regex() else {
            return Err("the whole line varies, with no stable words to anchor a rule on".into());
        };
        (format!("^(?:{regex})$"), shape.placeholder().to_owned())
    };
    let evidence = format!("changed {}: {}", seen.text, seen.example);
    Ok((Rule::Normalize { pattern, replace }, evidence))
}

fn structured_rule(
    format: Format,
    kinds: &BTreeSet<DiffKind>,
    evidence: &Evidence,
    seen: &Seen,
    variations: &[&Variation],
) -> Result<(Rule, String), String> {
    let pattern = &variations[0].pattern;
    let path = rule_path(format, pattern);
    let values: usize = variations.iter().map(|v| v.values).sum();
    if kinds.iter().all(|k| *k == DiffKind::OrderChanged) {
        let keys = evidence.order.as_ref().and_then(|o| o.keys.as_ref());
        return Ok(match keys.and_then(preferred_key) {
            Some(key) => (
                Rule::Match {
                    path,
                    by: Some(key.clone()),
                    mode: None,
                },
                format!(
                    "elements in another order {}; `{key}` is unique in every run and pairs them",
                    seen.text
                ),
            ),
            None => (
                Rule::Match {
                    path,
                    by: None,
                    mode: Some("multiset"),
                },
                format!(
                    "the same elements in another order {}; no field identifies every element in every run",
                    seen.text
                ),
            ),
        });
    }
    if pattern == "$" {
        return Err("the whole document varies; ignoring it would leave nothing to compare".into());
    }
    let numeric = kinds
        .iter()
        .all(|k| matches!(k, DiffKind::Changed | DiffKind::OverTolerance));
    if let Some(numbers) = evidence
        .numbers
        .filter(|n| numeric && n.count == values && n.noise == n.count && n.max_delta > 0.0)
    {
        let abs = power_of_ten_above(numbers.max_delta);
        let evidence = format!(
            "numbers moved by at most {:.1e} {}",
            numbers.max_delta, seen.text
        );
        return Ok((Rule::Tolerance { path, abs }, evidence));
    }
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let evidence = format!("{} {}: {}", kinds.join(", "), seen.text, seen.example);
    Ok((Rule::Ignore { path }, evidence))
}

/// The smallest power of ten at least `delta`.
pub fn power_of_ten_above(delta: f64) -> f64 {
    let mut exponent = delta.log10().ceil() as i32;
    loop {
        let bound: f64 = format!("1e{exponent}").parse().unwrap_or(f64::MAX);
        if bound >= delta {
            return bound;
        }
        exponent += 1;
    }
}

/// A pattern as a rule path: in record formats `$[*].column` is written as the bare column.
fn rule_path(format: Format, pattern: &str) -> String {
    if matches!(format, Format::Csv | Format::Tsv | Format::Ndjson)
        && let Ok(path) = JsonPath::parse(pattern)
        && let [Segment::Wildcard, Segment::Field(column)] = path.segments()
        && !column.starts_with('$')
        && !column.is_empty()
    {
        return column.clone();
    }
    pattern.to_owned()
}

/// An earlier rule of `block` that already decides how the values at `example` compare (only
/// the first matching `match` or `tolerance` rule applies), described for a warning.
fn shadowed_by(
    config: &Config,
    block: &CompareBlock,
    rule: &Rule,
    example: &str,
) -> Option<String> {
    let location = JsonPath::parse(example).ok()?;
    let rules = &block.spec.rules;
    let id = match rule {
        Rule::Match { .. } => rules.array_match(location.segments()).0?,
        Rule::Tolerance { .. } => rules.tolerance(location.segments())?.0,
        Rule::Ignore { .. } | Rule::Normalize { .. } => return None,
    };
    let info = config.rules.get(id)?;
    Some(format!(
        "the {} rule on `{}` ({}) applies here first: change it rather than adding this one",
        info.kind.as_str(),
        info.path.as_deref().unwrap_or("$"),
        info.detail
    ))
}

/// The line of the `index`-th `[[compare]]` header in the configuration's text.
fn block_line(source: &str, index: usize) -> Option<usize> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| line.trim_start().starts_with("[[compare]]"))
        .nth(index)
        .map(|(n, _)| n + 1)
}

#[cfg(test)]
mod tests {

    use serde_json::json;

    use super::*;
    use crate::calibrate::observe::{Example, Line, Numbers, Order};

    fn variation(output: &str, format: Format, pattern: &str, kind: DiffKind) -> Variation {
        Variation {
            output: output.into(),
            format: Some(format),
            pattern: pattern.into(),
            kind,
            repeats: 2,
            fixtures: 1,
            values: 2,
            covered: None,
            example: Example {
                path: pattern.replace("[*]", "[0]"),
                first: Some(json!("2026-11-22T10:00:01Z")),
                repeat: Some(json!("2026-11-22T10:00:02Z")),
            },
            block: None,
            evidence: Evidence::default(),
        }
    }

    fn rule_of(v: Variation) -> Result<Rule, String> {
        let format = v.format;
        choose(format, &[&v], 2).map(|(rule, _)| rule)
    }

    #[test]
    fn strings_that_vary_are_ignored() {
        let v = variation("a.json", Format::Json, "$.generated_at", DiffKind::Changed);
        assert_eq!(
            rule_of(v),
            Ok(Rule::Ignore {
                path: "$.generated_at".into()
            })
        );
        let column = variation("t.csv", Format::Csv, "$[*].recorded_at", DiffKind::Changed);
        assert_eq!(
            rule_of(column),
            Ok(Rule::Ignore {
                path: "recorded_at".into()
            })
        );
    }

    #[test]
    fn float_noise_gets_a_tolerance_and_other_numbers_an_ignore() {
        let mut noise = variation("a.json", Format::Json, "$.total", DiffKind::Changed);
        noise.evidence.numbers = Some(Numbers {
            count: 2,
            noise: 2,
            max_delta: 2.2e-16,
        });
        assert_eq!(
            rule_of(noise.clone()),
            Ok(Rule::Tolerance {
                path: "$.total".into(),
                abs: 1e-15
            })
        );
        let mut mixed = noise.clone();
        mixed.evidence.numbers = Some(Numbers {
            count: 2,
            noise: 1,
            max_delta: 3.0,
        });
        assert!(matches!(rule_of(mixed), Ok(Rule::Ignore { .. })));
        // Some values at the pattern were not numbers at all.
        let mut partly = noise;
        partly.values = 3;
        assert!(matches!(rule_of(partly), Ok(Rule::Ignore { .. })));
    }

    #[test]
    fn powers_of_ten() {
        assert_eq!(power_of_ten_above(2.2e-16), 1e-15);
        assert_eq!(power_of_ten_above(1e-12), 1e-12);
        assert_eq!(power_of_ten_above(0.3), 1.0);
        assert_eq!(power_of_ten_above(7.0), 10.0);
        assert_eq!(format!("{:e}", power_of_ten_above(4.4e-16)), "1e-15");
    }

    #[test]
    fn reordered_arrays_are_matched_by_a_unique_field_or_as_a_multiset() {
        let mut keyed = variation("a.json", Format::Json, "$.items", DiffKind::OrderChanged);
        keyed.evidence.order = Some(Order {
            keys: Some(["name".to_owned(), "item_id".to_owned()].into()),
        });
        assert_eq!(
            rule_of(keyed),
            Ok(Rule::Match {
                path: "$.items".into(),
                by: Some("item_id".into()),
                mode: None
            })
        );
        let mut scalars = variation("a.json", Format::Json, "$.tags", DiffKind::OrderChanged);
        scalars.evidence.order = Some(Order { keys: None });
        assert_eq!(
            rule_of(scalars),
            Ok(Rule::Match {
                path: "$.tags".into(),
                by: None,
                mode: Some("multiset")
            })
        );
        let rows = variation("t.csv", Format::Csv, "$", DiffKind::OrderChanged);
        assert!(matches!(rule_of(rows), Ok(Rule::Match { path, .. }) if path == "$"));
    }

    fn line(prefix: &str, suffix: &str, middles: &[&str], single_words: bool) -> Evidence {
        Evidence {
            line: Some(Line {
                prefix: prefix.into(),
                suffix: suffix.into(),
                middles: middles.iter().map(|m| (*m).to_owned()).collect(),
                single_words,
            }),
            ..Evidence::default()
        }
    }

    #[test]
    fn text_lines_get_anchored_normalisations() {
        let mut v = variation("r.md", Format::Text, "Generated at: …", DiffKind::Changed);
        v.evidence = line(
            "Generated at: ",
            "",
            &["2026-11-22T10:00:01Z", "2026-11-22T10:00:02Z"],
            true,
        );
        let Ok(Rule::Normalize { pattern, replace }) = rule_of(v) else {
            panic!("a normalize rule")
        };
        assert_eq!(pattern, r"^Generated at: \S+$");
        assert_eq!(replace, "Generated at: <time>");
        let regex = regex::Regex::new(&pattern).unwrap();
        assert!(regex.is_match("Generated at: 2027-01-01T00:00:00.123+00:00"));
        assert!(!regex.is_match("Generated at: two words"));

        let mut costly = variation("r.md", Format::Text, "cost $ … (est.)", DiffKind::Changed);
        costly.evidence = line("cost $ ", " (est.)", &["1 2", "3"], false);
        let Ok(Rule::Normalize { pattern, replace }) = rule_of(costly) else {
            panic!("a normalize rule")
        };
        assert_eq!(pattern, r"^cost \$ .* \(est\.\)$");
        assert_eq!(replace, "cost $$ <varies> (est.)");
        let regex = regex::Regex::new(&pattern).unwrap();
        assert_eq!(
            regex.replace("cost $ 12 34 (est.)", replace.as_str()),
            "cost $ <varies> (est.)"
        );
    }

    #[test]
    fn whole_lines_need_a_recognisable_shape() {
        let mut uuid = variation("r.txt", Format::Text, "…", DiffKind::Changed);
        uuid.evidence = line(
            "",
            "",
            &[
                "bc27a4ab-cbc2-4b6c-93f8-f2970a0e013f",
                "10a62dec-4f84-4f31-969a-8ff63c2aa1d6",
            ],
            true,
        );
        let Ok(Rule::Normalize { pattern, replace }) = rule_of(uuid.clone()) else {
            panic!("a normalize rule")
        };
        assert_eq!(replace, "<uuid>");
        assert!(
            regex::Regex::new(&pattern)
                .unwrap()
                .is_match("00000000-0000-0000-0000-000000000000")
        );
        uuid.evidence = line("", "", &["alpha", "beta"], true);
        assert!(rule_of(uuid).unwrap_err().contains("no stable words"));
    }

    #[test]
    fn some_variation_has_no_rule() {
        let cases = [
            (
                Format::Json,
                "$",
                DiffKind::MissingFile,
                "no rule hides a missing file",
            ),
            (Format::Json, "$", DiffKind::ParseError, "does not parse"),
            (Format::Json, "$", DiffKind::TypeChanged, "whole document"),
            (Format::Text, "@@", DiffKind::Added, "appear or disappear"),
            (Format::Text, "$", DiffKind::Changed, "final newline"),
            (Format::Bytes, "$", DiffKind::Changed, "binary"),
        ];
        for (format, pattern, kind, why) in cases {
            let error = rule_of(variation("x", format, pattern, kind)).unwrap_err();
            assert!(error.contains(why), "{kind:?}: {error}");
        }
    }

    #[test]
    fn block_lines() {
        let source = "[legacy]\n\n[[compare]]\noutput = 'a'\n  [[compare]]  # b\n";
        assert_eq!(block_line(source, 0), Some(3));
        assert_eq!(block_line(source, 1), Some(5));
        assert_eq!(block_line(source, 2), None);
    }
}
