//! One JSON document whose keyed array sits at a plain path (`$`, `$.advisories`,
//! `$.data.items`): read through a window of the file, its array split into the raw bytes of
//! each element without building them, and everything around the array (the *envelope*) parsed
//! as the in-memory parse does, with an empty array in the keyed array's place.
//!
//! The scanner only finds where things end (strings, brackets, separators); serde_json parses
//! every piece it hands on (member names, envelope members, elements, each checked in full), so
//! a document that splits here parses in memory, to the same value. Anything the scanner is not
//! sure of (a syntax error, a member named twice on the path, a string long enough for the
//! in-memory reader to compact it, nesting near serde_json's recursion limit, another value
//! after the document) ends the split with [`Bail::Unsure`], and the caller compares the files
//! in memory instead, which reports exactly what it always did.

use std::collections::BTreeSet;
use std::io::{self, Read};

use serde_json::{Map, Value};

use crate::diff::json::{self, Duplicate};
use crate::diff::path::{JsonPath, Segment};

/// Strings whose raw text is longer than this end the split: the in-memory reader holds strings
/// past [`json::LONG_STRING`] as a start and a hash, which the split does not imitate.
const LONGEST_STRING: usize = json::LONG_STRING / 2;
/// Nesting deeper than this ends the split: serde_json refuses more than 128 levels, counted
/// from the document's root, and pieces parsed on their own would count from theirs.
pub(super) const DEEPEST: usize = 100;
/// Bytes read from the file at a time.
const CHUNK: usize = 256 * 1024;

/// Why the split stopped.
#[derive(Debug)]
pub(super) enum Bail {
    Io(io::Error),
    /// The split cannot promise what the in-memory path would find: compare in memory.
    Unsure(&'static str),
}

impl From<io::Error> for Bail {
    fn from(error: io::Error) -> Self {
        Bail::Io(error)
    }
}

/// Receives each element of the keyed array: its position and its bytes.
pub(super) type Element<'a> = dyn FnMut(u64, &[u8]) -> Result<(), Bail> + 'a;

/// Everything but the keyed array's elements, parsed.
#[derive(Debug)]
pub(super) struct Envelope {
    /// The document with an empty array where the keyed array is.
    pub value: Value,
    /// Members named twice outside the keyed array, at their paths in the document.
    pub duplicates: Vec<Duplicate>,
}

/// Splits the document read from `reader` whose array at `path` (member names from the root)
/// is keyed; each element's bytes go to `element` with its position in the array.
pub(super) fn split(
    reader: impl Read,
    path: &[String],
    element: &mut Element<'_>,
) -> Result<Envelope, Bail> {
    let mut scanner = Scanner {
        reader,
        buf: Vec::with_capacity(CHUNK),
        pos: 0,
        eof: false,
        records: 0,
    };
    let mut duplicates = Vec::new();
    let value = match path.split_first() {
        None => {
            scanner.expect_start(b'[')?;
            scanner.array(element, 1)?;
            Value::Array(Vec::new())
        }
        Some(_) => {
            scanner.expect_start(b'{')?;
            Value::Object(scanner.object(path, &JsonPath::root(), 1, &mut duplicates, element)?)
        }
    };
    if scanner.next_byte()?.is_some() {
        return Err(Bail::Unsure("more than one value in the document"));
    }
    Ok(Envelope { value, duplicates })
}

struct Scanner<R> {
    reader: R,
    /// Bytes read and not yet consumed, from `pos` on.
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    records: u64,
}

impl<R: Read> Scanner<R> {
    /// Reads more of the file; false at its end. Consumed bytes are dropped first, and the
    /// window grows only when one piece does not fit.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + CHUNK.max(len), 0);
        let n = loop {
            match self.reader.read(&mut self.buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.buf.truncate(len + n);
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// The next byte after JSON whitespace, not consumed; `None` at the end of the file.
    fn next_byte(&mut self) -> io::Result<Option<u8>> {
        loop {
            while let Some(&b) = self.buf.get(self.pos) {
                if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn expect_start(&mut self, byte: u8) -> Result<(), Bail> {
        match self.next_byte()? {
            Some(b) if b == byte => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(Bail::Unsure("the keyed array is not where its rule says")),
        }
    }

    /// Consumes the next value and returns where it lies in `buf` (valid until the next read),
    /// with its nesting depth.
    fn value(&mut self) -> Result<(std::ops::Range<usize>, usize), Bail> {
        if self.next_byte()?.is_none() {
            return Err(Bail::Unsure("the document ends early"));
        }
        loop {
            match value_end(&self.buf[self.pos..], self.eof)? {
                Some((len, depth)) => {
                    let range = self.pos..self.pos + len;
                    self.pos += len;
                    return Ok((range, depth));
                }
                None if self.fill()? => {}
                None => return Err(Bail::Unsure("the document ends early")),
            }
        }
    }

    /// The elements of the keyed array, whose `[` was consumed; `depth` is the array's own.
    fn array(&mut self, element: &mut Element<'_>, depth: usize) -> Result<(), Bail> {
        if self.next_byte()? == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let (range, inner) = self.value()?;
            if depth + inner > DEEPEST {
                return Err(Bail::Unsure("nesting too deep"));
            }
            element(self.records, &self.buf[range])?;
            self.records += 1;
            match self.next_byte()? {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Bail::Unsure("not a JSON array")),
            }
        }
    }

    /// An object on the way to the keyed array, whose `{` was consumed: members off the path
    /// parsed, the one on it followed.
    fn object(
        &mut self,
        path: &[String],
        at: &JsonPath,
        depth: usize,
        duplicates: &mut Vec<Duplicate>,
        element: &mut Element<'_>,
    ) -> Result<Map<String, Value>, Bail> {
        let Some((next, rest)) = path.split_first() else {
            return Err(Bail::Unsure("empty path"));
        };
        let mut map = Map::new();
        let mut names = BTreeSet::new();
        let mut found = false;
        if self.next_byte()? == Some(b'}') {
            self.pos += 1;
            return Err(Bail::Unsure("the keyed array is missing"));
        }
        loop {
            if self.next_byte()? != Some(b'"') {
                return Err(Bail::Unsure("not a JSON object"));
            }
            let (range, _) = self.value()?;
            let name: String = serde_json::from_slice(&self.buf[range])
                .map_err(|_| Bail::Unsure("a member name does not parse"))?;
            if !names.insert(name.clone()) {
                return Err(Bail::Unsure(
                    "a member named twice on the keyed array's path",
                ));
            }
            if self.next_byte()? != Some(b':') {
                return Err(Bail::Unsure("not a JSON object"));
            }
            self.pos += 1;
            let here = at.child(Segment::Field(name.clone()));
            let value = if name == *next {
                found = true;
                if rest.is_empty() {
                    self.expect_start(b'[')?;
                    self.array(element, depth + 1)?;
                    Value::Array(Vec::new())
                } else {
                    self.expect_start(b'{')?;
                    Value::Object(self.object(rest, &here, depth + 1, duplicates, element)?)
                }
            } else {
                let (range, inner) = self.value()?;
                if depth + inner > DEEPEST {
                    return Err(Bail::Unsure("nesting too deep"));
                }
                let parsed = json::parse_document(&self.buf[range])
                    .map_err(|_| Bail::Unsure("a member does not parse"))?;
                let prefix = here.to_string();
                duplicates.extend(parsed.duplicates.into_iter().map(|d| d.under(&prefix)));
                parsed.value
            };
            map.insert(name, value);
            match self.next_byte()? {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(Bail::Unsure("not a JSON object")),
            }
        }
        if !found {
            return Err(Bail::Unsure("the keyed array is missing"));
        }
        Ok(map)
    }
}

/// Where the value at the start of `bytes` ends, and its nesting depth; `None` when more bytes
/// are needed. Only finds the end: what lies between is checked by serde_json afterwards.
fn value_end(bytes: &[u8], eof: bool) -> Result<Option<(usize, usize)>, Bail> {
    match bytes.first() {
        Some(b'"') => Ok(string_end(bytes, 0)?.map(|end| (end, 0))),
        Some(b'{' | b'[') => {
            let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => match string_end(bytes, i)? {
                        Some(end) => {
                            i = end;
                            continue;
                        }
                        None => return Ok(None),
                    },
                    b'{' | b'[' => {
                        depth += 1;
                        deepest = deepest.max(depth);
                        if deepest > DEEPEST {
                            return Err(Bail::Unsure("nesting too deep"));
                        }
                    }
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(Some((i + 1, deepest)));
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Ok(None)
        }
        Some(_) => {
            let end = bytes
                .iter()
                .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}'));
            match end {
                Some(0) => Err(Bail::Unsure("a value is missing")),
                Some(end) => Ok(Some((end, 0))),
                None if eof => Ok(Some((bytes.len(), 0))),
                None => Ok(None),
            }
        }
        None => Ok(None),
    }
}

/// Where the string opened at `bytes[start]` ends (just past its closing quote).
fn string_end(bytes: &[u8], start: usize) -> Result<Option<usize>, Bail> {
    let mut i = start + 1;
    loop {
        match memchr::memchr2(b'"', b'\\', &bytes[i.min(bytes.len())..]) {
            Some(k) if bytes[i + k] == b'"' => {
                let end = i + k + 1;
                if end - start > LONGEST_STRING {
                    return Err(Bail::Unsure("a long string"));
                }
                return Ok(Some(end));
            }
            Some(k) => i += k + 2,
            None => {
                if bytes.len() - start > LONGEST_STRING {
                    return Err(Bail::Unsure("a long string"));
                }
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Splits `text` through a reader that returns `chunk` bytes at a time.
    fn split_text(
        text: &str,
        path: &[&str],
        chunk: usize,
    ) -> Result<(Value, Vec<Duplicate>, Vec<String>), Bail> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        let mut elements = Vec::new();
        let envelope = split(Trickle(text.as_bytes(), chunk), &path, &mut |i, bytes| {
            assert_eq!(i as usize, elements.len());
            elements.push(String::from_utf8_lossy(bytes).into_owned());
            Ok(())
        })?;
        Ok((envelope.value, envelope.duplicates, elements))
    }

    #[test]
    fn splits_the_keyed_array_and_parses_the_rest() {
        let text = r#" {"a": {"x": 1, "x": 2}, "items": [ {"id": 1, "s": "]}\"" } , 2 ,"three",[4]], "z": null} "#;
        for chunk in [1, 3, 1000] {
            let (envelope, duplicates, elements) = split_text(text, &["items"], chunk).unwrap();
            assert_eq!(envelope, json!({"a": {"x": 2}, "items": [], "z": null}));
            assert_eq!(duplicates[0].path, "$.a.x");
            assert_eq!(
                elements,
                [r#"{"id": 1, "s": "]}\"" }"#, "2", r#""three""#, "[4]"]
            );
        }
        let (envelope, _, elements) = split_text("[]", &[], 1).unwrap();
        assert_eq!((envelope, elements.len()), (json!([]), 0));
        let (envelope, _, elements) =
            split_text(r#"{"d":{"items":[1],"n":2}}"#, &["d", "items"], 2).unwrap();
        assert_eq!(envelope, json!({"d": {"items": [], "n": 2}}));
        assert_eq!(elements, ["1"]);
    }

    #[test]
    fn is_unsure_of_what_it_cannot_promise() {
        for (text, path) in [
            (r#"{"items": [1,]}"#, &["items"][..]),
            (r#"{"items": [1 2]}"#, &["items"]),
            (r#"{"items": [1], "items": [2]}"#, &["items"]),
            (r#"{"items": {"id": 1}}"#, &["items"]),
            (r#"{"other": []}"#, &["items"]),
            (r#"{"items": [1]} {"items": [2]}"#, &["items"]),
            (r#"{"items": [1], "z": }"#, &["items"]),
            (r#"{"items": [1]"#, &["items"]),
            (r#"[1, 2"#, &[]),
        ] {
            assert!(
                matches!(split_text(text, path, 4), Err(Bail::Unsure(_))),
                "{text}"
            );
        }
        let deep = format!("[{}{}]", "[".repeat(DEEPEST), "]".repeat(DEEPEST));
        assert!(matches!(split_text(&deep, &[], 64), Err(Bail::Unsure(_))));
        let long = format!("[\"{}\"]", "x".repeat(LONGEST_STRING));
        assert!(matches!(
            split_text(&long, &[], 1 << 16),
            Err(Bail::Unsure(_))
        ));
    }
}
