//! Validation of the rules inside one `[[compare]]` block (or `[[stage]]`): `key`, `ignore`, `match`,
//! `tolerance`, `normalize` and `map`, each compiled into [`crate::diff::Rules`] and described in
//! the run's rule list (whose index is the rule id reports count usage under). A rule past its
//! `expires` date is listed but not applied.

use chrono::NaiveDate;
use toml::Spanned;

use super::raw::{
    RawBlock, RawIgnore, RawMap, RawMatch, RawMatchMode, RawMeta, RawNormalize, RawTolerance,
};
use super::validate::Validator;
use super::{RuleInfo, RuleKind};
use crate::diff::{ArrayMatch, Format, JsonPath, Normalize, Replacement, Rule, Rules, Tolerance};

/// Accumulates the rules of one compare block and their descriptions.
pub(super) struct RuleCtx<'a> {
    pub compare: usize,
    pub output: String,
    pub format: Option<Format>,
    pub rules: Rules,
    pub infos: &'a mut Vec<RuleInfo>,
    pub today: NaiveDate,
}

impl RuleCtx<'_> {
    /// Describes a new rule; returns its id, or `None` when it has expired (it is listed, but
    /// not applied).
    fn info(
        &mut self,
        kind: RuleKind,
        path: Option<&JsonPath>,
        detail: String,
        meta: &RawMeta,
    ) -> Option<usize> {
        let id = self.infos.len();
        let expired = meta
            .expires
            .as_ref()
            .and_then(|e| NaiveDate::parse_from_str(e.get_ref(), "%Y-%m-%d").ok())
            .is_some_and(|date| date < self.today);
        self.infos.push(RuleInfo {
            id,
            compare: self.compare,
            output: self.output.clone(),
            kind,
            path: path.map(ToString::to_string),
            detail,
            reason: meta.reason.clone(),
            owner: meta.owner.clone(),
            expires: meta.expires.as_ref().map(|e| e.get_ref().clone()),
            expired,
        });
        (!expired).then_some(id)
    }

    fn structured(&self) -> bool {
        !matches!(self.format, Some(Format::Text | Format::Bytes))
    }
}

impl Validator<'_> {
    pub(super) fn rules(&mut self, raw: &RawBlock, ctx: &mut RuleCtx<'_>) {
        if ctx.structured() {
            self.key_rule(raw, ctx);
            raw.ignore.iter().for_each(|r| self.ignore_rule(r, ctx));
            raw.matching.iter().for_each(|r| self.match_rule(r, ctx));
            raw.tolerance
                .iter()
                .for_each(|r| self.tolerance_rule(r, ctx));
            raw.map.iter().for_each(|r| self.map_rule(r, ctx));
            ctx.rules.strict_numbers = raw.strict_numbers.unwrap_or(false);
        } else {
            let structured_only = raw
                .ignore
                .iter()
                .map(Spanned::span)
                .chain(raw.matching.iter().map(Spanned::span))
                .chain(raw.tolerance.iter().map(Spanned::span))
                .chain(raw.map.iter().map(Spanned::span))
                .chain(raw.key.iter().map(Spanned::span));
            let format = ctx.format.map_or("auto", Format::as_str);
            for span in structured_only {
                self.error(span, format!("`{format}` outputs take only `normalize` rules; ignore, match, key, tolerance and map need a structured format (json, ndjson, csv, tsv)"));
            }
        }
        if ctx.format == Some(Format::Bytes) {
            for rule in &raw.normalize {
                self.error(
                    rule.span(),
                    "`bytes` outputs take no rules; use `format = \"text\"` to normalise",
                );
            }
        } else {
            raw.normalize
                .iter()
                .for_each(|r| self.normalize_rule(r, ctx));
        }
    }

    fn key_rule(&mut self, raw: &RawBlock, ctx: &mut RuleCtx<'_>) {
        let Some(key) = &raw.key else { return };
        let fields = key.get_ref().0.clone();
        if ctx.format == Some(Format::Json) {
            self.error(key.span(), "`key` matches NDJSON or CSV records; for arrays inside JSON use `match = [{ path = \"$.items\", by = \"id\" }]`");
        } else if fields.is_empty() {
            self.error(key.span(), "`key` needs at least one field name");
        } else {
            let detail = format!("by {}", fields.join(", "));
            let root = JsonPath::root();
            if let Some(id) = ctx.info(RuleKind::Key, Some(&root), detail, &RawMeta::default()) {
                ctx.rules = std::mem::take(&mut ctx.rules).with_record_key(id, fields);
            }
        }
    }

    fn ignore_rule(&mut self, spanned: &Spanned<RawIgnore>, ctx: &mut RuleCtx<'_>) {
        let rule = spanned.get_ref();
        // A bare string has no span of its own; the array element's span locates it.
        let span = if rule.path.span() == (0..0) {
            spanned.span()
        } else {
            rule.path.span()
        };
        let Some(path) = self.selector(rule.path.get_ref(), span, ctx.format) else {
            return;
        };
        self.check_expiry(&rule.meta);
        if let Some(id) = ctx.info(RuleKind::Ignore, Some(&path), "ignored".into(), &rule.meta) {
            ctx.rules.ignore.push(Rule {
                id,
                path: Some(path),
                action: (),
            });
        }
    }

    fn match_rule(&mut self, spanned: &Spanned<RawMatch>, ctx: &mut RuleCtx<'_>) {
        let rule = spanned.get_ref();
        let (action, detail) = match (&rule.by, &rule.mode) {
            (Some(by), None) if !by.get_ref().0.is_empty() => {
                let fields = by.get_ref().0.clone();
                let detail = format!("by {}", fields.join(", "));
                (ArrayMatch::Keyed(fields), detail)
            }
            (None, Some(mode)) => match mode.get_ref() {
                RawMatchMode::Positional => (ArrayMatch::Positional, "as positional".to_owned()),
                RawMatchMode::Aligned => (ArrayMatch::Aligned, "as aligned".to_owned()),
                RawMatchMode::Set => (ArrayMatch::Set, "as set".to_owned()),
                RawMatchMode::Multiset => (ArrayMatch::Multiset, "as multiset".to_owned()),
                RawMatchMode::Unordered => (ArrayMatch::Multiset, "as unordered".to_owned()),
            },
            _ => {
                self.error(spanned.span(), "a match rule needs exactly one of `by = \"field\"` (or `[\"f1\", \"f2\"]`) and `as = \"unordered\" | \"set\" | \"multiset\" | \"aligned\" | \"positional\"`");
                return;
            }
        };
        let Some(path) = self.selector(rule.path.get_ref(), rule.path.span(), ctx.format) else {
            return;
        };
        let meta = rule.meta();
        self.check_expiry(&meta);
        if let Some(id) = ctx.info(RuleKind::Match, Some(&path), detail, &meta) {
            ctx.rules.matching.push(Rule {
                id,
                path: Some(path),
                action,
            });
        }
    }

    fn tolerance_rule(&mut self, spanned: &Spanned<RawTolerance>, ctx: &mut RuleCtx<'_>) {
        let rule = spanned.get_ref();
        if rule.abs.is_none() && rule.rel.is_none() {
            self.error(spanned.span(), "a tolerance needs `abs`, `rel` or both, e.g. `{ path = \"$..score\", abs = 1e-9 }`");
            return;
        }
        let tolerance = Tolerance {
            abs: self.bound(rule.abs.as_ref()),
            rel: self.bound(rule.rel.as_ref()),
        };
        let Some(path) = self.selector(rule.path.get_ref(), rule.path.span(), ctx.format) else {
            return;
        };
        let meta = rule.meta();
        self.check_expiry(&meta);
        if let Some(id) = ctx.info(
            RuleKind::Tolerance,
            Some(&path),
            tolerance.describe(),
            &meta,
        ) {
            ctx.rules.tolerance.push(Rule {
                id,
                path: Some(path),
                action: tolerance,
            });
        }
    }

    /// A tolerance bound: a finite number ≥ 0.
    fn bound(&mut self, value: Option<&Spanned<f64>>) -> Option<f64> {
        let value = value?;
        let number = *value.get_ref();
        if number.is_finite() && number >= 0.0 {
            Some(number)
        } else {
            self.error(value.span(), "a tolerance must be a finite number ≥ 0");
            None
        }
    }

    fn normalize_rule(&mut self, spanned: &Spanned<RawNormalize>, ctx: &mut RuleCtx<'_>) {
        let rule = spanned.get_ref();
        let regex = match regex::RegexBuilder::new(rule.pattern.get_ref())
            .multi_line(true)
            .build()
        {
            Ok(regex) => regex,
            Err(e) => {
                self.error(rule.pattern.span(), format!("invalid regex: {e}"));
                return;
            }
        };
        let (replace, detail) = match (&rule.replace, &rule.placeholder) {
            (Some(text), None) => (
                Replacement::Text(text.clone()),
                format!("/{}/ -> {text:?}", rule.pattern.get_ref()),
            ),
            (None, Some(name)) if is_placeholder_name(name.get_ref()) => (
                Replacement::Placeholder(name.get_ref().clone()),
                format!("/{}/ -> <{}-N>", rule.pattern.get_ref(), name.get_ref()),
            ),
            (None, Some(name)) => {
                self.error(
                    name.span(),
                    "a placeholder name is letters, digits, `_` or `-`, e.g. \"uuid\"",
                );
                return;
            }
            _ => {
                self.error(spanned.span(), "a normalize rule needs exactly one of `replace = \"text\"` and `placeholder = \"name\"` (each distinct match becomes <name-1>, <name-2>, …)");
                return;
            }
        };
        let path = match &rule.path {
            None => None,
            Some(p) if ctx.structured() => match self.selector(p.get_ref(), p.span(), ctx.format) {
                Some(path) => Some(path),
                None => return,
            },
            Some(p) => {
                self.error(
                    p.span(),
                    "text normalisation applies to every line; remove `path`",
                );
                return;
            }
        };
        let meta = rule.meta();
        self.check_expiry(&meta);
        if let Some(id) = ctx.info(RuleKind::Normalize, path.as_ref(), detail, &meta) {
            ctx.rules.normalize.push(Rule {
                id,
                path,
                action: Normalize { regex, replace },
            });
        }
    }

    fn map_rule(&mut self, spanned: &Spanned<RawMap>, ctx: &mut RuleCtx<'_>) {
        let rule = spanned.get_ref();
        let Some(path) = self.selector(rule.path.get_ref(), rule.path.span(), ctx.format) else {
            return;
        };
        let meta = rule.meta();
        self.check_expiry(&meta);
        match (&rule.values, &rule.rename) {
            (Some(values), None) => {
                let mut map = crate::diff::ValueMap::new();
                for (from, to) in values.get_ref() {
                    match serde_json::to_value(to) {
                        Ok(value) => {
                            map.insert(from.clone(), value);
                        }
                        Err(e) => self.error(values.span(), format!("`{from}` maps to a value JSON cannot hold: {e}")),
                    }
                }
                let detail = map.iter().map(|(k, v)| format!("{k} → {v}")).collect::<Vec<_>>().join(", ");
                if let Some(id) = ctx.info(RuleKind::Map, Some(&path), detail, &meta) {
                    ctx.rules.map_values.push(Rule { id, path: Some(path), action: map });
                }
            }
            (None, Some(rename)) => {
                let map = rename.get_ref().clone();
                let detail = map.iter().map(|(k, v)| format!("{k} → {v}")).collect::<Vec<_>>().join(", ");
                if let Some(id) = ctx.info(RuleKind::Rename, Some(&path), detail, &meta) {
                    ctx.rules.rename.push(Rule { id, path: Some(path), action: map });
                }
            }
            _ => self.error(
                spanned.span(),
                "a map rule needs exactly one of `values = { \"Y\" = true }` (legacy value → candidate value) and `rename = { old = \"new\" }` (legacy member → candidate member)",
            ),
        }
    }
}

fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
