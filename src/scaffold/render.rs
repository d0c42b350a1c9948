//! The text of the `parity.toml` that `parity init` writes: placeholder commands, the suites
//! found, and commented examples for what only the user can know (rules, steps, budgets).

use super::{FoundSuite, PLACEHOLDER_PREFIX, Shape, Survey};
use crate::diff::Format;

/// Step names shown in a suite's comment; the rest are counted.
const STEPS_SHOWN: usize = 3;

/// The commented `parity.toml` for `survey`. It loads with [`crate::config::parse`] once the
/// placeholder commands are replaced (and only then), and so does every commented example in
/// it once uncommented.
pub fn render(survey: &Survey) -> String {
    let steps = survey
        .suites
        .iter()
        .any(|s| matches!(s.shape, Shape::Dirs { steps: Some(_), .. }));
    let mut out = String::new();
    out.push_str(HEADER);
    sides(&mut out, steps);
    suites(&mut out, &survey.suites);
    compares(&mut out, &survey.formats);
    out.push_str(FOOTER);
    out
}

const HEADER: &str = "\
# parity.toml, written by `parity init`. parity runs the legacy program and its candidate
# replacement over the same fixtures, each run in a fresh, empty directory {out}, and compares
# their exit status, every file both write under {out}, and the outputs named in [[compare]].
# Lines starting with `#` are suggestions; every key is described in the README, section
# \"Configuration (`parity.toml`)\".
";

/// The placeholder program of a side (`TODO-legacy-command`).
pub fn placeholder(side: &str) -> String {
    format!("{PLACEHOLDER_PREFIX}{side}-command")
}

fn sides(out: &mut String, steps: bool) {
    let legacy = placeholder("legacy");
    let candidate = placeholder("candidate");
    out.push_str(&format!(
        "
# The legacy program: an argv array, never a shell string (write [\"sh\", \"-c\", \"...\"]
# for a shell). Replace the placeholder with the command that runs it on one fixture: parity
# refuses to run while a `cmd` starts with \"{PLACEHOLDER_PREFIX}\".
# Templates: {{fixture}} is the fixture's absolute path (a file or a directory), {{out}} a fresh,
# empty directory for the files it writes; also {{fixture_id}} and {{suite}}.
"
    ));
    if steps {
        out.push_str(
            "# In a suite with steps, {state} is the side's state directory, kept from one step to the
# next (e.g. \"--state\", \"{state}\"), and {fixture} is the step's input.
",
        );
    }
    out.push_str(&format!(
        "[legacy]
cmd = [\"{legacy}\", \"--input\", \"{{fixture}}\", \"--out\", \"{{out}}\"]
# timeout = \"10m\"                                # per run (10m is the default)
# env = {{ TZ = \"UTC\" }}                           # added to the inherited environment
# version_cmd = [\"git\", \"rev-parse\", \"--short\", \"HEAD\"]   # recorded in the reports

# The candidate replacing it, the same way (its arguments may differ).
[candidate]
cmd = [\"{candidate}\", \"--input\", \"{{fixture}}\", \"--out\", \"{{out}}\"]
# timeout = \"10m\"
"
    ));
}

fn suites(out: &mut String, suites: &[FoundSuite]) {
    if suites.is_empty() {
        out.push_str(
            "
# Suites: where the fixtures are. `parity init` found no fixture directory (one named like
# fixtures, testdata or samples): create fixtures/ with one directory (or file) per input, or
# point `root` at yours.
[suites.main]
root = \"fixtures\"
include = [\"*/\"]
",
        );
        return;
    }
    out.push_str(
        "
# Suites: where the fixtures are, as `parity init` found them. A fixture's id is its path
# relative to `root`. `exclude = [\"GLOB\"]` leaves fixtures out; `default = false` runs a suite
# only when named (parity run --suite NAME).
",
    );
    for suite in suites {
        out.push('\n');
        out.push_str(&describe(&suite.shape));
        out.push_str(&format!(
            "[suites.{}]\nroot = {}\ninclude = [{}]\n",
            suite.name,
            toml_string(&suite.root),
            toml_string(&suite.shape.include())
        ));
        if let Shape::Dirs { steps: Some(_), .. } = suite.shape {
            out.push_str("# steps = \"*/\"\n");
        }
    }
}

/// The comment above a suite: what was found, and what `include` leaves out.
fn describe(shape: &Shape) -> String {
    let (found, left_out) = match shape {
        Shape::Dirs {
            count,
            files,
            steps,
        } => {
            let found = match steps {
                None => format!("{}: {}", plural(*count, "directory"), each(*count)),
                Some(steps) => format!(
                    "{}, each made of numbered steps ({}).\n# Uncomment `steps` to run a fixture's steps in name order, each side's state kept in\n# {{state}} between them",
                    plural(*count, "directory"),
                    step_list(steps)
                ),
            };
            (found, (*files > 0).then(|| plural(*files, "file")))
        }
        Shape::Files {
            extension,
            count,
            others,
        } => {
            let files = if extension.is_empty() {
                plural(*count, "file")
            } else {
                format!(
                    "{count} .{} {}",
                    in_comment(extension),
                    noun(*count, "file")
                )
            };
            let found = format!("{files}: {}", each(*count));
            (found, (*others > 0).then(|| plural(*others, "other entry")))
        }
        Shape::Empty => (
            "Empty for now: put one directory (or file) per fixture in it".to_owned(),
            None,
        ),
    };
    let mut text = format!("# {found}.\n");
    if let Some(left_out) = left_out {
        text.push_str(&format!(
            "# Left out: {left_out} (add patterns to `include` to have them too).\n"
        ));
    }
    text
}

fn each(count: usize) -> &'static str {
    match count {
        1 => "one fixture",
        _ => "each is one fixture",
    }
}

fn step_list(steps: &[String]) -> String {
    let mut shown: Vec<String> = steps
        .iter()
        .take(STEPS_SHOWN)
        .map(|s| format!("{}/", in_comment(s)))
        .collect();
    if steps.len() > STEPS_SHOWN {
        shown.push("…".into());
    }
    shown.join(", ")
}

fn compares(out: &mut String, formats: &[Format]) {
    out.push_str(
        "
# How outputs are compared. Without any block here, parity compares the exit status and every
# file either side writes under {out} (paired by relative path, the format taken from the
# extension, then the content), with no rules. A block names an output (`stdout`, `stderr`, or
# a glob under {out}) and says how to compare it; the first block that matches a file applies.
",
    );
    let shown: Vec<Format> = formats
        .iter()
        .copied()
        .filter(|f| example(*f).is_some())
        .collect();
    if shown.is_empty() {
        out.push_str("# Examples to adapt (paths, keys and names in them are yours to replace):\n");
    } else {
        let names: Vec<&str> = shown.iter().map(|f| f.as_str()).collect();
        out.push_str(&format!(
            "# The fixtures hold {} files, so the outputs may be alike.\n# Examples to adapt (paths, keys and names in them are yours to replace):\n",
            list(&names)
        ));
    }
    let examples = if shown.is_empty() {
        vec![Format::Json]
    } else {
        shown
    };
    for format in examples {
        if let Some(text) = example(format) {
            out.push_str("#\n");
            out.push_str(&commented(text));
        }
    }
    out.push_str("#\n");
    out.push_str(&commented(STDOUT_EXAMPLE));
}

/// A `[[compare]]` example for outputs of `format`, uncommented.
pub(crate) fn example(format: Format) -> Option<&'static str> {
    Some(match format {
        Format::Json => {
            "[[compare]]
output = \"*.json\"
format = \"json\"
ignore = [{ path = \"$.generated_at\", reason = \"a timestamp\" }]
match = [{ path = \"$.items\", by = \"id\" }]      # pair elements by key, not by position
tolerance = [{ path = \"$..score\", abs = 1e-9 }]
"
        }
        Format::Ndjson => {
            "[[compare]]
output = \"*.ndjson\"
format = \"ndjson\"
key = [\"id\"]                                   # the field(s) that identify a record
"
        }
        Format::Csv => {
            "[[compare]]
output = \"*.csv\"
format = \"csv\"
key = [\"id\"]                                   # the column(s) that identify a row
"
        }
        Format::Tsv => {
            "[[compare]]
output = \"*.tsv\"
format = \"tsv\"
key = [\"id\"]                                   # the column(s) that identify a row
"
        }
        Format::Text => {
            "[[compare]]
output = \"*.txt\"
format = \"text\"
normalize = [{ pattern = '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z?', replace = \"<time>\" }]
"
        }
        Format::Bytes => return None,
    })
}

/// stdout is compared only when a block names it.
pub(crate) const STDOUT_EXAMPLE: &str = "[[compare]]
output = \"stdout\"                              # compared only when a block names it
format = \"text\"
";

const FOOTER: &str = "
# Next: `parity calibrate` runs each side several times and proposes rules for what varies
# between runs (timestamps, ids, order); a known, accepted difference is a [[waiver]] with a
# reason, an owner and an expiry date. Defaults that may be set here:
# [golden] dir = \"golden\"               where `parity golden record` keeps the legacy's outputs
# [report] dir = \"reports/latest\"       results.json, report.md, report.html, junit.xml
# [bench] budget = { wall = \"5%\", cpu = \"5%\", memory = \"10%\" }   for `parity bench`
";

/// A directory's name as it may stand in a comment: control characters (a newline would end the
/// comment, and TOML allows no other in one) escaped, `\n`, `\u{1b}`.
fn in_comment(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn commented(text: &str) -> String {
    text.lines().map(|line| format!("# {line}\n")).collect()
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn plural(count: usize, noun_: &str) -> String {
    format!("{count} {}", noun(count, noun_))
}

fn noun(count: usize, noun: &str) -> String {
    match (count, noun.strip_suffix('y')) {
        (1, _) => noun.to_owned(),
        (_, Some(stem)) => format!("{stem}ies"),
        (_, None) => format!("{noun}s"),
    }
}

/// `text` as a TOML basic string, escaped as TOML requires.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::ConfigError;

    fn suite(name: &str, root: &str, shape: Shape) -> FoundSuite {
        FoundSuite {
            name: name.into(),
            root: root.into(),
            shape,
        }
    }

    /// A project directory with the suites' roots, and the survey naming them.
    fn project() -> (tempfile::TempDir, Survey) {
        let dir = tempfile::tempdir().expect("temp dir");
        for root in ["fixtures/main", "fixtures/history", "testdata"] {
            std::fs::create_dir_all(dir.path().join(root)).expect("root");
        }
        let survey = Survey {
            suites: vec![
                suite(
                    "history",
                    "fixtures/history",
                    Shape::Dirs {
                        count: 3,
                        files: 1,
                        steps: Some(vec!["1-a".into(), "2-b".into()]),
                    },
                ),
                suite(
                    "main",
                    "fixtures/main",
                    Shape::Dirs {
                        count: 9,
                        files: 0,
                        steps: None,
                    },
                ),
                suite(
                    "testdata",
                    "testdata",
                    Shape::Files {
                        extension: "csv".into(),
                        count: 4,
                        others: 2,
                    },
                ),
            ],
            formats: Format::ALL.to_vec(),
        };
        (dir, survey)
    }

    fn replaced(text: &str) -> String {
        text.replace(&placeholder("legacy"), "cat")
            .replace(&placeholder("candidate"), "cat")
    }

    #[test]
    fn loads_once_the_placeholders_are_replaced() {
        let (dir, survey) = project();
        let path = dir.path().join("parity.toml");
        let text = render(&survey);
        let config = crate::config::parse(&path, &replaced(&text)).expect("loads");
        let suites: Vec<(&str, usize)> = config
            .suites
            .iter()
            .map(|s| (s.name.as_str(), s.include.len()))
            .collect();
        assert_eq!(suites, [("history", 1), ("main", 1), ("testdata", 1)]);
        assert!(config.suites.iter().all(|s| s.steps.is_none()));
        assert!(config.compares.is_empty(), "examples stay commented");
    }

    #[test]
    fn the_placeholders_are_the_only_errors() {
        let (dir, survey) = project();
        let path = dir.path().join("parity.toml");
        let text = render(&survey);
        let Err(ConfigError::Invalid(errors)) = crate::config::parse(&path, &text) else {
            panic!("the placeholders must not load");
        };
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        let expected: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.starts_with("cmd = [\"TODO-"))
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(lines, expected);
        assert!(
            errors
                .iter()
                .all(|e| e.message.contains("replace the placeholder command")),
            "{errors:?}"
        );
    }

    #[test]
    fn every_commented_example_loads_once_uncommented() {
        let (dir, survey) = project();
        let path = dir.path().join("parity.toml");
        let text = replaced(&render(&survey)).replace("# steps = ", "steps = ");
        let mut examples: String = Format::ALL.into_iter().filter_map(example).collect();
        examples.push_str(STDOUT_EXAMPLE);
        let config = crate::config::parse(&path, &format!("{text}\n{examples}")).expect("loads");
        assert_eq!(config.compares.len(), 6);
        let history = config.suite("history").expect("history");
        assert!(history.steps.is_some());
    }

    #[test]
    fn without_fixtures_the_suite_points_at_fixtures() {
        let text = render(&Survey {
            suites: vec![],
            formats: vec![],
        });
        assert!(text.contains("[suites.main]\nroot = \"fixtures\"\ninclude = [\"*/\"]\n"));
        assert!(text.contains("found no fixture directory"));
        assert!(text.contains("# output = \"*.json\""), "a json example");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("fixtures")).expect("fixtures");
        let path = dir.path().join("parity.toml");
        assert!(crate::config::parse(&path, &replaced(&text)).is_ok());
    }

    #[test]
    fn roots_are_escaped_as_toml_strings() {
        for text in [
            "plain",
            "a \"b\"\\c",
            "it's",
            "tab\there",
            "del\u{7f}",
            "ünï",
        ] {
            let table: toml::Table =
                toml::from_str(&format!("x = {}", toml_string(text))).expect("parses");
            assert_eq!(table["x"].as_str(), Some(text));
        }
        let text = render(&Survey {
            suites: vec![suite("odd", "we\"ird\u{7f}", Shape::Empty)],
            formats: vec![],
        });
        let dir = tempfile::tempdir().expect("temp dir");
        let path: &Path = &dir.path().join("parity.toml");
        std::fs::create_dir(dir.path().join("we\"ird\u{7f}")).expect("odd root");
        crate::config::parse(path, &replaced(&text)).expect("loads");
    }

    #[test]
    fn names_in_comments_cannot_end_them() {
        let (dir, mut survey) = project();
        survey.suites[0].shape = Shape::Dirs {
            count: 1,
            files: 0,
            steps: Some(vec!["1-a\n[evil]".into()]),
        };
        survey.suites[2].shape = Shape::Files {
            extension: "x\r\nfoo = 1".into(),
            count: 1,
            others: 0,
        };
        let text = replaced(&render(&survey));
        assert!(text.contains("(1-a\\n[evil]/)"), "{text}");
        assert!(text.contains("1 .x\\r\\nfoo = 1 file"), "{text}");
        let path = dir.path().join("parity.toml");
        crate::config::parse(&path, &text).expect("loads");
    }

    #[test]
    fn words() {
        assert_eq!(plural(1, "directory"), "1 directory");
        assert_eq!(plural(2, "directory"), "2 directories");
        assert_eq!(plural(2, "file"), "2 files");
        assert_eq!(list(&["json", "csv", "text"]), "json, csv and text");
        assert_eq!(
            step_list(&["1".into(), "2".into(), "3".into(), "4".into()]),
            "1/, 2/, 3/, …"
        );
    }
}
