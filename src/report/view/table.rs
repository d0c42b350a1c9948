//! A keyed table's summary as people read it: one line of rows, the columns whose values differ
//! (how many, the largest numeric difference and the row where it is), and the rest of the
//! columns named in a line or two. The sides are named by the comparison (`legacy`/`candidate`,
//! `golden`/`candidate`, …).

use serde::Serialize;
use serde_json::Value;

use crate::diff::{TableSide, TableSummary};
use crate::report::inert::inert_line;
use crate::units::{number, thousands};

/// Columns listed by name in one line before the rest are counted.
const NAMED: usize = 20;
/// Columns with unequal values shown in the table.
const COLUMN_ROWS: usize = 30;
/// Characters of a key shown.
const KEY_WIDTH: usize = 60;

/// One keyed table of an output.
#[derive(Debug, Clone, Serialize)]
pub struct TableView {
    /// `999,998 in both (999,990 identical, 8 differ) · 1 only legacy · 2 only candidate`.
    pub rows: String,
    /// Columns with unequal values, in the table's column order.
    pub columns: Vec<ColumnRow>,
    /// Columns with unequal values not shown.
    pub more_columns: usize,
    /// `Equal in every row: …`, `Only legacy: …`, `Ignored: …`: (what, names, how many more).
    pub lines: Vec<NamesLine>,
}

/// A column whose values differ in some rows.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnRow {
    pub name: String,
    pub unequal: String,
    /// The largest difference between two numbers, when there was one.
    pub largest: String,
    /// The key of the row where it is (`id=A-7`).
    pub at: String,
}

/// Columns named in one line.
#[derive(Debug, Clone, Serialize)]
pub struct NamesLine {
    pub what: String,
    pub names: Vec<String>,
    pub more: usize,
}

/// The summary of `table` with its sides named `left` and `right`.
pub fn table_view(table: &TableSummary, (left, right): (&str, &str)) -> TableView {
    let mut unequal: Vec<ColumnRow> = table
        .columns
        .iter()
        .filter(|c| c.unequal > 0)
        .map(|c| ColumnRow {
            name: inert_line(&c.name).into_owned(),
            unequal: thousands(c.unequal),
            // f64::MAX stands for a difference past what a double holds (1e308 against -1e308)
            largest: c.largest.as_ref().map_or(String::new(), |l| {
                if l.by == f64::MAX {
                    "beyond 1.8e308".to_owned()
                } else {
                    number(l.by)
                }
            }),
            at: c
                .largest
                .as_ref()
                .map_or(String::new(), |l| key_text(&table.key, &l.key)),
        })
        .collect();
    let more_columns = unequal.len().saturating_sub(COLUMN_ROWS);
    unequal.truncate(COLUMN_ROWS);
    let named = |what: String, pick: &dyn Fn(&crate::diff::ColumnSummary) -> bool| {
        let names: Vec<String> = table
            .columns
            .iter()
            .filter(|c| pick(c))
            .map(|c| inert_line(&c.name).into_owned())
            .collect();
        NamesLine {
            what,
            more: names.len().saturating_sub(NAMED),
            names: names.into_iter().take(NAMED).collect(),
        }
    };
    let lines = [
        named("Equal in every row".to_owned(), &|c| {
            c.unequal == 0 && c.only.is_none() && !c.ignored
        }),
        named(format!("Only {left}"), &|c| c.only == Some(TableSide::Left)),
        named(format!("Only {right}"), &|c| {
            c.only == Some(TableSide::Right)
        }),
        named("Ignored by a rule".to_owned(), &|c| c.ignored),
    ]
    .into_iter()
    .filter(|line| !line.names.is_empty())
    .collect();
    TableView {
        rows: rows_line(table, (left, right)),
        columns: unequal,
        more_columns,
        lines,
    }
}

/// `999,998 in both (999,990 identical, 8 differ) · 1 only legacy · 2 only candidate`, or
/// `1,000,000 in both, all identical`.
pub fn rows_line(table: &TableSummary, (left, right): (&str, &str)) -> String {
    let both = thousands(table.rows_both);
    let mut parts = vec![if table.differing == 0 {
        match table.rows_both {
            0 => "none in both".to_owned(),
            1 => "1 in both, identical".to_owned(),
            _ => format!("{both} in both, all identical"),
        }
    } else {
        format!(
            "{both} in both ({} identical, {} differ)",
            thousands(table.identical),
            thousands(table.differing)
        )
    }];
    for (count, side) in [(table.only_left, left), (table.only_right, right)] {
        if count > 0 {
            parts.push(format!("{} only {side}", thousands(count)));
        }
    }
    for (count, side) in [
        (table.duplicate_keys_left, left),
        (table.duplicate_keys_right, right),
    ] {
        if count > 0 {
            let keys = if count == 1 { "key" } else { "keys" };
            parts.push(format!(
                "{} {keys} on several {side} rows",
                thousands(count)
            ));
        }
    }
    parts.join(" · ")
}

/// A row's key for people, its fields in the key's order: `id=A-7`, `id=A-7, day=2024-01-01`
/// (texts unquoted). results.json holds the key as a JSON object, whose members are sorted.
fn key_text(fields: &[String], key: &serde_json::Map<String, Value>) -> String {
    let text = fields
        .iter()
        .filter_map(|field| Some((field, key.get(field)?)))
        .map(|(field, value)| {
            let value = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{field}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let text = inert_line(&text).into_owned();
    if text.chars().count() <= KEY_WIDTH {
        return text;
    }
    let cut: String = text.chars().take(KEY_WIDTH - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diff::{ColumnSummary, Largest};

    fn column(name: &str, unequal: u64) -> ColumnSummary {
        ColumnSummary {
            name: name.to_owned(),
            only: None,
            ignored: false,
            unequal,
            largest: None,
        }
    }

    fn table(columns: Vec<ColumnSummary>) -> TableSummary {
        TableSummary {
            key: vec!["zone".into(), "id".into()],
            rows_both: 3,
            only_left: 0,
            only_right: 0,
            identical: 3,
            differing: 0,
            duplicate_keys_left: 0,
            duplicate_keys_right: 0,
            columns,
        }
    }

    #[test]
    fn rows_read_as_a_sentence() {
        let sides = ("legacy", "candidate");
        let mut t = table(Vec::new());
        assert_eq!(rows_line(&t, sides), "3 in both, all identical");
        t.rows_both = 1;
        t.identical = 1;
        assert_eq!(rows_line(&t, sides), "1 in both, identical");
        t.rows_both = 0;
        t.identical = 0;
        t.only_right = 1_200;
        assert_eq!(rows_line(&t, sides), "none in both · 1,200 only candidate");
        t.rows_both = 12_000;
        t.identical = 11_990;
        t.differing = 10;
        t.only_left = 2;
        t.duplicate_keys_left = 2;
        assert_eq!(
            rows_line(&t, ("golden", "candidate")),
            "12,000 in both (11,990 identical, 10 differ) · 2 only golden · 1,200 only candidate \
             · 2 keys on several golden rows"
        );
    }

    /// Regression: results.json sorts a key's members, so a composite key read back from it
    /// came out alphabetically instead of in the key's order.
    #[test]
    fn a_composite_key_is_shown_in_the_keys_order() {
        let key: serde_json::Map<String, Value> = [("id", json!(7)), ("zone", json!("eu"))]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let t = TableSummary {
            differing: 1,
            identical: 2,
            ..table(vec![ColumnSummary {
                largest: Some(Largest { by: 2.5, key }),
                ..column("price", 1)
            }])
        };
        let view = table_view(&t, ("legacy", "candidate"));
        assert_eq!(view.columns[0].at, "zone=eu, id=7");
        assert_eq!(view.columns[0].largest, "2.5");
    }

    #[test]
    fn columns_keep_the_tables_order_and_are_bounded() {
        let mut columns: Vec<ColumnSummary> = (0..COLUMN_ROWS + 3)
            .map(|i| column(&format!("c{i:02}"), 1))
            .collect();
        columns.insert(0, column("zeta", 0));
        columns.insert(1, column("alpha", 0));
        columns.extend((0..NAMED + 2).map(|i| ColumnSummary {
            only: Some(TableSide::Right),
            ..column(&format!("new\n{i}"), 0)
        }));
        let view = table_view(&table(columns), ("legacy", "candidate"));
        assert_eq!(view.columns.len(), COLUMN_ROWS);
        assert_eq!(view.more_columns, 3);
        assert_eq!(view.columns[0].name, "c00");
        let equal = &view.lines[0];
        assert_eq!(equal.what, "Equal in every row");
        assert_eq!(
            equal.names,
            ["zeta", "alpha"],
            "the table's order, not sorted"
        );
        let only = &view.lines[1];
        assert_eq!(only.what, "Only candidate");
        assert_eq!((only.names.len(), only.more), (NAMED, 2));
        assert_eq!(only.names[0], "new\\n0", "a name stays on its line");
    }
}
