//! JSONPath for difference locations and rule selectors (an RFC 9535 subset).
//!
//! One type, [`JsonPath`], serves two purposes. A *location* is where a difference was found:
//! `$.advisories[?@.advisory_id=='A-1'].state` (only member names, indices and filter segments).
//! A *selector* is what a rule or waiver names: it may also hold `[*]`/`.*` wildcards and `..`
//! descendant steps. Locations are printed in a canonical form that parses back to a selector
//! matching exactly that location, so a path copied from a report can be pasted into a waiver.
//!
//! Why not query documents with a JSONPath crate: rules are matched against the path of the node
//! being compared while both sides are walked together, and an element paired by key has no single
//! index, so it is named by a filter segment. Matching a selector against such a location is a
//! small recursive comparison of segments.

use std::fmt;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// `.name` or `['name']`: an object member.
    Field(String),
    /// `[3]`: an array element by position.
    Index(usize),
    /// `[?@.id=='x']`: an element chosen by its content (keyed or set matching). Holds the text
    /// between `[` and `]`, canonical when produced by the differ.
    Filter(String),
    /// `[*]` or `.*` (selectors only): any one step.
    Wildcard,
    /// `..` (selectors only): zero or more steps before the next one.
    Descendant,
}

/// A parsed path: a location or a selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsonPath {
    segments: Vec<Segment>,
}

/// Why a path could not be parsed, with the byte offset of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath `{path}` at character {}: {message}; valid forms: `$`, `.name`, `['name']`, `[0]`, `[*]`, `.*`, `..name`", offset + 1)]
pub struct PathError {
    pub path: String,
    pub offset: usize,
    pub message: String,
}

impl JsonPath {
    /// The root, `$`.
    pub fn root() -> Self {
        Self::default()
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    pub fn push(&mut self, segment: Segment) {
        self.segments.push(segment);
    }

    pub fn pop(&mut self) {
        self.segments.pop();
    }

    /// A copy with one more step.
    pub fn child(&self, segment: Segment) -> Self {
        let mut path = self.clone();
        path.push(segment);
        path
    }

    /// The pattern this location belongs to: indices and filters replaced by `[*]`.
    pub fn folded(&self) -> Self {
        let segments = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Index(_) | Segment::Filter(_) => Segment::Wildcard,
                other => other.clone(),
            })
            .collect();
        JsonPath { segments }
    }

    /// True when this is a selector with wildcards or descendant steps.
    pub fn is_pattern(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Wildcard | Segment::Descendant))
    }

    /// Parses `$...`. A bare member name (`state`) is accepted by callers that treat it as a
    /// column; this parser requires the leading `$`.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        Parser { text, pos: 0 }.parse()
    }

    /// Does this selector match `location` (a path without wildcards)?
    pub fn matches(&self, location: &[Segment]) -> bool {
        matches_from(&self.segments, location)
    }

    /// Does this selector match some path that starts with `location`? Used to skip walking
    /// subtrees no rule can reach.
    pub fn could_match_below(&self, location: &[Segment]) -> bool {
        prefix_matches(&self.segments, location)
    }
}

fn segment_matches(selector: &Segment, step: &Segment) -> bool {
    match (selector, step) {
        (Segment::Wildcard, _) => true,
        (Segment::Field(a), Segment::Field(b)) => a == b,
        (Segment::Index(a), Segment::Index(b)) => a == b,
        (Segment::Filter(a), Segment::Filter(b)) => a == b,
        (Segment::Field(_) | Segment::Index(_) | Segment::Filter(_) | Segment::Descendant, _) => {
            false
        }
    }
}

fn matches_from(selector: &[Segment], location: &[Segment]) -> bool {
    match selector.split_first() {
        None => location.is_empty(),
        Some((Segment::Descendant, rest)) => {
            (0..=location.len()).any(|skip| matches_from(rest, &location[skip..]))
        }
        Some((first, rest)) => match location.split_first() {
            Some((step, tail)) => segment_matches(first, step) && matches_from(rest, tail),
            None => false,
        },
    }
}

/// True when `location` is a prefix of some path the selector matches.
fn prefix_matches(selector: &[Segment], location: &[Segment]) -> bool {
    match (selector.split_first(), location.split_first()) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some((Segment::Descendant, _)), Some(_)) => true,
        (Some((first, rest)), Some((step, tail))) => {
            segment_matches(first, step) && prefix_matches(rest, tail)
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> PathError {
        PathError {
            path: self.text.to_owned(),
            offset: self.pos,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn eat(&mut self, prefix: &str) -> bool {
        if self.text[self.pos..].starts_with(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }

    fn parse(mut self) -> Result<JsonPath, PathError> {
        if !self.eat("$") {
            return Err(self.error("a path starts with `$`"));
        }
        let mut path = JsonPath::root();
        while self.pos < self.text.len() {
            if self.eat("..") {
                path.push(Segment::Descendant);
                match self.peek() {
                    Some('[') => {}
                    Some('*') => {
                        self.pos += 1;
                        path.push(Segment::Wildcard);
                    }
                    _ => path.push(Segment::Field(self.name()?)),
                }
            } else if self.eat(".") {
                if self.eat("*") {
                    path.push(Segment::Wildcard);
                } else {
                    path.push(Segment::Field(self.name()?));
                }
            } else if self.peek() == Some('[') {
                path.push(self.bracket()?);
            } else {
                return Err(self.error("expected `.`, `..` or `[`"));
            }
        }
        if path.segments.last() == Some(&Segment::Descendant) {
            return Err(self.error("`..` must be followed by a name, `*` or `[...]`"));
        }
        Ok(path)
    }

    fn name(&mut self) -> Result<String, PathError> {
        let rest = &self.text[self.pos..];
        let len = rest
            .char_indices()
            .find(|&(i, c)| !is_name_char(c, i == 0))
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 {
            return Err(self.error("expected a member name (use ['...'] for other characters)"));
        }
        self.pos += len;
        Ok(rest[..len].to_owned())
    }

    fn bracket(&mut self) -> Result<Segment, PathError> {
        let open = self.pos;
        self.pos += 1; // '['
        let segment = match self.peek() {
            Some('*') => {
                self.pos += 1;
                Segment::Wildcard
            }
            Some(quote @ ('\'' | '"')) => Segment::Field(self.quoted(quote)?),
            Some('?') => {
                let body_start = self.pos;
                self.skip_filter()?;
                return Ok(Segment::Filter(
                    self.text[body_start..self.pos - 1].to_owned(),
                ));
            }
            Some(c) if c.is_ascii_digit() => {
                let rest = &self.text[self.pos..];
                let len = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                let index = rest[..len]
                    .parse()
                    .map_err(|_| self.error("index is too large"))?;
                self.pos += len;
                Segment::Index(index)
            }
            _ => {
                self.pos = open + 1;
                return Err(self.error("expected `*`, an index, a quoted name or a `?` filter"));
            }
        };
        if !self.eat("]") {
            return Err(self.error("expected `]`"));
        }
        Ok(segment)
    }

    /// Reads a quoted member name, handling `\'`, `\"`, `\\` and JSON escapes.
    fn quoted(&mut self, quote: char) -> Result<String, PathError> {
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, e @ ('\\' | '\'' | '"' | '/'))) => out.push(e),
                    _ => {
                        self.pos += i;
                        return Err(self.error("unsupported escape in quoted name"));
                    }
                },
                c if c == quote => {
                    self.pos += i + c.len_utf8();
                    return Ok(out);
                }
                c => out.push(c),
            }
        }
        Err(self.error("unterminated quoted name"))
    }

    /// Skips a filter body up to and including its closing `]`, respecting quotes and nesting.
    fn skip_filter(&mut self) -> Result<(), PathError> {
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for (i, c) in self.text[self.pos..].char_indices() {
            if let Some(q) = quote {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '\'' | '"' => quote = Some(c),
                '[' | '(' | '{' => depth += 1,
                ')' | '}' => depth = depth.saturating_sub(1),
                ']' if depth == 0 => {
                    self.pos += i + 1;
                    return Ok(());
                }
                ']' => depth -= 1,
                _ => {}
            }
        }
        Err(self.error("unterminated filter `[?...]`"))
    }
}

/// RFC 9535 shorthand names (`_`, letters, non-ASCII, digits after the first), plus `-`, which
/// the RFC leaves out but field names often contain; such names print in bracket form.
fn is_name_char(c: char, first: bool) -> bool {
    c == '_'
        || c.is_ascii_alphabetic()
        || !c.is_ascii()
        || (!first && (c.is_ascii_digit() || c == '-'))
}

/// Writes `name` as `.name` when it is a plain identifier, else as `['name']`.
pub fn write_member(out: &mut impl fmt::Write, name: &str) -> fmt::Result {
    let plain = !name.is_empty()
        && name.char_indices().all(|(i, c)| {
            c == '_' || c.is_ascii_alphabetic() || !c.is_ascii() || (i > 0 && c.is_ascii_digit())
        });
    if plain {
        write!(out, ".{name}")
    } else {
        out.write_str("['")?;
        write_quoted_body(out, name)?;
        out.write_str("']")
    }
}

/// Escapes a string for a single-quoted JSONPath literal.
pub fn write_quoted_body(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    for c in text.chars() {
        match c {
            '\'' => out.write_str("\\'")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\t' => out.write_str("\\t")?,
            '\r' => out.write_str("\\r")?,
            c => out.write_char(c)?,
        }
    }
    Ok(())
}

/// Writes a JSON value as a JSONPath filter literal: strings single-quoted, the rest as JSON.
pub fn write_literal(out: &mut impl fmt::Write, value: &serde_json::Value) -> fmt::Result {
    match value {
        serde_json::Value::String(s) => {
            out.write_char('\'')?;
            write_quoted_body(out, s)?;
            out.write_char('\'')
        }
        other => write!(out, "{other}"),
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Field(name) => write_member(f, name),
            Segment::Index(i) => write!(f, "[{i}]"),
            Segment::Filter(body) => write!(f, "[{body}]"),
            Segment::Wildcard => f.write_str("[*]"),
            Segment::Descendant => f.write_str(".."),
        }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        let mut after_descendant = false;
        for segment in &self.segments {
            match (after_descendant, segment) {
                // `..name` and `..*` read better than `...name` and `..[*]`.
                (true, Segment::Field(name)) if !name.is_empty() => {
                    let mut member = String::new();
                    write_member(&mut member, name)?;
                    f.write_str(member.strip_prefix('.').unwrap_or(&member))?;
                }
                (true, Segment::Wildcard) => f.write_str("*")?,
                _ => write!(f, "{segment}")?,
            }
            after_descendant = *segment == Segment::Descendant;
        }
        Ok(())
    }
}

/// A filter segment naming an element by the values of its key fields:
/// `?@.advisory_id=='A-1' && @.seq==2`.
pub fn key_filter(fields: &[String], values: &[serde_json::Value]) -> Segment {
    let mut body = String::from("?");
    for (i, (field, value)) in fields.iter().zip(values).enumerate() {
        if i > 0 {
            body.push_str(" && ");
        }
        body.push('@');
        // Writing into a String cannot fail.
        let _ = write_member(&mut body, field);
        body.push_str("==");
        let _ = write_literal(&mut body, value);
    }
    Segment::Filter(body)
}

/// A filter segment naming a set member by its value: `?@=='osv'`.
pub fn value_filter(value: &serde_json::Value) -> Segment {
    let mut body = String::from("?@==");
    let _ = write_literal(&mut body, value);
    Segment::Filter(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn loc(text: &str) -> JsonPath {
        JsonPath::parse(text).unwrap()
    }

    #[test]
    fn parses_and_prints_canonically() {
        let cases = [
            ("$", "$"),
            ("$.a.b", "$.a.b"),
            ("$['a b'].c", "$['a b'].c"),
            ("$[\"x\"]", "$.x"),
            ("$.a[0][12]", "$.a[0][12]"),
            ("$.a[*].b", "$.a[*].b"),
            ("$.a.*", "$.a[*]"),
            ("$..score", "$..score"),
            ("$..*", "$..*"),
            ("$..[0]", "$..[0]"),
            (
                "$.advisories[?@.id=='A]1'].state",
                "$.advisories[?@.id=='A]1'].state",
            ),
            ("$['it\\'s']", "$['it\\'s']"),
            ("$.résumé", "$.résumé"),
            ("$.with-dash", "$['with-dash']"),
        ];
        for (input, printed) in cases {
            let path = JsonPath::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(path.to_string(), printed, "{input}");
            assert_eq!(
                JsonPath::parse(printed).unwrap(),
                path,
                "round trip of {printed}"
            );
        }
    }

    #[test]
    fn rejects_bad_paths_with_position() {
        let cases = [
            ("a.b", 0),
            ("$.", 2),
            ("$[", 2),
            ("$[abc]", 2),
            ("$['open", 3),
            ("$..", 3),
            ("$.a[?@.x=='1'", 4),
            ("$a", 1),
        ];
        for (input, offset) in cases {
            let err = JsonPath::parse(input).expect_err(input);
            assert_eq!(err.offset, offset, "{input}: {err}");
        }
    }

    #[test]
    fn selectors_match_locations() {
        let keyed = JsonPath::root()
            .child(Segment::Field("advisories".into()))
            .child(key_filter(&["advisory_id".into()], &[json!("A-1")]))
            .child(Segment::Field("explanation".into()));
        let cases = [
            ("$.advisories[*].explanation", true),
            ("$..explanation", true),
            ("$..*", true),
            ("$.advisories[0].explanation", false),
            ("$.advisories[*]", false),
            ("$.explanation", false),
            (keyed.to_string().as_str(), true),
            ("$.advisories[?@.advisory_id=='A-2'].explanation", false),
        ]
        .map(|(s, m)| (s.to_owned(), m));
        for (selector, expected) in cases {
            assert_eq!(
                loc(&selector).matches(keyed.segments()),
                expected,
                "{selector} vs {keyed}"
            );
        }
    }

    #[test]
    fn descendant_matches_zero_or_more_levels() {
        let sel = loc("$..score");
        assert!(sel.matches(loc("$.score").segments()));
        assert!(sel.matches(loc("$.a[3].b.score").segments()));
        assert!(!sel.matches(loc("$.a.scores").segments()));
        assert!(sel.could_match_below(loc("$.a").segments()));
        assert!(!loc("$.a.b").could_match_below(loc("$.c").segments()));
        assert!(loc("$.a.b").could_match_below(loc("$.a").segments()));
    }

    #[test]
    fn key_filters_are_valid_selectors() {
        let seg = key_filter(&["id".into(), "seq no".into()], &[json!("it's"), json!(2)]);
        let path = JsonPath::root().child(seg);
        assert_eq!(path.to_string(), "$[?@.id=='it\\'s' && @['seq no']==2]");
        assert_eq!(JsonPath::parse(&path.to_string()).unwrap(), path);
        assert_eq!(
            JsonPath::root()
                .child(value_filter(&json!("osv")))
                .to_string(),
            "$[?@=='osv']"
        );
    }
}
