//! Raw bytes: equal or not; when not, sizes, hashes and the first differing offset, found in one
//! streaming pass over both inputs (constant memory, whatever their size).

use std::io::Read;

use serde_json::json;

use super::{DiffKind, DiffSpec, Differ, Difference, Findings, Format, Input};

/// Bytes read from each side at a time.
const CHUNK: usize = 256 * 1024;

pub struct BytesDiffer;

impl Differ for BytesDiffer {
    fn diff(
        &self,
        _: Format,
        left: &Input<'_>,
        right: &Input<'_>,
        _: &DiffSpec,
        findings: &mut Findings<'_>,
    ) {
        // Reading from memory cannot fail.
        let _ = diff_streams(left.bytes, right.bytes, findings);
    }
}

/// What one side's stream was: its size and hash.
struct Summary {
    size: u64,
    hasher: blake3::Hasher,
}

impl Summary {
    fn describe(&self) -> serde_json::Value {
        json!({ "size": self.size, "blake3": self.hasher.finalize().to_hex().to_string() })
    }
}

/// Compares two streams byte for byte; a difference records both sizes and hashes and the
/// offset of the first byte that differs.
pub fn diff_streams(
    mut left: impl Read,
    mut right: impl Read,
    findings: &mut Findings<'_>,
) -> std::io::Result<()> {
    let (mut lbuf, mut rbuf) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let mut sides = [
        Summary {
            size: 0,
            hasher: blake3::Hasher::new(),
        },
        Summary {
            size: 0,
            hasher: blake3::Hasher::new(),
        },
    ];
    let mut first_difference: Option<u64> = None;
    let (mut lhave, mut rhave) = (0usize, 0usize);
    let (mut ldone, mut rdone) = (false, false);
    loop {
        if !ldone && lhave < CHUNK {
            let n = read_some(&mut left, &mut lbuf[lhave..])?;
            ldone = n == 0;
            lhave += n;
        }
        if !rdone && rhave < CHUNK {
            let n = read_some(&mut right, &mut rbuf[rhave..])?;
            rdone = n == 0;
            rhave += n;
        }
        // Compare and hash what both have, then what only one has once the other ended.
        let common = lhave.min(rhave);
        let take_l = if rdone { lhave } else { common };
        let take_r = if ldone { rhave } else { common };
        if first_difference.is_none() {
            let at = lbuf[..common]
                .iter()
                .zip(&rbuf[..common])
                .position(|(a, b)| a != b)
                .or_else(|| (take_l != take_r).then_some(common));
            if let Some(at) = at {
                first_difference = Some(sides[0].size + at as u64);
            }
        }
        sides[0].hasher.update(&lbuf[..take_l]);
        sides[1].hasher.update(&rbuf[..take_r]);
        sides[0].size += take_l as u64;
        sides[1].size += take_r as u64;
        lbuf.copy_within(take_l..lhave, 0);
        rbuf.copy_within(take_r..rhave, 0);
        lhave -= take_l;
        rhave -= take_r;
        if ldone && rdone && lhave == 0 && rhave == 0 {
            break;
        }
    }
    if let Some(offset) = first_difference {
        findings.push(
            Difference::new("$", DiffKind::Changed)
                .left(sides[0].describe())
                .right(sides[1].describe())
                .note(format!("first difference at byte offset {offset}")),
        );
    }
    Ok(())
}

/// Reads into `buf` until it is full or the stream ends; returns the bytes read.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::NoWaivers;

    fn offset(left: &[u8], right: &[u8]) -> Option<String> {
        let mut findings = Findings::new("b", &NoWaivers, 10);
        diff_streams(left, right, &mut findings).unwrap();
        let summary = findings.finish();
        summary.differences.first().and_then(|d| d.note.clone())
    }

    #[test]
    fn finds_the_first_differing_offset_across_chunks() {
        let a = vec![7u8; 3 * CHUNK + 5];
        let mut b = a.clone();
        assert_eq!(offset(&a, &b), None);
        b[2 * CHUNK + 1] = 8;
        assert_eq!(
            offset(&a, &b).as_deref(),
            Some(format!("first difference at byte offset {}", 2 * CHUNK + 1).as_str())
        );
        assert_eq!(
            offset(&a, &a[..10]).as_deref(),
            Some("first difference at byte offset 10")
        );
        assert_eq!(
            offset(b"", b"x").as_deref(),
            Some("first difference at byte offset 0")
        );
    }

    #[test]
    fn records_sizes_and_hashes() {
        let mut findings = Findings::new("b", &NoWaivers, 10);
        diff_streams(&b"abc"[..], &b"abd"[..], &mut findings).unwrap();
        let d = &findings.finish().differences[0];
        assert_eq!(d.left.as_ref().unwrap()["size"], 3);
        assert_eq!(
            d.left.as_ref().unwrap()["blake3"],
            blake3::hash(b"abc").to_hex().to_string()
        );
    }
}
