//! Differences for a terminal: coloured, values shortened, and grouped by record, so a changed
//! record shows its key once followed by only the fields that differ:
//!
//! ```text
//! ~ $.advisories[?@.advisory_id=='A-1']
//!     .state  changed  "affected" → "fixed"
//!     .contributing_sources[?@=='osv']  removed  "osv"
//! + $.advisories[?@.advisory_id=='A-9']  added  {"advisory_id":"A-9",…}
//! ```

use anstyle::Style;

use super::inert::inert_line;
use crate::style::{ADDED, CHANGED, DIM, REMOVED, WARN};
use std::io::{self, Write};

use super::{moved_summary, short_value};
use crate::diff::{DiffKind, Difference, JsonPath, Segment};

/// Characters of a value shown per line.
const VALUE_WIDTH: usize = 100;

/// The mark and colour of a kind.
fn mark(kind: DiffKind) -> (char, Style) {
    match kind {
        DiffKind::Added | DiffKind::ExtraFile => ('+', ADDED),
        DiffKind::Removed | DiffKind::MissingFile => ('-', REMOVED),
        DiffKind::ParseError
        | DiffKind::DuplicateKey
        | DiffKind::Truncated
        | DiffKind::Unreadable
        | DiffKind::SpecialFile
        | DiffKind::ConvertFailed => ('!', WARN),
        DiffKind::Changed
        | DiffKind::TypeChanged
        | DiffKind::OverTolerance
        | DiffKind::ExitStatus
        | DiffKind::NullVsMissing
        | DiffKind::OrderChanged
        | DiffKind::Moved
        | DiffKind::NumberFormat
        | DiffKind::WithinTolerance
        | DiffKind::Multiplicity => ('~', CHANGED),
    }
}

/// Splits a path after its last filter segment that is not its final one:
/// (`$.items[?@.id=='a']`, `.price`). Paths without such a filter are not split.
pub(crate) fn split_record(path: &str) -> Option<(String, String)> {
    let parsed = JsonPath::parse(path).ok()?;
    let segments = parsed.segments();
    let (_, parents) = segments.split_last()?;
    let last_filter = parents
        .iter()
        .rposition(|s| matches!(s, Segment::Filter(_)))?;
    let mut record = JsonPath::root();
    for segment in &segments[..=last_filter] {
        record.push(segment.clone());
    }
    let field: String = segments[last_filter + 1..]
        .iter()
        .map(ToString::to_string)
        .collect();
    Some((record.to_string(), field))
}

fn values(d: &Difference) -> String {
    if let Some(moved) = moved_summary(d, VALUE_WIDTH) {
        return moved;
    }
    let show = |v| short_value(v, VALUE_WIDTH);
    match (&d.left, &d.right) {
        (Some(_), Some(_)) => format!(
            "{REMOVED}{}{REMOVED:#} → {ADDED}{}{ADDED:#}",
            show(d.left.as_ref()),
            show(d.right.as_ref())
        ),
        (Some(_), None) => format!("{REMOVED}{}{REMOVED:#}", show(d.left.as_ref())),
        (None, Some(_)) => format!("{ADDED}{}{ADDED:#}", show(d.right.as_ref())),
        (None, None) => String::new(),
    }
}

fn note(d: &Difference) -> String {
    let mut parts = Vec::new();
    if let Some(n) = &d.note {
        parts.push(n.clone());
    }
    parts.extend(d.clip_note());
    if let Some(w) = d.waiver {
        parts.push(format!("waived by #{}", w + 1));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" {DIM}({}){DIM:#}", inert_line(&parts.join("; ")))
    }
}

/// Writes `differences`, grouping consecutive ones of the same record.
pub fn write_differences(w: &mut dyn Write, differences: &[Difference]) -> io::Result<()> {
    let mut current: Option<String> = None;
    for d in differences {
        let (symbol, style) = mark(d.kind);
        match split_record(&d.path) {
            Some((record, field)) => {
                if current.as_deref() != Some(record.as_str()) {
                    writeln!(w, "{CHANGED}~{CHANGED:#} {}", inert_line(&record))?;
                    current = Some(record);
                }
                writeln!(
                    w,
                    "    {style}{symbol}{style:#} {}  {DIM}{}{DIM:#}  {}{}",
                    inert_line(&field),
                    d.kind,
                    values(d),
                    note(d)
                )?;
            }
            None => {
                current = None;
                writeln!(
                    w,
                    "{style}{symbol}{style:#} {}  {DIM}{}{DIM:#}  {}{}",
                    inert_line(&d.path),
                    d.kind,
                    values(d),
                    note(d)
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn groups_fields_under_their_record() {
        let differences = vec![
            Difference::new("$.a[?@.id=='x'].state", DiffKind::Changed)
                .left(json!("open"))
                .right(json!("closed")),
            Difference::new("$.a[?@.id=='x'].tags[?@=='t']", DiffKind::Removed).left(json!("t")),
            Difference::new("$.a[?@.id=='y']", DiffKind::Added).right(json!({"id": "y"})),
            Difference::new("$.total", DiffKind::Changed)
                .left(json!(1))
                .right(json!(2)),
        ];
        let mut out = Vec::new();
        write_differences(&mut out, &differences).unwrap();
        let text = anstream::adapter::strip_str(&String::from_utf8(out).unwrap()).to_string();
        assert_eq!(
            text,
            "~ $.a[?@.id=='x']\n    ~ .state  changed  \"open\" → \"closed\"\n    - .tags[?@=='t']  removed  \"t\"\n+ $.a[?@.id=='y']  added  {\"id\":\"y\"}\n~ $.total  changed  1 → 2\n"
        );
    }

    #[test]
    fn a_moved_line_says_where_it_was_and_is() {
        let differences = vec![
            Difference::new("@@ -2 +5 @@", DiffKind::Moved)
                .left(json!("run 1"))
                .right(json!("run 1")),
            Difference::new("@@ -3 +1 @@", DiffKind::Moved)
                .left(json!("id 7"))
                .right(json!("id  7")),
        ];
        let mut out = Vec::new();
        write_differences(&mut out, &differences).unwrap();
        let text = anstream::adapter::strip_str(&String::from_utf8(out).unwrap()).to_string();
        assert_eq!(
            text,
            "~ @@ -2 +5 @@  moved  line 2 → line 5: \"run 1\"\n~ @@ -3 +1 @@  moved  line 3 → line 1: \"id 7\", as \"id  7\"\n"
        );
    }
}
