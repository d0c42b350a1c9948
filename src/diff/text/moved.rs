//! Moved lines and reordered texts: what the text differ's hunks removed on one side and added
//! on the other, paired by content. Main type: [`Moves`].
//!
//! Every hunk the aligner settles passes through [`Moves`] before it becomes a difference:
//!
//! - Whatever happens, each side's hunk lines are counted and their 128-bit hashes summed (a
//!   multiset hash: the same lines in any order give the same sum), in constant memory. When
//!   both sides' hunks hold the same lines, the two texts are the same multiset of lines in
//!   another order, and the whole output is one `order_changed` difference.
//! - Otherwise, while the hunks' lines fit in a [`MoveLimit`], they are held until the end;
//!   then a line one side removed is paired with a line of the same content the other side
//!   added (duplicates in order: the first removed with the first added), each pair is one
//!   `moved` difference (`@@ -12 +40 @@`), and what remains of each hunk, split where its moved
//!   lines were, stays `removed`, `added` or `changed`. Past the limit no line is paired: the
//!   hunks are reported as they are, with a note.
//!
//! Lines are paired by the hash of what is compared (after whitespace and case options and
//! normalisation rules), never by their shown text. Held lines live in one buffer per side and
//! their text in one string per side, not in an allocation each: small blocks kept alive among
//! the window's lines made the allocator, and the whole comparison, half as fast.

use std::ops::Range;

use serde_json::Value;

use super::{Hunks, Line, Reported, hunk_header};
use crate::diff::model::Clip;
use crate::diff::{DiffKind, Difference, Findings};

/// How many hunk lines (both sides together) are held to pair moved lines, and their bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct MoveLimit {
    pub lines: usize,
    pub bytes: usize,
}

/// The limit every comparison uses: about 16 MiB held at most.
pub(super) const MOVE_LIMIT: MoveLimit = MoveLimit {
    lines: 100_000,
    bytes: 16 << 20,
};

/// Bytes a held line costs besides its shown text.
const HELD_OVERHEAD: usize = std::mem::size_of::<Held>();

/// A held line: its number, the hash of its compared form, and where its shown text is.
#[derive(Debug)]
struct Held {
    /// 1-based.
    number: usize,
    /// 128-bit hash of the compared form.
    hashed: u128,
    /// Its shown text (cut to `VALUE_LIMIT`, with `…`, when long) in its side's text.
    text: Range<usize>,
    /// Bytes of the whole shown line.
    len: u64,
    /// Hash of the whole shown line, when it was cut.
    hash: Option<blake3::Hash>,
}

/// The held lines of one side, in order, and their shown texts back to back.
#[derive(Debug, Default)]
struct Side {
    lines: Vec<Held>,
    text: String,
}

impl Side {
    fn push(&mut self, line: &Line) {
        let start = self.text.len();
        self.text.push_str(line.shown());
        self.lines.push(Held {
            number: line.number,
            hashed: line.wide_hash(),
            text: start..self.text.len(),
            len: line.len,
            hash: line.hash,
        });
    }

    /// Held line `i` as hunks report it.
    fn line(&self, i: usize) -> Shown<'_> {
        let held = &self.lines[i];
        Shown {
            held,
            text: &self.text[held.text.clone()],
        }
    }

    fn lines(&self, range: Range<usize>) -> impl Iterator<Item = Shown<'_>> {
        range.map(|i| self.line(i))
    }
}

/// A held line with its text.
#[derive(Clone, Copy)]
struct Shown<'a> {
    held: &'a Held,
    text: &'a str,
}

impl Reported for Shown<'_> {
    fn shown(&self) -> &str {
        self.text
    }

    fn len(&self) -> u64 {
        self.held.len
    }

    fn cut_hash(&self) -> Option<&blake3::Hash> {
        self.held.hash.as_ref()
    }
}

impl Shown<'_> {
    fn clip(&self) -> Option<Clip> {
        self.held.hash.map(|hash| Clip {
            bytes: self.held.len,
            blake3: hash.to_hex().to_string(),
        })
    }
}

/// A held stretch the aligner settled: left lines from `old` replaced by right lines from
/// `new` (an empty side's start is the line it sits before); `left` and `right` index the
/// sides' held lines.
#[derive(Debug, Clone)]
struct Piece {
    old: usize,
    new: usize,
    left: Range<usize>,
    right: Range<usize>,
}

/// Everything held: both sides' lines and the stretches they make, merged where they continue.
#[derive(Debug, Default)]
struct HeldHunks {
    left: Side,
    right: Side,
    pieces: Vec<Piece>,
}

impl HeldHunks {
    fn weight(&self) -> (usize, usize) {
        let lines = self.left.lines.len() + self.right.lines.len();
        (
            lines,
            lines * HELD_OVERHEAD + self.left.text.len() + self.right.text.len(),
        )
    }
}

/// Count and sum of the hashes of one side's hunk lines: equal on both sides exactly when (up
/// to a 2^-128 chance) they are the same lines, in whatever order.
#[derive(Debug, Default, PartialEq, Eq)]
struct Digest {
    lines: u64,
    sum: u128,
}

impl Digest {
    fn add(&mut self, hashes: impl Iterator<Item = u128>) {
        for hash in hashes {
            self.lines += 1;
            self.sum = self.sum.wrapping_add(hash);
        }
    }
}

/// The hunks of one text, held to pair moved lines (see the module documentation).
pub(super) struct Moves {
    limit: MoveLimit,
    /// The hunks so far; `None` once they passed the limit (then every hunk goes straight to
    /// [`Hunks`]).
    held: Option<HeldHunks>,
    left: Digest,
    right: Digest,
    /// Where the first hunk starts (on both sides: what precedes it is equal).
    first: Option<usize>,
}

impl Moves {
    pub fn new(limit: MoveLimit) -> Self {
        Moves {
            limit,
            held: Some(HeldHunks::default()),
            left: Digest::default(),
            right: Digest::default(),
            first: None,
        }
    }

    /// Takes one settled stretch: lines `left` from line `old` replaced by lines `right` from
    /// line `new` (an empty side's start is the line it sits before). It is held, or goes to
    /// `hunks` once hunks can no longer be held.
    pub fn add(
        &mut self,
        (old, left): (usize, Vec<&Line>),
        (new, right): (usize, Vec<&Line>),
        hunks: &mut Hunks,
        findings: &mut Findings<'_>,
    ) {
        if left.is_empty() && right.is_empty() {
            return;
        }
        self.first.get_or_insert(old);
        self.left.add(left.iter().map(|line| line.wide_hash()));
        self.right.add(right.iter().map(|line| line.wide_hash()));
        let Some(held) = &mut self.held else {
            hunks.add((old, left.into_iter()), (new, right.into_iter()), findings);
            return;
        };
        let (lstart, rstart) = (held.left.lines.len(), held.right.lines.len());
        left.iter().for_each(|line| held.left.push(line));
        right.iter().for_each(|line| held.right.push(line));
        let piece = Piece {
            old,
            new,
            left: lstart..held.left.lines.len(),
            right: rstart..held.right.lines.len(),
        };
        match held.pieces.last_mut() {
            Some(last)
                if last.old + last.left.len() == old && last.new + last.right.len() == new =>
            {
                last.left.end = piece.left.end;
                last.right.end = piece.right.end;
            }
            _ => held.pieces.push(piece),
        }
        let (lines, bytes) = held.weight();
        if lines > self.limit.lines || bytes > self.limit.bytes {
            for piece in &held.pieces {
                hunks.add(
                    (piece.old, held.left.lines(piece.left.clone())),
                    (piece.new, held.right.lines(piece.right.clone())),
                    findings,
                );
            }
            self.held = None;
        }
    }

    /// One `order_changed` difference when the hunks of the two sides hold the same lines, so
    /// the texts (of `lines` lines each) are the same lines in another order.
    pub fn reordered(&self, lines: usize) -> Option<Difference> {
        let first = self.first?;
        if self.left != self.right {
            return None;
        }
        let out_of_place = match self.left.lines {
            1 => "1 line".to_owned(),
            n => format!("{n} lines"),
        };
        Some(Difference::new("$", DiffKind::OrderChanged).note(format!(
            "the same {lines} lines in another order; first difference at line {first}; \
             {out_of_place} out of place"
        )))
    }

    /// Reports the held hunks, moved lines paired, into `hunks` and `findings`; returns a note
    /// when there were too many to hold.
    pub fn finish(self, hunks: &mut Hunks, findings: &mut Findings<'_>) -> Option<String> {
        let Some(held) = self.held else {
            return Some(format!(
                "moved lines were not looked for: more than {} lines (or {} MiB) differ, so a \
                 moved line shows as removed and added",
                self.limit.lines,
                self.limit.bytes >> 20
            ));
        };
        let to = pair(&held.left.lines, &held.right.lines);
        let mut from = vec![false; held.right.lines.len()];
        for &j in to.iter().flatten() {
            from[j] = true;
        }
        for piece in &held.pieces {
            let moved_to = &to[piece.left.clone()];
            let moved_from = &from[piece.right.clone()];
            for item in settle(piece, moved_to, moved_from) {
                match item {
                    Item::Hunk(old, left, new, right) => hunks.add(
                        (old, held.left.lines(left)),
                        (new, held.right.lines(right)),
                        findings,
                    ),
                    Item::Moved(i, j) => {
                        hunks.flush(findings);
                        findings.push(moved(held.left.line(i), held.right.line(j)));
                    }
                }
            }
        }
        None
    }
}

/// For each left line, the right line of the same content it is paired with: the k-th left
/// line of a content with the k-th right line of it, in order.
fn pair(lefts: &[Held], rights: &[Held]) -> Vec<Option<usize>> {
    let sorted = |lines: &[Held]| -> Vec<(u128, usize)> {
        let mut keys: Vec<(u128, usize)> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (l.hashed, i))
            .collect();
        keys.sort_unstable();
        keys
    };
    let (lkeys, rkeys) = (sorted(lefts), sorted(rights));
    let mut to = vec![None; lefts.len()];
    let (mut a, mut b) = (0, 0);
    while let (Some(&(lk, i)), Some(&(rk, j))) = (lkeys.get(a), rkeys.get(b)) {
        match lk.cmp(&rk) {
            std::cmp::Ordering::Less => a += 1,
            std::cmp::Ordering::Greater => b += 1,
            std::cmp::Ordering::Equal => {
                to[i] = Some(j);
                a += 1;
                b += 1;
            }
        }
    }
    to
}

/// What one held stretch becomes.
#[derive(Debug, PartialEq)]
enum Item {
    /// A hunk: where it starts on each side and its held lines.
    Hunk(usize, Range<usize>, usize, Range<usize>),
    /// Held left line `.0` moved to held right line `.1`.
    Moved(usize, usize),
}

/// The hunks and moved lines of one held stretch, in the order of their left lines: what is
/// left of each side once moved lines are taken out, split where they were, the k-th stretch of
/// the left facing the k-th of the right. `moved_to` and `moved_from` say, for each of its
/// left and right lines, where it moved to and whether it moved here.
fn settle(piece: &Piece, moved_to: &[Option<usize>], moved_from: &[bool]) -> Vec<Item> {
    let lruns = runs(moved_to.iter().map(Option::is_some));
    let rruns = runs(moved_from.iter().copied());
    let mut items: Vec<((usize, bool), Item)> = Vec::new();
    // Where a stretch with nothing on one side sits: after what that side last had.
    let (mut lend, mut rend) = (piece.old, piece.new);
    for k in 0..lruns.len().max(rruns.len()) {
        let (l, r) = (lruns.get(k).cloned(), rruns.get(k).cloned());
        let old = l.as_ref().map_or(lend, |l| piece.old + l.start);
        let new = r.as_ref().map_or(rend, |r| piece.new + r.start);
        if let Some(l) = &l {
            lend = piece.old + l.end;
        }
        if let Some(r) = &r {
            rend = piece.new + r.end;
        }
        let at = |run: Option<Range<usize>>, base: usize| {
            run.map_or(base..base, |run| base + run.start..base + run.end)
        };
        let key = (old, l.is_some());
        let hunk = Item::Hunk(old, at(l, piece.left.start), new, at(r, piece.right.start));
        items.push((key, hunk));
    }
    for (i, to) in moved_to.iter().enumerate() {
        if let Some(j) = to {
            let key = (piece.old + i, true);
            items.push((key, Item::Moved(piece.left.start + i, *j)));
        }
    }
    items.sort_by_key(|(key, _)| *key);
    items.into_iter().map(|(_, item)| item).collect()
}

/// The stretches of lines that did not move, as index ranges.
fn runs(moved: impl Iterator<Item = bool>) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for (i, moved) in moved.enumerate() {
        match runs.last_mut() {
            _ if moved => {}
            Some(run) if run.end == i => run.end += 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

/// One moved line: `@@ -from +to @@`, with the line as each side shows it.
fn moved(from: Shown<'_>, to: Shown<'_>) -> Difference {
    let mut difference = Difference::new(
        hunk_header((from.held.number, 1), (to.held.number, 1)),
        DiffKind::Moved,
    )
    .left(Value::String(from.text.to_owned()))
    .right(Value::String(to.text.to_owned()));
    difference.left_clip = from.clip();
    difference.right_clip = to.clip();
    difference
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(number: usize, text: &str) -> Held {
        Held {
            number,
            hashed: xxhash_rust::xxh3::xxh3_128(text.as_bytes()),
            text: 0..0,
            len: text.len() as u64,
            hash: None,
        }
    }

    #[test]
    fn duplicates_pair_in_order() {
        let lefts = [line(1, "a"), line(2, "a"), line(3, "b")];
        let rights = [line(1, "x"), line(2, "a"), line(3, "a")];
        assert_eq!(pair(&lefts, &rights), [Some(1), Some(2), None]);
    }

    #[test]
    fn runs_split_where_lines_moved() {
        assert_eq!(
            runs([false, true, false, false, true].into_iter()),
            [0..1, 2..4]
        );
        assert!(runs([true, true].into_iter()).is_empty());
    }

    #[test]
    fn what_is_left_of_a_hunk_faces_stretch_by_stretch() {
        // Left 5..8 = p M q r (held lines 10..14), right 5..6 = P Q (held 3..5); M moved to
        // held right line 7.
        let piece = Piece {
            old: 5,
            new: 5,
            left: 10..14,
            right: 3..5,
        };
        let items = settle(&piece, &[None, Some(7), None, None], &[false, false]);
        assert_eq!(
            items,
            [
                Item::Hunk(5, 10..11, 5, 3..5),
                Item::Moved(11, 7),
                Item::Hunk(7, 12..14, 7, 3..3),
            ]
        );
    }
}
