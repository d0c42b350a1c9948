//! Text, compared line by line in bounded memory, after normalisation rules rewrite each line.
//!
//! Each changed hunk is one difference whose path is its unified-diff header
//! (`@@ -3,2 +3,2 @@`); values hold the original (not normalised) lines, cut to
//! [`VALUE_LIMIT`](super::model::VALUE_LIMIT) with their size and hash. Line endings are kept,
//! so a CRLF/LF change is a difference, and a missing final newline is reported on its own.
//! A line one side has at one place and the other at another is one `moved` difference
//! (`@@ -12 +40 @@`), and two texts of the same lines in another order are one `order_changed`
//! for the whole file (see the `moved` submodule).
//!
//! Bytes are compared, not decoded: a line that is not valid UTF-8 is compared byte for byte and
//! shown with its invalid bytes as `\xNN` (and its backslashes doubled, so the shown text stays
//! one-to-one with the bytes). Two Latin-1 lines that differ in one byte differ.
//!
//! Memory does not grow with the input: lines stream through a window of at most
//! [`WINDOW_LINES`] lines and [`WINDOW_BYTES`] bytes per side. A common start is skipped line by
//! line; then each window is aligned (Myers' O(ND) diff, on the lines that occur on both sides:
//! a line found on one side only can never be equal), the hunks up to the last line pair that
//! agrees are final, and the rest waits for more lines. Hunks that continue across windows are
//! merged. A line longer than [`LONG_LINE`] is compared by its length and blake3 hash. Whatever
//! the size, every difference is found; only the alignment of changes larger than a window may
//! be coarser than a whole-file diff would give.

mod moved;

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::io::BufRead;
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp};

use self::moved::{MOVE_LIMIT, MoveLimit, Moves};
use super::model::{Clip, VALUE_LIMIT};
use super::{
    DiffKind, DiffSpec, Differ, Difference, Findings, Format, Input, Placeholders, TextOptions,
    Whitespace,
};
use crate::units::cut_at;

/// Lines held per side while aligning.
pub const WINDOW_LINES: usize = 20_000;
/// Bytes of lines held per side while aligning (originals and their normalised forms).
pub const WINDOW_BYTES: usize = 4 << 20;
/// Lines longer than this are compared by length and hash, without whitespace options or
/// normalisation rules.
pub const LONG_LINE: usize = 1 << 20;
/// Myers on very different windows can take long; past this it returns a coarser alignment.
const DIFF_DEADLINE: Duration = Duration::from_secs(2);

pub struct TextDiffer;

impl Differ for TextDiffer {
    fn diff(
        &self,
        _: Format,
        left: &Input<'_>,
        right: &Input<'_>,
        spec: &DiffSpec,
        findings: &mut Findings<'_>,
    ) {
        // Reading from memory cannot fail.
        let _ = diff_streams(
            (left.side, left.bytes),
            (right.side, right.bytes),
            spec,
            findings,
        );
    }
}

/// How much of each side is held while aligning.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub lines: usize,
    pub bytes: usize,
}

/// The window every comparison uses.
pub const WINDOW: Window = Window {
    lines: WINDOW_LINES,
    bytes: WINDOW_BYTES,
};

/// Compares two texts read from `left` and `right` (each with its side's name for notes).
pub fn diff_streams(
    left: (&str, impl BufRead),
    right: (&str, impl BufRead),
    spec: &DiffSpec,
    findings: &mut Findings<'_>,
) -> std::io::Result<()> {
    diff_streams_in(WINDOW, left, right, spec, findings)
}

/// [`diff_streams`] with a chosen window (tests use tiny ones to cross many windows).
pub fn diff_streams_in(
    window: Window,
    left: (&str, impl BufRead),
    right: (&str, impl BufRead),
    spec: &DiffSpec,
    findings: &mut Findings<'_>,
) -> std::io::Result<()> {
    diff_with(window, MOVE_LIMIT, left, right, spec, findings)
}

/// [`diff_streams_in`] with a chosen limit on the lines held to pair moved lines.
fn diff_with(
    window: Window,
    limit: MoveLimit,
    (left_side, left): (&str, impl BufRead),
    (right_side, right): (&str, impl BufRead),
    spec: &DiffSpec,
    findings: &mut Findings<'_>,
) -> std::io::Result<()> {
    let mut l = Lines::new(left, spec);
    let mut r = Lines::new(right, spec);
    // Hunks wait here until the end, when moved lines are paired or the whole text turns out
    // to be the same lines in another order; rule hits and notes go to `findings` at once.
    let mut pending = Findings::new(findings.output(), findings.waivers(), findings.cap());
    let mut hunks = Hunks::default();
    let mut moves = Moves::new(limit);
    skip_common_start(&mut l, &mut r, findings)?;
    let (mut lwin, mut rwin) = (VecDeque::new(), VecDeque::new());
    loop {
        l.fill(&mut lwin, window, findings)?;
        r.fill(&mut rwin, window, findings)?;
        if lwin.is_empty() && rwin.is_empty() {
            break;
        }
        let at_end = l.done && r.done;
        align_window(
            (&mut lwin, l.number + 1),
            (&mut rwin, r.number + 1),
            at_end,
            |left, right| moves.add(left, right, &mut hunks, &mut pending),
        );
    }
    match moves.reordered(l.number) {
        Some(reordered) => findings.push(reordered),
        None => {
            if let Some(note) = moves.finish(&mut hunks, &mut pending) {
                findings.note(note);
            }
            hunks.flush(&mut pending);
            findings.absorb(pending.finish());
        }
    }
    let long_lines = l.long_lines || r.long_lines;
    if long_lines && (spec.rules.has_normalize() || spec.text != TextOptions::default()) {
        findings.note(format!(
            "lines longer than {} MiB are compared exactly, without whitespace or case options \
             and normalisation rules",
            LONG_LINE >> 20
        ));
    }
    if l.final_newline != r.final_newline && (l.number > 0 || r.number > 0) {
        let describe = |present: bool| if present { "present" } else { "absent" };
        findings.push(Difference::new("$", DiffKind::Changed).note(format!(
            "final newline {} on the {left_side} side, {} on the {right_side} side",
            describe(l.final_newline),
            describe(r.final_newline),
        )));
    }
    Ok(())
}

/// Consumes the lines both sides share at the start, holding one line per side at a time.
fn skip_common_start(
    l: &mut Lines<impl BufRead>,
    r: &mut Lines<impl BufRead>,
    findings: &mut Findings<'_>,
) -> std::io::Result<()> {
    loop {
        if l.peeked.is_none() {
            l.peeked = l.next_line(findings)?;
        }
        if r.peeked.is_none() {
            r.peeked = r.next_line(findings)?;
        }
        match (&l.peeked, &r.peeked) {
            (Some(a), Some(b)) if a.key == b.key => {
                l.peeked = None;
                r.peeked = None;
            }
            _ => return Ok(()),
        }
    }
}

/// Aligns the two windows and takes out of them the lines that are settled: hands each
/// stretch of differing lines (where it starts and its lines, on each side; it may continue in
/// the next window) up to the last line pair that agrees to `settle`. At the end of both
/// inputs everything is settled. `next` is the number each side's next line would have, were
/// its window empty.
fn align_window(
    (lwin, lnext): (&mut VecDeque<Line>, usize),
    (rwin, rnext): (&mut VecDeque<Line>, usize),
    at_end: bool,
    mut settle: impl FnMut((usize, Vec<&Line>), (usize, Vec<&Line>)),
) {
    let pairs = matching_pairs(lwin, rwin);
    let (lcut, rcut) = match pairs.last() {
        _ if at_end => (lwin.len(), rwin.len()),
        Some(&(i, j)) => (i + 1, j + 1),
        // Nothing agrees in these windows: settle half of each and look further.
        None => (lwin.len().div_ceil(2), rwin.len().div_ceil(2)),
    };
    // The number of the line at `at` in a window, or of the line after it.
    let number = |win: &VecDeque<Line>, next: usize, at: usize| match (win.get(at), win.back()) {
        (Some(line), _) => line.number,
        (None, Some(last)) => last.number + 1,
        (None, None) => next,
    };
    // Each stretch between agreeing lines is handed on before the settled lines go, in one
    // drain, and `pairs` before them: what a stretch becomes is allocated while the windows'
    // blocks are in use (allocated among the freed lines' blocks, it made the allocator, and
    // the whole comparison, up to 70% slower).
    let (mut li, mut ri) = (0, 0);
    let agreeing = pairs.iter().take_while(|(i, j)| *i < lcut && *j < rcut);
    for &(i, j) in agreeing.chain(std::iter::once(&(lcut, rcut))) {
        if li < i || ri < j {
            let (old, new) = (number(lwin, lnext, li), number(rwin, rnext, ri));
            settle(
                (old, lwin.range(li..i).collect()),
                (new, rwin.range(ri..j).collect()),
            );
        }
        li = i + 1;
        ri = j + 1;
    }
    drop(pairs);
    lwin.drain(..lcut);
    rwin.drain(..rcut);
}

/// The line pairs (left index, right index) that agree, in order, from Myers' diff of the
/// lines that occur in both windows.
fn matching_pairs<'w>(lwin: &'w VecDeque<Line>, rwin: &'w VecDeque<Line>) -> Vec<(usize, usize)> {
    if lwin.is_empty() || rwin.is_empty() {
        return Vec::new();
    }
    // Filtering by hash only lets a colliding line through to Myers, which compares keys.
    let hashes = |win: &VecDeque<Line>| -> Hashes { win.iter().map(|l| l.hashed).collect() };
    let (in_left, in_right) = (hashes(lwin), hashes(rwin));
    // The lines of `win` that `other` may hold, with their positions in `win`.
    let shared = |win: &'w VecDeque<Line>, other: &Hashes| -> (Vec<usize>, Vec<Compared<'w>>) {
        win.iter()
            .enumerate()
            .filter(|(_, l)| other.contains(&l.hashed))
            .map(|(i, l)| (i, Compared(l)))
            .unzip()
    };
    let (lidx, lkeys) = shared(lwin, &in_right);
    let (ridx, rkeys) = shared(rwin, &in_left);
    let ops = similar::capture_diff_slices_deadline(
        Algorithm::Myers,
        &lkeys,
        &rkeys,
        Some(Instant::now() + DIFF_DEADLINE),
    );
    let mut pairs = Vec::new();
    for op in ops {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            pairs.extend((0..len).map(|k| (lidx[old_index + k], ridx[new_index + k])));
        }
    }
    pairs
}

/// Line hashes of a window (already hashes: not hashed again).
type Hashes = HashSet<u64, std::hash::BuildHasherDefault<super::stream::partition::Prehashed>>;

/// A line as Myers sees it: equal when the keys are, hash first.
struct Compared<'a>(&'a Line);

impl PartialEq for Compared<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.hashed == other.0.hashed && self.0.key == other.0.key
    }
}

impl Eq for Compared<'_> {}

impl std::hash::Hash for Compared<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hashed);
    }
}

/// What a line is compared as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// Valid UTF-8, folded and normalised.
    Text(Box<str>),
    /// Not valid UTF-8: its escaped form, folded and normalised (never equal to a `Text`).
    NotUtf8(Box<str>),
    /// Longer than [`LONG_LINE`]: its length and hash.
    Long(u64, [u8; 32]),
}

/// One line as read: its number, what it is compared as, and what is shown of it.
#[derive(Debug)]
struct Line {
    /// 1-based.
    number: usize,
    key: Key,
    /// A hash of `key`, to filter and compare lines quickly.
    hashed: u64,
    /// The line as shown (escaped when not UTF-8), cut to [`VALUE_LIMIT`]; `None` when it is
    /// its key (nothing folded or rewritten).
    shown: Option<String>,
    /// Bytes of the line as shown, whole.
    len: u64,
    /// Hash of the whole shown line, when `shown` was cut.
    hash: Option<blake3::Hash>,
}

impl Line {
    fn new(
        number: usize,
        key: Key,
        shown: Option<String>,
        len: u64,
        hash: Option<blake3::Hash>,
    ) -> Self {
        let hashed = match &key {
            Key::Text(k) => xxhash_rust::xxh3::xxh3_64_with_seed(k.as_bytes(), 1),
            Key::NotUtf8(k) => xxhash_rust::xxh3::xxh3_64_with_seed(k.as_bytes(), 2),
            Key::Long(len, hash) => xxhash_rust::xxh3::xxh3_64_with_seed(hash, *len),
        };
        Line {
            number,
            key,
            hashed,
            shown,
            len,
            hash,
        }
    }

    /// A 128-bit hash of `key`, to pair moved lines and sum a side's lines: computed only
    /// for the lines of hunks (64 bits are enough to filter, not to stand for a line).
    fn wide_hash(&self) -> u128 {
        match &self.key {
            Key::Text(k) => xxhash_rust::xxh3::xxh3_128_with_seed(k.as_bytes(), 1),
            Key::NotUtf8(k) => xxhash_rust::xxh3::xxh3_128_with_seed(k.as_bytes(), 2),
            Key::Long(len, hash) => xxhash_rust::xxh3::xxh3_128_with_seed(hash, *len),
        }
    }

    fn weight(&self) -> usize {
        let key = match &self.key {
            Key::Text(k) | Key::NotUtf8(k) => k.len(),
            Key::Long(..) => 40,
        };
        key + self.shown.as_ref().map_or(0, String::len) + 72
    }
}

/// What hunks show of a line, read or held.
trait Reported {
    /// The line as shown, cut to [`VALUE_LIMIT`] when long.
    fn shown(&self) -> &str;
    /// Bytes of the whole shown line.
    fn len(&self) -> u64;
    /// Hash of the whole shown line, when [`Reported::shown`] was cut.
    fn cut_hash(&self) -> Option<&blake3::Hash>;
}

impl Reported for Line {
    fn shown(&self) -> &str {
        match (&self.shown, &self.key) {
            (Some(shown), _) => shown,
            (None, Key::Text(k) | Key::NotUtf8(k)) => k,
            (None, Key::Long(..)) => "",
        }
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn cut_hash(&self) -> Option<&blake3::Hash> {
        self.hash.as_ref()
    }
}

impl<T: Reported> Reported for &T {
    fn shown(&self) -> &str {
        (**self).shown()
    }

    fn len(&self) -> u64 {
        (**self).len()
    }

    fn cut_hash(&self) -> Option<&blake3::Hash> {
        (**self).cut_hash()
    }
}

/// Reads lines one at a time, in bounded memory even when a line is huge.
struct Lines<'s, R> {
    reader: R,
    spec: &'s DiffSpec,
    placeholders: Placeholders,
    number: usize,
    final_newline: bool,
    done: bool,
    long_lines: bool,
    peeked: Option<Line>,
    /// The line being read, reused from line to line.
    buffer: Vec<u8>,
}

impl<'s, R: BufRead> Lines<'s, R> {
    fn new(reader: R, spec: &'s DiffSpec) -> Self {
        Lines {
            reader,
            spec,
            placeholders: Placeholders::default(),
            number: 0,
            final_newline: false,
            done: false,
            long_lines: false,
            peeked: None,
            buffer: Vec::new(),
        }
    }

    /// Adds lines to `window` until it holds `size.lines` lines or `size.bytes` bytes.
    fn fill(
        &mut self,
        window: &mut VecDeque<Line>,
        size: Window,
        findings: &mut Findings<'_>,
    ) -> std::io::Result<()> {
        let mut weight: usize = window.iter().map(Line::weight).sum();
        if let Some(line) = self.peeked.take() {
            weight += line.weight();
            window.push_back(line);
        }
        while window.len() < size.lines && weight < size.bytes {
            let Some(line) = self.next_line(findings)? else {
                break;
            };
            weight += line.weight();
            window.push_back(line);
        }
        Ok(())
    }

    fn next_line(&mut self, findings: &mut Findings<'_>) -> std::io::Result<Option<Line>> {
        if self.done {
            return Ok(None);
        }
        let mut raw = std::mem::take(&mut self.buffer);
        raw.clear();
        let mut long: Option<(blake3::Hasher, u64)> = None;
        let mut ended = false;
        let mut read_any = false;
        loop {
            let buffer = self.reader.fill_buf()?;
            if buffer.is_empty() {
                break;
            }
            read_any = true;
            let (chunk, newline) = match memchr::memchr(b'\n', buffer) {
                Some(at) => (&buffer[..at], true),
                None => (buffer, false),
            };
            match &mut long {
                Some((hasher, len)) => {
                    hasher.update(chunk);
                    *len += chunk.len() as u64;
                }
                None if raw.len() + chunk.len() > LONG_LINE => {
                    let mut hasher = blake3::Hasher::new();
                    hasher.update(&raw);
                    hasher.update(chunk);
                    let len = (raw.len() + chunk.len()) as u64;
                    if raw.len() < VALUE_LIMIT {
                        let room = VALUE_LIMIT - raw.len();
                        raw.extend_from_slice(&chunk[..room.min(chunk.len())]);
                    }
                    raw.truncate(VALUE_LIMIT);
                    long = Some((hasher, len));
                }
                None => raw.extend_from_slice(chunk),
            }
            let used = chunk.len() + usize::from(newline);
            self.reader.consume(used);
            if newline {
                ended = true;
                break;
            }
        }
        if !read_any {
            self.done = true;
            return Ok(None);
        }
        self.final_newline = ended;
        self.number += 1;
        let line = match long {
            Some((hasher, len)) => {
                self.long_lines = true;
                let shown = display_bytes(&raw).into_owned();
                Line::new(
                    self.number,
                    Key::Long(len, *hasher.finalize().as_bytes()),
                    Some(format!("{}…", cut_at(&shown, VALUE_LIMIT))),
                    len,
                    Some(hasher.finalize()),
                )
            }
            None => self.line(&raw, findings),
        };
        self.buffer = raw;
        Ok(Some(line))
    }

    /// A line of ordinary length: folded and normalised for comparison, cut for showing.
    fn line(&mut self, raw: &[u8], findings: &mut Findings<'_>) -> Line {
        let (text, utf8) = match std::str::from_utf8(raw) {
            Ok(text) => (Cow::Borrowed(text), true),
            Err(_) => (display_bytes(raw), false),
        };
        let mut key = fold(&text, self.spec.text);
        if self.spec.rules.has_normalize() {
            let (normalised, hits) = self.spec.rules.normalize(&[], &key, &mut self.placeholders);
            for rule in hits {
                findings.rule_hit(rule);
            }
            if let Cow::Owned(normalised) = normalised {
                key = Cow::Owned(normalised);
            }
        }
        let len = text.len() as u64;
        let (shown, hash) = if text.len() > VALUE_LIMIT {
            (
                Some(format!("{}…", cut_at(&text, VALUE_LIMIT))),
                Some(blake3::hash(text.as_bytes())),
            )
        } else if *key != *text {
            (Some(text.clone().into_owned()), None)
        } else {
            (None, None)
        };
        let key: Box<str> = key.into();
        let key = if utf8 {
            Key::Text(key)
        } else {
            Key::NotUtf8(key)
        };
        Line::new(self.number, key, shown, len, hash)
    }
}

/// Hunks as they are found, a hunk that continues the previous one (across windows) merged
/// into it.
#[derive(Default)]
struct Hunks {
    open: Option<Hunk>,
}

/// One hunk being built: where it is on each side and the text of each side, cut.
struct Hunk {
    /// First line (1-based) and line count on each side; an empty side's "first line" is the
    /// line it sits before.
    old: (usize, usize),
    new: (usize, usize),
    left: Shown,
    right: Shown,
}

impl Hunks {
    /// Records that the lines `left` (starting at line `old_start`) were replaced by `right`
    /// (starting at `new_start`).
    fn add<L: Reported>(
        &mut self,
        (old_start, left): (usize, impl Iterator<Item = L>),
        (new_start, right): (usize, impl Iterator<Item = L>),
        findings: &mut Findings<'_>,
    ) {
        let (left, right): (Vec<L>, Vec<L>) = (left.collect(), right.collect());
        if left.is_empty() && right.is_empty() {
            return;
        }
        let continues = self
            .open
            .as_ref()
            .is_some_and(|h| h.old.0 + h.old.1 == old_start && h.new.0 + h.new.1 == new_start);
        if !continues {
            self.flush(findings);
        }
        let hunk = self.open.get_or_insert_with(|| Hunk {
            old: (old_start, 0),
            new: (new_start, 0),
            left: Shown::default(),
            right: Shown::default(),
        });
        hunk.old.1 += left.len();
        hunk.new.1 += right.len();
        left.iter().for_each(|line| hunk.left.push(line));
        right.iter().for_each(|line| hunk.right.push(line));
    }

    fn flush(&mut self, findings: &mut Findings<'_>) {
        let Some(hunk) = self.open.take() else {
            return;
        };
        let kind = match (hunk.old.1, hunk.new.1) {
            (_, 0) => DiffKind::Removed,
            (0, _) => DiffKind::Added,
            _ => DiffKind::Changed,
        };
        let (left, left_clip) = hunk.left.finish();
        let (right, right_clip) = hunk.right.finish();
        let mut difference = Difference::new(hunk_header(hunk.old, hunk.new), kind)
            .left(left)
            .right(right);
        difference.left_clip = left_clip;
        difference.right_clip = right_clip;
        findings.push(difference);
    }
}

/// The text of one side of a hunk: lines joined by `\n`, cut to [`VALUE_LIMIT`], with the whole
/// text's size and a hash when it was cut.
#[derive(Default)]
struct Shown {
    text: String,
    bytes: u64,
    lines: usize,
    hasher: blake3::Hasher,
    cut: bool,
}

impl Shown {
    fn push(&mut self, line: &impl Reported) {
        let separator = if self.lines > 0 { "\n" } else { "" };
        self.lines += 1;
        self.bytes += separator.len() as u64 + line.len();
        self.hasher.update(separator.as_bytes());
        // A line cut on reading is hashed by its own hash: as unique, and all that is left.
        match line.cut_hash() {
            Some(hash) => self.hasher.update(hash.as_bytes()),
            None => self.hasher.update(line.shown().as_bytes()),
        };
        if self.cut {
            return;
        }
        let fits = line.cut_hash().is_none()
            && self.text.len() + separator.len() + line.shown().len() <= VALUE_LIMIT;
        self.text.push_str(separator);
        if fits {
            self.text.push_str(line.shown());
        } else {
            let room = VALUE_LIMIT.saturating_sub(self.text.len());
            self.text
                .push_str(cut_at(line.shown().trim_end_matches('…'), room));
            self.text.push('…');
            self.cut = true;
        }
    }

    fn finish(self) -> (Option<serde_json::Value>, Option<Clip>) {
        if self.lines == 0 {
            return (None, None);
        }
        let clip = self.cut.then(|| Clip {
            bytes: self.bytes,
            blake3: self.hasher.finalize().to_hex().to_string(),
        });
        (Some(serde_json::Value::String(self.text)), clip)
    }
}

/// `bytes` as text: itself when it is valid UTF-8; otherwise each invalid byte as `\xNN` and
/// each backslash doubled, so different bytes never show as the same text.
pub fn display_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    Cow::Owned(out)
}

/// Applies the whitespace and case options to one line.
pub fn fold(line: &str, options: TextOptions) -> Cow<'_, str> {
    let mut text = match options.whitespace {
        Whitespace::Exact => Cow::Borrowed(line),
        Whitespace::Trailing => Cow::Borrowed(line.trim_end()),
        Whitespace::Change => Cow::Owned(line.split_whitespace().collect::<Vec<_>>().join(" ")),
        Whitespace::All => Cow::Owned(line.chars().filter(|c| !c.is_whitespace()).collect()),
    };
    if options.ignore_case {
        text = Cow::Owned(text.to_lowercase());
    }
    text
}

/// Where a `moved` difference's line was and is: (left line, right line), from its
/// `@@ -12 +40 @@` path; `None` for other differences.
pub fn moved_lines(difference: &Difference) -> Option<(usize, usize)> {
    if difference.kind != DiffKind::Moved {
        return None;
    }
    let sides = difference.path.strip_prefix("@@ -")?.strip_suffix(" @@")?;
    let (old, new) = sides.split_once(" +")?;
    Some((old.parse().ok()?, new.parse().ok()?))
}

/// `@@ -start,len +start,len @@` with 1-based starts, as unified diffs print it (an empty side
/// names the line before it).
fn hunk_header(old: (usize, usize), new: (usize, usize)) -> String {
    let side = |(start, len): (usize, usize)| {
        let start = if len == 0 { start - 1 } else { start };
        if len == 1 {
            format!("{start}")
        } else {
            format!("{start},{len}")
        }
    };
    format!("@@ -{} +{} @@", side(old), side(new))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::{Just, Strategy};

    use super::*;
    use crate::diff::{FindingsSummary, NoWaivers};

    fn diff_bytes(left: &[u8], right: &[u8]) -> Vec<Difference> {
        let mut findings = Findings::new("t.txt", &NoWaivers, 100);
        let l = Input {
            side: "legacy",
            name: "t.txt",
            bytes: left,
        };
        let r = Input {
            side: "candidate",
            name: "t.txt",
            bytes: right,
        };
        let spec = DiffSpec::default();
        TextDiffer.diff(Format::Text, &l, &r, &spec, &mut findings);
        findings.finish().differences
    }

    fn diff(left: &str, right: &str) -> Vec<Difference> {
        diff_bytes(left.as_bytes(), right.as_bytes())
    }

    #[test]
    fn one_changed_line_is_one_hunk() {
        let found = diff("a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "@@ -2 +2 @@");
        assert_eq!(found[0].left, Some("b".into()));
        assert_eq!(found[0].right, Some("B".into()));
    }

    #[test]
    fn insertions_and_newlines() {
        let found = diff("a\nc\n", "a\nb\nc\n");
        assert_eq!(found[0].path, "@@ -1,0 +2 @@");
        assert_eq!(found[0].kind, DiffKind::Added);
        let found = diff("a\n", "a");
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .note
                .as_deref()
                .unwrap()
                .contains("final newline present on the legacy")
        );
        let found = diff("a\r\n", "a\n");
        assert_eq!(found[0].kind, DiffKind::Changed);
    }

    #[test]
    fn removals_name_the_line_before() {
        let found = diff("a\nb\nc\n", "a\nc\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "@@ -2 +1,0 @@");
        assert_eq!(found[0].kind, DiffKind::Removed);
        let found = diff("x\na\n", "a\n");
        assert_eq!(found[0].path, "@@ -1 +0,0 @@");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_compared_and_shown_escaped() {
        let found = diff_bytes(b"caf\xe9\n", b"caf\xe8\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].left, Some("caf\\xe9".into()));
        assert_eq!(found[0].right, Some("caf\\xe8".into()));
        assert!(diff_bytes(b"caf\xe9\n", b"caf\xe9\n").is_empty());
        // The escaped form of a byte never equals text that spells the escape.
        assert_eq!(diff_bytes(b"caf\xe9\n", b"caf\\xe9\n").len(), 1);
        assert_eq!(display_bytes(b"a\\b\xff"), "a\\\\b\\xff");
    }

    #[test]
    fn long_inputs_are_aligned_across_windows() {
        let left: String = (0..3 * WINDOW_LINES)
            .map(|i| format!("line {i}\n"))
            .collect();
        let mut right = left.replace("line 100\n", "line one hundred\n");
        right = right.replace(&format!("line {}\n", 2 * WINDOW_LINES + 5), "");
        let found = diff(&left, &right);
        let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "@@ -101 +101 @@",
                &format!(
                    "@@ -{} +{},0 @@",
                    2 * WINDOW_LINES + 6,
                    2 * WINDOW_LINES + 5
                )
            ]
        );
    }

    #[test]
    fn a_large_removal_is_one_hunk_with_its_size() {
        let left: String = (0..50_000).map(|i| format!("{i:0>60}\n")).collect();
        let found = diff(&left, "a\nb\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "@@ -1,50000 +1,2 @@");
        let clip = found[0].left_clip.as_ref().expect("cut");
        assert_eq!(clip.bytes, 50_000 * 61 - 1);
        assert!(found[0].left.as_ref().unwrap().as_str().unwrap().len() <= VALUE_LIMIT + 4);
    }

    /// A hunk header's sides as (first line, count) each.
    type Header = ((usize, usize), (usize, usize));

    /// A hunk header's sides; an empty side's first line is the line after the one it names.
    fn header(path: &str) -> Header {
        let side = |text: &str| match text.split_once(',') {
            Some((s, l)) => {
                let (s, l) = (s.parse::<usize>().unwrap(), l.parse::<usize>().unwrap());
                (if l == 0 { s + 1 } else { s }, l)
            }
            None => (text.parse::<usize>().unwrap(), 1),
        };
        let sides = path
            .strip_prefix("@@ -")
            .unwrap()
            .strip_suffix(" @@")
            .unwrap();
        let (old, new) = sides.split_once(" +").unwrap();
        (side(old), side(new))
    }

    /// Checks that `found` accounts for every line of `left` and `right` exactly once: each
    /// hunk holds the lines its header names, each moved line is the same text at both of its
    /// places, the lines no finding names are the same on both sides in the same order, and a
    /// reordering is one `order_changed` of texts holding the same lines.
    fn accounts_for_every_line(
        left: &str,
        right: &str,
        found: &[Difference],
    ) -> Result<(), String> {
        let (l, r): (Vec<&str>, Vec<&str>) = (left.lines().collect(), right.lines().collect());
        if found.iter().any(|d| d.kind == DiffKind::OrderChanged) {
            let (mut ls, mut rs) = (l.clone(), r.clone());
            ls.sort_unstable();
            rs.sort_unstable();
            return match found {
                [d] if d.path == "$" && ls == rs && l != r => Ok(()),
                _ => Err(format!(
                    "order_changed for texts that are not reordered: {found:?}"
                )),
            };
        }
        let (mut lseen, mut rseen) = (vec![false; l.len()], vec![false; r.len()]);
        let cover = |seen: &mut Vec<bool>, lines: &[&str], (start, len): (usize, usize)| {
            let range = start - 1..start - 1 + len;
            if range.end > lines.len() || seen[range.clone()].iter().any(|s| *s) {
                return Err(format!("lines {range:?} named twice or past the end"));
            }
            seen[range.clone()].iter_mut().for_each(|s| *s = true);
            Ok((len > 0).then(|| lines[range].join("\n")))
        };
        for d in found.iter().filter(|d| d.path.starts_with("@@")) {
            let (old, new) = header(&d.path);
            let shown = |v: &Option<serde_json::Value>| {
                v.as_ref()
                    .map(|v| v.as_str().unwrap_or_default().to_owned())
            };
            let (lt, rt) = (cover(&mut lseen, &l, old)?, cover(&mut rseen, &r, new)?);
            if (lt.as_ref(), rt.as_ref()) != (shown(&d.left).as_ref(), shown(&d.right).as_ref()) {
                return Err(format!("{d:?} does not show lines {lt:?} and {rt:?}"));
            }
            let kind = match (old.1, new.1) {
                (1, 1) if lt == rt => DiffKind::Moved,
                (_, 0) => DiffKind::Removed,
                (0, _) => DiffKind::Added,
                _ => DiffKind::Changed,
            };
            if d.kind != kind {
                return Err(format!("{d:?} should be {kind}"));
            }
        }
        let rest = |lines: &[&str], seen: &[bool]| -> Vec<String> {
            lines
                .iter()
                .zip(seen)
                .filter(|(_, s)| !**s)
                .map(|(l, _)| (*l).to_owned())
                .collect()
        };
        let (lrest, rrest) = (rest(&l, &lseen), rest(&r, &rseen));
        if lrest != rrest {
            return Err(format!(
                "lines no finding names differ: {lrest:?} vs {rrest:?}"
            ));
        }
        Ok(())
    }

    /// Lines as a text, each ending in a newline.
    fn join(lines: &[String]) -> String {
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    /// Every finding of comparing `left` with `right` through windows of `lines` lines,
    /// holding at most `held` lines to pair moved lines.
    fn diff_in(left: &str, right: &str, lines: usize, held: usize) -> FindingsSummary {
        let mut findings = Findings::new("t", &NoWaivers, 10_000);
        let window = Window {
            lines,
            bytes: usize::MAX,
        };
        let limit = MoveLimit {
            lines: held,
            bytes: MOVE_LIMIT.bytes,
        };
        diff_with(
            window,
            limit,
            ("l", left.as_bytes()),
            ("r", right.as_bytes()),
            &DiffSpec::default(),
            &mut findings,
        )
        .unwrap();
        findings.finish()
    }

    fn kinds(found: &[Difference]) -> Vec<(&str, DiffKind)> {
        found.iter().map(|d| (d.path.as_str(), d.kind)).collect()
    }

    /// `n` distinct lines, to move about.
    fn distinct(n: usize) -> impl Strategy<Value = Vec<String>> {
        proptest::collection::btree_set("[a-z]{1,6}", n).prop_map(|s| s.into_iter().collect())
    }

    proptest::proptest! {
        /// Across windows of any size, and whether moved lines are paired or not, the findings
        /// account for every line of both texts, and texts differ exactly when a difference is
        /// found.
        #[test]
        fn findings_account_for_every_line_across_windows(
            left in proptest::collection::vec("[abc]{0,2}", 0..40),
            right in proptest::collection::vec("[abc]{0,2}", 0..40),
            lines in 1usize..6,
            held in proptest::sample::select(vec![0usize, 3, 10, usize::MAX]),
        ) {
            let (l, r) = (join(&left), join(&right));
            let found = diff_in(&l, &r, lines, held);
            proptest::prop_assert_eq!(found.total == 0, l == r);
            if let Err(why) = accounts_for_every_line(&l, &r, &found.differences) {
                return Err(proptest::test_runner::TestCaseError::fail(why));
            }
        }

        /// A text never differs from itself.
        #[test]
        fn a_text_equals_itself(
            lines in proptest::collection::vec("[ab]{0,2}", 0..40),
            window in 1usize..6,
        ) {
            let text = join(&lines);
            proptest::prop_assert_eq!(diff_in(&text, &text, window, usize::MAX), FindingsSummary::default());
        }

        /// The same lines in another order are one `order_changed` for the whole text and
        /// nothing else, past the pairing limit too.
        #[test]
        fn a_permutation_is_exactly_one_order_changed(
            (left, right) in proptest::collection::vec("[abcd]{1,2}", 2..40)
                .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
            lines in 1usize..8,
            held in proptest::sample::select(vec![0usize, 5, usize::MAX]),
        ) {
            proptest::prop_assume!(left != right);
            let found = diff_in(&join(&left), &join(&right), lines, held);
            proptest::prop_assert_eq!(kinds(&found.differences), [("$", DiffKind::OrderChanged)]);
            let note = found.differences[0].note.clone().unwrap_or_default();
            let same = format!("the same {} lines in another order", left.len());
            proptest::prop_assert!(note.starts_with(&same), "{}", note);
            let first = left.iter().zip(&right).position(|(a, b)| a != b).unwrap_or(0) + 1;
            let at = format!("first difference at line {first};");
            proptest::prop_assert!(note.contains(&at), "{}", note);
        }

        /// Swapping the sides swaps the findings: removed and added lines trade places, moves
        /// go the other way, and as many lines move.
        #[test]
        fn swapping_sides_swaps_the_findings(
            left in proptest::collection::vec("[abc]{0,2}", 0..30),
            right in proptest::collection::vec("[abc]{0,2}", 0..30),
        ) {
            let (l, r) = (join(&left), join(&right));
            let forward = diff_in(&l, &r, WINDOW_LINES, usize::MAX).differences;
            let backward = diff_in(&r, &l, WINDOW_LINES, usize::MAX).differences;
            let swapped: Vec<Difference> = forward.iter().cloned().map(Difference::swapped).collect();
            if let Err(why) = accounts_for_every_line(&r, &l, &swapped) {
                return Err(proptest::test_runner::TestCaseError::fail(why));
            }
            let count = |found: &[Difference], kind| found.iter().filter(|d| d.kind == kind).count();
            let lines = |found: &[Difference], side: fn(&Header) -> usize| -> usize {
                found.iter().filter(|d| d.path.starts_with("@@") && d.kind != DiffKind::Moved).map(|d| side(&header(&d.path))).sum()
            };
            proptest::prop_assert_eq!(count(&forward, DiffKind::Moved), count(&backward, DiffKind::Moved));
            proptest::prop_assert_eq!(count(&forward, DiffKind::OrderChanged), count(&backward, DiffKind::OrderChanged));
            proptest::prop_assert_eq!(lines(&forward, |h| h.0.1), lines(&backward, |h| h.1.1));
            proptest::prop_assert_eq!(lines(&forward, |h| h.1.1), lines(&backward, |h| h.0.1));
        }

        /// Moving k distinct lines elsewhere (in a text that also gained a line, so it is not
        /// only reordered) is k `moved` findings when a window holds the texts, and no line of
        /// theirs is added or removed.
        #[test]
        fn moving_k_distinct_lines_is_k_moved(
            (lines, k) in (3usize..30).prop_flat_map(|n| (distinct(n), 1..n)),
            window in proptest::sample::select(vec![2usize, 7, WINDOW_LINES]),
        ) {
            // The first k lines go to the end in reverse order: no two of them keep their order,
            // so exactly k lines are out of place.
            let mut right: Vec<String> = lines[k..].to_vec();
            right.extend(lines[..k].iter().rev().cloned());
            right.push("NEW".to_owned());
            let (l, r) = (join(&lines), join(&right));
            let found = diff_in(&l, &r, window, usize::MAX).differences;
            if let Err(why) = accounts_for_every_line(&l, &r, &found) {
                return Err(proptest::test_runner::TestCaseError::fail(why));
            }
            let moved: Vec<&Difference> = found.iter().filter(|d| d.kind == DiffKind::Moved).collect();
            let others: Vec<&Difference> = found.iter().filter(|d| d.kind != DiffKind::Moved).collect();
            if window > right.len() {
                proptest::prop_assert_eq!(moved.len(), k);
            } else {
                // Aligned window by window, more lines than needed may be out of place.
                proptest::prop_assert!(moved.len() >= k);
            }
            // Where the new line sits on the left depends on which lines the alignment kept.
            proptest::prop_assert_eq!(others.len(), 1, "{:?}", found);
            proptest::prop_assert_eq!(others[0].kind, DiffKind::Added);
            proptest::prop_assert_eq!(header(&others[0].path).1, (lines.len() + 1, 1));
        }
    }

    #[test]
    fn a_line_moved_elsewhere_is_one_moved_finding() {
        let (l, r) = ("a\nb\nc\nd\ne\n", "b\nc\nd\na\ne\nX\n");
        let found = diff(l, r);
        assert_eq!(
            kinds(&found),
            [
                ("@@ -1 +4 @@", DiffKind::Moved),
                ("@@ -5,0 +6 @@", DiffKind::Added)
            ]
        );
        assert_eq!(
            (found[0].left.clone(), found[0].right.clone()),
            (Some("a".into()), Some("a".into()))
        );
        // The other way round, the line moves back and the added line is removed.
        let swapped: Vec<Difference> = found.into_iter().map(Difference::swapped).collect();
        assert_eq!(diff(r, l), swapped);
        assert_eq!(
            kinds(&swapped),
            [
                ("@@ -4 +1 @@", DiffKind::Moved),
                ("@@ -6 +5,0 @@", DiffKind::Removed)
            ]
        );
    }

    #[test]
    fn a_reordered_text_is_one_order_changed_with_where_it_starts() {
        // `sort` in the C locale and in en_US: the same lines in another order.
        let found = diff("Banana\napple\ncherry\n", "apple\nBanana\ncherry\n");
        assert_eq!(kinds(&found), [("$", DiffKind::OrderChanged)]);
        assert_eq!(
            found[0].note.as_deref(),
            Some(
                "the same 3 lines in another order; first difference at line 1; 1 line out of place"
            )
        );
        let found = diff("x\na\nb\nc\n", "x\nc\nb\na\n");
        assert_eq!(
            found[0].note.as_deref(),
            Some(
                "the same 4 lines in another order; first difference at line 2; 2 lines out of place"
            )
        );
        // One more line on one side: no longer a reordering.
        let found = diff("a\nb\nc\n", "c\nb\na\nd\n");
        assert!(
            found.iter().all(|d| d.kind != DiffKind::OrderChanged),
            "{found:?}"
        );
    }

    #[test]
    fn what_is_left_of_a_hunk_around_a_moved_line_stays_a_hunk() {
        // `b` moved from line 2 to line 5; `B` took its place.
        let found = diff("a\nb\nc\nd\n", "a\nB\nc\nd\nb\n");
        assert_eq!(
            kinds(&found),
            [
                ("@@ -1,0 +2 @@", DiffKind::Added),
                ("@@ -2 +5 @@", DiffKind::Moved)
            ]
        );
        // Changed lines next to a moved one stay changed.
        let found = diff("a\nm\np\nz\ny\n", "a\nP\nz\ny\nm\n");
        assert_eq!(
            kinds(&found),
            [
                ("@@ -2 +5 @@", DiffKind::Moved),
                ("@@ -3 +2 @@", DiffKind::Changed)
            ]
        );
    }

    #[test]
    fn rules_apply_before_lines_are_paired_or_found_reordered() {
        let compare = |spec: &DiffSpec, l: &str, r: &str| {
            let mut findings = Findings::new("t", &NoWaivers, 100);
            diff_streams(
                ("l", l.as_bytes()),
                ("r", r.as_bytes()),
                spec,
                &mut findings,
            )
            .unwrap();
            findings.finish()
        };
        let spaces = DiffSpec {
            text: TextOptions {
                whitespace: Whitespace::Change,
                ignore_case: false,
            },
            ..DiffSpec::default()
        };
        let found = compare(&spaces, "a  b\nc\n", "c\na b\n").differences;
        assert_eq!(kinds(&found), [("$", DiffKind::OrderChanged)]);
        // A moved line shows as each side wrote it.
        let found = compare(&spaces, "x  1\ny\nz\n", "y\nz\nx 1\nw\n").differences;
        assert_eq!(
            kinds(&found),
            [
                ("@@ -1 +3 @@", DiffKind::Moved),
                ("@@ -3,0 +4 @@", DiffKind::Added)
            ]
        );
        assert_eq!(
            (found[0].left.clone(), found[0].right.clone()),
            (Some("x  1".into()), Some("x 1".into()))
        );
        let ids = DiffSpec {
            rules: crate::diff::Rules {
                normalize: vec![crate::diff::Rule {
                    id: 4,
                    path: None,
                    action: crate::diff::rules::Normalize {
                        regex: regex::Regex::new(r"\d+").unwrap(),
                        replace: crate::diff::rules::Replacement::Text("<n>".into()),
                    },
                }],
                ..crate::diff::Rules::default()
            },
            ..DiffSpec::default()
        };
        let summary = compare(&ids, "run 1\nok\n", "ok\nrun 2\n");
        assert_eq!(kinds(&summary.differences), [("$", DiffKind::OrderChanged)]);
        assert_eq!(summary.rule_hits.get(&4).map(|used| used.applied), Some(2));
    }

    #[test]
    fn past_the_limit_moved_lines_are_not_paired_and_a_note_says_so() {
        let (l, r) = ("a\nb\nc\nd\ne\n", "b\nc\nd\na\ne\nX\n");
        let found = diff_in(l, r, WINDOW_LINES, 1);
        assert_eq!(
            kinds(&found.differences),
            [
                ("@@ -1 +0,0 @@", DiffKind::Removed),
                ("@@ -4,0 +4 @@", DiffKind::Added),
                ("@@ -5,0 +6 @@", DiffKind::Added)
            ]
        );
        assert_eq!(
            found.notes,
            [
                "moved lines were not looked for: more than 1 lines (or 16 MiB) differ, so a moved line shows as removed and added"
            ]
        );
        // Being reordered is still found: it needs no line held.
        let found = diff_in("a\nb\nc\n", "c\nb\na\n", WINDOW_LINES, 0);
        assert_eq!(kinds(&found.differences), [("$", DiffKind::OrderChanged)]);
    }

    #[test]
    fn a_huge_moved_line_is_paired_by_hash_and_shown_cut() {
        let huge = "x".repeat(LONG_LINE + 10);
        let found = diff(&format!("{huge}\na\nb\n"), &format!("a\nb\n{huge}\nc\n"));
        assert_eq!(
            kinds(&found),
            [
                ("@@ -1 +3 @@", DiffKind::Moved),
                ("@@ -3,0 +4 @@", DiffKind::Added)
            ]
        );
        let clip = found[0].left_clip.as_ref().expect("cut");
        assert_eq!(clip.bytes, huge.len() as u64);
        assert_eq!(found[0].left_clip, found[0].right_clip);
    }

    #[test]
    fn a_huge_line_is_compared_by_hash() {
        let a = format!("{}\n", "x".repeat(LONG_LINE + 10));
        let b = format!("{}y\n", "x".repeat(LONG_LINE + 9));
        let found = diff(&a, &b);
        assert_eq!(found.len(), 1);
        assert!(diff(&a, &a.clone()).is_empty());
    }
}
