//! CSV and TSV records: the data rows, found by the `csv` crate (a quoted field may hold line
//! breaks, so a row is not always a line); the header row is always kept.

use super::Split;

/// The data rows of `text`, read with `delimiter`; `None` when it does not parse as CSV.
pub fn split(text: &[u8], delimiter: u8) -> Option<Split> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut starts = Vec::new();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).ok()? {
        let mut start = record.position().map(|p| p.byte() as usize)?;
        // After `\r\n` the reader may place a row at the `\n`: it ends the row before.
        while matches!(text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        starts.push(start);
    }
    // The first row is the header: everything before the second row is fixed.
    let rows = starts.iter().enumerate().skip(1).map(|(i, &start)| {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        super::Found::bare(start..end)
    });
    Some(super::from_records(text.len(), rows))
}

#[cfg(test)]
mod tests {
    use super::super::tests::bodies;
    use super::*;

    #[test]
    fn rows_after_the_header() {
        let table: &[(&str, u8, &[&str])] = &[
            ("", b',', &[]),
            ("id,v\n", b',', &[]),
            ("id,v", b',', &[]),
            ("id,v\n1,a\n2,b", b',', &["1,a\n", "2,b"]),
            (
                "id,v\r\n1,\"two\nlines\"\r\n2,b\r\n",
                b',',
                &["1,\"two\nlines\"\r\n", "2,b\r\n"],
            ),
            ("id\tv\n1\ta\n", b'\t', &["1\ta\n"]),
        ];
        for (text, delimiter, expected) in table {
            let split = split(text.as_bytes(), *delimiter).expect("CSV");
            assert_eq!(bodies(&split, text), *expected, "{text:?}");
            assert_eq!(split.join(text.as_bytes(), |_| true), text.as_bytes());
        }
    }

    #[test]
    fn dropping_rows_keeps_the_header() {
        let text = "id,v\n1,a\n2,b\n3,c\n";
        let split = split(text.as_bytes(), b',').expect("CSV");
        assert_eq!(split.join(text.as_bytes(), |i| i == 1), b"id,v\n2,b\n");
    }
}
