//! Which comparisons can stream: a keyed array at a plain path (the root for record files, a
//! chain of member names for a JSON document), and no rule that would make the walker see the
//! array, or the objects holding it, differently from the way streaming hands them over.

use crate::diff::path::Segment;
use crate::diff::rules::{ArrayMatch, Rule, Rules};
use crate::diff::{DiffSpec, JsonPath};

/// A keyed array streaming can compare exactly as the in-memory walk does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Plan {
    /// The key rule's id (counted once when the arrays are not the same in the same order).
    pub rule: usize,
    /// The key fields.
    pub fields: Vec<String>,
    /// Member names from the root to the array; empty for record files.
    pub path: Vec<String>,
}

/// The plan for records keyed at the root (NDJSON, CSV, TSV).
pub(super) fn root(spec: &DiffSpec) -> Option<Plan> {
    let rule = spec
        .rules
        .matching
        .iter()
        .find(|r| r.path.as_ref().is_some_and(|p| p.segments().is_empty()))?;
    checked(&spec.rules, rule, Vec::new())
}

/// The plan for a JSON document: the first key rule whose path is plain member names.
pub(super) fn document(spec: &DiffSpec) -> Option<Plan> {
    spec.rules.matching.iter().find_map(|rule| {
        let path = rule.path.as_ref()?;
        let names = path
            .segments()
            .iter()
            .map(|s| match s {
                Segment::Field(name) => Some(name.clone()),
                _ => None,
            })
            .collect::<Option<Vec<String>>>()?;
        checked(&spec.rules, rule, names)
    })
}

/// The plan, if the rules let the walker see the array at `names` as streaming hands it over.
fn checked(rules: &Rules, rule: &Rule<ArrayMatch>, names: Vec<String>) -> Option<Plan> {
    // Numbered placeholders depend on visiting every value of a side in order.
    if rules.has_placeholders() {
        return None;
    }
    let location: Vec<Segment> = names.iter().cloned().map(Segment::Field).collect();
    let fields = match rules.array_match(&location) {
        (Some(id), ArrayMatch::Keyed(fields)) if id == rule.id && !fields.is_empty() => {
            fields.clone()
        }
        _ => return None,
    };
    let applies =
        |path: &Option<JsonPath>, at: &[Segment]| path.as_ref().is_none_or(|p| p.matches(at));
    for depth in 0..=location.len() {
        let at = &location[..depth];
        // An ignored step hides the array (the root is never looked up).
        if depth > 0 && rules.ignored(at).is_some() {
            return None;
        }
        // A value map applies to a whole object or array when its text is a key.
        let maps_containers = rules
            .map_values
            .iter()
            .any(|r| applies(&r.path, at) && r.action.keys().any(|k| k.starts_with(['{', '['])));
        if maps_containers {
            return None;
        }
        // A rename of the next member on the way, or to it, moves the array.
        if let Some(next) = names.get(depth) {
            let renames = rules.rename.iter().any(|r| {
                applies(&r.path, at) && r.action.iter().any(|(from, to)| from == next || to == next)
            });
            if renames {
                return None;
            }
        }
    }
    Some(Plan {
        rule: rule.id,
        fields,
        path: names,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diff::rules::{Normalize, Replacement, ValueMap};

    fn keyed(path: &str) -> Rule<ArrayMatch> {
        Rule {
            id: 0,
            path: Some(JsonPath::parse(path).unwrap()),
            action: ArrayMatch::Keyed(vec!["id".into()]),
        }
    }

    fn spec(rules: Rules) -> DiffSpec {
        DiffSpec {
            rules,
            ..DiffSpec::default()
        }
    }

    #[test]
    fn finds_plain_keyed_paths_and_refuses_rules_that_reach_them() {
        let base = Rules {
            matching: vec![keyed("$.a.items")],
            ..Rules::default()
        };
        let plan = document(&spec(base.clone())).unwrap();
        assert_eq!(
            (plan.rule, plan.path),
            (0, vec!["a".to_owned(), "items".to_owned()])
        );
        assert!(root(&spec(base.clone())).is_none());
        let with = |edit: &dyn Fn(&mut Rules)| {
            let mut rules = base.clone();
            edit(&mut rules);
            document(&spec(rules))
        };
        let path = |p: &str| Some(JsonPath::parse(p).unwrap());
        // Shadowed by an earlier rule, a pattern, ignored, renamed, mapped, numbered.
        assert!(
            with(&|r| r.matching.insert(
                0,
                Rule {
                    id: 9,
                    path: path("$..items"),
                    action: ArrayMatch::Set
                }
            ))
            .is_none()
        );
        assert!(
            document(&spec(Rules {
                matching: vec![keyed("$.a[*]")],
                ..Rules::default()
            }))
            .is_none()
        );
        assert!(
            with(&|r| r.ignore.push(Rule {
                id: 1,
                path: path("$.a"),
                action: ()
            }))
            .is_none()
        );
        assert!(
            with(&|r| r.rename.push(Rule {
                id: 1,
                path: path("$.a"),
                action: [("old".into(), "items".into())].into()
            }))
            .is_none()
        );
        assert!(
            with(&|r| r.map_values.push(Rule {
                id: 1,
                path: path("$.a.items"),
                action: ValueMap::from([("[]".into(), json!(1))])
            }))
            .is_none()
        );
        assert!(
            with(&|r| r.normalize.push(Rule {
                id: 1,
                path: None,
                action: Normalize {
                    regex: regex::Regex::new("x").unwrap(),
                    replace: Replacement::Placeholder("x".into())
                }
            }))
            .is_none()
        );
        // Rules that only reach inside records, or elsewhere, are fine.
        assert!(
            with(&|r| r.ignore.push(Rule {
                id: 1,
                path: path("$.a.items[*].ts"),
                action: ()
            }))
            .is_some()
        );
        assert!(
            with(&|r| r.rename.push(Rule {
                id: 1,
                path: path("$.a"),
                action: [("x".into(), "y".into())].into()
            }))
            .is_some()
        );
        assert!(
            with(&|r| r.map_values.push(Rule {
                id: 1,
                path: path("$..state"),
                action: ValueMap::from([("Y".into(), json!(true))])
            }))
            .is_some()
        );
    }
}
