//! Line records: each line of a text file with its line ending; for NDJSON, each non-blank line
//! (blank lines carry no record and are kept where they are).

use super::Split;

/// What a blank (empty or whitespace-only) line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blank {
    /// A record like any other line (text: blank lines are content).
    Record,
    /// Kept always (NDJSON: not a record).
    Fixed,
}

/// `text` cut into lines, each with its `\n` (or `\r\n`); the last line may have none.
pub fn split(text: &[u8], blank: Blank) -> Split {
    let mut records = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i + 1);
        let is_blank = text[start..end].iter().all(u8::is_ascii_whitespace);
        if !(is_blank && blank == Blank::Fixed) {
            records.push(super::Found::bare(start..end));
        }
        start = end;
    }
    super::from_records(text.len(), records)
}

#[cfg(test)]
mod tests {
    use super::super::tests::bodies;
    use super::*;

    #[test]
    fn lines_and_their_endings() {
        let table: &[(&str, Blank, &[&str])] = &[
            ("", Blank::Record, &[]),
            ("a", Blank::Record, &["a"]),
            ("a\nb\n", Blank::Record, &["a\n", "b\n"]),
            ("a\r\n\r\nb", Blank::Record, &["a\r\n", "\r\n", "b"]),
            ("{}\n\n  \n{}", Blank::Fixed, &["{}\n", "{}"]),
        ];
        for (text, blank, expected) in table {
            let split = split(text.as_bytes(), *blank);
            assert_eq!(bodies(&split, text), *expected, "{text:?}");
            assert_eq!(split.join(text.as_bytes(), |_| true), text.as_bytes());
        }
    }

    #[test]
    fn blank_ndjson_lines_stay() {
        let text = "{\"a\":1}\n\n{\"a\":2}\n";
        let split = split(text.as_bytes(), Blank::Fixed);
        assert_eq!(split.join(text.as_bytes(), |_| false), b"\n");
    }
}
