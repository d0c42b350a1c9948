//! Outputs as stored in a golden: normalised by the comparison's rules, so a golden does not
//! change with every recording (timestamps, run ids) and reads well in a pull request.
//!
//! JSON is pretty-printed with sorted keys, NDJSON one sorted-key record per line; values at
//! ignored paths become `"<ignored>"`; strings and text lines are rewritten by the `normalize`
//! rules (placeholders numbered per file). CSV is kept as written unless a rule changes a field.
//! Anything that does not parse is stored as it is.

use serde_json::Value;

use crate::diff::{DiffSpec, Format, JsonPath, Placeholders, Rules, Segment};

/// What an ignored value is stored as.
pub const IGNORED: &str = "<ignored>";

/// The bytes to store for an output of `format` compared under `spec`.
pub fn normalize(format: Format, spec: &DiffSpec, bytes: &[u8]) -> Vec<u8> {
    let normalized = match format {
        Format::Json => json(spec, bytes),
        Format::Ndjson => ndjson(spec, bytes),
        Format::Csv | Format::Tsv => csv(format, spec, bytes),
        Format::Text => text(spec, bytes),
        Format::Bytes => None,
    };
    normalized.unwrap_or_else(|| bytes.to_vec())
}

/// Rewrites a value in place: ignored values replaced, strings normalised.
pub fn apply(
    value: &mut Value,
    path: &mut JsonPath,
    rules: &Rules,
    placeholders: &mut Placeholders,
) {
    match value {
        Value::Object(map) => {
            for (name, child) in map.iter_mut() {
                path.push(Segment::Field(name.clone()));
                visit(child, path, rules, placeholders);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                path.push(Segment::Index(i));
                visit(child, path, rules, placeholders);
                path.pop();
            }
        }
        Value::String(text) => {
            let (normalized, hits) = rules.normalize(path.segments(), text, placeholders);
            if !hits.is_empty() {
                *text = normalized.into_owned();
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn visit(child: &mut Value, path: &mut JsonPath, rules: &Rules, placeholders: &mut Placeholders) {
    if rules.ignored(path.segments()).is_some() {
        *child = Value::String(IGNORED.to_owned());
    } else {
        apply(child, path, rules, placeholders);
    }
}

fn json(spec: &DiffSpec, bytes: &[u8]) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(bytes).ok()?;
    apply(
        &mut value,
        &mut JsonPath::root(),
        &spec.rules,
        &mut Placeholders::default(),
    );
    let mut out = serde_json::to_vec_pretty(&value).ok()?;
    out.push(b'\n');
    Some(out)
}

fn ndjson(spec: &DiffSpec, bytes: &[u8]) -> Option<Vec<u8>> {
    let mut placeholders = Placeholders::default();
    let mut out = Vec::with_capacity(bytes.len());
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut value: Value = serde_json::from_slice(line).ok()?;
        let mut path = JsonPath::root().child(Segment::Index(i));
        apply(&mut value, &mut path, &spec.rules, &mut placeholders);
        out.extend(serde_json::to_vec(&value).ok()?);
        out.push(b'\n');
    }
    Some(out)
}

fn csv(format: Format, spec: &DiffSpec, bytes: &[u8]) -> Option<Vec<u8>> {
    let table = crate::diff::csv::parse(bytes, format, &spec.csv).ok()?;
    let mut placeholders = Placeholders::default();
    let mut changed = false;
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(table.rows.len());
    for (i, row) in table.rows.iter().enumerate() {
        let mut cells = Vec::with_capacity(table.columns.len());
        for column in &table.columns {
            let field = row.get(column).and_then(Value::as_str).unwrap_or_default();
            let path = JsonPath::root()
                .child(Segment::Index(i))
                .child(Segment::Field(column.clone()));
            let cell = if spec.rules.ignored(path.segments()).is_some() {
                IGNORED.to_owned()
            } else {
                spec.rules
                    .normalize(path.segments(), field, &mut placeholders)
                    .0
                    .into_owned()
            };
            changed |= cell != field;
            cells.push(cell);
        }
        rows.push(cells);
    }
    if !changed {
        return None;
    }
    let default_delimiter = if format == Format::Tsv { b'\t' } else { b',' };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(spec.csv.delimiter.unwrap_or(default_delimiter))
        .from_writer(Vec::new());
    writer.write_record(&table.columns).ok()?;
    for row in rows {
        writer.write_record(&row).ok()?;
    }
    writer.into_inner().ok()
}

fn text(spec: &DiffSpec, bytes: &[u8]) -> Option<Vec<u8>> {
    if !spec.rules.has_normalize() {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let mut placeholders = Placeholders::default();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        out.push_str(&spec.rules.normalize(&[], body, &mut placeholders).0);
        out.push_str(end);
    }
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;
    use crate::diff::{Normalize, Replacement, Rule};

    fn spec() -> DiffSpec {
        DiffSpec {
            rules: Rules {
                ignore: vec![Rule {
                    id: 0,
                    path: Some(JsonPath::parse("$.generated_at").unwrap()),
                    action: (),
                }],
                normalize: vec![Rule {
                    id: 1,
                    path: None,
                    action: Normalize {
                        regex: Regex::new(r"run-\d+").unwrap(),
                        replace: Replacement::Placeholder("run".into()),
                    },
                }],
                ..Rules::default()
            },
            ..DiffSpec::default()
        }
    }

    #[test]
    fn json_is_pretty_sorted_and_normalised() {
        let out = normalize(
            Format::Json,
            &spec(),
            br#"{"z": 1, "generated_at": "now", "id": "run-7", "a": ["run-7", "run-9"]}"#,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"a\": [\n    \"<run-1>\",\n    \"<run-2>\"\n  ],\n  \"generated_at\": \"<ignored>\",\n  \"id\": \"<run-1>\",\n  \"z\": 1\n}\n"
        );
    }

    #[test]
    fn text_csv_and_garbage() {
        let out = normalize(Format::Text, &spec(), b"Run run-42 done\nsame\n");
        assert_eq!(out, b"Run <run-1> done\nsame\n");
        let csv = b"id,run\n1,run-5\n";
        assert_eq!(normalize(Format::Csv, &spec(), csv), b"id,run\n1,<run-1>\n");
        let untouched = b"id;x\n1;2\n";
        assert_eq!(
            normalize(Format::Csv, &spec(), untouched),
            untouched.to_vec(),
            "kept as written"
        );
        assert_eq!(normalize(Format::Json, &spec(), b"{not json"), b"{not json");
    }

    /// JSON made of the things rules hide (a timestamp member, run ids inside strings) and
    /// things they do not.
    fn noisy_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            any::<i32>().prop_map(Value::from),
            "[a-c ]{0,6}".prop_map(Value::from),
            (0u32..5, "[a-c]{0,3}").prop_map(|(n, s)| Value::from(format!("{s}run-{n} {s}"))),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![Just("generated_at".to_owned()), "[a-d]{1,2}"],
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// A golden always agrees with the run it was recorded from, under the same rules, and
        /// recording a golden again changes nothing.
        #[test]
        fn a_golden_agrees_with_its_run_and_is_stable(value in noisy_json()) {
            let raw = serde_json::to_vec(&serde_json::json!({ "generated_at": "now", "v": value })).unwrap();
            let golden = normalize(Format::Json, &spec(), &raw);
            proptest::prop_assert_eq!(normalize(Format::Json, &spec(), &golden), golden.clone());
            let mut findings = crate::diff::Findings::new("x", &crate::diff::NoWaivers, usize::MAX);
            let status = crate::diff::compare(
                Format::Json,
                &spec(),
                &crate::diff::Input { side: "golden", name: "x", bytes: &golden },
                &crate::diff::Input { side: "run", name: "x", bytes: &raw },
                &mut findings,
            );
            proptest::prop_assert!(
                status.is_success() && findings.total() == 0,
                "{} vs {}",
                String::from_utf8_lossy(&golden),
                String::from_utf8_lossy(&raw)
            );
        }
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        let once = normalize(
            Format::Json,
            &spec(),
            br#"{"generated_at": "x", "v": ["run-1", "run-2", "run-1"]}"#,
        );
        assert_eq!(normalize(Format::Json, &spec(), &once), once);
    }
}
