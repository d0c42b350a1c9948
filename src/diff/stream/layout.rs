//! CSV and TSV for streaming: both headers read up front, one canonical (sorted) order for the
//! columns both sides have, and each column found on one side only reported once.

use std::fs::File;
use std::io::BufReader;

use super::{Stop, StreamInput, as_input};
use crate::diff::{DiffSpec, Format, csv};

/// The columns every CSV record is re-encoded in, and which are present on one side only.
pub(super) struct CsvLayout {
    /// Columns both sides have, sorted: the order of fields in a stored record.
    pub common: Vec<String>,
    /// Per side, for each common column, its position in that side's header.
    pub positions: [Vec<usize>; 2],
    /// Per side, for each key field, its position in that side's header, if both sides have
    /// the column (a column on one side only is left out of every row, so its key is `null`,
    /// as in memory).
    pub keys: [Vec<Option<usize>>; 2],
    /// Columns one side has and the other not, with `true` for the left.
    pub one_sided: Vec<(String, bool)>,
    /// Each side's header, in its order.
    pub headers: [Vec<String>; 2],
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
        let mut reader = csv::reader_builder(format, &spec.csv).from_reader(BufReader::new(file));
        csv::header(&mut reader)
            .map_err(|failure| Stop::from(failure.into_difference(format, &as_input(input))))
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
            .map(|f| {
                common
                    .contains(f)
                    .then(|| cols.iter().position(|c| c == f))
                    .flatten()
            })
            .collect()
    };
    let one_sided = csv::one_sided_columns(&l, &r);
    Ok(CsvLayout {
        positions: [positions(&l), positions(&r)],
        keys: [keys(&l), keys(&r)],
        common,
        one_sided,
        headers: [l, r],
    })
}
