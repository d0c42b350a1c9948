//! Validation of `[[compare]]` blocks: the output they cover, their format, and the CSV and
//! text options (rules inside a block are in [`super::rules`]). [`Validator::block`] is the part
//! a `[[stage]]` shares with them.

use globset::{GlobBuilder, GlobMatcher};
use toml::Spanned;

use super::raw::{RawBlock, RawCompare};
use super::rules::RuleCtx;
use super::validate::Validator;
use super::{CompareBlock, Convert, OutputSelector, RuleInfo, TABLE_SEPARATOR, Template, Var};
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
        if let (Some(OutputSelector::Exit), Some(output)) = (&output, &raw.output) {
            let block = &raw.block;
            let has_rules = block.format.is_some()
                || !block.ignore.is_empty()
                || !block.matching.is_empty()
                || block.key.is_some()
                || !block.tolerance.is_empty()
                || !block.normalize.is_empty();
            if has_rules {
                self.error(
                    output.span(),
                    "the exit status is always compared and takes no format or rules; remove them from this block",
                );
            }
        }
        let (format, spec) = self.block(index, output_text, &raw.block, rules);
        let convert = self.convert(&raw, output.as_ref(), format);
        Some(CompareBlock {
            index,
            output: output?,
            format,
            spec,
            convert,
        })
    }

    /// `convert`, `tables` and `convert_timeout`: a command turning each side's matching file
    /// into the block's `format`, once per table when `tables` names them.
    fn convert(
        &mut self,
        raw: &RawCompare,
        output: Option<&OutputSelector>,
        format: Option<Format>,
    ) -> Option<Convert> {
        let Some(argv) = &raw.convert else {
            let mut alone = |span: std::ops::Range<usize>, key: &str| {
                self.error(
                    span,
                    format!("`{key}` applies to a block with `convert = [\"program\", ..., \"{{file}}\"]` only"),
                );
            };
            if let Some(tables) = &raw.tables {
                alone(tables.span(), "tables");
            }
            if let Some(timeout) = &raw.convert_timeout {
                alone(timeout.span(), "convert_timeout");
            }
            return None;
        };
        let mut ok = true;
        if let Some(output) = output
            && !matches!(output, OutputSelector::Files { .. })
        {
            self.error(
                argv.span(),
                format!("`convert` turns files under `{{out}}` into text to compare; this block's output is `{}`", output.label()),
            );
            ok = false;
        }
        if format.is_none() {
            self.error(
                argv.span(),
                "a block with `convert` needs `format`: what the converter prints, e.g. `format = \"csv\"` (with `key` to pair rows)",
            );
            ok = false;
        }
        if argv
            .get_ref()
            .first()
            .is_none_or(|p| p.get_ref().trim().is_empty())
        {
            self.error(
                argv.span(),
                "`convert` must name a program: `convert = [\"program\", \"arg\", ..., \"{file}\"]`",
            );
            ok = false;
        }
        let templates: Vec<Template> = argv
            .get_ref()
            .iter()
            .filter_map(|a| self.any_template(a))
            .collect();
        if templates.len() != argv.get_ref().len() {
            ok = false;
        }
        let uses_table = templates
            .iter()
            .flat_map(Template::vars)
            .any(|v| v == Var::Table);
        let tables = match &raw.tables {
            Some(tables) => {
                let names = self.tables(tables);
                if !uses_table {
                    self.error(
                        argv.span(),
                        "with `tables`, `convert` runs once per table: write `{table}` where the converter takes the table's name",
                    );
                    ok = false;
                }
                names?
            }
            None => {
                if uses_table {
                    self.error(
                        argv.span(),
                        "`{table}` needs `tables = [\"name\", ...]`: the tables to convert, one output each",
                    );
                    ok = false;
                }
                Vec::new()
            }
        };
        // Blocks converting the same `output` must name distinct outputs (one per table).
        if let Some(output) = &raw.output {
            let names: Vec<Option<String>> = if tables.is_empty() {
                vec![None]
            } else {
                tables.iter().cloned().map(Some).collect()
            };
            for name in names {
                let key = (output.get_ref().clone(), name);
                if self.converted.contains(&key) {
                    let what = match &key.1 {
                        Some(table) => format!("table `{table}` of `{}`", key.0),
                        None => format!("`{}` (without `tables`)", key.0),
                    };
                    self.error(
                        argv.span(),
                        format!("an earlier block already converts {what}: each converted output comes from one block (give each block its own `tables`)"),
                    );
                    ok = false;
                } else {
                    self.converted.push(key);
                }
            }
        }
        let timeout = raw
            .convert_timeout
            .as_ref()
            .and_then(|t| self.duration(t, "convert_timeout"));
        ok.then_some(Convert {
            argv: templates,
            tables,
            timeout,
        })
    }

    /// `tables`: names, each once, without `#` (it separates the file and the table in the
    /// output's name) or `/`.
    fn tables(&mut self, tables: &Spanned<Vec<Spanned<String>>>) -> Option<Vec<String>> {
        if tables.get_ref().is_empty() {
            self.error(tables.span(), "`tables` is empty: name the tables to convert, or leave `tables` out to convert each file once");
            return None;
        }
        let mut names: Vec<String> = Vec::new();
        let mut ok = true;
        for table in tables.get_ref() {
            let name = table.get_ref();
            if name.trim().is_empty()
                || name.contains([TABLE_SEPARATOR, '/'])
                || name.chars().any(char::is_control)
            {
                self.error(table.span(), format!("`{name}` cannot name a table here: it must be non-empty, without `{TABLE_SEPARATOR}`, `/` or control characters"));
                ok = false;
            } else if names.contains(name) {
                self.error(table.span(), format!("table `{name}` is named twice"));
                ok = false;
            } else {
                names.push(name.clone());
            }
        }
        ok.then_some(names)
    }

    /// What a `[[compare]]` block and a `[[stage]]` share: the format, the rules (described in
    /// `rules` under block `index` and `output`), and the CSV and text options.
    pub(super) fn block(
        &mut self,
        index: usize,
        output: String,
        raw: &RawBlock,
        rules: &mut Vec<RuleInfo>,
    ) -> (Option<Format>, DiffSpec) {
        let format = raw.format.as_ref().and_then(|f| f.get_ref().0);
        let mut ctx = RuleCtx {
            compare: index,
            output,
            format,
            rules: Rules::default(),
            infos: rules,
            today: self.today,
        };
        self.rules(raw, &mut ctx);
        let csv = self.csv_options(raw, format);
        let text = self.text_options(raw, format);
        let spec = DiffSpec {
            rules: ctx.rules,
            csv,
            text,
        };
        (format, spec)
    }

    /// `delimiter`, `quote` and `escape`: CSV and TSV only, one ASCII character each (`quote = ""`
    /// turns quoting off).
    fn csv_options(&mut self, raw: &RawBlock, format: Option<Format>) -> CsvOptions {
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
    fn text_options(&mut self, raw: &RawBlock, format: Option<Format>) -> TextOptions {
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
