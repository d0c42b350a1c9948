//! Tests that every mistake in a file comes out in one run (issue 10): wrong types, unknown keys
//! and missing keys in any table, beside the semantic errors of validation, each at its own
//! line and column, in file order, once; a TOML syntax error alone.

use proptest::prelude::*;

use super::{ConfigError, FILE_NAME, Located, parse};

/// Parses `text` as `<tempdir>/parity.toml` (so `root = "."` exists) and returns its errors.
fn errors_of(text: &str) -> Vec<Located> {
    let dir = tempfile::tempdir().expect("temp dir");
    match parse(&dir.path().join(FILE_NAME), text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(ConfigError::Invalid(errors)) => errors,
        Err(other) => panic!("expected located errors, got: {other}"),
    }
}

/// `line:column: message` of each error.
fn positions(text: &str) -> Vec<String> {
    errors_of(text)
        .iter()
        .map(|e| format!("{}:{}: {}", e.line, e.column, e.message))
        .collect()
}

const SIDES: &str = "[legacy]\ncmd = [\"python3\", \"legacy.py\"]\n\n[candidate]\ncmd = [\"python3\", \"new.py\"]\n\n";

#[test]
fn a_mistake_in_one_table_hides_none_in_its_siblings() {
    let text = format!(
        "{SIDES}[suites.a]\nroot = 5\ninclude = [\"*/\"]\n\n[suites.b]\nroot = \".\"\ninclude = [\"*/\"]\nexclud = [\"x\"]\n\n[[compare]]\noutput = \"a.txt\"\nformat = \"text\"\nnormalize = [{{ pattern = \"(x\", replace = \"\" }}]\n"
    );
    assert_eq!(
        positions(&text),
        [
            "8:8: `suites.a.root` must be a string, not an integer",
            "14:1: unknown key `exclud` in `suites.b`; expected one of `root`, `include`, `exclude`, `default`, `steps`, `legacy`, `candidate`, `teardown`, `requires`",
            "19:26: invalid regex: regex parse error:\n    (x\n    ^\nerror: unclosed group",
        ]
    );
}

#[test]
fn type_errors_in_nested_tables_are_each_located() {
    let text = format!(
        "{SIDES}[suites.main]\nroot = \".\"\ninclude = [\"*/\", 7]\n\n[variants.v]\nenv = {{ A = \"1\", B = false }}\n\n[bench]\nbudget = {{ cpu = \"5%\", wall = 5 }}\ngate = [\"cpu\", [\"wall\"]]\n"
    );
    assert_eq!(
        positions(&text),
        [
            "9:18: `suites.main.include[1]` must be a string, not an integer",
            "12:22: `variants.v.env.B` must be a string, not a boolean",
            "15:31: `bench.budget.wall` must be a percentage such as \"5%\", not an integer",
            "16:16: `bench.gate[1]` must be a string, not an array",
        ]
    );
}

#[test]
fn every_compare_and_waiver_block_is_checked() {
    let text = format!(
        "{SIDES}[suites.main]\nroot = \".\"\ninclude = [\"*/\"]\n\n[[compare]]\noutput = \"a.json\"\nignore = [\"$.a\", {{ path = [\"$.b\"] }}, \"$.c[\"]\ntolerance = [{{ path = \"$.x\", abs = \"1e-9\" }}, {{ path = \"$.y\", rel = 0.1, onwer = \"me\" }}]\n\n[[compare]]\nformat = \"jsn\"\nstrict_numbers = \"yes\"\n\n[[waiver]]\npath = \"$.a\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"soon\"\n\n[[waiver]]\npath = 3\nreason = \"r\"\n\n[[waiver]]\noutput = \"*.json\"\nvalue = \"(\"\nreason = \"r\"\nowner = \"o\"\nfixture = \"[\"\n"
    );
    let found = positions(&text);
    let at: Vec<&str> = found
        .iter()
        .map(|e| e.split(": ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        at,
        [
            "13:27", "13:38", "14:36", "14:73", "16:1", "17:10", "18:18", "24:11", "26:1", "27:8",
            "32:9", "35:11"
        ],
        "{found:#?}"
    );
    for expected in [
        "`compare[0].ignore[1].path` must be a string, not an array",
        "invalid JSONPath `$.c[`",
        "`compare[0].tolerance[0].abs` must be a number, not a string",
        "unknown key `onwer` in `compare[0].tolerance[1]`",
        "missing key `output` in `compare[1]`",
        "`compare[1].format`: unknown value `jsn`",
        "`compare[1].strict_numbers` must be `true` or `false`, not a string",
        "invalid date `soon`",
        "missing key `owner` in `waiver[1]`",
        "`waiver[1].path` must be a string, not an integer",
        "invalid regex",
        "invalid glob `[`",
    ] {
        assert!(
            found.iter().any(|e| e.contains(expected)),
            "{expected} in {found:#?}"
        );
    }
}

/// Regression: a value of the wrong type must not also be reported as missing, nor an empty
/// table as lacking what the broken key would have given.
#[test]
fn a_broken_key_is_not_also_called_missing() {
    let cases = [
        (
            "[legacy]\ncmd = \"python3 x.py\"\n\n[candidate]\ncmd = [\"y\"]\n\n[suites.a]\nroot = \".\"\ninclude = [\"*/\"]\n",
            "2:7: `legacy.cmd` must be an array of strings, not a string",
        ),
        (
            "candidate = \"y\"\n\n[suites.a]\nroot = \".\"\ninclude = [\"*/\"]\n",
            "1:13: `candidate` must be a table, not a string",
        ),
        (
            "suites = [\"a\"]\n\n[candidate]\ncmd = [\"y\"]\n",
            "1:10: `suites` must be a table, not an array",
        ),
        (
            "[candidate]\ncmd = [\"y\"]\n\n[suites.a]\nroot = \".\"\ninclude = \"*/\"\n",
            "6:11: `suites.a.include` must be an array of strings, not a string",
        ),
        (
            "[candidate]\ncmd = [\"y\"]\n\n[suites.a]\nroot = \".\"\ninclude = [\"*/\"]\n\n[[waiver]]\npath = 1\nreason = \"r\"\nowner = \"o\"\n",
            "9:8: `waiver[0].path` must be a string, not an integer",
        ),
        (
            "[candidate]\ncmd = [\"y\"]\n\n[suites.a]\nroot = \".\"\ninclude = [\"*/\"]\n\n[[compare]]\noutput = \"a.json\"\nmatch = [{ path = \"$.a\", as = 1 }]\n",
            "10:31: `compare[0].match[0].as` must be a string, not an integer",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(positions(text), [expected], "{text}");
    }
}

#[test]
fn a_syntax_error_is_the_only_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "[legacy]\ncmd = 5\n\n[candidate\ncmd = [\"y\"]\n";
    match parse(&dir.path().join(FILE_NAME), text) {
        Err(error @ ConfigError::Syntax(_)) => {
            let message = error.to_string();
            assert!(message.contains("TOML syntax error"), "{message}");
            assert!(message.contains("parity.toml:4:11:"), "{message}");
            assert!(!message.contains("cmd"), "nothing after it: {message}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn a_bare_toml_date_is_an_expiry_date() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = format!(
        "{SIDES}[suites.main]\nroot = \".\"\ninclude = [\"*/\"]\n\n[[waiver]]\npath = \"$.a\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2099-03-01\n"
    );
    let config = parse(&dir.path().join(FILE_NAME), &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.waivers[0].expires.map(|d| d.to_string()).as_deref(),
        Some("2099-03-01")
    );
    let with_time = text.replace("2099-03-01", "2099-03-01T10:00:00");
    assert_eq!(
        positions(&with_time),
        ["15:11: `waiver[0].expires` must be a date such as \"2027-03-01\", not a date-time"]
    );
}

#[test]
fn every_mistake_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "[legacy]\ncmd = \"python3 legacy.py\"\ntimeout = 30\n\n[candidate]\ncmd = [\"python3\", \"new.py\", \"{output}\"]\nenv = { TZ = 1 }\n\n[suites.a]\nroot = 5\ninclude = [\"*/\"]\n\n[suites.b]\nroot = \".\"\ninclude = [\"*/\"]\nexclud = [\"x\"]\n\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\nignore = [\"$.a[\", { path = 3 }, \"$.ok\"]\ntolerance = [{ path = \"$.x\", abs = \"small\" }, { path = \"$.y\", abs = -1.0 }]\n\n[[compare]]\nformat = \"text\"\nnormalize = [{ pattern = \"(unclosed\", replace = \"\" }]\n\n[[waiver]]\npath = \"$.a\"\nreason = \"r\"\nexpires = \"next year\"\n\n[bench]\nruns = \"ten\"\n\n[report]\nmax_differences = 0\ngolden = \"g\"\n";
    let message = match parse(&dir.path().join(FILE_NAME), text) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e
            .to_string()
            .replace(&dir.path().to_string_lossy().into_owned(), "<dir>"),
    };
    insta::assert_snapshot!(message);
}

/// A valid file, and mistakes that can be made on its lines: (line, replacement, lines of the
/// errors it causes).
const BASE: &str = "[legacy]\ncmd = [\"python3\", \"legacy.py\"]\ntimeout = \"30s\"\n\n[candidate]\ncmd = [\"python3\", \"new.py\", \"{out}\"]\n\n[suites.a]\nroot = \".\"\ninclude = [\"*/\"]\n\n[suites.b]\nroot = \".\"\ninclude = [\"*.json\"]\ndefault = true\n\n[[compare]]\noutput = \"a.json\"\nformat = \"json\"\nignore = [\"$.a\"]\n\n[[compare]]\noutput = \"b.txt\"\nformat = \"text\"\nnormalize = [{ pattern = \"x+\", replace = \"x\" }]\n\n[[waiver]]\npath = \"$.a\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"2099-01-01\"\n\n[bench]\nruns = 10\n";

const MISTAKES: [(usize, &str, &[usize]); 12] = [
    (2, "cmd = \"python3 legacy.py\"", &[2]),
    (3, "timeout = 30", &[3]),
    (6, "cmd = [\"python3\", \"new.py\", \"{output}\"]", &[6]),
    (9, "root = 5", &[9]),
    (15, "defualt = true", &[15]),
    (18, "outptu = \"a.json\"", &[17, 18]),
    (20, "ignore = [\"$.a[\"]", &[20]),
    (
        25,
        "normalize = [{ pattern = \"(x\", replace = \"x\" }]",
        &[25],
    ),
    (29, "reason = 5", &[29]),
    (30, "", &[27]),
    (31, "expires = \"soon\"", &[31]),
    (34, "runs = \"ten\"", &[34]),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// However many of the mistakes a file holds, each is reported at its own line, in file
    /// order, and nothing else is.
    #[test]
    fn each_mistake_is_reported_whatever_else_is_wrong(chosen in proptest::collection::vec(any::<bool>(), MISTAKES.len())) {
        let mut lines: Vec<&str> = BASE.lines().collect();
        let mut expected = Vec::new();
        for ((line, replacement, at), &on) in MISTAKES.iter().zip(&chosen) {
            if on {
                lines[line - 1] = replacement;
                expected.extend_from_slice(at);
            }
        }
        expected.sort_unstable();
        let text = lines.join("\n") + "\n";
        let dir = tempfile::tempdir().expect("temp dir");
        match parse(&dir.path().join(FILE_NAME), &text) {
            Ok(_) => prop_assert!(expected.is_empty(), "no errors for:\n{}", text),
            Err(ConfigError::Invalid(errors)) => {
                let found: Vec<usize> = errors.iter().map(|e| e.line).collect();
                prop_assert_eq!(found, expected, "{:#?}", errors);
            }
            Err(other) => prop_assert!(false, "{}", other),
        }
    }
}

#[test]
fn the_base_of_the_property_is_valid() {
    let dir = tempfile::tempdir().expect("temp dir");
    if let Err(e) = parse(&dir.path().join(FILE_NAME), BASE) {
        panic!("{e}");
    }
}
