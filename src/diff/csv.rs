//! CSV and TSV: a header row names the columns; each row becomes a record (an object of strings),
//! so column order never matters and rows pair as the `key` rule says.
//!
//! A column present on one side only is reported once, at `$[*].column`, and left out of the
//! row comparison, so one renamed column is one difference rather than one per row.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::path::Segment;
use super::{
    CsvOptions, DiffKind, DiffSpec, Differ, Difference, Findings, Format, Input, JsonPath,
    ParseFailure, parse_both, table, value,
};

/// The elements of an array (none for anything else).
fn rows(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

pub struct CsvDiffer;

/// A parsed table.
#[derive(Debug)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Map<String, Value>>,
}

impl Differ for CsvDiffer {
    fn diff(
        &self,
        format: Format,
        left: &Input<'_>,
        right: &Input<'_>,
        spec: &DiffSpec,
        findings: &mut Findings<'_>,
    ) {
        let Some((mut l, mut r)) = parse_both(format, left, right, findings, |b| {
            parse(b, format, &spec.csv)
        }) else {
            return;
        };
        let one_sided = one_sided_columns(&l.columns, &r.columns);
        report_one_sided(&one_sided, spec, findings);
        for row in l.rows.iter_mut().chain(r.rows.iter_mut()) {
            for (column, _) in &one_sided {
                row.remove(column);
            }
        }
        let to_array = |rows: Vec<Map<String, Value>>| {
            Value::Array(rows.into_iter().map(Value::Object).collect())
        };
        let (l_rows, r_rows) = (to_array(l.rows), to_array(r.rows));
        if let Some(mut table) = table::root(&spec.rules) {
            table.csv_columns(&l.columns, &r.columns, &spec.rules);
            table.count_rows(rows(&l_rows), rows(&r_rows));
            findings.track_table(table);
        }
        value::diff_values_as(
            value::Leaves::Cells,
            &l_rows,
            &r_rows,
            &spec.rules,
            findings,
        );
    }
}

/// A CSV reader configured as `options` say, for `format` (CSV or TSV).
pub fn reader_builder(format: Format, options: &CsvOptions) -> csv::ReaderBuilder {
    let default_delimiter = if format == Format::Tsv { b'\t' } else { b',' };
    let mut builder = csv::ReaderBuilder::new();
    builder
        .delimiter(options.delimiter.unwrap_or(default_delimiter))
        .has_headers(true)
        .quoting(options.quote.is_some())
        .quote(options.quote.unwrap_or(b'"'))
        .escape(options.escape)
        .double_quote(options.escape.is_none());
    builder
}

/// Parses a delimited table with a header row. Every row must have as many fields as the header.
pub fn parse(bytes: &[u8], format: Format, options: &CsvOptions) -> Result<Table, ParseFailure> {
    let mut reader = reader_builder(format, options).from_reader(bytes);
    let columns = header(&mut reader)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(failure)?;
        let row = columns
            .iter()
            .zip(record.iter())
            .map(|(c, v)| (c.clone(), Value::String(v.to_owned())))
            .collect();
        rows.push(row);
    }
    Ok(Table { columns, rows })
}

/// Reads the header row; a column named twice is a failure.
pub fn header<R: std::io::Read>(reader: &mut csv::Reader<R>) -> Result<Vec<String>, ParseFailure> {
    let columns: Vec<String> = reader
        .headers()
        .map_err(failure)?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut seen = BTreeSet::new();
    for (i, column) in columns.iter().enumerate() {
        if !seen.insert(column) {
            return Err(ParseFailure {
                line: 1,
                column: i + 1,
                message: format!("column `{column}` appears more than once in the header"),
            });
        }
    }
    Ok(columns)
}

/// Columns one side has and the other not, sorted, with `true` for the left.
pub fn one_sided_columns(left: &[String], right: &[String]) -> Vec<(String, bool)> {
    let mut one_sided: Vec<(String, bool)> = left
        .iter()
        .filter(|c| !right.contains(c))
        .map(|c| (c.clone(), true))
        .collect();
    one_sided.extend(
        right
            .iter()
            .filter(|c| !left.contains(c))
            .map(|c| (c.clone(), false)),
    );
    one_sided.sort();
    one_sided
}

/// One difference per column present on one side only, at `$[*].column` (unless ignored), so a
/// renamed column is one difference rather than one per row.
pub fn report_one_sided(columns: &[(String, bool)], spec: &DiffSpec, findings: &mut Findings<'_>) {
    for (column, on_left) in columns {
        let location = JsonPath::root()
            .child(Segment::Wildcard)
            .child(Segment::Field(column.clone()));
        if let Some(rule) = spec.rules.ignored(location.segments()) {
            findings.rule_hit(rule);
            continue;
        }
        let name = Value::String(column.clone());
        let difference = if *on_left {
            Difference::new(location.to_string(), DiffKind::Removed).left(name)
        } else {
            Difference::new(location.to_string(), DiffKind::Added).right(name)
        };
        findings.push(difference.note("column present on one side only"));
    }
}

/// A CSV reader's error as a failure with its line.
pub fn failure(error: csv::Error) -> ParseFailure {
    let line = error.position().map_or(1, |p| p.line() as usize);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("row has {len} fields but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => error.to_string(),
    };
    ParseFailure {
        line,
        column: 1,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_as_records() {
        let table = parse(
            b"id,name\n1,a\n2,\"b,c\"\n",
            Format::Csv,
            &CsvOptions::default(),
        )
        .unwrap();
        assert_eq!(table.columns, ["id", "name"]);
        assert_eq!(table.rows[1]["name"], "b,c");
    }

    #[test]
    fn quoting_options() {
        let semicolons = CsvOptions {
            delimiter: Some(b';'),
            quote: Some(b'\''),
            escape: None,
        };
        let table = parse(b"id;name\n1;'a;b'\n", Format::Csv, &semicolons).unwrap();
        assert_eq!(table.rows[0]["name"], "a;b");
        let unquoted = CsvOptions {
            quote: None,
            ..CsvOptions::default()
        };
        let table = parse(b"id,name\n1,\"a\"\n", Format::Csv, &unquoted).unwrap();
        assert_eq!(table.rows[0]["name"], "\"a\"");
        let tabs = parse(b"id\tname\n1\ta b\n", Format::Tsv, &CsvOptions::default()).unwrap();
        assert_eq!(tabs.rows[0]["name"], "a b");
    }

    #[test]
    fn rejects_ragged_rows_and_duplicate_columns() {
        let failure = parse(b"id,name\n1,a\n2\n", Format::Csv, &CsvOptions::default()).unwrap_err();
        assert_eq!(failure.line, 3);
        assert!(
            failure.message.contains("1 fields but the header has 2"),
            "{failure:?}"
        );
        let failure = parse(b"id,id\n", Format::Csv, &CsvOptions::default()).unwrap_err();
        assert_eq!((failure.line, failure.column), (1, 2));
    }
}
