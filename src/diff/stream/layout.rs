//! CSV and TSV for streaming: both headers read up front, one canonical (sorted) order for the
//! columns both sides have, and each column found on one side only reported once.

use std::fs::File;
use std::io::BufReader;

use serde_json::Value;

use super::{Stop, StreamInput, as_input};
use crate::diff::model::{DiffKind, Difference, Findings};
use crate::diff::{DiffSpec, Format, JsonPath, ParseFailure, Segment};

/// The columns every CSV record is re-encoded in, and which are present on one side only.
pub(super) struct CsvLayout {
    /// Columns both sides have, sorted: the order of fields in a stored record.
    pub common: Vec<String>,
    /// Per side, for each common column, its position in that side's header.
    pub positions: [Vec<usize>; 2],
    /// Per side, for each key field, its position in that side's header (if it has it).
    pub keys: [Vec<Option<usize>>; 2],
    /// Columns one side has and the other not, with `true` for the left.
    pub one_sided: Vec<(String, bool)>,
}

/// Reads both CSV headers and decides the canonical column order.
pub(super) fn csv_layout(
    format: Format,
    spec: &DiffSpec,
    fields: &[String],
    left: &StreamInput<'_>,
    right: &StreamInput<'_>,
) -> Result<CsvLayout, Stop> {
    let header = |input: &StreamInput<'_>| -> Result<Vec<String>, Stop> {
        let file = File::open(input.path)?;
        let mut reader =
            crate::diff::csv::reader_builder(format, &spec.csv).from_reader(BufReader::new(file));
        let headers = reader
            .headers()
            .map_err(|e| Stop::from(csv_failure(format, input, &e)))?;
        let columns: Vec<String> = headers.iter().map(str::to_owned).collect();
        let mut seen = std::collections::BTreeSet::new();
        for (i, column) in columns.iter().enumerate() {
            if !seen.insert(column) {
                let failure = ParseFailure {
                    line: 1,
                    column: i + 1,
                    message: format!("column `{column}` appears more than once in the header"),
                };
                return Err(Stop::from(
                    failure.into_difference(format, &as_input(input)),
                ));
            }
        }
        Ok(columns)
    };
    let (l, r) = (header(left)?, header(right)?);
    let mut common: Vec<String> = l.iter().filter(|c| r.contains(c)).cloned().collect();
    common.sort();
    let positions = |cols: &[String]| {
        common
            .iter()
            .map(|c| cols.iter().position(|x| x == c).unwrap_or(0))
            .collect()
    };
    let keys = |cols: &[String]| {
        fields
            .iter()
            .map(|f| cols.iter().position(|c| c == f))
            .collect()
    };
    let mut one_sided: Vec<(String, bool)> = l
        .iter()
        .filter(|c| !r.contains(c))
        .map(|c| (c.clone(), true))
        .collect();
    one_sided.extend(
        r.iter()
            .filter(|c| !l.contains(c))
            .map(|c| (c.clone(), false)),
    );
    one_sided.sort();
    Ok(CsvLayout {
        positions: [positions(&l), positions(&r)],
        keys: [keys(&l), keys(&r)],
        common,
        one_sided,
    })
}

/// One difference per column present on one side only, as the in-memory CSV differ reports.
pub(super) fn report_one_sided_columns(
    layout: &CsvLayout,
    spec: &DiffSpec,
    findings: &mut Findings<'_>,
) {
    for (column, on_left) in &layout.one_sided {
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

pub(super) fn csv_failure(
    format: Format,
    input: &StreamInput<'_>,
    error: &csv::Error,
) -> Difference {
    let line = error.position().map_or(1, |p| p.line() as usize);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("row has {len} fields but the header has {expected_len}")
        }
        _ => error.to_string(),
    };
    ParseFailure {
        line,
        column: 1,
        message,
    }
    .into_difference(format, &as_input(input))
}
