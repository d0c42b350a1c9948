//! JSON documents, compared semantically by the structural walker.
//!
//! Two things a plain parse hides are made visible here:
//!
//! - **Duplicate members.** `{"x":1,"x":2}` is valid JSON whose meaning depends on the reader
//!   (most keep the last value, some the first, some refuse it). Each duplicated member is a
//!   `duplicate_key` difference naming its path and count; the last value is the one compared.
//! - **Huge strings.** A string longer than [`LONG_STRING`] bytes is never held whole: while the
//!   document is read, it is replaced by its first [`VALUE_LIMIT`] bytes and a marker with its
//!   length and blake3 hash of its raw text, `…[long string: 1073741824 bytes, blake3 3f2a…]`.
//!   Two such strings are equal exactly when their texts are, so a 1 GiB string costs kilobytes,
//!   and results.json shows its start, size and hash. Escapes in a long string are compared as
//!   written (`\u0041` is not `A` there).

use std::cell::RefCell;
use std::fmt;
use std::io::Read;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::model::VALUE_LIMIT;
use super::path::{JsonPath, Segment};
use super::{
    DiffKind, DiffSpec, Differ, Difference, Findings, Format, Input, ParseFailure, table, value,
};

/// Strings longer than this are held as their start, length and hash.
pub const LONG_STRING: usize = 1 << 20;

pub struct JsonDiffer;

impl Differ for JsonDiffer {
    fn diff(
        &self,
        format: Format,
        left: &Input<'_>,
        right: &Input<'_>,
        spec: &DiffSpec,
        findings: &mut Findings<'_>,
    ) {
        let l = parse_sequence(left.bytes);
        let r = parse_sequence(right.bytes);
        diff_parsed(
            format,
            (left.side, left.name, l),
            (right.side, right.name, r),
            spec,
            findings,
        );
    }
}

/// Compares two parsed documents: parse failures and duplicate members are findings, then the
/// values are walked.
pub fn diff_parsed(
    format: Format,
    (lside, lname, left): (&str, &str, Result<Parsed, ParseFailure>),
    (rside, rname, right): (&str, &str, Result<Parsed, ParseFailure>),
    spec: &DiffSpec,
    findings: &mut Findings<'_>,
) {
    match (left, right) {
        (Ok(mut l), Ok(mut r)) => {
            // A stream of several values against one value: both are sequences.
            if l.several != r.several {
                l = l.into_sequence();
                r = r.into_sequence();
            }
            for (side, parsed) in [(lside, &l), (rside, &r)] {
                for duplicate in &parsed.duplicates {
                    findings.push(duplicate.difference(side));
                }
            }
            let names = match format {
                Format::Ndjson => Some(Vec::new()),
                _ => super::stream::document_path(spec),
            };
            if let Some(names) = names {
                track_records(findings, &spec.rules, &names, (&l.value, &r.value));
            }
            value::diff_values(&l.value, &r.value, &spec.rules, findings);
        }
        (l, r) => {
            for (side, name, parsed) in [(lside, lname, l), (rside, rname, r)] {
                if let Err(failure) = parsed {
                    findings.push(failure.into_difference(
                        format,
                        &Input {
                            side,
                            name,
                            bytes: &[],
                        },
                    ));
                }
            }
        }
    }
}

/// Summarises the keyed array at member names `names` as a table (see [`table`]) when both
/// documents hold an array there and the rules pair its elements by key.
fn track_records(
    findings: &mut Findings<'_>,
    rules: &super::Rules,
    names: &[String],
    (left, right): (&Value, &Value),
) {
    let at = names.iter().cloned().map(Segment::Field).collect();
    let Some(mut tally) = table::keyed_at(rules, at) else {
        return;
    };
    let (Some(l), Some(r)) = (array_at(left, names), array_at(right, names)) else {
        return;
    };
    let [mut lnames, mut rnames] = [table::MemberNames::default(), table::MemberNames::default()];
    for (rows, names) in [(l, &mut lnames), (r, &mut rnames)] {
        for row in rows.iter().filter_map(Value::as_object) {
            names.see(row.keys().map(String::as_str));
        }
    }
    tally.member_columns(lnames.all(), rnames.all(), rules);
    tally.count_rows(l, r);
    findings.track_table(tally);
}

/// The array at member names `names` in `value`, if there is one.
fn array_at<'v>(value: &'v Value, names: &[String]) -> Option<&'v Vec<Value>> {
    names
        .iter()
        .try_fold(value, |v, name| v.get(name))
        .and_then(Value::as_array)
}

/// A parsed document and the members it holds more than once.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The value; for a stream of several values, the array of them.
    pub value: Value,
    pub duplicates: Vec<Duplicate>,
    /// The document was a stream of several values (`value` is their array).
    pub several: bool,
}

impl Parsed {
    /// The document as a sequence of values: one value becomes a sequence of one (`$[0]`).
    pub fn into_sequence(self) -> Parsed {
        if self.several {
            return self;
        }
        Parsed {
            value: Value::Array(vec![self.value]),
            duplicates: self
                .duplicates
                .into_iter()
                .map(|d| d.under("$[0]"))
                .collect(),
            several: true,
        }
    }

    /// Several values as one sequence; one value as itself.
    fn sequence(mut values: Vec<Parsed>) -> Parsed {
        if values.len() == 1
            && let Some(one) = values.pop()
        {
            return one;
        }
        let mut duplicates = Vec::new();
        let mut items = Vec::with_capacity(values.len());
        for (i, parsed) in values.into_iter().enumerate() {
            let prefix = format!("$[{i}]");
            duplicates.extend(parsed.duplicates.into_iter().map(|d| d.under(&prefix)));
            items.push(parsed.value);
        }
        Parsed {
            value: Value::Array(items),
            duplicates,
            several: true,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Parsed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let found = RefCell::new(Vec::new());
        let value = ValueSeed { found: &found }.deserialize(deserializer)?;
        Ok(Parsed {
            value,
            duplicates: duplicates(found.into_inner()),
            several: false,
        })
    }
}

/// The ASCII record separator that starts each value of an RFC 7464 JSON text sequence.
const RS: u8 = 0x1e;

/// A member name that appears more than once in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The member's path, e.g. `$.items[0].x`.
    pub path: String,
    /// How often it appears in that object.
    pub count: usize,
}

impl Duplicate {
    /// The same member seen from a document that holds this one at `prefix` (`$[3]`).
    pub fn under(mut self, prefix: &str) -> Self {
        let within = self.path.strip_prefix('$').unwrap_or(&self.path);
        self.path = format!("{prefix}{within}");
        self
    }

    /// The `duplicate_key` difference for `side`.
    pub fn difference(&self, side: &str) -> Difference {
        Difference::new(self.path.clone(), DiffKind::DuplicateKey).note(format!(
            "the member appears {} times in one object on the {side} side; which value a \
             reader takes is undefined (parity compared the last)",
            self.count
        ))
    }
}

/// Parses a JSON document held in memory (duplicate members are dropped silently: for readers
/// that only need the value). A stream of several values is their array.
pub fn parse(bytes: &[u8]) -> Result<Value, ParseFailure> {
    parse_sequence(bytes).map(|p| p.value)
}

/// Parses a JSON document held in memory that may be a stream of values: whitespace-separated
/// (what jq, kubectl and many loggers print) or an RFC 7464 text sequence (each value after a
/// `0x1E` record separator). One value is that value; several are their array, `several` set.
pub fn parse_sequence(bytes: &[u8]) -> Result<Parsed, ParseFailure> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(no_value());
    }
    if memchr::memchr(RS, bytes).is_some() || may_hold_a_long_string(bytes) {
        return read_sequence(bytes);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let first = parse_with(&mut deserializer)?;
    if deserializer.end().is_ok() {
        return Ok(first);
    }
    // More after the first value: read the whole stream.
    collect(serde_json::Deserializer::from_slice(bytes).into_iter::<Parsed>())
}

/// Reads a JSON document that may be a stream of values (see [`parse_sequence`]) from
/// `reader`, in memory proportional to its structure (long strings are held as their start,
/// length and hash).
pub fn read_sequence(reader: impl Read) -> Result<Parsed, ParseFailure> {
    collect(serde_json::Deserializer::from_reader(LongStrings::new(reader)).into_iter::<Parsed>())
}

/// Every value of a stream, as one value or a sequence.
fn collect(
    values: impl Iterator<Item = Result<Parsed, serde_json::Error>>,
) -> Result<Parsed, ParseFailure> {
    let values = values
        .collect::<Result<Vec<Parsed>, _>>()
        .map_err(|e| failure(&e, 0))?;
    if values.is_empty() {
        return Err(no_value());
    }
    Ok(Parsed::sequence(values))
}

fn no_value() -> ParseFailure {
    ParseFailure {
        line: 1,
        column: 1,
        message: "no JSON value: the output is empty or holds only whitespace".to_owned(),
    }
}

/// Whether `reader` holds JSON: one value or a stream of values (see [`parse_sequence`]).
pub fn is_json(reader: impl Read) -> bool {
    let mut values = serde_json::Deserializer::from_reader(LongStrings::new(reader))
        .into_iter::<serde::de::IgnoredAny>();
    let mut any = false;
    for value in values.by_ref() {
        if value.is_err() {
            return false;
        }
        any = true;
    }
    any
}

/// Parses exactly one JSON value held in memory (an NDJSON line, a stream's record).
pub fn parse_document(bytes: &[u8]) -> Result<Parsed, ParseFailure> {
    if bytes.len() <= LONG_STRING || !may_hold_a_long_string(bytes) {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let parsed = parse_with(&mut deserializer)?;
        deserializer.end().map_err(|e| failure(&e, 0))?;
        Ok(parsed)
    } else {
        read_document(bytes)
    }
}

/// False when no string can be longer than [`LONG_STRING`]: no two quotes are that far apart.
fn may_hold_a_long_string(bytes: &[u8]) -> bool {
    let mut last = 0;
    for at in memchr::memchr_iter(b'"', bytes) {
        if at - last > LONG_STRING {
            return true;
        }
        last = at;
    }
    bytes.len() - last > LONG_STRING
}

/// Reads a JSON file (one value or a stream of them): in memory when it is small, else
/// streamed (see [`read_sequence`]).
pub fn read_file(path: &std::path::Path) -> std::io::Result<Result<Parsed, ParseFailure>> {
    if std::fs::metadata(path)?.len() <= IN_MEMORY as u64 {
        return Ok(parse_sequence(&std::fs::read(path)?));
    }
    let file = std::fs::File::open(path)?;
    Ok(read_sequence(std::io::BufReader::with_capacity(
        256 * 1024,
        file,
    )))
}

/// JSON files up to this size are read whole before parsing (parsing from memory is faster;
/// the parsed tree is several times larger anyway).
const IN_MEMORY: usize = 16 << 20;

/// Parses one JSON document from `reader`, in memory proportional to its structure (long
/// strings are held as their start, length and hash).
pub fn read_document(reader: impl Read) -> Result<Parsed, ParseFailure> {
    let mut deserializer = serde_json::Deserializer::from_reader(LongStrings::new(reader));
    let parsed = parse_with(&mut deserializer)?;
    deserializer.end().map_err(|e| failure(&e, 0))?;
    Ok(parsed)
}

fn parse_with<'de, D>(deserializer: D) -> Result<Parsed, ParseFailure>
where
    D: Deserializer<'de, Error = serde_json::Error>,
{
    <Parsed as serde::Deserialize>::deserialize(deserializer).map_err(|e| failure(&e, 0))
}

/// A duplicate as found: the key, the path to its object in reverse (filled in while the
/// parse unwinds), and how often the key appeared.
struct Found {
    reversed: Vec<Segment>,
    key: String,
    count: usize,
}

/// Paths built from what the parse found, one per (object, key), in document order.
fn duplicates(found: Vec<Found>) -> Vec<Duplicate> {
    let mut out: Vec<Duplicate> = Vec::new();
    for f in found {
        let mut path = JsonPath::root();
        for segment in f.reversed.into_iter().rev() {
            path.push(segment);
        }
        path.push(Segment::Field(f.key));
        let path = path.to_string();
        match out.iter_mut().find(|d| d.path == path) {
            Some(d) => d.count = d.count.max(f.count),
            None => out.push(Duplicate {
                path,
                count: f.count,
            }),
        }
    }
    out
}

/// Builds a `serde_json::Value` as serde_json's own does, noting duplicate members.
#[derive(Clone, Copy)]
struct ValueSeed<'a> {
    found: &'a RefCell<Vec<Found>>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl ValueSeed<'_> {
    /// Adds `segment` in front of the paths of duplicates found since `before`.
    fn under(&self, before: usize, segment: impl FnOnce() -> Segment) {
        let mut found = self.found.borrow_mut();
        if found.len() > before {
            let segment = segment();
            for f in &mut found[before..] {
                f.reversed.push(segment.clone());
            }
        }
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let before = self.found.borrow().len();
            let Some(element) = seq.next_element_seed(self)? else {
                break;
            };
            let index = elements.len();
            self.under(before, || Segment::Index(index));
            elements.push(element);
        }
        Ok(Value::Array(elements))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let before = self.found.borrow().len();
            let value = access.next_value_seed(self)?;
            self.under(before, || Segment::Field(key.clone()));
            match map.entry(key) {
                serde_json::map::Entry::Occupied(mut slot) => {
                    let key = slot.key().clone();
                    slot.insert(value);
                    let mut found = self.found.borrow_mut();
                    // One record per object and key, counting its appearances.
                    match found
                        .iter_mut()
                        .rev()
                        .find(|f| f.key == key && f.reversed.is_empty())
                    {
                        Some(f) => f.count += 1,
                        None => found.push(Found {
                            reversed: Vec::new(),
                            key,
                            count: 2,
                        }),
                    }
                }
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
            }
        }
        Ok(Value::Object(map))
    }
}

/// A serde_json error as a failure; `line_offset` shifts the line for documents inside a stream.
pub fn failure(error: &serde_json::Error, line_offset: usize) -> ParseFailure {
    let text = error.to_string();
    // serde_json appends " at line L column C"; we report those as fields.
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(head, _)| head)
        .to_owned();
    ParseFailure {
        line: error.line() + line_offset,
        column: error.column(),
        message,
    }
}

/// A reader that passes JSON through unchanged, except that the content of every string longer
/// than [`LONG_STRING`] bytes is replaced by its first [`VALUE_LIMIT`] bytes and a marker with
/// its length and hash. It keeps at most [`LONG_STRING`] bytes of a string in memory. A long
/// string that would not parse (a raw control character, an invalid escape, bytes that are not
/// UTF-8) is passed on from where the fault is, so the parser still reports it.
struct LongStrings<R> {
    reader: R,
    input: Vec<u8>,
    /// Bytes ready to be read, from `out_pos` on.
    out: Vec<u8>,
    out_pos: usize,
    state: State,
    /// The current string's content so far (while it is short enough to be held).
    held: Vec<u8>,
    long: Option<Long>,
    eof: bool,
    /// Strings longer than `.0` bytes are held as their first `.1` bytes, length and hash.
    limits: (usize, usize),
    /// The current string holds a fault (it will not parse): it is passed on as it is.
    faulty: bool,
    /// The current string is being passed on as it is.
    passthrough: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Outside,
    Inside,
    /// After a backslash inside a string.
    Escape,
}

/// A string found too long to hold: what is kept of it.
struct Long {
    prefix: Vec<u8>,
    hasher: blake3::Hasher,
    bytes: u64,
    /// Bytes of an unfinished UTF-8 character, carried to the next chunk for validation.
    carry: Vec<u8>,
}

impl<R: Read> LongStrings<R> {
    fn new(reader: R) -> Self {
        Self::with_limits(reader, (LONG_STRING, VALUE_LIMIT))
    }

    fn with_limits(reader: R, limits: (usize, usize)) -> Self {
        LongStrings {
            limits,
            faulty: false,
            passthrough: false,
            reader,
            input: vec![0; 64 * 1024],
            out: Vec::new(),
            out_pos: 0,
            state: State::Outside,
            held: Vec::new(),
            long: None,
            eof: false,
        }
    }

    /// Reads a chunk and moves what can be passed on into `out`.
    fn refill(&mut self) -> std::io::Result<()> {
        self.out.clear();
        self.out_pos = 0;
        let n = self.reader.read(&mut self.input)?;
        if n == 0 {
            self.eof = true;
            // An unterminated string: hand over what is held so the parser reports it.
            self.out.append(&mut self.held);
            if let Some(long) = self.long.take() {
                self.out.extend_from_slice(&long.prefix);
            }
            return Ok(());
        }
        let input = std::mem::take(&mut self.input);
        let mut i = 0;
        while i < n {
            let rest = &input[i..n];
            match self.state {
                State::Outside => match memchr::memchr2(b'"', RS, rest) {
                    Some(k) if rest[k] == RS => {
                        // A record separator between values (RFC 7464) reads as whitespace.
                        self.out.extend_from_slice(&rest[..k]);
                        self.out.push(b' ');
                        i += k + 1;
                    }
                    Some(k) => {
                        self.out.extend_from_slice(&rest[..=k]);
                        self.state = State::Inside;
                        i += k + 1;
                    }
                    None => {
                        self.out.extend_from_slice(rest);
                        i = n;
                    }
                },
                State::Escape => {
                    let byte = rest[0];
                    let valid = matches!(
                        byte,
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' | b'u'
                    );
                    self.state = State::Inside;
                    self.content(byte, (!valid).then_some(&[b'\\', byte][..]));
                    i += 1;
                }
                State::Inside => match memchr::memchr2(b'"', b'\\', rest) {
                    Some(k) => {
                        self.content_run(&rest[..k]);
                        if rest[k] == b'"' {
                            self.close();
                            self.out.push(b'"');
                            self.state = State::Outside;
                        } else {
                            self.state = State::Escape;
                            self.content(b'\\', None);
                        }
                        i += k + 1;
                    }
                    None => {
                        self.content_run(rest);
                        i = n;
                    }
                },
            }
        }
        self.input = input;
        if let Some(long) = &mut self.long {
            validate_utf8(long);
        }
        Ok(())
    }

    /// String content without quotes or backslashes: held while the string is short, hashed
    /// once it is long (a raw control character is a fault the parser must see).
    fn content_run(&mut self, mut run: &[u8]) {
        if self.passthrough {
            self.out.extend_from_slice(run);
            return;
        }
        while !run.is_empty() {
            let Some(long) = &mut self.long else {
                let take = (self.limits.0 + 1 - self.held.len()).min(run.len());
                self.faulty |= run[..take].iter().any(|&b| b < 0x20);
                self.held.extend_from_slice(&run[..take]);
                run = &run[take..];
                if self.held.len() > self.limits.0 {
                    self.start_long();
                }
                continue;
            };
            let control = run.iter().position(|&b| b < 0x20);
            let clean = &run[..control.unwrap_or(run.len())];
            long.hasher.update(clean);
            long.bytes += clean.len() as u64;
            long.carry.extend_from_slice(clean);
            if long.carry.len() >= 4096 {
                validate_utf8(long);
            }
            match control {
                Some(at) => {
                    self.content(run[at], Some(&run[at..=at]));
                    run = &run[at + 1..];
                }
                None => return,
            }
        }
    }

    /// One byte of string content; `fault` holds what the parser must see when it would not
    /// parse (the byte, or an invalid escape).
    fn content(&mut self, byte: u8, fault: Option<&[u8]>) {
        if self.passthrough {
            self.out.push(byte);
            return;
        }
        if fault.is_some() && self.long.is_none() {
            self.faulty = true;
        }
        match &mut self.long {
            None => {
                self.held.push(byte);
                if self.held.len() > self.limits.0 {
                    self.start_long();
                }
            }
            Some(long) => {
                long.hasher.update(&[byte]);
                long.bytes += 1;
                long.carry.push(byte);
                if long.carry.len() >= 4096 {
                    validate_utf8(long);
                }
            }
        }
        if let Some(fault) = fault
            && let Some(mut long) = self.long.take()
        {
            // Give up on holding it short: the parser must see the fault.
            self.out.append(&mut long.prefix);
            self.out.extend_from_slice(fault);
            self.passthrough = true;
        }
    }

    /// The held string turned out long: keep its start (cut where an escape or a character
    /// does not straddle the cut), hash it all.
    fn start_long(&mut self) {
        if self.faulty {
            // It will not parse: let the parser see it as it is.
            self.out.append(&mut self.held);
            self.passthrough = true;
            return;
        }
        let held = std::mem::take(&mut self.held);
        let cut = prefix_end(&held, self.limits.1);
        let mut hasher = blake3::Hasher::new();
        hasher.update(&held);
        let mut long = Long {
            prefix: held[..cut].to_vec(),
            hasher,
            bytes: held.len() as u64,
            carry: held[cut..].to_vec(),
        };
        validate_utf8(&mut long);
        self.long = Some(long);
    }

    /// The string closed: pass on what is held, or the kept start and the marker.
    fn close(&mut self) {
        self.faulty = false;
        if std::mem::take(&mut self.passthrough) {
            return;
        }
        match self.long.take() {
            None => self.out.append(&mut self.held),
            Some(mut long) => {
                if !long.carry.is_empty() && std::str::from_utf8(&long.carry).is_err() {
                    // Invalid UTF-8 at the very end: let the parser see it.
                    self.out.append(&mut long.prefix);
                    self.out.append(&mut long.carry);
                    return;
                }
                self.out.append(&mut long.prefix);
                self.out.extend_from_slice(
                    format!(
                        "…[long string: {} bytes, blake3 {}]",
                        long.bytes,
                        long.hasher.finalize().to_hex()
                    )
                    .as_bytes(),
                );
            }
        }
    }
}

/// Validates the carried bytes of a long string as UTF-8, keeping an unfinished character;
/// invalid bytes are moved into the prefix, so the parser reports them.
fn validate_utf8(long: &mut Long) {
    match std::str::from_utf8(&long.carry) {
        Ok(_) => long.carry.clear(),
        Err(e) if e.error_len().is_none() => {
            long.carry.drain(..e.valid_up_to());
        }
        Err(e) => {
            let bad = long.carry.split_off(e.valid_up_to());
            long.prefix.extend_from_slice(&bad);
            long.carry.clear();
        }
    }
}

/// The largest length up to `limit` at which string content can be cut: not inside an escape
/// sequence, not inside a UTF-8 character.
fn prefix_end(bytes: &[u8], limit: usize) -> usize {
    let limit = limit.min(bytes.len());
    let (mut i, mut last_safe) = (0, 0);
    while i < limit {
        let len = match bytes[i] {
            b'\\' if bytes.get(i + 1) == Some(&b'u') => 6,
            b'\\' => 2,
            b if b < 0x80 => 1,
            b if b >= 0xF0 => 4,
            b if b >= 0xE0 => 3,
            _ => 2,
        };
        if i + len > limit {
            break;
        }
        i += len;
        last_safe = i;
    }
    last_safe
}

impl<R: Read> Read for LongStrings<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if self.eof {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::NoWaivers;

    fn differences(left: &[u8], right: &[u8]) -> Vec<(String, &'static str)> {
        let mut findings = Findings::new("x", &NoWaivers, usize::MAX);
        diff_parsed(
            Format::Json,
            ("left", "x", parse_sequence(left)),
            ("right", "x", parse_sequence(right)),
            &DiffSpec::default(),
            &mut findings,
        );
        findings
            .finish()
            .differences
            .iter()
            .map(|d| (d.path.clone(), d.kind.as_str()))
            .collect()
    }

    #[test]
    fn a_stream_of_values_is_a_sequence() {
        let pretty = b"{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n[3]\n";
        let parsed = parse_sequence(pretty).unwrap();
        assert!(parsed.several);
        assert_eq!(parsed.value, serde_json::json!([{"a": 1}, {"a": 2}, [3]]));
        // RFC 7464: a record separator before each value (and a newline after).
        let seq = b"\x1e{\"a\":1}\n\x1e{\"a\":2}\n\x1e[3]\n";
        assert_eq!(parse_sequence(seq).unwrap(), parsed);
        // A separator inside a string is not one: the string holds a raw control character.
        assert!(parse_sequence(b"\x1e\"a\x1eb\"").is_err());
        // One value keeps its paths.
        let one = parse_sequence(b" {\"a\": 1} ").unwrap();
        assert!(!one.several);
        assert_eq!(
            differences(b"{\"a\":1}{\"a\":2}", b"{\"a\":1} {\"a\":3}"),
            [("$[1].a".to_owned(), "changed")]
        );
        assert_eq!(
            differences(b"{\"a\":1}", b"{\"a\":2}"),
            [("$.a".to_owned(), "changed")]
        );
        // One value against several: both are sequences.
        assert_eq!(
            differences(b"{\"a\":1}", b"{\"a\":1}\n{\"a\":2}"),
            [("$[1]".to_owned(), "added")]
        );
    }

    #[test]
    fn a_stream_keeps_positions_and_duplicates() {
        let failure = parse_sequence(b"{\"a\":1}\n{\"a\":}\n").unwrap_err();
        assert_eq!((failure.line, failure.column), (2, 6), "{failure:?}");
        let parsed = parse_sequence(b"{\"a\":1}\n{\"x\":1,\"x\":2}\n").unwrap();
        assert_eq!(parsed.duplicates[0].path, "$[1].x");
        assert_eq!(
            parse_sequence(b"  \n").unwrap_err().message,
            "no JSON value: the output is empty or holds only whitespace"
        );
        // Streams read from a reader (large files) agree with streams held in memory.
        let text = b"{\"a\":[1,2]}\n\x1e{\"b\":{\"c\":1,\"c\":2}} 3";
        assert_eq!(
            read_sequence(&text[..]).unwrap(),
            parse_sequence(text).unwrap()
        );
        // An NDJSON line or a stream's record is exactly one value.
        assert!(parse_document(b"{\"a\":1} {\"a\":2}").is_err());
    }

    #[test]
    fn auto_detection_knows_streams() {
        assert_eq!(
            Format::detect("out", b"{\"a\":1}\n{\"a\":2}\n"),
            Format::Json
        );
        assert_eq!(Format::detect("out", b"\x1e[1]\n\x1e[2]\n"), Format::Json);
        assert_eq!(
            Format::detect("out", b"{\"a\":1} trailing words"),
            Format::Text
        );
        assert_eq!(Format::detect("out", b"1 2 3"), Format::Text);
    }

    #[test]
    fn reports_line_and_column() {
        let failure = parse(b"{\n  \"a\": 1,\n  \"b\": ]\n}").unwrap_err();
        assert_eq!((failure.line, failure.column), (3, 8));
        assert_eq!(failure.message, "expected value");
    }

    #[test]
    fn duplicate_members_are_found_with_their_path() {
        let parsed = parse_document(br#"{"x":1,"x":2,"y":[{"a":0},{"a":1,"a":2,"a":3}]}"#).unwrap();
        assert_eq!(
            parsed.value,
            serde_json::json!({"x": 2, "y": [{"a": 0}, {"a": 3}]})
        );
        assert_eq!(
            parsed.duplicates,
            [
                Duplicate {
                    path: "$.x".into(),
                    count: 2
                },
                Duplicate {
                    path: "$.y[1].a".into(),
                    count: 3
                }
            ]
        );
        assert!(
            parse_document(br#"{"x":1,"y":{"x":2}}"#)
                .unwrap()
                .duplicates
                .is_empty()
        );
    }

    fn read_all(json: &[u8]) -> Result<Parsed, ParseFailure> {
        read_document(json)
    }

    #[test]
    fn long_strings_are_held_as_start_length_and_hash() {
        let long = "ab".repeat(LONG_STRING);
        let doc = format!(r#"{{"s": "{long}", "t": "short"}}"#);
        let parsed = read_all(doc.as_bytes()).unwrap();
        let s = parsed.value["s"].as_str().unwrap();
        assert!(s.starts_with("abab"));
        assert!(s.contains(&format!("[long string: {} bytes, blake3 ", 2 * LONG_STRING)));
        assert!(s.len() < VALUE_LIMIT + 200);
        assert_eq!(parsed.value["t"], "short");
        // The same string gives the same value; one byte more does not.
        assert_eq!(read_all(doc.as_bytes()).unwrap(), parsed);
        let other = format!(r#"{{"s": "{long}c", "t": "short"}}"#);
        assert_ne!(read_all(other.as_bytes()).unwrap().value, parsed.value);
        // Held in memory or read, the same document gives the same value.
        assert_eq!(parse_document(doc.as_bytes()).unwrap(), parsed);
    }

    #[test]
    fn a_long_string_that_does_not_parse_is_still_an_error() {
        let long = "x".repeat(LONG_STRING + 10);
        for bad in [
            format!("[\"{long}\u{1}\"]").into_bytes(),
            format!("[\"{long}\\q\"]").into_bytes(),
            [format!("[\"{long}").as_bytes(), b"\xff\"]"].concat(),
            format!("[\"{long}").into_bytes(),
        ] {
            assert!(read_all(&bad).is_err(), "{:?}", &bad[bad.len() - 5..]);
        }
        let escaped = format!("[\"{}\\\"\\u00e9\"]", "y".repeat(LONG_STRING));
        assert!(read_all(escaped.as_bytes()).is_ok());
    }

    /// Parses `json` through a compactor with tiny limits.
    fn compacted(json: &[u8]) -> Result<Value, serde_json::Error> {
        serde_json::from_reader(LongStrings::with_limits(json, (6, 3)))
    }

    proptest::proptest! {
        /// Compaction never changes whether a document parses, leaves short strings and
        /// everything else as they are, and keeps two long strings equal exactly when they
        /// are.
        #[test]
        fn compaction_keeps_validity_and_equality(
            a in "[ab\\\\\"\u{e9}\u{1}]{0,12}",
            b in "[ab\\\\\"\u{e9}\u{1}]{0,12}",
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..24),
        ) {
            for text in [
                format!("[{}, {}]", serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap()),
                format!("{{\"k\": \"{a}\"}}"),
            ] {
                let plain: Result<Value, _> = serde_json::from_str(&text);
                let short = compacted(text.as_bytes());
                proptest::prop_assert_eq!(plain.is_ok(), short.is_ok(), "{}", text);
                if let (Ok(plain), Ok(short)) = (plain, short)
                    && let (Some(p), Some(c)) = (plain.as_array(), short.as_array())
                {
                    proptest::prop_assert_eq!(p[0] == p[1], c[0] == c[1], "{}", text);
                    for (p, c) in p.iter().zip(c) {
                        let len = serde_json::to_string(p).unwrap().len() - 2;
                        if len <= 6 {
                            proptest::prop_assert_eq!(p, c);
                        }
                    }
                }
            }
            let mut bytes = b"[\"".to_vec();
            bytes.extend(&raw);
            bytes.extend(b"\"]");
            let plain = serde_json::from_slice::<Value>(&bytes);
            proptest::prop_assert_eq!(plain.is_ok(), compacted(&bytes).is_ok(), "{:?}", raw);
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-c\u{1e} ]{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-c]{1,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn found(summary: crate::diff::FindingsSummary) -> Vec<(String, DiffKind)> {
        summary
            .differences
            .iter()
            .map(|d| (d.path.clone(), d.kind))
            .collect()
    }

    proptest::proptest! {
        /// A document of one value gives exactly the findings the walker gives on the values,
        /// pretty-printed or not; several values are the walker's findings on their arrays.
        #[test]
        fn one_value_keeps_todays_findings_and_several_are_a_sequence(
            left in json_value(),
            right in json_value(),
            more in json_value(),
        ) {
            let walked = |l: &Value, r: &Value| {
                let mut findings = Findings::new("x", &NoWaivers, usize::MAX);
                value::diff_values(l, r, &crate::diff::Rules::default(), &mut findings);
                found(findings.finish())
            };
            let parsed = |l: &str, r: &str| {
                let mut findings = Findings::new("x", &NoWaivers, usize::MAX);
                diff_parsed(
                    Format::Json,
                    ("left", "x", parse_sequence(l.as_bytes())),
                    ("right", "x", parse_sequence(r.as_bytes())),
                    &DiffSpec::default(),
                    &mut findings,
                );
                found(findings.finish())
            };
            let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap();
            proptest::prop_assert_eq!(parsed(&left.to_string(), &pretty(&right)), walked(&left, &right));
            let stream = |a: &Value, b: &Value| format!("{}\n{}", pretty(a), b);
            let rs = |a: &Value, b: &Value| format!("\u{1e}{a}\n\u{1e}{}\n", pretty(b));
            let sequence = |a: &Value, b: &Value| Value::Array(vec![a.clone(), b.clone()]);
            proptest::prop_assert_eq!(
                parsed(&stream(&left, &more), &rs(&right, &more)),
                walked(&sequence(&left, &more), &sequence(&right, &more))
            );
        }
    }

    #[test]
    fn cuts_never_split_an_escape_or_a_character() {
        assert_eq!(prefix_end(b"abc", 2), 2);
        assert_eq!(prefix_end(b"a\\nb", 2), 1);
        assert_eq!(prefix_end(b"a\\nb", 3), 3);
        assert_eq!(prefix_end(b"a\\u00e9b", 4), 1);
        assert_eq!(prefix_end(b"a\\u00e9b", 7), 7);
        assert_eq!(prefix_end(b"a\\\\b", 3), 3);
        assert_eq!(prefix_end("é".as_bytes(), 1), 0);
    }
}
