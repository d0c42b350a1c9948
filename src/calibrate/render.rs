//! The proposal as parity.toml text ([`render`]): one `[[compare]]` block per output, each rule
//! with its evidence as a comment, and the legacy's variation no rule answers listed at the end.
//! The text always parses as TOML; strings are escaped here rather than through a TOML
//! serialiser so that rules stay one inline table per line, as people write them.

use std::fmt::Write as _;

use super::propose::{Proposal, ProposedBlock, ProposedRule, Rule};

/// What the rendered file says about the calibration it came from.
#[derive(Debug, Clone)]
pub struct Header {
    pub runs: usize,
    pub fixtures: usize,
    /// The configuration file's name.
    pub config: String,
}

/// The proposal as parity.toml text: one `[[compare]]` block per output, each rule with its
/// evidence as a comment, and the variation no rule answers listed at the end. The text always
/// parses as TOML.
pub fn render(proposal: &Proposal, header: &Header) -> String {
    let mut out = String::new();
    let runs = format!(
        "{} runs of each side over {}",
        header.runs,
        crate::units::plural(header.fixtures, "fixture")
    );
    if proposal.blocks.is_empty() {
        let _ = writeln!(
            out,
            "# parity calibrate ({runs}): nothing to propose; the rules in {} cover\n# everything that varies between runs of the legacy.",
            header.config
        );
    } else {
        let _ = writeln!(
            out,
            "# Rules proposed by `parity calibrate` ({runs}) for what varies between\n# runs of the legacy and {config} does not cover yet. Review each rule before adding it to\n# {config}, and give those you keep an `owner`. parity never adds them by itself.",
            config = header.config
        );
    }
    for block in &proposal.blocks {
        out.push('\n');
        render_block(&mut out, block, &header.config);
    }
    if !proposal.unproposed.is_empty() {
        out.push_str("\n# Also varies between runs of the legacy, with no rule proposed:\n");
        for u in &proposal.unproposed {
            let kinds: Vec<&str> = u.kinds.iter().map(|k| k.as_str()).collect();
            let _ = writeln!(
                out,
                "#   {} {} ({}): {}",
                one_line(&u.output),
                one_line(&u.pattern),
                kinds.join(", "),
                u.why
            );
        }
    }
    out
}

fn render_block(out: &mut String, block: &ProposedBlock, config: &str) {
    if let Some(existing) = &block.existing {
        let line = existing
            .line
            .map_or_else(String::new, |l| format!(", line {l}"));
        let _ = writeln!(
            out,
            "# Add these rules to the existing [[compare]] block {} ({config}{line}): an output is\n# compared by the first block that matches it, so a second block for it would never apply.",
            existing.number,
        );
    }
    let _ = writeln!(out, "[[compare]]\noutput = {}", basic(&block.output));
    if let Some(format) = block.format {
        let _ = writeln!(out, "format = {}", basic(format.as_str()));
    }
    for key in ["ignore", "match", "tolerance", "normalize"] {
        let rules: Vec<&ProposedRule> =
            block.rules.iter().filter(|r| r.rule.key() == key).collect();
        if rules.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{key} = [");
        for rule in rules {
            let _ = writeln!(out, "  # {}", one_line(&rule.evidence));
            if let Some(warning) = &rule.shadowed_by {
                let _ = writeln!(out, "  # warning: {}", one_line(warning));
            }
            let _ = writeln!(out, "  {},", inline_table(rule));
        }
        out.push_str("]\n");
    }
}

/// `{ path = "…", reason = "…" }`.
fn inline_table(rule: &ProposedRule) -> String {
    let mut fields: Vec<(&str, String)> = match &rule.rule {
        Rule::Ignore { path } => vec![("path", basic(path))],
        Rule::Match { path, by, mode } => {
            let mut f = vec![("path", basic(path))];
            if let Some(by) = by {
                f.push(("by", basic(by)));
            }
            if let Some(mode) = mode {
                f.push(("as", basic(mode)));
            }
            f
        }
        Rule::Tolerance { path, abs } => vec![("path", basic(path)), ("abs", format!("{abs:e}"))],
        Rule::Normalize { pattern, replace } => {
            vec![("pattern", literal(pattern)), ("replace", basic(replace))]
        }
    };
    fields.push(("reason", basic(rule.reason)));
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    format!("{{ {} }}", body.join(", "))
}

/// A TOML basic string: `"…"` with escapes.
fn basic(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML literal string `'…'` (no escapes, so regexes read as written) when the text allows
/// one, else a basic string.
fn literal(text: &str) -> String {
    if text.contains('\'') || text.chars().any(|c| c.is_control() && c != '\t') {
        basic(text)
    } else {
        format!("'{text}'")
    }
}

/// Text safe inside a `#` comment: one line.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings() {
        assert_eq!(basic(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(basic("tab\there\u{1}"), r#""tab\there\u0001""#);
        assert_eq!(literal(r"^a\S+$"), r"'^a\S+$'");
        assert_eq!(literal("it's"), "\"it's\"");
        for text in [r#"a"b\c"#, "tab\there\u{1}\n", r"^a\S+$", "it's", "ünï ☃"] {
            for rendered in [basic(text), literal(text)] {
                let parsed: toml::Table = toml::from_str(&format!("x = {rendered}")).unwrap();
                assert_eq!(parsed["x"].as_str(), Some(text), "{rendered}");
            }
        }
    }
}
