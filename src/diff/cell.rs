//! Numbers in CSV and TSV cells.
//!
//! A table has no types: every cell is text. A cell that reads as a decimal number on both sides
//! is compared as a number, as a JSON number would be: tolerance rules apply to it, and the same
//! value spelled differently (`1.0`, `1`, `1e0`, `+1`, `001`, `-0` and `0`) is the equivalence
//! `number_format` (a difference under `strict_numbers`). Anything else (`1,000`, ` 1`, `0x1F`,
//! `inf`, `NaN`, `1_000`, an empty cell) stays text and compares byte for byte.
//!
//! Equality is exact on the decimal text, never through a float: `0.1` and
//! `0.1000000000000000000001` are different values even though both round to the same `f64`.
//! Floats are used only to measure how far apart two different values are, for tolerances.

/// What the strings of a document are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Leaves {
    /// JSON: a string is text, a number is a number.
    #[default]
    Json,
    /// Table cells (CSV, TSV): every value is a string, and two that both read as decimal
    /// numbers compare as numbers ([`CellNumber`]).
    Cells,
}

/// A number read from a cell: its significant digits, decimal exponent and sign, canonical so
/// that two spellings of one value are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CellNumber {
    negative: bool,
    /// Significant digits without leading or trailing zeros; empty for zero.
    digits: Vec<u8>,
    /// The value is `0.digits × 10^exponent`.
    exponent: i64,
}

/// Exponents past this many digits make a cell text, not a number.
const MAX_EXPONENT_DIGITS: usize = 9;

impl CellNumber {
    /// Reads `text` as `[+-]digits[.digits][(e|E)[+-]digits]` (at least one digit in the
    /// mantissa; either side of the point may be empty); `None` for anything else.
    pub fn parse(text: &str) -> Option<CellNumber> {
        let bytes = text.as_bytes();
        let (negative, rest) = match bytes.first()? {
            b'-' => (true, &bytes[1..]),
            b'+' => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        let (mantissa, exponent) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (whole, fraction) = match mantissa.iter().position(|&b| b == b'.') {
            Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
            None => (mantissa, &[][..]),
        };
        let all_digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
        if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
            return None;
        }
        let mut exponent_value: i64 = match exponent {
            None => 0,
            Some(e) => {
                let (sign, digits) = match e.first() {
                    Some(b'-') => (-1, &e[1..]),
                    Some(b'+') => (1, &e[1..]),
                    _ => (1, e),
                };
                if digits.is_empty() || digits.len() > MAX_EXPONENT_DIGITS || !all_digits(digits) {
                    return None;
                }
                let magnitude: i64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
                sign * magnitude
            }
        };
        // All digits in order, the point after `whole`: value = 0.(whole fraction) × 10^len(whole).
        let mut digits: Vec<u8> = whole.iter().chain(fraction).copied().collect();
        exponent_value += whole.len() as i64;
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..leading);
        exponent_value -= leading as i64;
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        if digits.is_empty() {
            // Zero, whatever its sign or exponent.
            return Some(CellNumber {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        Some(CellNumber {
            negative,
            digits,
            exponent: exponent_value,
        })
    }

    /// The value as the nearest `f64` (infinite when it is out of range).
    pub fn to_f64(&self) -> f64 {
        if self.digits.is_empty() {
            return 0.0;
        }
        let digits = String::from_utf8_lossy(&self.digits);
        let sign = if self.negative { "-" } else { "" };
        format!("{sign}0.{digits}e{}", self.exponent)
            .parse()
            .unwrap_or(f64::NAN)
    }

    /// Bytes that identify the value (equal exactly when the numbers are), for fingerprints.
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.digits.len() + 10);
        out.push(if self.negative { b'-' } else { b'+' });
        out.extend_from_slice(&self.digits);
        out.push(b'e');
        out.extend_from_slice(&self.exponent.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn n(text: &str) -> CellNumber {
        CellNumber::parse(text).unwrap_or_else(|| panic!("{text} should be a number"))
    }

    #[test]
    fn spellings_of_one_value_are_equal() {
        for group in [
            &["1", "1.0", "1e0", "+1", "001", "1.", "10e-1", "0.1E1"][..],
            &["0", "-0", "0.0", "+0e5", ".0", "000"],
            &["0.3", ".3", "3e-1", "0.30"],
            &["-12.5", "-1.25e1", "-0012.500"],
        ] {
            for text in group {
                assert_eq!(n(text), n(group[0]), "{text} vs {}", group[0]);
            }
        }
        assert_ne!(n("0.3"), n("0.30000000000000004"));
        assert_ne!(n("0.1"), n("0.1000000000000000000001"));
        assert_ne!(n("1"), n("-1"));
        assert_ne!(n("12345678901234567890123"), n("12345678901234567890124"));
    }

    #[test]
    fn only_plain_decimals_are_numbers() {
        for text in [
            "",
            "-",
            "+",
            ".",
            "e5",
            "1e",
            "1e+",
            " 1",
            "1 ",
            "1,000",
            "1_000",
            "0x1F",
            "inf",
            "NaN",
            "1.2.3",
            "--1",
            "1e1e1",
            "1e9999999999",
        ] {
            assert_eq!(CellNumber::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn floats_measure_the_distance() {
        assert_eq!(n("0.30000000000000004").to_f64(), 0.30000000000000004);
        assert_eq!(n("-1.25e1").to_f64(), -12.5);
        assert_eq!(n("-0").to_f64(), 0.0);
        assert!(n("1e999").to_f64().is_infinite());
    }

    proptest! {
        #[test]
        fn a_float_printed_two_ways_is_one_number(x in proptest::num::f64::NORMAL | proptest::num::f64::ZERO) {
            let plain = format!("{x}");
            let scientific = format!("{x:e}");
            prop_assert_eq!(n(&plain), n(&scientific));
            prop_assert_eq!(n(&plain).to_f64(), x);
        }

        #[test]
        fn equal_numbers_have_equal_canonical_bytes(a in "[+-]?[0-9]{0,4}(\\.[0-9]{0,4})?(e[+-]?[0-9]{1,2})?", b in "[+-]?[0-9]{0,4}(\\.[0-9]{0,4})?(e[+-]?[0-9]{1,2})?") {
            if let (Some(x), Some(y)) = (CellNumber::parse(&a), CellNumber::parse(&b)) {
                prop_assert_eq!(x == y, x.canonical() == y.canonical());
                if x == y {
                    prop_assert_eq!(x.to_f64(), y.to_f64());
                }
            }
        }
    }
}
