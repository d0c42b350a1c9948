//! Validation of `[suites.NAME]`: the fixture root, the globs that select fixtures.

use globset::GlobBuilder;
use toml::Spanned;

use super::raw::RawSuite;
use super::validate::Validator;
use super::{EntryPattern, Suite};

impl Validator<'_> {
    pub(super) fn suite(&mut self, name: String, suite: Spanned<RawSuite>) -> Option<Suite> {
        let span = suite.span();
        let raw = suite.into_inner();
        let root = raw.root.as_ref().map(|text| {
            let root = self.base_dir.join(text.get_ref());
            if !root.is_dir() {
                self.error(
                    text.span(),
                    format!(
                        "suite `{name}`: root `{}` is not a directory (resolved to {})",
                        text.get_ref(),
                        root.display()
                    ),
                );
            }
            root
        });
        let exclude = raw
            .exclude
            .iter()
            .filter_map(|p| self.entry_pattern(p))
            .collect();
        let Some(include) = raw.include else {
            if !raw.broken.contains(&"include") {
                self.error(
                    span,
                    format!("suite `{name}` needs `include`: e.g. `include = [\"*/\"]` (each directory is a fixture) or `[\"*.json\"]` (each file is one)"),
                );
            }
            return None;
        };
        if include.get_ref().is_empty() {
            self.error(
                include.span(),
                "`include` is empty, so the suite has no fixtures",
            );
        }
        let include = include
            .get_ref()
            .iter()
            .filter_map(|p| self.entry_pattern(p))
            .collect();
        Some(Suite {
            name,
            root: root?,
            include,
            exclude,
            default: raw.default.unwrap_or(true),
        })
    }

    fn entry_pattern(&mut self, pattern: &Spanned<String>) -> Option<EntryPattern> {
        let text = pattern.get_ref();
        let dirs = text.ends_with('/');
        let glob = text.trim_end_matches('/');
        match GlobBuilder::new(glob).literal_separator(true).build() {
            Ok(g) => Some(EntryPattern {
                text: text.clone(),
                dirs,
                matcher: g.compile_matcher(),
            }),
            Err(e) => {
                self.error(
                    pattern.span(),
                    format!("invalid glob `{text}`: {}", e.kind()),
                );
                None
            }
        }
    }
}
