//! Finding a reordered array in both runs' outputs, to see which fields could key its
//! elements: [`Documents`] parses an output's two files once, when an `order_changed` needs them,
//! and follows the difference's path, including steps that name an element by key or value the
//! way the differ named it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use super::observe::Order;
use crate::diff::path::{key_filter, value_filter};
use crate::diff::{ArrayMatch, DiffSpec, Format, JsonPath, Rules, Segment};
use crate::outcome::OutputComparison;
use crate::runner::SideResult;

/// Both runs' parsed documents for one output, loaded when an `order_changed` needs them.
pub struct Documents<'a> {
    paths: (PathBuf, PathBuf),
    format: Option<Format>,
    spec: Option<&'a DiffSpec>,
    loaded: Option<Option<(Value, Value)>>,
}

impl<'a> Documents<'a> {
    pub fn new(
        output: &OutputComparison,
        spec: Option<&'a DiffSpec>,
        (first, repeat): (&SideResult, &SideResult),
    ) -> Self {
        let path = |side: &SideResult| match output.output.as_str() {
            "stdout" => side.artifacts.stdout.clone(),
            "stderr" => side.artifacts.stderr.clone(),
            relative => side.artifacts.out_dir.join(relative),
        };
        Documents {
            paths: (path(first), path(repeat)),
            format: output.format,
            spec,
            loaded: None,
        }
    }

    fn both(&mut self) -> Option<&(Value, Value)> {
        if self.loaded.is_none() {
            let load = |path: &PathBuf| parse_document(path, self.format?, self.spec);
            let (l, r) = &self.paths;
            let loaded = load(l).zip(load(r));
            self.loaded = Some(loaded);
        }
        self.loaded.as_ref().and_then(Option::as_ref)
    }

    /// The fields that could key the reordered array at `path` in both runs.
    pub fn order_evidence(&mut self, path: &str) -> Order {
        let rules = self.spec.map(|s| s.rules.clone()).unwrap_or_default();
        let keys = JsonPath::parse(path).ok().and_then(|path| {
            let (left, right) = self.both()?;
            let l = resolve(left, path.segments(), &rules)?;
            let r = resolve(right, path.segments(), &rules)?;
            let (l, r) = (unique_fields(l.as_array()?)?, unique_fields(r.as_array()?)?);
            Some(l.intersection(&r).cloned().collect())
        });
        Order { keys }
    }
}

/// A structured output as one value: NDJSON and CSV/TSV become arrays of records.
fn parse_document(path: &PathBuf, format: Format, spec: Option<&DiffSpec>) -> Option<Value> {
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
