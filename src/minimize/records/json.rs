//! JSON records: the elements of the top-level array, or of the largest array member of a
//! top-level object (`{"resultsPerPage": 2, "vulnerabilities": [...]}`; the first of equals).
//! The document is checked with `serde_json` first; the scan below then only finds where each
//! element starts and ends, so the text between them (commas, indentation) is kept as written.

use std::ops::Range;

use serde::de::IgnoredAny;

use super::Split;

/// The elements of the document's record array; `None` when `text` is not JSON or has no
/// array to cut (a scalar, an object without array members).
pub fn split(text: &[u8]) -> Option<Split> {
    serde_json::from_slice::<IgnoredAny>(text).ok()?;
    let scan = Scan { text };
    let start = scan.skip_ws(0);
    let array = match text.get(start)? {
        b'[' => start,
        b'{' => scan.largest_array_member(start)?,
        _ => return None,
    };
    let elements = scan.elements(array)?;
    let records = elements.iter().enumerate().map(|(i, body)| {
        // Between elements, the comma and the whitespace around it; before the first one
        // kept, the whitespace the array opened with.
        let sep = match i {
            0 => body.start..body.start,
            _ => elements[i - 1].end..body.start,
        };
        let lead = array + 1..elements[0].start;
        super::Found {
            lead,
            sep,
            body: body.clone(),
        }
    });
    Some(super::from_records(text.len(), records))
}

/// Positions in a document already known to be valid JSON.
struct Scan<'a> {
    text: &'a [u8],
}

impl Scan<'_> {
    fn at(&self, i: usize) -> Option<u8> {
        self.text.get(i).copied()
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while matches!(self.at(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            i += 1;
        }
        i
    }

    /// The end of the string starting at `i` (its opening quote).
    fn string_end(&self, mut i: usize) -> Option<usize> {
        i += 1;
        loop {
            match self.at(i)? {
                b'"' => return Some(i + 1),
                b'\\' => i += 2,
                _ => i += 1,
            }
        }
    }

    /// The end of the value starting at `i`.
    fn value_end(&self, i: usize) -> Option<usize> {
        match self.at(i)? {
            b'"' => self.string_end(i),
            b'[' | b'{' => {
                let (mut depth, mut j) = (0usize, i);
                loop {
                    match self.at(j)? {
                        b'"' => {
                            j = self.string_end(j)?;
                            continue;
                        }
                        b'[' | b'{' => depth += 1,
                        b']' | b'}' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
            _ => {
                let mut j = i;
                while self.at(j).is_some_and(|b| {
                    !matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                }) {
                    j += 1;
                }
                Some(j)
            }
        }
    }

    /// Where each element of the array opening at `open` is.
    fn elements(&self, open: usize) -> Option<Vec<Range<usize>>> {
        let mut elements = Vec::new();
        let mut i = self.skip_ws(open + 1);
        if self.at(i)? == b']' {
            return Some(elements);
        }
        loop {
            let end = self.value_end(i)?;
            elements.push(i..end);
            i = self.skip_ws(end);
            match self.at(i)? {
                b',' => i = self.skip_ws(i + 1),
                _ => return Some(elements),
            }
        }
    }

    /// The start of the member value of the object opening at `open` that is the array with
    /// the most elements.
    fn largest_array_member(&self, open: usize) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        let mut i = self.skip_ws(open + 1);
        if self.at(i)? == b'}' {
            return None;
        }
        loop {
            let key_end = self.string_end(i)?;
            let value = self.skip_ws(self.skip_ws(key_end) + 1);
            if self.at(value)? == b'[' {
                let len = self.elements(value)?.len();
                if best.is_none_or(|(_, most)| len > most) {
                    best = Some((value, len));
                }
            }
            i = self.skip_ws(self.value_end(value)?);
            match self.at(i)? {
                b',' => i = self.skip_ws(i + 1),
                _ => break,
            }
        }
        best.map(|(start, _)| start)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::bodies;
    use super::*;

    fn records(text: &str) -> Option<Vec<String>> {
        split(text.as_bytes()).map(|s| bodies(&s, text))
    }

    #[test]
    fn records_of_documents() {
        let table: &[(&str, Option<&[&str]>)] = &[
            ("[]", Some(&[])),
            ("[1,2]", Some(&["1", "2"])),
            (
                " [ {\"a\": [1, \"]\"]} ,\n \"x\\\"]\" ] ",
                Some(&["{\"a\": [1, \"]\"]}", "\"x\\\"]\""]),
            ),
            ("[true, null, -1.5e3]", Some(&["true", "null", "-1.5e3"])),
            // The largest array member of an object; the first of equals.
            (
                "{\"n\": 2, \"few\": [1], \"vulns\": [{\"id\": 1}, {\"id\": 2}], \"more\": [3, 4]}",
                Some(&["{\"id\": 1}", "{\"id\": 2}"]),
            ),
            ("{\"vulns\": []}", Some(&[])),
            // Nothing to cut, or not JSON: kept whole.
            ("{\"a\": {\"b\": [1, 2]}}", None),
            ("{}", None),
            ("42", None),
            ("[1, 2", None),
            ("", None),
            ("{\"a\": 1} {\"b\": 2}", None),
        ];
        for (text, expected) in table {
            let expected = expected.map(|e| e.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
            assert_eq!(records(text), expected, "{text:?}");
        }
    }

    #[test]
    fn joining_keeps_the_wrapper_and_the_layout() {
        let text =
            "{\n \"vulns\": [\n  {\"id\": 1},\n  {\"id\": 2},\n  {\"id\": 3}\n ],\n \"n\": 3\n}\n";
        let split = split(text.as_bytes()).expect("split");
        let kept = split.join(text.as_bytes(), |i| i != 0);
        assert_eq!(
            String::from_utf8_lossy(&kept),
            "{\n \"vulns\": [\n  {\"id\": 2},\n  {\"id\": 3}\n ],\n \"n\": 3\n}\n"
        );
        let none = split.join(text.as_bytes(), |_| false);
        assert_eq!(
            String::from_utf8_lossy(&none),
            "{\n \"vulns\": [\n ],\n \"n\": 3\n}\n"
        );
        assert_eq!(split.join(text.as_bytes(), |_| true), text.as_bytes());
    }
}
