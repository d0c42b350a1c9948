//! Numbers and words for people: durations, sizes, counts. A leaf: every module may use it,
//! it uses nothing of parity's.

/// Formats milliseconds for people: `850 ms`, `1.25 s`.
pub fn format_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// Formats KiB for people: `812 KiB`, `52.1 MiB`.
pub fn format_kib(kib: u64) -> String {
    human_bytes(kib.saturating_mul(1024))
}

/// Sizes for people: `812 B`, `4 KiB`, `64.0 MiB`, `1.00 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    if bytes < KIB {
        format!("{bytes} B")
    } else if bytes < KIB * KIB {
        format!("{} KiB", bytes / KIB)
    } else if bytes < KIB * KIB * KIB {
        format!("{:.1} MiB", bytes as f64 / (KIB * KIB) as f64)
    } else {
        format!("{:.2} GiB", bytes as f64 / (KIB * KIB * KIB) as f64)
    }
}

/// The first `limit` bytes of `text`, cut at a character boundary.
pub fn cut_at(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `1 difference`, `3 differences`, `20,757 records`.
pub fn plural(n: usize, noun: &str) -> String {
    let count = thousands(n as u64);
    if n == 1 {
        format!("1 {noun}")
    } else if noun.ends_with('s') || noun.ends_with('x') || noun.ends_with("ch") {
        format!("{count} {noun}es")
    } else {
        format!("{count} {noun}s")
    }
}

/// A count as people write it: `697`, `20,757`, `1,048,576`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Significant digits [`number`] keeps.
const SIGNIFICANT: i32 = 6;

/// A measured quantity (a difference between two numbers) as people write it: at most six
/// significant digits, no trailing zeros, no exponent between 0.0001 and a billion
/// (`697.17`, not `6.971700000000005e2`; `0.25`; `1,500,000`), else an exponent with three
/// significant digits (`1.25e-12`).
pub fn number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 {
            "0".to_owned()
        } else {
            x.to_string()
        };
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..9).contains(&magnitude) {
        let text = format!("{x:.2e}");
        // `1.25e-12`; `1.00e-9` → `1e-9`.
        return match text.split_once('e') {
            Some((mantissa, exponent)) => {
                let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
                format!("{mantissa}e{exponent}")
            }
            None => text,
        };
    }
    let decimals = (SIGNIFICANT - 1 - magnitude).max(0) as usize;
    let text = format!("{:.*}", decimals, x.abs());
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let whole = whole
        .parse::<u64>()
        .map_or_else(|_| whole.to_owned(), thousands);
    let sign = if x < 0.0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_people_write_them() {
        let cases = [
            (6.971700000000005e2, "697.17"),
            (0.25, "0.25"),
            (2.5e-1, "0.25"),
            (697.0, "697"),
            (1_500_000.0, "1,500,000"),
            (1e-12, "1e-12"),
            (1.25e-12, "1.25e-12"),
            (3.0e10, "3e10"),
            (0.000123456789, "0.000123457"),
            (-42.5, "-42.5"),
            (0.0, "0"),
            (4.440892098500626e-16, "4.44e-16"),
        ];
        for (x, want) in cases {
            assert_eq!(number(x), want, "{x:e}");
        }
        assert_eq!(thousands(20_757), "20,757");
        assert_eq!(thousands(999), "999");
        assert_eq!(plural(1, "case"), "1 case");
        assert_eq!(plural(1000, "case"), "1,000 cases");
    }
}
