//! The raw serde mirror of `parity.toml`: field names and shapes exactly as users write them,
//! with spans kept for every value validation may complain about. Unknown keys are errors.
//! Nothing outside `config` reads these types; [`super::Config`] is the validated form.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub legacy: Option<Spanned<RawSide>>,
    pub candidate: Option<Spanned<RawSide>>,
    #[serde(default)]
    pub suites: BTreeMap<String, Spanned<RawSuite>>,
    #[serde(default)]
    pub variants: BTreeMap<String, Spanned<RawVariant>>,
    #[serde(default)]
    pub compare: Vec<Spanned<RawCompare>>,
    #[serde(default)]
    pub waiver: Vec<Spanned<RawWaiver>>,
    #[serde(default)]
    pub report: RawReport,
    #[serde(default)]
    pub bench: RawBench,
    #[serde(default)]
    pub golden: RawGolden,
}

/// `[golden]`: where goldens live.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGolden {
    pub dir: Option<Spanned<String>>,
}

/// `[bench]`: the performance gate.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBench {
    pub runs: Option<Spanned<i64>>,
    pub max_runs: Option<Spanned<i64>>,
    pub warmup: Option<Spanned<i64>>,
    pub budget: Option<Spanned<std::collections::BTreeMap<String, Spanned<String>>>>,
    pub confidence: Option<Spanned<f64>>,
    pub gate: Option<Spanned<Vec<Spanned<String>>>>,
    pub seed: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSide {
    pub cmd: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
    pub cwd: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    /// Legacy only: the legacy is gone; compare against goldens.
    pub retired: Option<Spanned<bool>>,
    /// Legacy only: a command whose output names the legacy's version (e.g. a commit).
    pub version_cmd: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSuite {
    pub root: Spanned<String>,
    pub include: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    pub default: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    #[serde(default)]
    pub args: Vec<Spanned<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
}

/// `format = ...` in a `[[compare]]` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawFormat {
    Auto,
    Json,
    Ndjson,
    Csv,
    Tsv,
    Text,
    Bytes,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCompare {
    pub output: Spanned<String>,
    pub format: Option<Spanned<RawFormat>>,
    #[serde(default)]
    pub ignore: Vec<Spanned<RawIgnore>>,
    #[serde(default, rename = "match")]
    pub matching: Vec<Spanned<RawMatch>>,
    pub key: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    pub tolerance: Vec<Spanned<RawTolerance>>,
    #[serde(default)]
    pub normalize: Vec<Spanned<RawNormalize>>,
    #[serde(default)]
    pub map: Vec<Spanned<RawMap>>,
    pub strict_numbers: Option<bool>,
    pub whitespace: Option<Spanned<crate::diff::Whitespace>>,
    pub ignore_case: Option<Spanned<bool>>,
    pub delimiter: Option<Spanned<String>>,
    pub quote: Option<Spanned<String>>,
    pub escape: Option<Spanned<String>>,
}

impl RawCompare {
    /// Spans of the keys that only make sense for text outputs.
    pub fn text_options(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        self.whitespace
            .iter()
            .map(Spanned::span)
            .chain(self.ignore_case.iter().map(Spanned::span))
    }

    /// Spans of the keys that only make sense for CSV and TSV outputs.
    pub fn csv_options(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        [&self.delimiter, &self.quote, &self.escape]
            .into_iter()
            .flatten()
            .map(Spanned::span)
    }
}

/// `map = [{ path, values = { "Y" = true } }]` or `[{ path, rename = { old = "new" } }]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMap {
    pub path: Spanned<String>,
    pub values: Option<Spanned<std::collections::BTreeMap<String, toml::Value>>>,
    pub rename: Option<Spanned<std::collections::BTreeMap<String, String>>>,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<Spanned<String>>,
}

/// Who stands behind a rule or waiver, and until when.
#[derive(Debug, Default, Clone)]
pub struct RawMeta {
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<Spanned<String>>,
}

/// `ignore = ["$.a", { path = "$.b", reason = "..." }]`.
#[derive(Debug)]
pub struct RawIgnore {
    pub path: Spanned<String>,
    pub meta: RawMeta,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnoreTable {
    path: Spanned<String>,
    reason: Option<String>,
    owner: Option<String>,
    expires: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RawIgnore {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IgnoreVisitor;
        impl<'de> Visitor<'de> for IgnoreVisitor {
            type Value = RawIgnore;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path string or a table { path, reason, owner, expires }")
            }
            fn visit_str<E: de::Error>(self, path: &str) -> Result<RawIgnore, E> {
                // The span of a bare string is the array element's span, kept by the caller.
                Ok(RawIgnore {
                    path: Spanned::new(0..0, path.to_owned()),
                    meta: RawMeta::default(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawIgnore, A::Error> {
                let table =
                    RawIgnoreTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawIgnore {
                    path: table.path,
                    meta: RawMeta {
                        reason: table.reason,
                        owner: table.owner,
                        expires: table.expires,
                    },
                })
            }
        }
        deserializer.deserialize_any(IgnoreVisitor)
    }
}

/// How an array is matched: `as = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawMatchMode {
    Positional,
    Aligned,
    Set,
    Multiset,
    /// Order does not matter, how often each element occurs does: a multiset.
    Unordered,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatch {
    pub path: Spanned<String>,
    pub by: Option<Spanned<OneOrMany>>,
    #[serde(rename = "as")]
    pub mode: Option<Spanned<RawMatchMode>>,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTolerance {
    pub path: Spanned<String>,
    pub abs: Option<Spanned<f64>>,
    pub rel: Option<Spanned<f64>>,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNormalize {
    pub path: Option<Spanned<String>>,
    pub pattern: Spanned<String>,
    pub replace: Option<String>,
    pub placeholder: Option<Spanned<String>>,
    pub reason: Option<String>,
    pub owner: Option<String>,
    pub expires: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWaiver {
    pub path: Option<Spanned<String>>,
    pub output: Option<Spanned<String>>,
    pub fixture: Option<Spanned<String>>,
    pub value: Option<Spanned<String>>,
    pub reason: Spanned<String>,
    pub owner: Spanned<String>,
    pub expires: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    pub dir: Option<Spanned<String>>,
    pub max_differences: Option<Spanned<i64>>,
}

/// `reason`, `owner` and `expires` of a rule table, as one value.
macro_rules! meta_accessor {
    ($($ty:ty),*) => {$(
        impl $ty {
            pub fn meta(&self) -> RawMeta {
                RawMeta {
                    reason: self.reason.clone(),
                    owner: self.owner.clone(),
                    expires: self.expires.clone(),
                }
            }
        }
    )*};
}

meta_accessor!(RawMatch, RawTolerance, RawNormalize, RawMap);

/// A string or an array of strings: `by = "id"` or `by = ["id", "seq"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor(PhantomData<()>);
        impl<'de> Visitor<'de> for OneOrManyVisitor {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name or an array of field names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(OneOrMany(names))
            }
        }
        deserializer.deserialize_any(OneOrManyVisitor(PhantomData))
    }
}
