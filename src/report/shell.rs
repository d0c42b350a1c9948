//! Command lines a person can paste into a POSIX shell: [`shell_quote`] for one word,
//! [`command_line`] for a whole run (`cd DIR && NAME=value argv…`).
//!
//! Words made only of characters no POSIX shell treats specially are left bare; every other
//! word is single-quoted, a quote inside written `'\''`. Single quotes keep everything else
//! literal (`$`, backquotes, backslashes, newlines, globs), so the shell hands the program
//! exactly the bytes of the word.
//!
//! The text is exact, not inert: a word holding control characters keeps them. Reports show it
//! through [`super::inert`], which makes such a line safe to print but no longer exact.

use std::borrow::Cow;

/// Characters that are never special to a POSIX shell, wherever they stand in a word (`=` too:
/// only an unquoted `NAME=` *before* a command is an assignment, see [`command_line`]).
fn is_safe(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '_' | '@' | '%' | '+' | '=' | ':' | ',' | '.' | '/' | '-')
}

/// Words the shell reads as syntax when they stand where a command name goes.
const RESERVED: [&str; 13] = [
    "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then", "until", "while",
];

/// `word` as one POSIX shell word: bare when every character is safe, otherwise single-quoted
/// (`it's` → `'it'\''s'`); the empty word is `''`.
pub fn shell_quote(word: &str) -> Cow<'_, str> {
    if !word.is_empty() && word.chars().all(is_safe) {
        return Cow::Borrowed(word);
    }
    Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
}

/// `argv` as shell words separated by spaces. The first word is quoted also when bare it would
/// read as an assignment (`a=b`) or a reserved word (`if`).
pub fn shell_words<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .enumerate()
        .map(|(i, word)| {
            let word = word.as_ref();
            if i == 0 && (word.contains('=') || RESERVED.contains(&word)) {
                format!("'{}'", word.replace('\'', r"'\''"))
            } else {
                shell_quote(word).into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A name a shell accepts before a command as `NAME=value`.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The line that runs `argv` in `cwd` with `env` added to the inherited environment:
/// `cd /repo && TZ=UTC python3 legacy.py --input 'my file.json'`. Variables whose names a
/// shell cannot assign (`A-B`) are passed through `env 'A-B=1' …` instead.
pub fn command_line(cwd: Option<&str>, env: &[(String, String)], argv: &[String]) -> String {
    command_line_with(cwd, env, argv, &|word| shell_quote(word).into_owned())
}

/// [`command_line`] with each word (the directory, each value, each argument) written by
/// `word`, which must return one shell word that expands to it (e.g. with a path replaced by
/// `"$B"/…`). A first argument that would read as syntax is single-quoted as it is.
pub fn command_line_with(
    cwd: Option<&str>,
    env: &[(String, String)],
    argv: &[String],
    word: &dyn Fn(&str) -> String,
) -> String {
    let mut parts = Vec::new();
    if let Some(cwd) = cwd.filter(|c| !c.is_empty()) {
        parts.push(format!("cd {} &&", word(cwd)));
    }
    if env.iter().all(|(name, _)| is_name(name)) {
        parts.extend(
            env.iter()
                .map(|(name, value)| format!("{name}={}", word(value))),
        );
    } else {
        parts.push("env".to_owned());
        parts.extend(
            env.iter()
                .map(|(name, value)| word(&format!("{name}={value}"))),
        );
    }
    match argv.split_first() {
        None => parts.push("true".to_owned()),
        Some((first, rest)) => {
            parts.push(
                if first.contains('=') || RESERVED.contains(&first.as_str()) {
                    format!("'{}'", first.replace('\'', r"'\''"))
                } else {
                    word(first)
                },
            );
            parts.extend(rest.iter().map(|w| word(w)));
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words a program may well receive, and every character a shell could misread.
    const HOSTILE: &[&str] = &[
        "",
        "plain",
        "two words",
        "it's",
        "'",
        "''",
        "\"double\"",
        "$HOME",
        "${HOME}",
        "`id`",
        "$(id)",
        "back\\slash",
        "line\nbreak",
        "tab\there",
        "carriage\rreturn",
        "\u{1b}[31mred",
        "*",
        "?",
        "[a]",
        "{a,b}",
        "~",
        "~root",
        "#comment",
        "a=b",
        "-n",
        "--flag=value with space",
        "!",
        "a;b|c&d<e>f(g)h",
        "日本語 ✓ café",
        "\u{202e}reversed",
        "trailing\\",
        "'\\''",
    ];

    /// Runs `printf '%s\0' WORDS` through `sh -c` and splits what it printed.
    fn through_sh(script: &str) -> Vec<String> {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .expect("sh runs");
        assert!(output.status.success(), "{script}: {output:?}");
        let text = String::from_utf8(output.stdout).expect("UTF-8");
        let mut words: Vec<String> = text.split('\0').map(str::to_owned).collect();
        assert_eq!(words.pop().as_deref(), Some(""), "{script}");
        words
    }

    #[test]
    fn quoted_words_reach_the_program_unchanged() {
        let quoted: Vec<String> = HOSTILE
            .iter()
            .map(|w| shell_quote(w).into_owned())
            .collect();
        let script = format!("printf '%s\\0' {}", quoted.join(" "));
        assert_eq!(through_sh(&script), HOSTILE);
    }

    #[test]
    fn safe_words_stay_bare_and_others_are_single_quoted() {
        assert_eq!(shell_quote("python3"), "python3");
        assert_eq!(
            shell_quote("--out=/tmp/a-b_c.json"),
            "--out=/tmp/a-b_c.json"
        );
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("é"), "'é'");
        assert_eq!(shell_quote("a\nb"), "'a\nb'");
    }

    #[test]
    fn a_command_line_runs_in_its_directory_with_its_variables() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cwd = dir.path().join("it's a dir");
        std::fs::create_dir(&cwd).expect("dir");
        let env = vec![
            ("GREETING".to_owned(), "hello 'world' $HOME\n".to_owned()),
            ("EMPTY".to_owned(), String::new()),
        ];
        let argv: Vec<String> = [
            "sh",
            "-c",
            "printf '%s\\0' \"$PWD\" \"$GREETING\" \"$EMPTY\" \"$1\"",
            "side",
            "[*]",
        ]
        .map(str::to_owned)
        .to_vec();
        let line = command_line(Some(&cwd.to_string_lossy()), &env, &argv);
        assert!(line.starts_with("cd '"), "{line}");
        let printed = through_sh(&line);
        let pwd = std::fs::canonicalize(&cwd).expect("canonical");
        assert_eq!(
            printed,
            [
                pwd.to_string_lossy().as_ref(),
                "hello 'world' $HOME\n",
                "",
                "[*]"
            ]
        );
    }

    #[test]
    fn names_a_shell_cannot_assign_go_through_env() {
        let env = vec![("NOT-A-NAME".to_owned(), "x 'y'".to_owned())];
        let argv: Vec<String> = ["printenv", "NOT-A-NAME"].map(str::to_owned).to_vec();
        let line = command_line(None, &env, &argv);
        assert_eq!(line, r"env 'NOT-A-NAME=x '\''y'\''' printenv NOT-A-NAME");
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .output()
            .expect("sh runs");
        assert_eq!(String::from_utf8_lossy(&output.stdout), "x 'y'\n");
    }

    #[test]
    fn a_first_word_that_looks_like_syntax_is_quoted() {
        assert_eq!(shell_words(&["a=b", "c=d"]), "'a=b' c=d");
        assert_eq!(shell_words(&["if", "then"]), "'if' then");
        let line = command_line(None, &[], &["A=1".to_owned()]);
        assert_eq!(line, "'A=1'");
    }
}
