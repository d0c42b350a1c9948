//! Reading a record's key without parsing the record: for NDJSON, a serde visitor that keeps
//! the key fields, skips everything else without building values and stops once it has them.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use xxhash_rust::xxh3::xxh3_64;

use crate::diff::{ParseFailure, json};

/// The hash of a key as the walker groups keys: the canonical JSON of its values (`[v1,v2]`),
/// written into a reused buffer.
pub(super) fn key_hash(values: &[Value], buffer: &mut Vec<u8>) -> u64 {
    buffer.clear();
    // Writing JSON values into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buffer, values);
    xxh3_64(buffer)
}

/// Reads the key fields of one JSON record, skipping other members without building values, and
/// stops as soon as every key field has been read (the rest of the record is not looked at: a
/// record that differs is parsed in full in pass 2, which reports any syntax error there). A
/// record that is not an object has no key fields: all `null`, as the walker sees it.
struct KeyProbe<'f> {
    fields: &'f [String],
}

thread_local! {
    /// What the probe found when it stopped early. serde offers no way to leave a map
    /// half-read, so the probe stops by returning an error and leaves its values here.
    static FOUND: std::cell::RefCell<Option<Vec<Value>>> = const { std::cell::RefCell::new(None) };
}

impl<'de> DeserializeSeed<'de> for KeyProbe<'_> {
    type Value = Vec<Value>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Vec<Value>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyProbe<'_> {
    type Value = Vec<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Value>, A::Error> {
        let mut values = vec![Value::Null; self.fields.len()];
        let mut missing = self.fields.len();
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match self.fields.iter().position(|f| *f == name) {
                Some(i) => {
                    values[i] = map.next_value()?;
                    missing = missing.saturating_sub(1);
                    if missing == 0 {
                        FOUND.with(|found| *found.borrow_mut() = Some(values));
                        return Err(serde::de::Error::custom("every key field found"));
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(values)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Value>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(vec![Value::Null; self.fields.len()])
    }

    fn visit_bool<E>(self, _: bool) -> Result<Vec<Value>, E> {
        Ok(vec![Value::Null; self.fields.len()])
    }

    fn visit_i64<E>(self, _: i64) -> Result<Vec<Value>, E> {
        Ok(vec![Value::Null; self.fields.len()])
    }

    fn visit_u64<E>(self, _: u64) -> Result<Vec<Value>, E> {
        Ok(vec![Value::Null; self.fields.len()])
    }

    fn visit_f64<E>(self, _: f64) -> Result<Vec<Value>, E> {
        Ok(vec![Value::Null; self.fields.len()])
    }

    fn visit_str<E>(self, _: &str) -> Result<Vec<Value>, E> {
        Ok(vec![Value::Null; self.fields.len()])
    }

    fn visit_unit<E>(self) -> Result<Vec<Value>, E> {
        Ok(vec![Value::Null; self.fields.len()])
    }
}

/// The key values of one NDJSON record; a syntax error before they are all read is a failure.
pub(super) fn probe_key(
    bytes: &[u8],
    fields: &[String],
    line: u64,
) -> Result<Vec<Value>, ParseFailure> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let offset = usize::try_from(line)
        .unwrap_or(usize::MAX)
        .saturating_sub(1);
    let result = KeyProbe { fields }.deserialize(&mut deserializer);
    if let Some(values) = FOUND.with(|found| found.borrow_mut().take()) {
        return Ok(values);
    }
    let values = result.map_err(|e| json::failure(&e, offset))?;
    deserializer.end().map_err(|e| json::failure(&e, offset))?;
    Ok(values)
}
