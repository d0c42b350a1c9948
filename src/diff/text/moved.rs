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
//! normalisation rules), never by their shown text.

use std::ops::Range;

use serde_json::Value;

use super::{Hunks, hunk_header};
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
const HELD_OVERHEAD: usize = 96;

/// A line as reported: its number, the hash of its compared form, and what is shown of it.
#[derive(Debug)]
pub(super) struct Held {
    /// 1-based.
    pub number: usize,
    /// Hash of the compared form (see `Line::hashed`).
    pub hashed: u128,
    /// The line as shown, cut to `VALUE_LIMIT` (with `…`) when long.
    pub shown: Box<str>,
    /// Bytes of the whole shown line.
    pub len: u64,
    /// Hash of the whole shown line, when `shown` was cut.
    pub hash: Option<blake3::Hash>,
}

impl Held {
    fn clip(&self) -> Option<Clip> {
        self.hash.map(|hash| Clip {
            bytes: self.len,
            blake3: hash.to_hex().to_string(),
        })
    }

    fn weight(&self) -> usize {
        self.shown.len() + HELD_OVERHEAD
    }
}

/// A stretch the aligner settled: lines `old..` of the left replaced by lines `new..` of the
/// right. An empty side's start is the line it sits before.
#[derive(Debug)]
pub(super) struct Piece {
    pub old: usize,
    pub new: usize,
    pub left: Vec<Held>,
    pub right: Vec<Held>,
}

impl Piece {
    fn continued_by(&self, next: &Piece) -> bool {
        self.old + self.left.len() == next.old && self.new + self.right.len() == next.new
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
    fn add(&mut self, lines: &[Held]) {
        for line in lines {
            self.lines += 1;
            self.sum = self.sum.wrapping_add(line.hashed);
        }
    }
}

/// The hunks of one text, held to pair moved lines (see the module documentation).
pub(super) struct Moves {
    limit: MoveLimit,
    /// The hunks so far, merged where they continue; `None` once they passed the limit (then
    /// every hunk goes straight to [`Hunks`]).
    held: Option<Vec<Piece>>,
    held_lines: usize,
    held_bytes: usize,
    left: Digest,
    right: Digest,
    /// Where the first hunk starts (on both sides: what precedes it is equal).
    first: Option<usize>,
}

impl Moves {
    pub fn new(limit: MoveLimit) -> Self {
        Moves {
            limit,
            held: Some(Vec::new()),
            held_lines: 0,
            held_bytes: 0,
            left: Digest::default(),
            right: Digest::default(),
            first: None,
        }
    }

    /// Takes one settled stretch; hunks that can no longer be held go to `hunks`.
    pub fn add(&mut self, piece: Piece, hunks: &mut Hunks, findings: &mut Findings<'_>) {
        if piece.left.is_empty() && piece.right.is_empty() {
            return;
        }
        self.first.get_or_insert(piece.old);
        self.left.add(&piece.left);
        self.right.add(&piece.right);
        let Some(held) = &mut self.held else {
            hunks.add(
                (piece.old, piece.left.iter()),
                (piece.new, piece.right.iter()),
                findings,
            );
            return;
        };
        self.held_lines += piece.left.len() + piece.right.len();
        self.held_bytes += piece
            .left
            .iter()
            .chain(&piece.right)
            .map(Held::weight)
            .sum::<usize>();
        match held.last_mut() {
            Some(last) if last.continued_by(&piece) => {
                last.left.extend(piece.left);
                last.right.extend(piece.right);
            }
            _ => held.push(piece),
        }
        if self.held_lines > self.limit.lines || self.held_bytes > self.limit.bytes {
            for piece in self.held.take().into_iter().flatten() {
                hunks.add(
                    (piece.old, piece.left.iter()),
                    (piece.new, piece.right.iter()),
                    findings,
                );
            }
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
        let Some(pieces) = self.held else {
            return Some(format!(
                "moved lines were not looked for: more than {} lines (or {} MiB) differ, so a \
                 moved line shows as removed and added",
                self.limit.lines,
                self.limit.bytes >> 20
            ));
        };
        let lefts: Vec<&Held> = pieces.iter().flat_map(|p| &p.left).collect();
        let rights: Vec<&Held> = pieces.iter().flat_map(|p| &p.right).collect();
        let to = pair(&lefts, &rights);
        let mut from = vec![false; rights.len()];
        for &j in to.iter().flatten() {
            from[j] = true;
        }
        let (mut lat, mut rat) = (0, 0);
        for piece in &pieces {
            let (lmoved, rmoved) = (
                &to[lat..lat + piece.left.len()],
                &from[rat..rat + piece.right.len()],
            );
            for item in settle(piece, lmoved, rmoved) {
                match item {
                    Item::Hunk(old, left, new, right) => hunks.add(
                        (old, piece.left[left].iter()),
                        (new, piece.right[right].iter()),
                        findings,
                    ),
                    Item::Moved(i, j) => {
                        hunks.flush(findings);
                        findings.push(moved(&piece.left[i], rights[j]));
                    }
                }
            }
            lat += piece.left.len();
            rat += piece.right.len();
        }
        None
    }
}

/// For each left line, the right line of the same content it is paired with: the k-th left
/// line of a content with the k-th right line of it, in order.
fn pair(lefts: &[&Held], rights: &[&Held]) -> Vec<Option<usize>> {
    let sorted = |lines: &[&Held]| -> Vec<(u128, usize)> {
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

/// What one held hunk becomes.
#[derive(Debug, PartialEq)]
enum Item {
    /// A hunk: where it starts on each side and its lines (indices into the piece's sides).
    Hunk(usize, Range<usize>, usize, Range<usize>),
    /// Left line `.0` of the piece moved to right line `.1` (an index into all right lines).
    Moved(usize, usize),
}

/// The hunks and moved lines of one held piece, in the order of their left lines: what is left
/// of each side once moved lines are taken out, split where they were, the k-th stretch of
/// the left facing the k-th of the right.
fn settle(piece: &Piece, lmoved: &[Option<usize>], rmoved: &[bool]) -> Vec<Item> {
    let lruns = runs(lmoved.iter().map(Option::is_some));
    let rruns = runs(rmoved.iter().copied());
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
        let key = (old, l.is_some());
        items.push((
            key,
            Item::Hunk(old, l.unwrap_or(0..0), new, r.unwrap_or(0..0)),
        ));
    }
    for (i, to) in lmoved.iter().enumerate() {
        if let Some(j) = to {
            items.push(((piece.old + i, true), Item::Moved(i, *j)));
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
fn moved(from: &Held, to: &Held) -> Difference {
    let mut difference = Difference::new(
        hunk_header((from.number, 1), (to.number, 1)),
        DiffKind::Moved,
    )
    .left(Value::String(from.shown.to_string()))
    .right(Value::String(to.shown.to_string()));
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
            shown: text.into(),
            len: text.len() as u64,
            hash: None,
        }
    }

    #[test]
    fn duplicates_pair_in_order() {
        let (a1, a2, b) = (line(1, "a"), line(2, "a"), line(3, "b"));
        let (x, a3, a4) = (line(1, "x"), line(2, "a"), line(3, "a"));
        assert_eq!(
            pair(&[&a1, &a2, &b], &[&x, &a3, &a4]),
            [Some(1), Some(2), None]
        );
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
        // Left 5..8 = p M q r, right 5..6 = P Q, M moved to right line 20 (index 7).
        let piece = Piece {
            old: 5,
            new: 5,
            left: vec![line(5, "p"), line(6, "m"), line(7, "q"), line(8, "r")],
            right: vec![line(5, "P"), line(6, "Q")],
        };
        let items = settle(&piece, &[None, Some(7), None, None], &[false, false]);
        assert_eq!(
            items,
            [
                Item::Hunk(5, 0..1, 5, 0..2),
                Item::Moved(1, 7),
                Item::Hunk(7, 2..4, 7, 0..0),
            ]
        );
    }
}
