//! Text lines that vary between runs: [`LineSplit`] separates what two versions of a line share
//! at their start and end from the part that varies, so the variation can be named by a template
//! (`Generated at: …`) and hidden by an anchored regex built from the stable parts; [`Shape`]
//! names what the varying parts look like (a time, a uuid, a number).

use std::sync::LazyLock;

use regex::Regex;

/// Stands for the varying part of a line in templates.
pub const VARIES: &str = "…";

/// Two versions of one line: the shared start and end, and what each has in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSplit {
    pub prefix: String,
    pub suffix: String,
    pub left: String,
    pub right: String,
}

impl LineSplit {
    /// Splits two versions of a line at whitespace: the stable parts are whole words. A word
    /// with digits next to the varying part is taken to vary too (the date of a timestamp
    /// written as `2026-11-22 10:00:01` did not change during calibration, but will tomorrow).
    /// `None` when the lines are equal.
    pub fn of(left: &str, right: &str) -> Option<LineSplit> {
        if left == right {
            return None;
        }
        let (l, r) = (words(left), words(right));
        let mut prefix = l.iter().zip(&r).take_while(|(a, b)| a == b).count();
        let most = l.len().min(r.len()) - prefix;
        let mut suffix = l
            .iter()
            .rev()
            .zip(r.iter().rev())
            .take(most)
            .take_while(|(a, b)| a == b)
            .count();
        while let Some(word) = l[..prefix].iter().rposition(|w| is_word(w))
            && has_digit(l[word])
        {
            prefix = word;
        }
        while let Some(word) = l[l.len() - suffix..].iter().position(|w| is_word(w))
            && has_digit(l[l.len() - suffix + word])
        {
            suffix -= word + 1;
        }
        let join = |words: &[&str]| words.concat();
        Some(LineSplit {
            prefix: join(&l[..prefix]),
            suffix: join(&l[l.len() - suffix..]),
            left: join(&l[prefix..l.len() - suffix]),
            right: join(&r[prefix..r.len() - suffix]),
        })
    }

    /// `Generated at: …`: the line with its varying part elided.
    pub fn template(&self) -> String {
        format!("{}{VARIES}{}", self.prefix, self.suffix)
    }

    /// True when the stable parts hold some text (not only whitespace), so a regex built from
    /// them cannot match every line.
    pub fn has_anchor(&self) -> bool {
        anchored(&self.prefix, &self.suffix)
    }
}

/// True when a line's stable parts hold some text (not only whitespace).
pub fn anchored(prefix: &str, suffix: &str) -> bool {
    !(prefix.trim().is_empty() && suffix.trim().is_empty())
}

/// Alternating runs of whitespace and of everything else; they concatenate back to `line`.
fn words(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = None;
    for (i, c) in line.char_indices() {
        let space = c.is_whitespace();
        if in_space.is_some_and(|s| s != space) {
            out.push(&line[start..i]);
            start = i;
        }
        in_space = Some(space);
    }
    if start < line.len() {
        out.push(&line[start..]);
    }
    out
}

fn is_word(text: &str) -> bool {
    !text.chars().all(char::is_whitespace)
}

fn has_digit(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit())
}

/// What a varying value looks like; chooses the placeholder a rule writes in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    Time,
    Uuid,
    Number,
    HexId,
    Other,
}

/// A date, a time of day, or both (ISO 8601 and the usual variants).
const TIME: &str = r"(\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?)?|\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?)(Z|[+-]\d{2}:?\d{2}| ?UTC)?";
const UUID: &str = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const NUMBER: &str = r"-?\d+([.,]\d+)?([eE][+-]?\d+)?";
const HEX_ID: &str = r"[0-9a-fA-F]{8,}";

static SHAPES: LazyLock<Vec<(Shape, Regex)>> = LazyLock::new(|| {
    [
        (Shape::Time, TIME),
        (Shape::Uuid, UUID),
        (Shape::Number, NUMBER),
        (Shape::HexId, HEX_ID),
    ]
    .into_iter()
    .filter_map(|(shape, pattern)| Some((shape, Regex::new(&format!("^(?:{pattern})$")).ok()?)))
    .collect()
});

impl Shape {
    /// The shape of one value.
    pub fn of(text: &str) -> Shape {
        SHAPES
            .iter()
            .find(|(_, regex)| regex.is_match(text))
            .map_or(Shape::Other, |(shape, _)| *shape)
    }

    /// The shape all of `texts` share, or `Other`.
    pub fn common<'a>(texts: impl IntoIterator<Item = &'a str>) -> Shape {
        let mut shapes = texts.into_iter().map(Shape::of);
        let Some(first) = shapes.next() else {
            return Shape::Other;
        };
        if shapes.all(|s| s == first) {
            first
        } else {
            Shape::Other
        }
    }

    /// The placeholder a normalisation writes in place of a value of this shape.
    pub fn placeholder(self) -> &'static str {
        match self {
            Shape::Time => "<time>",
            Shape::Uuid => "<uuid>",
            Shape::Number => "<n>",
            Shape::HexId => "<id>",
            Shape::Other => "<varies>",
        }
    }

    /// A regex matching any value of this shape (none for `Other`).
    pub fn regex(self) -> Option<&'static str> {
        match self {
            Shape::Time => Some(TIME),
            Shape::Uuid => Some(UUID),
            Shape::Number => Some(NUMBER),
            Shape::HexId => Some(HEX_ID),
            Shape::Other => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(l: &str, r: &str) -> (String, String, String, String) {
        let s = LineSplit::of(l, r).expect("lines differ");
        (s.prefix, s.left, s.right, s.suffix)
    }

    #[test]
    fn words_concatenate_back() {
        for line in ["", "a", "  a  b ", "Generated at: x\r", "\t"] {
            assert_eq!(words(line).concat(), line);
        }
        assert_eq!(words("a  b"), ["a", "  ", "b"]);
    }

    #[test]
    fn splits_at_whole_words() {
        assert_eq!(
            split(
                "Generated at: 2026-11-22T10:00:01Z",
                "Generated at: 2026-11-22T10:00:02Z"
            ),
            (
                "Generated at: ".into(),
                "2026-11-22T10:00:01Z".into(),
                "2026-11-22T10:00:02Z".into(),
                String::new()
            )
        );
        assert_eq!(
            split("took 12 ms", "took 130 ms"),
            ("took ".into(), "12".into(), "130".into(), " ms".into())
        );
        assert!(LineSplit::of("same", "same").is_none());
    }

    #[test]
    fn numbers_next_to_the_varying_part_vary_too() {
        let (prefix, left, _, suffix) =
            split("at 2026-11-22 10:00:01 UTC", "at 2026-11-22 10:00:02 UTC");
        assert_eq!((prefix.as_str(), suffix.as_str()), ("at ", " UTC"));
        assert_eq!(left, "2026-11-22 10:00:01");
        // A word without digits stops the widening.
        let (prefix, _, _, _) = split("items: 8 at 10:00:01", "items: 8 at 10:00:02");
        assert_eq!(prefix, "items: 8 at ");
    }

    #[test]
    fn templates_and_anchors() {
        let s = LineSplit::of("Run id: a1", "Run id: b2").unwrap();
        assert_eq!(s.template(), "Run id: …");
        assert!(s.has_anchor());
        let whole = LineSplit::of("2026-11-22 10:00:01", "2026-11-22 10:00:02").unwrap();
        assert_eq!(whole.template(), "…");
        assert!(!whole.has_anchor());
    }

    #[test]
    fn shapes() {
        let cases = [
            ("2026-11-22T10:00:01Z", Shape::Time),
            ("2026-11-22T16:11:39.040065+00:00", Shape::Time),
            ("2026-11-22 10:00:01", Shape::Time),
            ("10:00", Shape::Time),
            ("bc27a4ab-cbc2-4b6c-93f8-f2970a0e013f", Shape::Uuid),
            ("1795363885", Shape::Number),
            ("-0.25", Shape::Number),
            ("deadbeef01", Shape::HexId),
            ("legacy-1795363885-21620", Shape::Other),
        ];
        for (text, shape) in cases {
            assert_eq!(Shape::of(text), shape, "{text}");
        }
        assert_eq!(Shape::common(["1", "2"]), Shape::Number);
        assert_eq!(Shape::common(["1", "x"]), Shape::Other);
        assert_eq!(Shape::common([]), Shape::Other);
    }
}
