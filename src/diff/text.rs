//! Text, compared line by line with `similar` after normalisation rules rewrite each line.
//!
//! Each changed hunk is one difference whose path is its unified-diff header
//! (`@@ -3,2 +3,2 @@`); values hold the original (not normalised) lines. Line endings are kept,
//! so a CRLF/LF change is a difference, and a missing final newline is reported on its own.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp};

use super::{
    DiffKind, DiffSpec, Differ, Difference, Findings, Format, Input, Placeholders, TextOptions,
    Whitespace,
};

/// Myers on very different large texts can take long; past this it returns a coarser diff.
const DIFF_DEADLINE: Duration = Duration::from_secs(10);

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
        let ltext = String::from_utf8_lossy(left.bytes);
        let rtext = String::from_utf8_lossy(right.bytes);
        let (llines, lfinal) = split_lines(&ltext);
        let (rlines, rfinal) = split_lines(&rtext);
        let lnorm = normalise(&llines, spec, findings);
        let rnorm = normalise(&rlines, spec, findings);
        let ops = similar::capture_diff_slices_deadline(
            Algorithm::Myers,
            &lnorm,
            &rnorm,
            Some(Instant::now() + DIFF_DEADLINE),
        );
        for op in ops {
            let (kind, old, new) = match op {
                DiffOp::Equal { .. } => continue,
                DiffOp::Delete {
                    old_index,
                    old_len,
                    new_index,
                } => (
                    DiffKind::Removed,
                    old_index..old_index + old_len,
                    new_index..new_index,
                ),
                DiffOp::Insert {
                    old_index,
                    new_index,
                    new_len,
                } => (
                    DiffKind::Added,
                    old_index..old_index,
                    new_index..new_index + new_len,
                ),
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => (
                    DiffKind::Changed,
                    old_index..old_index + old_len,
                    new_index..new_index + new_len,
                ),
            };
            let join = |lines: &[&str]| (!lines.is_empty()).then(|| lines.join("\n").into());
            findings.push(
                Difference::new(hunk_header(&old, &new), kind)
                    .left(join(&llines[old]))
                    .right(join(&rlines[new])),
            );
        }
        if lfinal != rfinal && !(llines.is_empty() && rlines.is_empty()) {
            let describe = |present: bool| if present { "present" } else { "absent" };
            findings.push(Difference::new("$", DiffKind::Changed).note(format!(
                "final newline {} on the {} side, {} on the {} side",
                describe(lfinal),
                left.side,
                describe(rfinal),
                right.side
            )));
        }
    }
}

/// Lines without their `\n` (a `\r` stays), and whether the text ended with a newline.
fn split_lines(text: &str) -> (Vec<&str>, bool) {
    if text.is_empty() {
        return (Vec::new(), false);
    }
    let ends = text.ends_with('\n');
    let body = if ends { &text[..text.len() - 1] } else { text };
    (body.split('\n').collect(), ends)
}

/// Each line as it is compared: whitespace and case folded as the options say, then the
/// normalisation rules applied with this side's placeholder numbering.
fn normalise<'t>(
    lines: &[&'t str],
    spec: &DiffSpec,
    findings: &mut Findings<'_>,
) -> Vec<Cow<'t, str>> {
    let mut placeholders = Placeholders::default();
    lines
        .iter()
        .map(|line| {
            let mut text = fold(line, spec.text);
            if spec.rules.has_normalize() {
                let (normalised, hits) = spec.rules.normalize(&[], &text, &mut placeholders);
                for rule in hits {
                    findings.rule_hit(rule);
                }
                text = Cow::Owned(normalised.into_owned());
            }
            text
        })
        .collect()
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

/// `@@ -start,len +start,len @@` with 1-based starts, as unified diffs print it.
fn hunk_header(old: &std::ops::Range<usize>, new: &std::ops::Range<usize>) -> String {
    let side = |r: &std::ops::Range<usize>| {
        let len = r.end - r.start;
        let start = if len == 0 { r.start } else { r.start + 1 };
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
    use super::*;
    use crate::diff::NoWaivers;

    fn diff(left: &str, right: &str) -> Vec<Difference> {
        let mut findings = Findings::new("t.txt", &NoWaivers, 100);
        let l = Input {
            side: "legacy",
            name: "t.txt",
            bytes: left.as_bytes(),
        };
        let r = Input {
            side: "candidate",
            name: "t.txt",
            bytes: right.as_bytes(),
        };
        let spec = DiffSpec::default();
        TextDiffer.diff(Format::Text, &l, &r, &spec, &mut findings);
        findings.finish().differences
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
}
