//! Reading one JSON record without building it: a serde visitor that lets serde_json parse every
//! byte exactly as the in-memory parse does (strings unescaped and checked, numbers converted,
//! the same recursion limit), keeps only the key fields' values, and notes whether any object in
//! the record names a member twice. A record that reads here parses in memory, to the same
//! value; one that does not is parsed in memory to report the failure as the in-memory path
//! does.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use xxhash_rust::xxh3::xxh3_64;

use crate::diff::table::MemberNames;

/// What reading a record found.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scanned {
    /// The key fields' values as the walker sees them: the last occurrence of a member named
    /// twice (the value parsed in memory keeps the last), `null` when absent or when the record
    /// is not an object.
    pub key: Vec<Value>,
    /// Some object in the record holds a member name more than once: the record must be parsed
    /// to report it, even when it equals its partner.
    pub duplicates: bool,
    /// The deepest nesting of arrays and objects, the record itself being 1 (0 for a scalar).
    pub depth: usize,
}

/// Reads one record (the whole of `bytes`, surrounding whitespace allowed) with serde_json,
/// adding the names of its members, when it is an object, to `names`.
pub(super) fn scan(
    bytes: &[u8],
    fields: &[String],
    names: &mut MemberNames,
) -> Result<Scanned, serde_json::Error> {
    let seen = Seen::default();
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let (key, members) = RecordSeed {
        fields,
        seen: &seen,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    if let Some(members) = members {
        names.see(members.iter().map(|m| m.as_ref()));
    }
    Ok(Scanned {
        key,
        duplicates: seen.duplicates.get(),
        depth: seen.depth.get(),
    })
}

/// The hash of a key as the walker groups keys: the canonical JSON of its values (`[v1,v2]`),
/// written into a reused buffer.
pub(super) fn key_hash(values: &[Value], buffer: &mut Vec<u8>) -> u64 {
    buffer.clear();
    // Writing JSON values into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buffer, values);
    xxh3_64(buffer)
}

/// The key of an already parsed record, as [`scan`] reads it.
pub(super) fn key_of(record: &Value, fields: &[String]) -> Vec<Value> {
    fields
        .iter()
        .map(|f| record.get(f).cloned().unwrap_or(Value::Null))
        .collect()
}

#[derive(Default)]
struct Seen {
    duplicates: Cell<bool>,
    depth: Cell<usize>,
}

impl Seen {
    fn enter(&self, depth: usize) {
        if depth > self.depth.get() {
            self.depth.set(depth);
        }
    }

    /// Notes a duplicate among the member names of one object.
    fn check(&self, names: &mut [Cow<'_, str>]) {
        if self.duplicates.get() || names.len() < 2 {
            return;
        }
        let twice = if names.len() <= 16 {
            names
                .iter()
                .enumerate()
                .any(|(i, a)| names[i + 1..].contains(a))
        } else {
            names.sort_unstable();
            names.windows(2).any(|w| w[0] == w[1])
        };
        if twice {
            self.duplicates.set(true);
        }
    }
}

/// The record itself: an object's key fields are kept, everything else is only read.
struct RecordSeed<'a> {
    fields: &'a [String],
    seen: &'a Seen,
}

/// A record's key fields' values, and its member names when it is an object.
type KeyAndNames<'de> = (Vec<Value>, Option<Vec<Cow<'de, str>>>);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = KeyAndNames<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<KeyAndNames<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl RecordSeed<'_> {
    /// The key of a record that is not an object.
    fn none<'de>(&self) -> KeyAndNames<'de> {
        (vec![Value::Null; self.fields.len()], None)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = KeyAndNames<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyAndNames<'de>, A::Error> {
        self.seen.enter(1);
        let mut values = vec![Value::Null; self.fields.len()];
        let mut names = Vec::new();
        while let Some(name) = map.next_key_seed(NameSeed)? {
            match self.fields.iter().position(|f| **f == *name) {
                Some(i) => {
                    values[i] = map.next_value_seed(Build {
                        seen: self.seen,
                        depth: 2,
                    })?;
                }
                None => map.next_value_seed(Skim {
                    seen: self.seen,
                    depth: 2,
                })?,
            }
            names.push(name);
        }
        self.seen.check(&mut names);
        Ok((values, Some(names)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<KeyAndNames<'de>, A::Error> {
        Skim {
            seen: self.seen,
            depth: 1,
        }
        .visit_seq(seq)?;
        Ok(self.none())
    }

    fn visit_bool<E>(self, _: bool) -> Result<KeyAndNames<'de>, E> {
        Ok(self.none())
    }

    fn visit_i64<E>(self, _: i64) -> Result<KeyAndNames<'de>, E> {
        Ok(self.none())
    }

    fn visit_u64<E>(self, _: u64) -> Result<KeyAndNames<'de>, E> {
        Ok(self.none())
    }

    fn visit_f64<E>(self, _: f64) -> Result<KeyAndNames<'de>, E> {
        Ok(self.none())
    }

    fn visit_str<E>(self, _: &str) -> Result<KeyAndNames<'de>, E> {
        Ok(self.none())
    }

    fn visit_unit<E>(self) -> Result<KeyAndNames<'de>, E> {
        Ok(self.none())
    }
}

/// A member name, borrowed from the input unless it had escapes.
struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// Any value, read and dropped (its member names checked for duplicates).
#[derive(Clone, Copy)]
struct Skim<'a> {
    seen: &'a Seen,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Skim<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skim<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.seen.enter(self.depth);
        let inner = Skim {
            seen: self.seen,
            depth: self.depth + 1,
        };
        let mut names = Vec::new();
        while let Some(name) = map.next_key_seed(NameSeed)? {
            map.next_value_seed(inner)?;
            names.push(name);
        }
        self.seen.check(&mut names);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.seen.enter(self.depth);
        let inner = Skim {
            seen: self.seen,
            depth: self.depth + 1,
        };
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A key field's value, built as the in-memory parse builds it (the last of a member named
/// twice is kept).
#[derive(Clone, Copy)]
struct Build<'a> {
    seen: &'a Seen,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Build<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        self.seen.enter(self.depth);
        let inner = Build {
            seen: self.seen,
            depth: self.depth + 1,
        };
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            let value = access.next_value_seed(inner)?;
            if map.insert(name, value).is_some() {
                self.seen.duplicates.set(true);
            }
        }
        Ok(Value::Object(map))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.seen.enter(self.depth);
        let inner = Build {
            seen: self.seen,
            depth: self.depth + 1,
        };
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
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
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::diff::json;

    fn id() -> Vec<String> {
        vec!["id".to_owned()]
    }

    fn scan_id(bytes: &[u8]) -> Result<Scanned, serde_json::Error> {
        scan(bytes, &id(), &mut MemberNames::default())
    }

    #[test]
    fn collects_the_member_names_of_objects() {
        let mut names = MemberNames::default();
        for record in [
            &br#"{"id":1,"b":2}"#[..],
            br#"{"id":2,"b":3}"#,
            br#"{"b":1,"a":{"z":1}}"#,
            b"[1]",
        ] {
            scan(record, &id(), &mut names).unwrap();
        }
        let all: Vec<&str> = names.all().iter().map(String::as_str).collect();
        assert_eq!(all, ["a", "b", "id"]);
    }

    #[test]
    fn keeps_the_key_and_finds_duplicates_anywhere() {
        let s = scan_id(br#"{"id":7,"v":{"a":[1,{"b":2}]}}"#).unwrap();
        assert_eq!((s.key, s.duplicates, s.depth), (vec![json!(7)], false, 4));
        // The last of a key field named twice is the key, as in the parsed value.
        let s = scan_id(br#"{"id":1,"v":2,"id":3}"#).unwrap();
        assert_eq!((s.key, s.duplicates), (vec![json!(3)], true));
        let s = scan_id(br#"{"id":1,"v":[{"x":1,"x":2}]}"#).unwrap();
        assert!(s.duplicates);
        let s = scan_id(br#"{"id":{"k":1,"k":2}}"#).unwrap();
        assert_eq!((s.key, s.duplicates), (vec![json!({"k": 2})], true));
        // Escaped names are names too.
        assert!(scan_id(br#"{"a":1,"\u0061":2}"#).unwrap().duplicates);
        let s = scan_id(b"[1,2]").unwrap();
        assert_eq!((s.key, s.depth), (vec![json!(null)], 1));
    }

    #[test]
    fn refuses_what_the_parser_refuses() {
        for bad in [
            &b"{\"id\":1,\"v\":}"[..],
            b"{\"id\":1,\"v\":1e999}",
            b"{\"id\":1,\"v\":\"\\ud800\"}",
            b"{\"id\":1,\"v\":\"\xff\"}",
            b"{\"id\":1} x",
            b"{\"id\":1,\"v\":\"a\x01\"}",
        ] {
            assert!(scan_id(bad).is_err(), "{}", String::from_utf8_lossy(bad));
            assert!(json::parse_document(bad).is_err());
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(scan_id(deep.as_bytes()).is_err());
        assert!(json::parse_document(deep.as_bytes()).is_err());
    }

    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("1e999".to_owned()),
            Just("\"\\ud800\"".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|n| format!("{n:e}")),
            "[a-c\\\\\"]{0,3}".prop_map(|s| format!("\"{s}\"")),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(("(id|v|w)", inner), 0..4).prop_map(|m| {
                    let members: Vec<String> =
                        m.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    proptest! {
        /// Reading agrees with the in-memory parse: the same records parse, with the same key
        /// and the same verdict on duplicate members.
        #[test]
        fn agrees_with_the_parser(text in value()) {
            let parsed = json::parse_document(text.as_bytes());
            let scanned = scan_id(text.as_bytes());
            prop_assert_eq!(parsed.is_ok(), scanned.is_ok(), "{}", text);
            if let (Ok(parsed), Ok(scanned)) = (parsed, scanned) {
                prop_assert_eq!(key_of(&parsed.value, &id()), scanned.key);
                prop_assert_eq!(!parsed.duplicates.is_empty(), scanned.duplicates, "{}", text);
            }
        }
    }
}
