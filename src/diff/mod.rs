//! The diff engine: one [`Differ`] per [`Format`], sharing the difference model and rules.
//!
//! Structured formats (JSON, NDJSON, CSV/TSV) parse into `serde_json::Value` and share the
//! structural walker in [`value`]; text compares lines with `similar`; bytes compares hashes.
//! Malformed input is never an error here: it is a `parse_error` difference naming the side, the
//! file, and the line and column, so a run keeps going and `parity diff` can map it to exit 2.

pub mod bytes;
pub mod cell;
pub mod csv;
pub mod dir;
pub mod fingerprint;
pub mod fold;
pub mod json;
pub mod model;
pub mod ndjson;
pub mod path;
pub mod rules;
pub mod stream;
pub mod table;
pub mod text;
pub mod value;

use serde::{Deserialize, Serialize};

pub use model::{DiffKind, Difference, Findings, FindingsSummary, NoWaivers, RuleUse, Waive};
pub use path::{JsonPath, PathError, Segment};
pub use rules::{
    ArrayMatch, Normalize, Placeholders, Rename, Replacement, Rule, Rules, Tolerance, ValueMap,
};
pub use table::{ColumnSummary, Largest, TableSide, TableSummary, TableTally};

/// A comparison format.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON document, compared semantically.
    Json,
    /// One JSON value per line, compared as records.
    Ndjson,
    /// Comma-separated records with a header row.
    Csv,
    /// Tab-separated records with a header row.
    Tsv,
    /// Lines of text.
    Text,
    /// Raw bytes: equal or not, with the first differing offset.
    Bytes,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Json,
        Format::Ndjson,
        Format::Csv,
        Format::Tsv,
        Format::Text,
        Format::Bytes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Text => "text",
            Format::Bytes => "bytes",
        }
    }

    /// The format a file name suggests, if any.
    pub fn from_extension(name: &str) -> Option<Format> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "json" | "geojson" => Format::Json,
            "ndjson" | "jsonl" => Format::Ndjson,
            "csv" => Format::Csv,
            "tsv" | "tab" => Format::Tsv,
            "txt" | "md" | "markdown" | "log" | "html" | "htm" | "xml" | "yaml" | "yml"
            | "toml" | "ini" | "cfg" | "sql" | "py" | "sh" | "rst" | "svg" => Format::Text,
            "bin" | "gz" | "zip" | "png" | "jpg" | "jpeg" | "pdf" | "parquet" | "xz" | "zst" => {
                Format::Bytes
            }
            _ => return None,
        })
    }

    /// By extension, then by content: UTF-8 that parses as JSON is JSON, other UTF-8 is text,
    /// anything else bytes.
    pub fn detect(name: &str, content: &[u8]) -> Format {
        if let Some(format) = Format::from_extension(name) {
            return format;
        }
        match std::str::from_utf8(content) {
            Ok(_) => {
                if looks_like_json(content) && json::is_json(content) {
                    Format::Json
                } else {
                    Format::Text
                }
            }
            Err(_) => Format::Bytes,
        }
    }

    /// [`Format::detect`] for a file, reading it only when its name says nothing, and then
    /// only its start, unless it may be JSON (which is then checked in one streaming pass).
    pub fn detect_file(name: &str, path: &std::path::Path) -> std::io::Result<Format> {
        use std::io::Read;
        if let Some(format) = Format::from_extension(name) {
            return Ok(format);
        }
        let mut start = Vec::new();
        std::fs::File::open(path)?
            .take(SNIFF_BYTES as u64 + 1)
            .read_to_end(&mut start)?;
        if start.len() <= SNIFF_BYTES {
            return Ok(Format::detect(name, &start));
        }
        let utf8 = match std::str::from_utf8(&start) {
            Ok(_) => true,
            // A character cut by the end of the sample is not a fault.
            Err(e) => e.error_len().is_none(),
        };
        if !utf8 {
            return Ok(Format::Bytes);
        }
        if !looks_like_json(&start) {
            return Ok(Format::Text);
        }
        let reader = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(path)?);
        Ok(if json::is_json(reader) {
            Format::Json
        } else {
            Format::Text
        })
    }

    pub fn differ(self) -> &'static dyn Differ {
        match self {
            Format::Json => &json::JsonDiffer,
            Format::Ndjson => &ndjson::NdjsonDiffer,
            Format::Csv | Format::Tsv => &csv::CsvDiffer,
            Format::Text => &text::TextDiffer,
            Format::Bytes => &bytes::BytesDiffer,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One side's content as a differ sees it.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// `legacy`, `candidate`, `left`, `right`: used in parse error notes.
    pub side: &'a str,
    /// The file (or stream) name shown to the user.
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// Past this size an identical file with no telling extension is not read to sniff its format.
const SNIFF_LIMIT: u64 = 64 * 1024 * 1024;
/// Bytes read from the start of a file with no telling extension to guess its format.
const SNIFF_BYTES: usize = 1 << 20;

/// Content that may be JSON: an object or array first (after whitespace and RFC 7464 record
/// separators), so a bare number or word is text.
fn looks_like_json(content: &[u8]) -> bool {
    let start = content
        .iter()
        .position(|b| !(b.is_ascii_whitespace() || *b == 0x1e))
        .map_or(&[][..], |at| &content[at..]);
    start.starts_with(b"{") || start.starts_with(b"[")
}

/// How one output is compared: its rules and format options.
#[derive(Debug, Clone, Default)]
pub struct DiffSpec {
    pub rules: Rules,
    pub csv: CsvOptions,
    pub text: TextOptions,
}

/// How CSV and TSV are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Field delimiter; defaults to `,` (CSV) or tab (TSV).
    pub delimiter: Option<u8>,
    /// Quote character; `None` turns quoting off (every quote is data).
    pub quote: Option<u8>,
    /// Escape character inside quoted fields; by default a quote is escaped by doubling it.
    pub escape: Option<u8>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: None,
            quote: Some(b'"'),
            escape: None,
        }
    }
}

/// Which whitespace differences in text do not count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Whitespace {
    /// Every character counts (the default).
    #[default]
    Exact,
    /// Whitespace at the end of a line does not count.
    Trailing,
    /// Runs of whitespace compare as one space, and trailing whitespace does not count (`diff -b`).
    Change,
    /// Whitespace does not count at all (`diff -w`).
    All,
}

/// How text lines are compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    pub whitespace: Whitespace,
    pub ignore_case: bool,
}

/// A differ for one format.
pub trait Differ: Sync {
    /// Records every difference between `left` and `right` in `findings`.
    fn diff(
        &self,
        format: Format,
        left: &Input<'_>,
        right: &Input<'_>,
        spec: &DiffSpec,
        findings: &mut Findings<'_>,
    );
}

/// Where a parser gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ParseFailure {
    /// The difference recording that `input` could not be parsed as `format`.
    pub fn into_difference(self, format: Format, input: &Input<'_>) -> Difference {
        Difference::new("$", DiffKind::ParseError).note(format!(
            "{} output `{}` is not valid {}: line {}, column {}: {}",
            input.side, input.name, format, self.line, self.column, self.message
        ))
    }
}

/// Parses both sides with `parse`; records parse failures, or hands both values to `then`.
pub fn parse_both<T>(
    format: Format,
    left: &Input<'_>,
    right: &Input<'_>,
    findings: &mut Findings<'_>,
    parse: impl Fn(&[u8]) -> Result<T, ParseFailure>,
) -> Option<(T, T)> {
    let l = parse(left.bytes);
    let r = parse(right.bytes);
    match (l, r) {
        (Ok(l), Ok(r)) => Some((l, r)),
        (l, r) => {
            if let Err(failure) = l {
                findings.push(failure.into_difference(format, left));
            }
            if let Err(failure) = r {
                findings.push(failure.into_difference(format, right));
            }
            None
        }
    }
}

/// The outcome of comparing one output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputStatus {
    /// Byte for byte the same.
    Identical,
    /// Equal once the rules are applied.
    Equivalent,
    /// Every difference is covered by a waiver.
    Waived,
    /// At least one difference no waiver covers.
    Different,
}

impl OutputStatus {
    pub fn is_success(self) -> bool {
        match self {
            OutputStatus::Identical | OutputStatus::Equivalent | OutputStatus::Waived => true,
            OutputStatus::Different => false,
        }
    }

    pub fn from_counts(total: usize, unwaived: usize) -> Self {
        if unwaived > 0 {
            OutputStatus::Different
        } else if total > 0 {
            OutputStatus::Waived
        } else {
            OutputStatus::Equivalent
        }
    }
}

/// Compares two files into `findings` (which holds this output only), in `format` or the one
/// detected from the left file's name and content. Byte-identical files are recognised without
/// parsing; keyed record files (NDJSON, CSV, TSV) stream through partitions (see [`stream`]),
/// which finds what the in-memory walk finds in bounded memory, and faster at every size; so do
/// large JSON documents whose keyed array is at a plain path (`$.advisories`) when the
/// splitter can promise the same findings; text and bytes stream too, and other JSON is read
/// in memory proportional to its structure (see [`json`]). Unkeyed NDJSON and CSV are compared in memory. Returns the format used and the
/// status. An error is parity failing to read (not a fault of the files' content).
pub fn compare_files(
    format: Option<Format>,
    spec: &DiffSpec,
    left: &stream::StreamInput<'_>,
    right: &stream::StreamInput<'_>,
    findings: &mut Findings<'_>,
) -> std::io::Result<(Format, OutputStatus)> {
    let identical = files_equal(left.path, right.path)?;
    let size = std::fs::metadata(left.path)?.len() + std::fs::metadata(right.path)?.len();
    let format = match format.or_else(|| Format::from_extension(left.name)) {
        Some(format) => format,
        // Content sniffing reads the file; an identical large file needs no format at all.
        None if identical && size > SNIFF_LIMIT => Format::Bytes,
        None => Format::detect_file(left.name, left.path)?,
    };
    if identical {
        return Ok((format, OutputStatus::Identical));
    }
    let open = |path: &std::path::Path| -> std::io::Result<std::io::BufReader<std::fs::File>> {
        Ok(std::io::BufReader::with_capacity(
            256 * 1024,
            std::fs::File::open(path)?,
        ))
    };
    match format {
        _ if stream::can_stream(format, spec) => {
            stream::diff_keyed_files(format, spec, left, right, findings)?;
        }
        Format::Text => text::diff_streams(
            (left.side, open(left.path)?),
            (right.side, open(right.path)?),
            spec,
            findings,
        )?,
        Format::Bytes => bytes::diff_streams(open(left.path)?, open(right.path)?, findings)?,
        Format::Json
            if size >= stream::SPLIT_JSON_BYTES
                && stream::diff_keyed_json(spec, left, right, findings)? == stream::Split::Done => {
        }
        Format::Json => {
            let read = |input: &stream::StreamInput<'_>| json::read_file(input.path);
            json::diff_parsed(
                format,
                (left.side, left.name, read(left)?),
                (right.side, right.name, read(right)?),
                spec,
                findings,
            );
        }
        Format::Ndjson | Format::Csv | Format::Tsv => {
            let (lbytes, rbytes) = (std::fs::read(left.path)?, std::fs::read(right.path)?);
            format.differ().diff(
                format,
                &Input {
                    side: left.side,
                    name: left.name,
                    bytes: &lbytes,
                },
                &Input {
                    side: right.side,
                    name: right.name,
                    bytes: &rbytes,
                },
                spec,
                findings,
            );
        }
    }
    Ok((
        format,
        OutputStatus::from_counts(findings.total(), findings.unwaived()),
    ))
}

/// True when two files hold the same bytes, read in chunks (never both whole in memory).
pub fn files_equal(left: &std::path::Path, right: &std::path::Path) -> std::io::Result<bool> {
    use std::io::Read;
    if std::fs::metadata(left)?.len() != std::fs::metadata(right)?.len() {
        return Ok(false);
    }
    let mut l = std::io::BufReader::new(std::fs::File::open(left)?);
    let mut r = std::io::BufReader::new(std::fs::File::open(right)?);
    let (mut lbuf, mut rbuf) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = l.read(&mut lbuf)?;
        if n == 0 {
            return Ok(true);
        }
        r.read_exact(&mut rbuf[..n])?;
        if lbuf[..n] != rbuf[..n] {
            return Ok(false);
        }
    }
}

/// Compares two contents in `format` into `findings`, which holds this output only.
pub fn compare(
    format: Format,
    spec: &DiffSpec,
    left: &Input<'_>,
    right: &Input<'_>,
    findings: &mut Findings<'_>,
) -> OutputStatus {
    if left.bytes == right.bytes {
        return OutputStatus::Identical;
    }
    format.differ().diff(format, left, right, spec, findings);
    OutputStatus::from_counts(findings.total(), findings.unwaived())
}
