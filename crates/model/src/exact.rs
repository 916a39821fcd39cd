//! Exact arithmetic for scores and money (SPEC §5: never binary floating point alone).
//!
//! Every score is computed as an exact rational; only the final score is rounded, half
//! away from zero, so that a total of exactly 4.075 becomes 4.08.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

pub use crate::rational::Exact;

/// `n / d` as an exact number; `d` must not be zero.
pub fn ratio(n: i128, d: i128) -> Exact {
    Exact::new(n, d)
}

/// An integer as an exact number.
pub fn int(n: i64) -> Exact {
    Exact::from_int(i128::from(n))
}

/// Parses a plain decimal literal (`-12.345`, `7`, `0.15`) exactly.
pub fn parse_decimal(text: &str) -> Option<Exact> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if body.contains('.') && (frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let digits: BigInt = format!("{whole}{frac}").parse().ok()?;
    let scale = BigInt::from(10u32).pow(frac.len() as u32);
    let value = Exact::from_big(BigRational::new(digits, scale));
    Some(if negative { -value } else { value })
}

/// The decimal a human wrote for a float literal: Rust prints the shortest string that
/// reads back as the same `f64`, so `0.15` (a TOML float) becomes exactly 15/100.
pub fn from_literal_f64(value: f64) -> Option<Exact> {
    if !value.is_finite() {
        return None;
    }
    parse_decimal(&format!("{value}"))
}

/// Rounds half away from zero to `decimals` decimal places.
pub fn round_half_away(value: &Exact, decimals: u32) -> Exact {
    let scale = Exact::from_int(10i128.pow(decimals));
    let scaled = value * &scale;
    let magnitude = (scaled.abs() + Exact::new(1, 2)).floor();
    let rounded = if value.is_negative() { -magnitude } else { magnitude };
    rounded / scale
}

/// Formats with exactly `decimals` decimals, rounding half away from zero.
pub fn format_fixed(value: &Exact, decimals: u32) -> String {
    let rounded = round_half_away(value, decimals).to_big();
    let scale = BigInt::from(10u32).pow(decimals);
    let units = (rounded.abs() * BigRational::from_integer(scale.clone())).to_integer();
    let whole = &units / &scale;
    let frac = &units % &scale;
    let sign = if rounded.is_negative() && !units.is_zero() { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac:0>width$}", width = decimals as usize)
    }
}

/// Rounds half away from zero to `decimals` and drops trailing zeros: 4.500 → `4.5`,
/// 5 → `5`, 0.0005 → `0.0005`.
pub fn format_trimmed(value: &Exact, decimals: u32) -> String {
    let text = format_fixed(value, decimals);
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

/// A count of hundredths (score cents, money in fen) as text with two decimals:
/// 405 → `4.05`, −5 → `-0.05`.
pub fn hundredths(n: i64) -> String {
    let abs = n.unsigned_abs();
    format!("{}{}.{:02}", if n < 0 { "-" } else { "" }, abs / 100, abs % 100)
}

/// The nearest `f64`, for outputs and charts (never for decisions).
pub fn to_f64(value: &Exact) -> f64 {
    value.to_f64().unwrap_or(f64::NAN)
}

/// The integer part (toward zero) as an `i64`; `None` when it does not fit.
pub fn trunc_i64(value: &Exact) -> Option<i64> {
    value.trunc_i64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(parse_decimal("0.15"), Some(ratio(15, 100)));
        assert_eq!(parse_decimal("-2.5"), Some(ratio(-5, 2)));
        assert_eq!(parse_decimal("7"), Some(int(7)));
        assert_eq!(parse_decimal("7."), None);
        assert_eq!(parse_decimal(".5"), None);
        assert_eq!(parse_decimal("1e3"), None);
        assert_eq!(from_literal_f64(0.1), Some(ratio(1, 10)));
        assert_eq!(from_literal_f64(0.0005), Some(ratio(5, 10_000)));
    }

    #[test]
    fn rounds_half_away_from_zero_on_the_exact_value() {
        // 4.075 is 4.07499999999999996447286321199499070644378662109375 as an f64;
        // exactly it is a tie and rounds up.
        assert_eq!(format_fixed(&ratio(4075, 1000), 2), "4.08");
        assert_eq!(format_fixed(&ratio(-4075, 1000), 2), "-4.08");
        assert_eq!(format_fixed(&ratio(4074999, 1_000_000), 2), "4.07");
        assert_eq!(format_fixed(&ratio(10, 3), 2), "3.33");
        assert_eq!(format_fixed(&int(99), 2), "99.00");
        assert_eq!(format_fixed(&ratio(1, 200), 2), "0.01");
        assert_eq!(format_fixed(&ratio(-1, 1000), 2), "0.00");
    }

    #[test]
    fn trimmed_and_hundredths() {
        assert_eq!(format_trimmed(&ratio(45, 10), 6), "4.5");
        assert_eq!(format_trimmed(&int(10), 0), "10");
        assert_eq!(format_trimmed(&int(0), 6), "0");
        assert_eq!(format_trimmed(&ratio(5, 10_000), 6), "0.0005");
        assert_eq!(hundredths(405), "4.05");
        assert_eq!(hundredths(9900), "99.00");
        assert_eq!(hundredths(-5), "-0.05");
        assert_eq!(hundredths(0), "0.00");
    }

    proptest! {
        #[test]
        fn rounding_is_within_half_a_unit(n in -1_000_000i64..1_000_000, d in 1i64..10_000) {
            let x = ratio(i128::from(n), i128::from(d));
            let r = round_half_away(&x, 2);
            let diff = (r - &x).abs();
            prop_assert!(diff <= ratio(1, 200));
        }
    }
}
