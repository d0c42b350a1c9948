//! Both runs' documents for one structured output ([`Documents`]), parsed once when needed: to
//! see which fields could key an array whose elements came out in another order, and to re-pair
//! arrays that were reordered *and* changed ([`Documents::realign`]). Rows shuffled with a
//! timestamp in each are paired by position by the differ, which then reports every field of
//! every row as changed; re-paired by a key both runs share, what varies inside the elements is
//! seen apart from the reordering.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::Config;
use crate::diff::path::{key_filter, value_filter};
use crate::diff::{
    ArrayMatch, DiffKind, DiffSpec, Difference, Findings, Format, JsonPath, NoWaivers, Rule, Rules,
    Segment,
};
use crate::outcome::OutputComparison;
use crate::runner::SideResult;

/// Differences kept per output while calibrating: the evidence behind a proposal comes from the
/// kept ones (counts stay exact beyond it).
pub const EVIDENCE_CAP: usize = 100_000;

/// Arrays holding the same elements in another order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Fields present, scalar and unique in every element of every array seen; `None` when
    /// some array could not be found or its elements are not all objects.
    pub keys: Option<BTreeSet<String>>,
}

/// Rule id of the match rules added while realigning; no configured rule has it.
const REALIGNED: usize = usize::MAX;
/// Rounds of realignment: an array inside the elements of an array realigned in one round is
/// found in the next.
const ROUNDS: usize = 3;
/// A key must pair at least this share of the elements of the longer array, and two of them.
const KEY_COVERAGE: f64 = 0.5;

/// Both runs' parsed documents for one output.
pub struct Documents<'a> {
    paths: (PathBuf, PathBuf),
    format: Option<Format>,
    spec: Option<&'a DiffSpec>,
    loaded: Option<Option<(Value, Value)>>,
}

/// The differences of an output once reordered arrays are paired by key.
#[derive(Debug)]
pub struct Realigned {
    pub differences: Vec<Difference>,
    /// The block's rules plus a keyed match for each realigned array.
    pub rules: Rules,
    /// Each realigned array's location, and the order evidence for it.
    pub arrays: Vec<(String, Order)>,
}

impl<'a> Documents<'a> {
    pub fn new(
        config: &Config,
        output: &OutputComparison,
        spec: Option<&'a DiffSpec>,
        (first, repeat): (&SideResult, &SideResult),
    ) -> Self {
        let path = |side: &SideResult| side.artifacts.output(config, &output.output);
        Documents {
            paths: (path(first), path(repeat)),
            format: output.format,
            spec,
            loaded: None,
        }
    }

    fn both(&mut self) -> Option<&(Value, Value)> {
        if self.loaded.is_none() {
            let load = |path: &Path| parse_document(path, self.format?, self.spec);
            let (l, r) = &self.paths;
            self.loaded = Some(load(l).zip(load(r)));
        }
        self.loaded.as_ref().and_then(Option::as_ref)
    }

    /// The fields that could key the array at `path` (named as under `rules`) in both runs.
    pub fn order_evidence(&mut self, path: &str, rules: &Rules) -> Order {
        let keys = JsonPath::parse(path)
            .ok()
            .and_then(|path| self.arrays_at(&path, rules))
            .map(|(l, r)| stable_keys(&l, &r));
        Order { keys }
    }

    /// Re-pairs by key every array whose elements changed and whose shared elements (by a key
    /// unique in both runs) came out in another order, and compares the documents again under
    /// `rules` plus those keys. `None` when no array was reordered (or the documents cannot be
    /// read): the differences stand as they are.
    pub fn realign(&mut self, differences: &[Difference], rules: &Rules) -> Option<Realigned> {
        let mut rules = rules.clone();
        let mut arrays = Vec::new();
        let mut current: Option<Vec<Difference>> = None;
        let mut tried = BTreeSet::new();
        for _ in 0..ROUNDS {
            let list = current.as_deref().unwrap_or(differences);
            let mut found = false;
            for location in arrays_with_changed_elements(list) {
                if !tried.insert(location.clone()) {
                    continue;
                }
                let Some((key, keys)) = self.reordered(&location, &rules) else {
                    continue;
                };
                rules.matching.insert(
                    0,
                    Rule {
                        id: REALIGNED,
                        path: Some(location.clone()),
                        action: ArrayMatch::Keyed(vec![key]),
                    },
                );
                arrays.push((location.to_string(), Order { keys: Some(keys) }));
                found = true;
            }
            if !found {
                break;
            }
            current = Some(self.diff(&rules)?);
        }
        Some(Realigned {
            differences: current?,
            rules,
            arrays,
        })
    }

    /// Copies of the arrays at `location` in both runs.
    fn arrays_at(
        &mut self,
        location: &JsonPath,
        rules: &Rules,
    ) -> Option<(Vec<Value>, Vec<Value>)> {
        let (left, right) = self.both()?;
        let l = resolve(left, location.segments(), rules)?.as_array()?;
        let r = resolve(right, location.segments(), rules)?.as_array()?;
        Some((l.clone(), r.clone()))
    }

    /// The key to pair the array at `location` by, and every field that could, when the
    /// elements both runs share came out in another order.
    fn reordered(
        &mut self,
        location: &JsonPath,
        rules: &Rules,
    ) -> Option<(String, BTreeSet<String>)> {
        let (l, r) = self.arrays_at(location, rules)?;
        let keys = stable_keys(&l, &r);
        let key = preferred_key(&keys)?.clone();
        let values = |items: &[Value]| -> Vec<String> {
            items
                .iter()
                .filter_map(|item| item.get(&key).map(Value::to_string))
                .collect()
        };
        let (lv, rv) = (values(&l), values(&r));
        let (lset, rset): (BTreeSet<&String>, BTreeSet<&String>) =
            (lv.iter().collect(), rv.iter().collect());
        let shared = |order: &[String], other: &BTreeSet<&String>| -> Vec<String> {
            order
                .iter()
                .filter(|v| other.contains(v))
                .cloned()
                .collect()
        };
        (shared(&lv, &rset) != shared(&rv, &lset)).then_some((key, keys))
    }

    /// Both documents compared in memory under `rules`.
    fn diff(&mut self, rules: &Rules) -> Option<Vec<Difference>> {
        let leaves = match self.format {
            Some(Format::Csv | Format::Tsv) => crate::diff::value::Leaves::Cells,
            _ => crate::diff::value::Leaves::Json,
        };
        let (left, right) = self.both()?;
        let mut findings = Findings::new("", &NoWaivers, EVIDENCE_CAP);
        crate::diff::value::diff_values_as(leaves, left, right, rules, &mut findings);
        Some(findings.finish().differences)
    }
}

/// The arrays holding elements that changed, were added or removed: each difference's path up
/// to its first index.
fn arrays_with_changed_elements(differences: &[Difference]) -> BTreeSet<JsonPath> {
    differences
        .iter()
        .filter(|d| {
            matches!(
                d.kind,
                DiffKind::Changed
                    | DiffKind::TypeChanged
                    | DiffKind::Added
                    | DiffKind::Removed
                    | DiffKind::NullVsMissing
                    | DiffKind::OverTolerance
            )
        })
        .filter_map(|d| {
            let path = JsonPath::parse(&d.path).ok()?;
            let segments = path.segments();
            let index = segments
                .iter()
                .position(|s| matches!(s, Segment::Index(_)))?;
            let mut array = JsonPath::root();
            for segment in &segments[..index] {
                array.push(segment.clone());
            }
            Some(array)
        })
        .collect()
}

/// Fields unique within each run's array whose values pair most elements across the runs (see
/// [`KEY_COVERAGE`]).
fn stable_keys(l: &[Value], r: &[Value]) -> BTreeSet<String> {
    let (Some(lk), Some(rk)) = (unique_fields(l), unique_fields(r)) else {
        return BTreeSet::new();
    };
    let longer = l.len().max(r.len()) as f64;
    let values = |items: &[Value], key: &str| -> BTreeSet<String> {
        items
            .iter()
            .filter_map(|i| i.get(key).map(Value::to_string))
            .collect()
    };
    lk.intersection(&rk)
        .filter(|key| {
            let shared = values(l, key).intersection(&values(r, key)).count();
            shared >= 2 && shared as f64 >= KEY_COVERAGE * longer
        })
        .cloned()
        .collect()
}

/// The key to match by: `id`, `key`, a field named like an id or a key, else the first.
pub fn preferred_key(keys: &BTreeSet<String>) -> Option<&String> {
    let lower = |k: &String| k.to_ascii_lowercase();
    keys.iter()
        .find(|k| ["id", "key"].contains(&lower(k).as_str()))
        .or_else(|| keys.iter().find(|k| lower(k).ends_with("id")))
        .or_else(|| keys.iter().find(|k| lower(k).ends_with("key")))
        .or_else(|| keys.iter().next())
}

/// A structured output as one value: NDJSON and CSV/TSV become arrays of records.
fn parse_document(path: &Path, format: Format, spec: Option<&DiffSpec>) -> Option<Value> {
    let bytes = std::fs::read(path).ok()?;
    match format {
        Format::Json => crate::diff::json::parse(&bytes).ok(),
        Format::Ndjson => crate::diff::ndjson::parse(&bytes).ok(),
        Format::Csv | Format::Tsv => {
            let options = spec.map(|s| s.csv.clone()).unwrap_or_default();
            let table = crate::diff::csv::parse(&bytes, format, &options).ok()?;
            Some(Value::Array(
                table.rows.into_iter().map(Value::Object).collect(),
            ))
        }
        Format::Text | Format::Bytes => None,
    }
}

/// The value at a difference's location. A filter step (an element paired by key or as a set
/// member) is found the way the differ named it, under the array's match rule.
fn resolve<'v>(value: &'v Value, location: &[Segment], rules: &Rules) -> Option<&'v Value> {
    let mut node = value;
    for (depth, step) in location.iter().enumerate() {
        node = match (step, node) {
            (Segment::Field(name), Value::Object(members)) => members.get(name)?,
            (Segment::Index(i), Value::Array(items)) => items.get(*i)?,
            (Segment::Filter(_), Value::Array(items)) => {
                let (_, mode) = rules.array_match(&location[..depth]);
                items
                    .iter()
                    .find(|item| filter_of(mode, item).as_ref() == Some(step))?
            }
            _ => return None,
        };
    }
    Some(node)
}

fn filter_of(mode: &ArrayMatch, item: &Value) -> Option<Segment> {
    match mode {
        ArrayMatch::Keyed(fields) => {
            let values: Vec<Value> = fields
                .iter()
                .map(|f| item.get(f).cloned().unwrap_or(Value::Null))
                .collect();
            Some(key_filter(fields, &values))
        }
        ArrayMatch::Set | ArrayMatch::Multiset => Some(value_filter(item)),
        ArrayMatch::Positional | ArrayMatch::Aligned => None,
    }
}

/// Fields every element has, with a scalar value no other element shares; `None` when the
/// elements are not all objects.
fn unique_fields(items: &[Value]) -> Option<BTreeSet<String>> {
    let first = items.first()?.as_object()?;
    let mut unique = BTreeSet::new();
    for field in first.keys() {
        let mut seen = BTreeSet::new();
        let all_unique = items.iter().all(|item| {
            matches!(
                item.get(field),
                Some(Value::String(_) | Value::Number(_) | Value::Bool(_))
            ) && item.get(field).is_some_and(|v| seen.insert(v.to_string()))
        });
        if all_unique {
            unique.insert(field.clone());
        }
    }
    items.iter().all(Value::is_object).then_some(unique)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unique_fields_of_records() {
        let items = [
            json!({"id": "a", "n": 1, "tag": "x", "sub": {}}),
            json!({"id": "b", "n": 2, "tag": "x", "sub": {}}),
        ];
        assert_eq!(
            unique_fields(&items),
            Some(["id".to_owned(), "n".to_owned()].into())
        );
        assert_eq!(unique_fields(&[json!(1), json!(2)]), None);
        assert_eq!(
            unique_fields(&[json!({"id": 1}), json!({"other": 2})]),
            Some(BTreeSet::new())
        );
    }

    #[test]
    fn stable_keys_pair_most_elements() {
        let l = [
            json!({"key": "k1", "at": 1, "n": 1}),
            json!({"key": "k2", "at": 2, "n": 2}),
            json!({"key": "k3", "at": 3, "n": 3}),
        ];
        let r = [
            json!({"key": "k3", "at": 7, "n": 3}),
            json!({"key": "k1", "at": 8, "n": 1}),
            json!({"key": "k2", "at": 9, "n": 2}),
        ];
        // `at` is unique in each run but pairs nothing across them.
        assert_eq!(
            stable_keys(&l, &r),
            ["key".to_owned(), "n".to_owned()].into()
        );
        assert_eq!(preferred_key(&stable_keys(&l, &r)).unwrap(), "key");
    }

    fn loaded(left: Value, right: Value) -> Documents<'static> {
        Documents {
            paths: (PathBuf::new(), PathBuf::new()),
            format: Some(Format::Json),
            spec: None,
            loaded: Some(Some((left, right))),
        }
    }

    #[test]
    fn shuffled_rows_that_also_changed_are_paired_by_key() {
        let left = json!([
            {"key": "k1", "n": 1, "seen": "10:00:01"},
            {"key": "k2", "n": 2, "seen": "10:00:01"},
            {"key": "k3", "n": 3, "seen": "10:00:01"},
        ]);
        let right = json!([
            {"key": "k3", "n": 3, "seen": "10:00:02"},
            {"key": "k1", "n": 1, "seen": "10:00:02"},
            {"key": "k2", "n": 2, "seen": "10:00:02"},
        ]);
        let mut findings = Findings::new("t.csv", &NoWaivers, 100);
        crate::diff::value::diff_values(&left, &right, &Rules::default(), &mut findings);
        let positional = findings.finish().differences;
        assert!(
            positional.iter().any(|d| d.path == "$[0].key"),
            "{positional:?}"
        );

        let mut documents = loaded(left, right);
        let realigned = documents
            .realign(&positional, &Rules::default())
            .expect("the rows were reordered");
        let paths: Vec<&str> = realigned
            .differences
            .iter()
            .map(|d| d.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "$[?@.key=='k1'].seen",
                "$[?@.key=='k2'].seen",
                "$[?@.key=='k3'].seen"
            ]
        );
        assert_eq!(
            realigned.arrays,
            [(
                "$".to_owned(),
                Order {
                    keys: Some(["key".to_owned(), "n".to_owned()].into())
                }
            )]
        );
    }

    #[test]
    fn rows_in_the_same_order_are_left_alone() {
        let left = json!([{"id": 1, "score": 0.5}, {"id": 2, "score": 0.25}]);
        let right = json!([{"id": 1, "score": 0.6}, {"id": 2, "score": 0.25}]);
        let differences = [Difference::new("$[0].score", DiffKind::Changed)];
        assert!(
            loaded(left, right)
                .realign(&differences, &Rules::default())
                .is_none()
        );
    }

    #[test]
    fn key_preference() {
        let keys = |k: &[&str]| k.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        assert_eq!(preferred_key(&keys(&["a", "id", "x_id"])).unwrap(), "id");
        assert_eq!(preferred_key(&keys(&["a", "cveId"])).unwrap(), "cveId");
        assert_eq!(preferred_key(&keys(&["a", "row_key"])).unwrap(), "row_key");
        assert_eq!(preferred_key(&keys(&["b", "a"])).unwrap(), "a");
        assert!(preferred_key(&keys(&[])).is_none());
    }

    #[test]
    fn changed_elements_name_their_outermost_array() {
        let d = |path: &str, kind| Difference::new(path, kind);
        let arrays: Vec<String> = arrays_with_changed_elements(&[
            d("$[3].seen", DiffKind::Changed),
            d("$.items[0].tags[2]", DiffKind::Added),
            d("$.items[?@.id=='a'].tags[1]", DiffKind::Removed),
            d("$.total", DiffKind::Changed),
            d("$.list", DiffKind::OrderChanged),
        ])
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(arrays, ["$", "$.items", "$.items[?@.id=='a'].tags"]);
    }

    #[test]
    fn resolves_keyed_and_indexed_steps() {
        let doc = json!({"items": [{"id": "a", "tags": [3, 1]}, {"id": "b", "tags": [2]}]});
        let rules = Rules {
            matching: vec![crate::diff::Rule {
                id: 0,
                path: Some(JsonPath::parse("$.items").unwrap()),
                action: ArrayMatch::Keyed(vec!["id".into()]),
            }],
            ..Rules::default()
        };
        let path = JsonPath::parse("$.items[?@.id=='b'].tags").unwrap();
        assert_eq!(resolve(&doc, path.segments(), &rules), Some(&json!([2])));
        let path = JsonPath::parse("$.items[0].tags[1]").unwrap();
        assert_eq!(
            resolve(&doc, path.segments(), &Rules::default()),
            Some(&json!(1))
        );
        let missing = JsonPath::parse("$.items[?@.id=='z']").unwrap();
        assert_eq!(resolve(&doc, missing.segments(), &rules), None);
    }
}
