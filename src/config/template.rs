//! Command templates: `{fixture}`, `{fixture_id}`, `{out}`, `{suite}`, `{variant}`, `{state}`,
//! `{step}`, `{side}` and `{run_id}` in `cmd`, `env`, `cwd` and a suite's `teardown`, plus
//! `{file}` and `{table}` in a `[[compare]]` block's `convert`, parsed once at load time so a typo
//! is a config error, not a runtime surprise.
//!
//! `{run_id}` is unique to each run of a side (case × side × step, each repeat of `bench` or
//! `calibrate`) and to this invocation of parity, and is usable as a PostgreSQL schema or database
//! name as it stands (lowercase letters, digits and `_`, starting with a letter, under 63 bytes):
//! what isolates a side that writes to a database server.
//!
//! `{state}` is the side's state directory, kept across the steps of one fixture of a scenario
//! suite (`steps = ...`): empty before the first step, never shared between sides, fixtures or
//! variants. `{step}` is the step's name. Outside scenario suites both render empty.
//!
//! Only `{identifier}` is a placeholder; any other brace is literal (so JSON arguments work), and
//! `{{` / `}}` write a literal brace next to an identifier.

use std::fmt;

/// A template variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    Fixture,
    FixtureId,
    Out,
    Suite,
    Variant,
    State,
    Step,
    Side,
    RunId,
    /// `convert` only: the side's output being converted.
    File,
    /// `convert` only: one of the block's `tables`.
    Table,
}

/// Names accepted in templates, for error messages.
pub const VAR_NAMES: &str = "{fixture}, {fixture_id}, {out}, {suite}, {variant}, {state}, {step}, {side}, {run_id} (and in `convert`: {file}, {table})";

impl Var {
    fn from_name(name: &str) -> Option<Var> {
        Some(match name {
            "fixture" => Var::Fixture,
            "fixture_id" => Var::FixtureId,
            "out" => Var::Out,
            "suite" => Var::Suite,
            "variant" => Var::Variant,
            "state" => Var::State,
            "step" => Var::Step,
            "side" => Var::Side,
            "run_id" => Var::RunId,
            "file" => Var::File,
            "table" => Var::Table,
            _ => return None,
        })
    }

    /// How templates write it: `{run_id}`.
    pub fn placeholder(self) -> &'static str {
        match self {
            Var::Fixture => "{fixture}",
            Var::FixtureId => "{fixture_id}",
            Var::Out => "{out}",
            Var::Suite => "{suite}",
            Var::Variant => "{variant}",
            Var::State => "{state}",
            Var::Step => "{step}",
            Var::Side => "{side}",
            Var::RunId => "{run_id}",
            Var::File => "{file}",
            Var::Table => "{table}",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Var(Var),
}

/// A parsed template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    raw: String,
    pieces: Vec<Piece>,
}

/// Values for one run.
#[derive(Debug, Clone, Copy)]
pub struct Vars<'a> {
    pub fixture: &'a str,
    pub fixture_id: &'a str,
    pub out: &'a str,
    pub suite: &'a str,
    pub variant: &'a str,
    /// The side's state directory in a scenario suite; empty elsewhere.
    pub state: &'a str,
    /// The step's name in a scenario suite; empty elsewhere.
    pub step: &'a str,
    /// `legacy` or `candidate`.
    pub side: &'a str,
    pub run_id: &'a str,
    /// The output a converter converts; empty outside `convert`.
    pub file: &'a str,
    /// The table a converter exports; empty outside `convert` with `tables`.
    pub table: &'a str,
}

/// The values of one run of a side, kept to render what follows the run (its converters and
/// its suite's `teardown`) with the same values.
#[derive(Debug, Clone, Default)]
pub struct RunVars {
    pub fixture: String,
    pub fixture_id: String,
    pub out: String,
    pub suite: String,
    pub variant: String,
    pub state: String,
    pub step: String,
    pub side: String,
    pub run_id: String,
}

impl RunVars {
    /// The values, with `{file}` and `{table}` (empty outside a converter).
    pub fn with<'a>(&'a self, file: &'a str, table: &'a str) -> Vars<'a> {
        Vars {
            fixture: &self.fixture,
            fixture_id: &self.fixture_id,
            out: &self.out,
            suite: &self.suite,
            variant: &self.variant,
            state: &self.state,
            step: &self.step,
            side: &self.side,
            run_id: &self.run_id,
            file,
            table,
        }
    }
}

impl Template {
    /// Parses `text`; the error names the unknown variable and its byte offset.
    pub fn parse(text: &str) -> Result<Template, (usize, String)> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(i) = rest.find(['{', '}']) {
            literal.push_str(&rest[..i]);
            let tail = &rest[i..];
            let consumed = if tail.starts_with("{{") || tail.starts_with("}}") {
                literal.push_str(&tail[..1]);
                2
            } else if let Some(name) = placeholder(tail) {
                let var = Var::from_name(name).ok_or_else(|| {
                    (
                        offset + i,
                        format!("unknown template variable `{{{name}}}`; valid: {VAR_NAMES} (write `{{{{` for a literal brace)"),
                    )
                })?;
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Var(var));
                name.len() + 2
            } else {
                literal.push_str(&tail[..1]);
                1
            };
            rest = &tail[consumed..];
            offset += i + consumed;
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Template {
            raw: text.to_owned(),
            pieces,
        })
    }

    pub fn render(&self, vars: &Vars<'_>) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Var(Var::Fixture) => out.push_str(vars.fixture),
                Piece::Var(Var::FixtureId) => out.push_str(vars.fixture_id),
                Piece::Var(Var::Out) => out.push_str(vars.out),
                Piece::Var(Var::Suite) => out.push_str(vars.suite),
                Piece::Var(Var::Variant) => out.push_str(vars.variant),
                Piece::Var(Var::State) => out.push_str(vars.state),
                Piece::Var(Var::Step) => out.push_str(vars.step),
                Piece::Var(Var::Side) => out.push_str(vars.side),
                Piece::Var(Var::RunId) => out.push_str(vars.run_id),
                Piece::Var(Var::File) => out.push_str(vars.file),
                Piece::Var(Var::Table) => out.push_str(vars.table),
            }
        }
        out
    }

    /// The variables it uses, in order of appearance.
    pub fn vars(&self) -> impl Iterator<Item = Var> + '_ {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Var(var) => Some(*var),
            Piece::Literal(_) => None,
        })
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }
}

/// `{name}` at the start of `text`, where name is a lowercase identifier.
fn placeholder(text: &str) -> Option<&str> {
    let body = text.strip_prefix('{')?;
    let end = body.find('}')?;
    let name = &body[..end];
    let ident = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    ident.then_some(name)
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: Vars<'static> = Vars {
        fixture: "/f/a",
        fixture_id: "a",
        out: "/o",
        suite: "main",
        variant: "",
        state: "/s/legacy",
        step: "2-override",
        side: "legacy",
        run_id: "parity_0a1b2c3d_7",
        file: "/o/w.db",
        table: "advisories",
    };

    #[test]
    fn renders_good_templates() {
        let cases = [
            ("--input={fixture}", "--input=/f/a"),
            ("{out}/{fixture_id}.json", "/o/a.json"),
            ("{suite}{variant}", "main"),
            ("--state={state}", "--state=/s/legacy"),
            ("{fixture}/{step}", "/f/a/2-override"),
            (
                "drop schema {run_id} -- {side}",
                "drop schema parity_0a1b2c3d_7 -- legacy",
            ),
            ("{file}#{table}", "/o/w.db#advisories"),
            (r#"{"json": true}"#, r#"{"json": true}"#),
            ("{{out}}", "{out}"),
            ("a}b{", "a}b{"),
            ("plain", "plain"),
        ];
        for (input, expected) in cases {
            let template = Template::parse(input).unwrap();
            assert_eq!(template.render(&VARS), expected, "{input}");
        }
    }

    #[test]
    fn rejects_unknown_variables_with_offset() {
        let (offset, message) = Template::parse("--in={fixtur}").unwrap_err();
        assert_eq!(offset, 5);
        assert!(message.contains("`{fixtur}`"), "{message}");
        assert!(message.contains("{fixture_id}"), "{message}");
    }
}
