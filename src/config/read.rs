//! Reading the parsed TOML tree into the raw types of [`super::raw`], one value at a time; the
//! main types are [`Reader`] (the problems found so far) and [`Table`] (one table being read).
//!
//! serde stops at the first value it cannot convert, so a file with four mistakes took four runs
//! to fix. Here each value is converted on its own: a value of the wrong type, an unknown key or a
//! missing required key becomes a [`Problem`] at its own span, and reading goes on with the next
//! value. A table remembers which of its keys held a problem ([`Table::broken`]), so validation
//! does not add "missing `cmd`" to "`cmd` must be an array".

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// A value of the parsed document, with its byte span.
pub(super) type Node<'i> = Spanned<DeValue<'i>>;

/// One mistake: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Problem {
    pub span: Range<usize>,
    pub message: String,
}

/// The problems found while reading one document.
#[derive(Debug, Default)]
pub(super) struct Reader {
    pub problems: Vec<Problem>,
}

/// A table being read: its keys are taken one by one, and those nobody asked for are unknown.
pub(super) struct Table<'i> {
    /// Dotted path of the table (`suites.main`, `compare[1].ignore[0]`); empty at the top level.
    path: String,
    span: Range<usize>,
    /// Each key with its value until a reader takes it.
    entries: Vec<(Spanned<String>, Option<Node<'i>>)>,
    /// Keys asked for, in the order the raw type reads them: the valid keys.
    known: Vec<&'static str>,
    broken: Vec<&'static str>,
}

impl<'i> Table<'i> {
    fn new(path: String, span: Range<usize>, table: DeTable<'i>) -> Self {
        let entries = table
            .into_iter()
            .map(|(key, value)| {
                let span = key.span();
                (
                    Spanned::new(span, key.into_inner().into_owned()),
                    Some(value),
                )
            })
            .collect();
        Table {
            path,
            span,
            entries,
            known: Vec::new(),
            broken: Vec::new(),
        }
    }

    /// Reads `key` with `read` when it is present.
    pub fn get<T>(
        &mut self,
        r: &mut Reader,
        key: &'static str,
        read: impl FnOnce(&mut Reader, &str, Node<'i>) -> Option<T>,
    ) -> Option<T> {
        self.known.push(key);
        let node = self
            .entries
            .iter_mut()
            .find(|(k, _)| k.get_ref() == key)
            .and_then(|(_, value)| value.take())?;
        let before = r.problems.len();
        let value = read(r, &child(&self.path, key), node);
        if r.problems.len() > before {
            self.broken.push(key);
        }
        value
    }

    /// Reads `key`, which must be present; `hint` says what to write.
    pub fn required<T>(
        &mut self,
        r: &mut Reader,
        key: &'static str,
        hint: &str,
        read: impl FnOnce(&mut Reader, &str, Node<'i>) -> Option<T>,
    ) -> Option<T> {
        let present = self
            .entries
            .iter()
            .any(|(k, value)| k.get_ref() == key && value.is_some());
        if !present {
            r.problem(
                self.span.clone(),
                format!("missing key `{key}` in {}: {hint}", self.name()),
            );
            self.known.push(key);
            self.broken.push(key);
            return None;
        }
        self.get(r, key, read)
    }

    /// Keys read so far that held a problem (already reported).
    pub fn broken(&self) -> Vec<&'static str> {
        self.broken.clone()
    }

    fn name(&self) -> String {
        if self.path.is_empty() {
            "the top level".to_owned()
        } else {
            format!("`{}`", self.path)
        }
    }

    /// Reports every key no reader asked for.
    fn finish(self, r: &mut Reader) {
        let name = self.name();
        for (key, value) in self.entries {
            if value.is_some() {
                r.problem(
                    key.span(),
                    format!(
                        "unknown key `{}` in {name}; expected {}",
                        key.get_ref(),
                        one_of(&self.known)
                    ),
                );
            }
        }
    }
}

/// `a.b`, quoting `b` when it is not a bare TOML key.
pub(super) fn child(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

/// `` `a` ``, `` `a` or `b` ``, `` one of `a`, `b`, `c` `` (serde's wording).
fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => "no keys here".to_owned(),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        many => format!("one of {}", many.join(", ")),
    }
}

/// "a string", "an integer": a TOML type with its article.
fn a_type(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl Reader {
    pub fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(Problem {
            span,
            message: message.into(),
        });
    }

    pub fn wrong_type(&mut self, path: &str, node: &Node<'_>, expected: &str) {
        self.problem(
            node.span(),
            format!(
                "`{path}` must be {expected}, not {}",
                a_type(node.get_ref())
            ),
        );
    }

    /// Reads the whole document with `read`, then reports the top level's unknown keys.
    pub fn document<'i, T>(
        &mut self,
        root: Spanned<DeTable<'i>>,
        read: impl FnOnce(&mut Self, &mut Table<'i>) -> T,
    ) -> T {
        let span = root.span();
        let mut table = Table::new(String::new(), span, root.into_inner());
        let value = read(self, &mut table);
        table.finish(self);
        value
    }

    /// `node` as a table read by `read`, which returns `None` when a required key is missing.
    pub fn table<'i, T>(
        &mut self,
        path: &str,
        node: Node<'i>,
        read: impl FnOnce(&mut Self, &mut Table<'i>) -> Option<T>,
    ) -> Option<Spanned<T>> {
        let span = node.span();
        if !node.get_ref().is_table() {
            self.wrong_type(path, &node, "a table");
            return None;
        }
        let DeValue::Table(entries) = node.into_inner() else {
            return None;
        };
        let mut table = Table::new(path.to_owned(), span.clone(), entries);
        let value = read(self, &mut table);
        table.finish(self);
        value.map(|v| Spanned::new(span, v))
    }

    /// A rule table (`{ path = "$.a", abs = 1e-9 }`): like [`Reader::table`], but a rule with any
    /// problem is dropped once reported, so validation adds no consequences of it.
    pub fn rule<'i, T>(
        &mut self,
        path: &str,
        node: Node<'i>,
        read: impl FnOnce(&mut Self, &mut Table<'i>) -> Option<T>,
    ) -> Option<Spanned<T>> {
        let before = self.problems.len();
        let value = self.table(path, node, read)?;
        (self.problems.len() == before).then_some(value)
    }

    pub fn string(&mut self, path: &str, node: Node<'_>) -> Option<Spanned<String>> {
        self.text(path, node, "a string")
    }

    /// A string; `expected` says what kind, for a value that is not one.
    pub fn text(&mut self, path: &str, node: Node<'_>, expected: &str) -> Option<Spanned<String>> {
        match node.get_ref() {
            DeValue::String(text) => Some(Spanned::new(node.span(), text.to_string())),
            _ => {
                self.wrong_type(path, &node, expected);
                None
            }
        }
    }

    pub fn integer(&mut self, path: &str, node: Node<'_>) -> Option<Spanned<i64>> {
        if !matches!(node.get_ref(), DeValue::Integer(_)) {
            self.wrong_type(path, &node, "an integer");
            return None;
        }
        self.convert(path, node)
    }

    /// A float; an integer is accepted (`confidence = 1`).
    pub fn number(&mut self, path: &str, node: Node<'_>) -> Option<Spanned<f64>> {
        if !matches!(node.get_ref(), DeValue::Integer(_) | DeValue::Float(_)) {
            self.wrong_type(path, &node, "a number");
            return None;
        }
        self.convert(path, node)
    }

    pub fn boolean(&mut self, path: &str, node: Node<'_>) -> Option<Spanned<bool>> {
        match node.get_ref() {
            DeValue::Boolean(value) => Some(Spanned::new(node.span(), *value)),
            _ => {
                self.wrong_type(path, &node, "`true` or `false`");
                None
            }
        }
    }

    /// A string naming one value of an enum: `format = "json"`.
    pub fn name<'i, T: Deserialize<'i>>(
        &mut self,
        path: &str,
        node: Node<'i>,
    ) -> Option<Spanned<T>> {
        if !node.get_ref().is_str() {
            self.wrong_type(path, &node, "a string");
            return None;
        }
        self.convert(path, node)
    }

    /// A date as text for validation to parse: a string, or a bare TOML date (`2027-03-01`).
    pub fn date(&mut self, path: &str, node: Node<'_>) -> Option<Spanned<String>> {
        match node.get_ref() {
            DeValue::Datetime(date) if date.time.is_none() && date.offset.is_none() => {
                Some(Spanned::new(node.span(), date.to_string()))
            }
            _ => self.text(path, node, "a date such as \"2027-03-01\""),
        }
    }

    /// Any value: `values = { Y = true }`.
    pub fn value<'i>(&mut self, path: &str, node: Node<'i>) -> Option<toml::Value> {
        self.convert(path, node).map(Spanned::into_inner)
    }

    /// Converts `node` with serde; its error is a problem at `node`.
    fn convert<'i, T: Deserialize<'i>>(
        &mut self,
        path: &str,
        node: Node<'i>,
    ) -> Option<Spanned<T>> {
        let span = node.span();
        match T::deserialize(ValueDeserializer::from(node)) {
            Ok(value) => Some(Spanned::new(span, value)),
            Err(e) => {
                let message = e
                    .message()
                    .trim_end()
                    .replace("unknown variant", "unknown value");
                self.problem(span, format!("`{path}`: {message}"));
                None
            }
        }
    }

    /// An array read element by element; `None` (with every bad element reported) unless all of
    /// them read. `expected` describes the whole array for a value that is not one.
    pub fn array<'i, T>(
        &mut self,
        path: &str,
        node: Node<'i>,
        expected: &str,
        mut element: impl FnMut(&mut Self, &str, Node<'i>) -> Option<T>,
    ) -> Option<Spanned<Vec<T>>> {
        let span = node.span();
        let items = self.items(path, node, expected)?;
        let count = items.len();
        let values: Vec<T> = items
            .into_iter()
            .enumerate()
            .filter_map(|(i, item)| element(self, &format!("{path}[{i}]"), item))
            .collect();
        (values.len() == count).then(|| Spanned::new(span, values))
    }

    /// An array of tables or rules: the elements that read (the others are reported).
    pub fn elements<'i, T>(
        &mut self,
        path: &str,
        node: Node<'i>,
        expected: &str,
        mut element: impl FnMut(&mut Self, &str, Node<'i>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let items = self.items(path, node, expected)?;
        Some(
            items
                .into_iter()
                .enumerate()
                .filter_map(|(i, item)| element(self, &format!("{path}[{i}]"), item))
                .collect(),
        )
    }

    fn items<'i>(&mut self, path: &str, node: Node<'i>, expected: &str) -> Option<Vec<Node<'i>>> {
        if !node.get_ref().is_array() {
            self.wrong_type(path, &node, expected);
            return None;
        }
        let DeValue::Array(items) = node.into_inner() else {
            return None;
        };
        Some(items.into_iter().collect())
    }

    /// A table of named values (`env`, `suites`): the entries that read (the others are
    /// reported).
    pub fn entries<'i, T>(
        &mut self,
        path: &str,
        node: Node<'i>,
        mut value: impl FnMut(&mut Self, &str, Node<'i>) -> Option<T>,
    ) -> Option<Spanned<BTreeMap<String, T>>> {
        let span = node.span();
        if !node.get_ref().is_table() {
            self.wrong_type(path, &node, "a table");
            return None;
        }
        let DeValue::Table(table) = node.into_inner() else {
            return None;
        };
        let mut map = BTreeMap::new();
        for (key, node) in table {
            let key = key.into_inner().into_owned();
            if let Some(v) = value(self, &child(path, &key), node) {
                map.insert(key, v);
            }
        }
        Some(Spanned::new(span, map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<T>(text: &str, f: impl FnOnce(&mut Reader, &mut Table<'_>) -> T) -> (T, Vec<String>) {
        let document = DeTable::parse(text).expect("valid TOML");
        let mut reader = Reader::default();
        let value = reader.document(document, f);
        let problems = reader
            .problems
            .iter()
            .map(|p| format!("{}: {}", &text[p.span.clone()], p.message))
            .collect();
        (value, problems)
    }

    #[test]
    fn every_wrong_value_is_reported_and_the_rest_is_read() {
        let text = "a = 1\nb = \"x\"\nc = [\"p\", 2, \"q\"]\nd = { e = true }\nzz = 0\n";
        let ((a, b, c, e), problems) = read(text, |r, t| {
            let a = t.get(r, "a", Reader::string);
            let b = t.get(r, "b", Reader::string);
            let c = t.get(r, "c", |r, p, n| r.array(p, n, "an array", Reader::string));
            let e = t.get(r, "d", |r, p, n| {
                r.table(p, n, |r, t| t.get(r, "e", Reader::integer))
            });
            (a, b, c, e)
        });
        assert!(a.is_none());
        assert_eq!(b.map(Spanned::into_inner).as_deref(), Some("x"));
        assert!(c.is_none(), "an array with a bad element is not used");
        assert!(e.is_none());
        assert_eq!(
            problems,
            [
                "1: `a` must be a string, not an integer",
                "2: `c[1]` must be a string, not an integer",
                "true: `d.e` must be an integer, not a boolean",
                "zz: unknown key `zz` in the top level; expected one of `a`, `b`, `c`, `d`",
            ]
        );
    }

    #[test]
    fn a_missing_key_is_reported_at_its_table_and_marks_the_key_broken() {
        let text = "[t]\nother = 1\n";
        let (broken, problems) = read(text, |r, t| {
            t.get(r, "t", |r, p, n| {
                r.table(p, n, |r, t| {
                    t.required(r, "name", "write it", Reader::string);
                    t.get(r, "other", Reader::integer);
                    Some(t.broken())
                })
            })
        });
        assert_eq!(broken.map(Spanned::into_inner), Some(vec!["name"]));
        assert_eq!(problems, ["[t]: missing key `name` in `t`: write it"]);
    }

    #[test]
    fn a_rule_with_a_problem_is_dropped_and_its_siblings_kept() {
        let text = "rules = [{ a = 1 }, { a = \"x\" }, { a = 2, b = 3 }]\n";
        let (rules, problems) = read(text, |r, t| {
            t.get(r, "rules", |r, p, n| {
                r.elements(p, n, "an array", |r, p, n| {
                    r.rule(p, n, |r, t| t.get(r, "a", Reader::integer))
                })
            })
        });
        let values: Vec<i64> = rules
            .unwrap_or_default()
            .into_iter()
            .map(|rule| *rule.into_inner().get_ref())
            .collect();
        assert_eq!(values, [1]);
        assert_eq!(
            problems,
            [
                "\"x\": `rules[1].a` must be an integer, not a string",
                "b: unknown key `b` in `rules[2]`; expected `a`",
            ]
        );
    }

    #[test]
    fn keys_that_are_not_bare_are_quoted_in_paths() {
        assert_eq!(child("suites", "a b"), "suites.\"a b\"");
        assert_eq!(child("", "legacy"), "legacy");
        assert_eq!(one_of(&["a", "b"]), "`a` or `b`");
    }
}
