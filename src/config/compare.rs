//! Validation of `[[compare]]` blocks: the output they cover, their format, and the CSV and
//! text options (rules inside a block are in [`super::rules`]).

use globset::{GlobBuilder, GlobMatcher};
use toml::Spanned;

use super::raw::{RawCompare, RawFormat};
use super::rules::RuleCtx;
use super::validate::Validator;
use super::{CompareBlock, OutputSelector, RuleInfo};
use crate::diff::{CsvOptions, DiffSpec, Format, Rules, TextOptions, Whitespace};

impl Validator<'_> {
    pub(super) fn compare(
        &mut self,
        index: usize,
        block: Spanned<RawCompare>,
        rules: &mut Vec<RuleInfo>,
    ) -> Option<CompareBlock> {
        let raw = block.into_inner();
        // Without a usable `output` (already reported) the rest of the block is still checked.
        let output_text = raw
            .output
            .as_ref()
            .map_or_else(String::new, |o| o.get_ref().clone());
        let output = raw.output.as_ref().and_then(|o| self.output(o));
        let format = match raw.format.as_ref().map(|f| *f.get_ref()) {
            None | Some(RawFormat::Auto) => None,
            Some(RawFormat::Json) => Some(Format::Json),
            Some(RawFormat::Ndjson) => Some(Format::Ndjson),
            Some(RawFormat::Csv) => Some(Format::Csv),
            Some(RawFormat::Tsv) => Some(Format::Tsv),
            Some(RawFormat::Text) => Some(Format::Text),
            Some(RawFormat::Bytes) => Some(Format::Bytes),
        };
        if let (Some(OutputSelector::Exit), Some(output)) = (&output, &raw.output) {
            let has_rules = raw.format.is_some()
                || !raw.ignore.is_empty()
                || !raw.matching.is_empty()
                || raw.key.is_some()
                || !raw.tolerance.is_empty()
                || !raw.normalize.is_empty();
            if has_rules {
                self.error(
                    output.span(),
                    "the exit status is always compared and takes no format or rules; remove them from this block",
                );
            }
        }
        let mut ctx = RuleCtx {
            compare: index,
            output: output_text,
            format,
            rules: Rules::default(),
            infos: rules,
            today: self.today,
        };
        self.rules(&raw, &mut ctx);
        let csv = self.csv_options(&raw, format);
        let text = self.text_options(&raw, format);
        Some(CompareBlock {
            index,
            output: output?,
            format,
            spec: DiffSpec {
                rules: ctx.rules,
                csv,
                text,
            },
        })
    }

    /// `delimiter`, `quote` and `escape`: CSV and TSV only, one ASCII character each (`quote = ""`
    /// turns quoting off).
    fn csv_options(&mut self, raw: &RawCompare, format: Option<Format>) -> CsvOptions {
        if !matches!(format, Some(Format::Csv | Format::Tsv)) {
            for span in raw.csv_options() {
                self.error(span, "`delimiter`, `quote` and `escape` apply to `format = \"csv\"` or `\"tsv\"` only");
            }
            return CsvOptions::default();
        }
        let mut one_char = |text: &Spanned<String>, name: &str| -> Option<u8> {
            match text.get_ref().as_str() {
                "\\t" | "\t" => Some(b'\t'),
                t if t.len() == 1 && t.is_ascii() => Some(t.as_bytes()[0]),
                _ => {
                    self.error(
                        text.span(),
                        format!(
                            "`{name}` must be one ASCII character, e.g. \",\", \";\" or \"\\t\""
                        ),
                    );
                    None
                }
            }
        };
        let delimiter = raw
            .delimiter
            .as_ref()
            .and_then(|d| one_char(d, "delimiter"));
        let quote = match &raw.quote {
            None => Some(b'"'),
            Some(q) if q.get_ref().is_empty() => None,
            Some(q) => one_char(q, "quote"),
        };
        let escape = raw.escape.as_ref().and_then(|e| one_char(e, "escape"));
        CsvOptions {
            delimiter,
            quote,
            escape,
        }
    }

    /// `whitespace` and `ignore_case`: text only.
    fn text_options(&mut self, raw: &RawCompare, format: Option<Format>) -> TextOptions {
        if format != Some(Format::Text) {
            for span in raw.text_options() {
                self.error(
                    span,
                    "`whitespace` and `ignore_case` apply to `format = \"text\"` only",
                );
            }
            return TextOptions::default();
        }
        TextOptions {
            whitespace: raw
                .whitespace
                .as_ref()
                .map_or(Whitespace::Exact, |w| *w.get_ref()),
            ignore_case: raw.ignore_case.as_ref().is_some_and(|c| *c.get_ref()),
        }
    }

    /// `output = ...`: a stream, the exit status, or a glob over files under `{out}`.
    fn output(&mut self, output: &Spanned<String>) -> Option<OutputSelector> {
        Some(match output.get_ref().as_str() {
            "stdout" => OutputSelector::Stdout,
            "stderr" => OutputSelector::Stderr,
            "exit" => OutputSelector::Exit,
            pattern => OutputSelector::Files {
                pattern: pattern.to_owned(),
                matcher: self.output_glob(output)?,
                literal: !pattern.contains(['*', '?', '[', '{']),
            },
        })
    }

    fn output_glob(&mut self, output: &Spanned<String>) -> Option<GlobMatcher> {
        let text = output.get_ref();
        if text.is_empty() || text.starts_with('/') || text.split('/').any(|c| c == "..") {
            self.error(
                output.span(),
                "`output` is `stdout`, `stderr`, `exit`, or a relative path glob under `{out}` such as `*.json`",
            );
            return None;
        }
        // Like .gitignore: a pattern without `/` matches the file name at any depth.
        let pattern = if text.contains('/') {
            text.clone()
        } else {
            format!("**/{text}")
        };
        match GlobBuilder::new(&pattern).literal_separator(true).build() {
            Ok(glob) => Some(glob.compile_matcher()),
            Err(e) => {
                self.error(
                    output.span(),
                    format!("invalid glob `{text}`: {}", e.kind()),
                );
                None
            }
        }
    }
}
