//! Making text from the programs under test inert before a report shows it: control characters
//! (a terminal would obey an ANSI escape that clears the screen or renames the window), the
//! characters XML 1.0 forbids (U+FFFE and U+FFFF make junit.xml unparsable) and the Unicode
//! bidirectional overrides (which make text read differently from what it holds) are replaced by
//! visible escapes: `\x1b`, `\r`, `\u{fffe}`, `\u{202e}`.
//!
//! Every report applies it to whatever a program wrote (values, stderr, file names, notes that
//! quote them); parity's own text never holds such characters, so applying it to a whole
//! rendered document is also correct.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every unsafe character escaped; newlines and tabs are kept.
pub fn inert(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` on one line: like [`inert`], and newlines and tabs are escaped too (`\n`, `\t`).
pub fn inert_line(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, one_line: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| needs_escape(c, one_line);
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char, one_line: bool) -> bool {
    match c {
        '\n' | '\t' => one_line,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        // Bidirectional embeddings, overrides and isolates.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        // Not characters at all in XML 1.0 (and in no text a program means to show).
        '\u{fffe}' | '\u{ffff}' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_or_xml_would_misread() {
        assert_eq!(inert("plain text\nline 2\t."), "plain text\nline 2\t.");
        assert!(matches!(inert("plain"), Cow::Borrowed(_)));
        assert_eq!(
            inert("\u{1b}[2J\u{1b}]0;owned\u{7}"),
            "\\x1b[2J\\x1b]0;owned\\x07"
        );
        assert_eq!(inert("a\r\nb"), "a\\r\nb");
        assert_eq!(inert("\u{fffe}\u{ffff}\u{85}"), "\\u{fffe}\\u{ffff}\\u{85}");
        assert_eq!(inert("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(inert_line("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(inert("café ✓ 日本"), "café ✓ 日本");
    }

    proptest::proptest! {
        /// Whatever a program writes, the escaped text holds no control character but newline
        /// and tab, and nothing XML 1.0 forbids.
        #[test]
        fn nothing_unsafe_survives(text in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}\\u{fffe}\\u{ffff}a-z]*") {
            let escaped = inert(&text);
            proptest::prop_assert!(escaped.chars().all(|c| !needs_escape(c, false)));
            let line = inert_line(&text);
            proptest::prop_assert!(!line.contains('\n'));
        }
    }
}
