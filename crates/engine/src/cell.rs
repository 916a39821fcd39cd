//! One input cell, as read from CSV (text) or Parquet (typed), and its checking
//! into a typed value or a reject reason (SPEC §3 "Literals").

use dengta_model::Day;

use crate::schema::Kind;

/// A cell as read.
#[derive(Clone, Copy, Debug)]
pub enum Cell<'a> {
    /// Empty (CSV) or null (Parquet), or an optional column that is absent.
    Null,
    /// Text.
    Text(&'a str),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A Parquet timestamp with a time zone, as epoch ms.
    TimestampMs(i64),
    /// A Parquet timestamp without a time zone (rejected: its instant is unknown).
    TimestampNoZone,
    /// A Parquet date.
    Date(i32),
    /// A Parquet decimal: unscaled value and scale.
    Decimal(i128, i8),
    /// A Parquet type no dengta column accepts.
    Unsupported(&'static str),
}

impl Cell<'_> {
    /// The cell as the text to show in a reject.
    pub fn display(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Text(t) => (*t).to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => f.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::TimestampMs(ms) => ms.to_string(),
            Cell::TimestampNoZone => "timestamp without time zone".into(),
            Cell::Date(d) => Day(*d).to_string(),
            Cell::Decimal(v, s) => format!("{v}e-{s}"),
            Cell::Unsupported(t) => format!("<{t}>"),
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Cell::Null) || matches!(self, Cell::Text(t) if t.is_empty())
    }
}

/// A checked value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// Empty, where allowed.
    Null,
    /// Text (ids, categories, enum words), borrowed from the record when it can be.
    Text(std::borrow::Cow<'a, str>),
    /// An instant, epoch ms.
    Ms(i64),
    /// A date.
    Day(Day),
    /// Money in fen.
    Fen(i64),
    /// A boolean.
    Bool(bool),
    /// A small integer (review scores).
    Int(i64),
}

/// Why a row was rejected. The words are written to the rejects file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// A required value is empty.
    MissingValue,
    /// Not an instant with an offset, nor epoch milliseconds.
    InvalidTimestamp,
    /// Not a `YYYY-MM-DD` date.
    InvalidDate,
    /// Not `true` or `false`.
    InvalidBool,
    /// Not `digits[.d[d]]`.
    InvalidAmount,
    /// A negative amount.
    NegativeAmount,
    /// Not an integer.
    InvalidInteger,
    /// An integer outside the allowed range.
    OutOfRange,
    /// Not one of the allowed words.
    InvalidEnum,
    /// An end before its start.
    EndBeforeStart,
    /// A store id that names no accepted store.
    UnknownStore,
    /// An id already used by an earlier valid row.
    DuplicateId,
    /// The record has the wrong number of fields, or is not UTF-8.
    MalformedRow,
}

impl Reason {
    /// The reason word.
    pub fn name(self) -> &'static str {
        match self {
            Reason::MissingValue => "missing_value",
            Reason::InvalidTimestamp => "invalid_timestamp",
            Reason::InvalidDate => "invalid_date",
            Reason::InvalidBool => "invalid_bool",
            Reason::InvalidAmount => "invalid_amount",
            Reason::NegativeAmount => "negative_amount",
            Reason::InvalidInteger => "invalid_integer",
            Reason::OutOfRange => "out_of_range",
            Reason::InvalidEnum => "invalid_enum",
            Reason::EndBeforeStart => "end_before_start",
            Reason::UnknownStore => "unknown_store",
            Reason::DuplicateId => "duplicate_id",
            Reason::MalformedRow => "malformed_row",
        }
    }

    /// What the reason means and what is expected, for people.
    pub fn hint(self) -> &'static str {
        match self {
            Reason::MissingValue => "this column needs a value",
            Reason::InvalidTimestamp => {
                "expected RFC 3339 with an offset (2025-03-04T10:00:00+08:00 or ...Z) or integer epoch milliseconds"
            }
            Reason::InvalidDate => "expected a date YYYY-MM-DD",
            Reason::InvalidBool => "expected true or false",
            Reason::InvalidAmount => "expected yuan as digits with at most two decimals, e.g. 12.50",
            Reason::NegativeAmount => "amounts are never negative",
            Reason::InvalidInteger => "expected a whole number",
            Reason::OutOfRange => "review scores are integers 1 to 5",
            Reason::InvalidEnum => "not one of the allowed words",
            Reason::EndBeforeStart => "this instant or date is before the one it must follow",
            Reason::UnknownStore => "no accepted row of stores has this store_id",
            Reason::DuplicateId => "an earlier valid row has the same id; the first is kept",
            Reason::MalformedRow => "the record's field count differs from the header's, or it is not UTF-8",
        }
    }
}

/// Checks a cell against a column kind. Empty cells are handled by the caller.
pub fn check<'a>(cell: &Cell<'a>, kind: Kind) -> Result<Value<'a>, Reason> {
    if cell.is_null() {
        return Ok(Value::Null);
    }
    match kind {
        Kind::Id | Kind::Text | Kind::StoreRef => match cell {
            Cell::Text(t) => Ok(Value::Text((*t).into())),
            Cell::Int(i) => Ok(Value::Text(i.to_string().into())),
            _ => Err(Reason::InvalidEnum),
        },
        Kind::Enum(words) => match cell {
            Cell::Text(t) if words.contains(t) => Ok(Value::Text((*t).into())),
            _ => Err(Reason::InvalidEnum),
        },
        Kind::Date => match cell {
            Cell::Text(t) => Day::parse(t).map(Value::Day).ok_or(Reason::InvalidDate),
            Cell::Date(d) => Ok(Value::Day(Day(*d))),
            _ => Err(Reason::InvalidDate),
        },
        Kind::Timestamp => match cell {
            Cell::Text(t) => parse_timestamp(t).map(Value::Ms).ok_or(Reason::InvalidTimestamp),
            Cell::Int(ms) | Cell::TimestampMs(ms) => Ok(Value::Ms(*ms)),
            _ => Err(Reason::InvalidTimestamp),
        },
        Kind::Bool => match cell {
            Cell::Text(t) if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Cell::Text(t) if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            Cell::Bool(b) => Ok(Value::Bool(*b)),
            _ => Err(Reason::InvalidBool),
        },
        Kind::ReviewScore => {
            let n = match cell {
                Cell::Text(t) => t.parse::<i64>().map_err(|_| Reason::InvalidInteger)?,
                Cell::Int(i) => *i,
                Cell::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => *f as i64,
                _ => return Err(Reason::InvalidInteger),
            };
            if (1..=5).contains(&n) { Ok(Value::Int(n)) } else { Err(Reason::OutOfRange) }
        }
        Kind::Amount => match cell {
            Cell::Text(t) => parse_amount(t).map(Value::Fen),
            Cell::Int(i) if *i < 0 => Err(Reason::NegativeAmount),
            Cell::Int(i) => i.checked_mul(100).map(Value::Fen).ok_or(Reason::InvalidAmount),
            Cell::Float(f) => amount_from_float(*f).map(Value::Fen),
            Cell::Decimal(v, s) => amount_from_decimal(*v, *s).map(Value::Fen),
            _ => Err(Reason::InvalidAmount),
        },
    }
}

/// RFC 3339 with an offset, or integer epoch milliseconds. Sub-millisecond digits
/// are dropped (instants are kept to the millisecond).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok();
    }
    fast_rfc3339(text).or_else(|| chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis()))
}

thread_local! {
    /// The last valid date [`fast_rfc3339`] read, as `(YYYYMMDD, day)`.
    static LAST_DATE: std::cell::Cell<(i64, i64)> = const { std::cell::Cell::new((-1, 0)) };
}

/// `YYYY-MM-DDTHH:MM:SS` then `Z` or `±HH:MM`, the form nearly every row has, read
/// without the general parser. Anything else (fractions of a second, a lowercase
/// `t`, a leap second, an invalid date, an unusual offset) gives `None` and goes to
/// chrono, so what is accepted, and its value, do not change.
fn fast_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |at: usize, len: usize| -> Option<i64> {
        b.get(at..at + len)?.iter().try_fold(0i64, |n, d| d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0')))
    };
    let offset_s = match (b.len(), b.get(19)) {
        (20, Some(b'Z')) => 0,
        (25, Some(sign @ (b'+' | b'-'))) if b[22] == b':' => {
            let (h, m) = (num(20, 2)?, num(23, 2)?);
            if h > 14 || m > 59 || (*sign == b'-' && h == 0 && m == 0) {
                return None;
            }
            if *sign == b'+' { h * 3600 + m * 60 } else { -(h * 3600 + m * 60) }
        }
        _ => return None,
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let (year, month, mday) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    // Rows of a file mostly follow each other in time: the last date read is kept
    // (per thread), and chrono checks and converts only a new one.
    let key = year * 10_000 + month * 100 + mday;
    let day = match LAST_DATE.get() {
        (k, day) if k == key => day,
        _ => {
            let date = chrono::NaiveDate::from_ymd_opt(year as i32, month as u32, mday as u32)?;
            let day = i64::from(Day::from_date(date).0);
            LAST_DATE.set((key, day));
            day
        }
    };
    Some((day * 86_400 + hour * 3600 + minute * 60 + second - offset_s) * 1000)
}

/// `digits[.d[d]]` in yuan, to fen.
pub fn parse_amount(text: &str) -> Result<i64, Reason> {
    if let Some(rest) = text.strip_prefix('-') {
        return match parse_amount(rest) {
            Ok(_) => Err(Reason::NegativeAmount),
            Err(e) => Err(e),
        };
    }
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || frac.is_some_and(|f| !digits(f) || f.len() > 2) {
        return Err(Reason::InvalidAmount);
    }
    let whole: i64 = whole.parse().map_err(|_| Reason::InvalidAmount)?;
    let cents: i64 = match frac {
        None => 0,
        Some(f) if f.len() == 1 => f.parse::<i64>().map_err(|_| Reason::InvalidAmount)? * 10,
        Some(f) => f.parse().map_err(|_| Reason::InvalidAmount)?,
    };
    whole.checked_mul(100).and_then(|w| w.checked_add(cents)).ok_or(Reason::InvalidAmount)
}

fn amount_from_float(f: f64) -> Result<i64, Reason> {
    if !f.is_finite() {
        return Err(Reason::InvalidAmount);
    }
    if f < 0.0 || (f == 0.0 && f.is_sign_negative()) {
        return Err(Reason::NegativeAmount);
    }
    let fen = (f * 100.0).round();
    if (f * 100.0 - fen).abs() > 1e-6 || fen > 9e15 {
        return Err(Reason::InvalidAmount);
    }
    Ok(fen as i64)
}

fn amount_from_decimal(value: i128, scale: i8) -> Result<i64, Reason> {
    if value < 0 {
        return Err(Reason::NegativeAmount);
    }
    let fen = if scale <= 2 {
        value.checked_mul(10i128.pow(u32::from((2 - scale).unsigned_abs())))
    } else {
        let div = 10i128.pow(u32::from((scale - 2).unsigned_abs()));
        (value % div == 0).then_some(value / div)
    };
    fen.and_then(|f| i64::try_from(f).ok()).ok_or(Reason::InvalidAmount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("7"), Ok(700));
        assert_eq!(parse_amount("7.5"), Ok(750));
        assert_eq!(parse_amount("133.62"), Ok(13362));
        assert_eq!(parse_amount("-5.00"), Err(Reason::NegativeAmount));
        assert_eq!(parse_amount("-0.00"), Err(Reason::NegativeAmount));
        assert_eq!(parse_amount("+5.00"), Err(Reason::InvalidAmount));
        assert_eq!(parse_amount("1.234"), Err(Reason::InvalidAmount));
        assert_eq!(parse_amount("abc"), Err(Reason::InvalidAmount));
        assert_eq!(parse_amount("5."), Err(Reason::InvalidAmount));
        assert_eq!(parse_amount(".5"), Err(Reason::InvalidAmount));
        assert_eq!(amount_from_decimal(12345, 3), Err(Reason::InvalidAmount));
        assert_eq!(amount_from_decimal(12340, 3), Ok(1234));
        assert_eq!(amount_from_float(99.9), Ok(9990));
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(parse_timestamp("1700000000000x"), None);
        assert_eq!(parse_timestamp("2025-03-04T10:00:00+08:00"), Some(1_741_053_600_000));
        assert_eq!(parse_timestamp("2025-03-04T02:00:00Z"), Some(1_741_053_600_000));
        for bad in [
            "2025-03-04T10:00:00",
            "2025-03-04T25:00:00+08:00",
            "2024-02-30T10:00:00+08:00",
            "not-a-date",
            "2024/01/05 10:00",
            "12:00 2024-01-01",
            "yesterday",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_fast_timestamp_path_agrees_with_chrono() {
        let chrono = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok().map(|t| t.timestamp_millis());
        let mut fast = 0;
        for year in [1969, 1970, 2000, 2024, 2025, 2100] {
            for month in [0, 1, 2, 12, 13] {
                for day in [0, 1, 28, 29, 30, 31, 32] {
                    for (h, m, s) in [(0, 0, 0), (23, 59, 59), (24, 0, 0), (10, 60, 0), (10, 0, 60), (12, 34, 56)] {
                        for zone in ["Z", "+08:00", "-05:30", "+00:00", "-00:00", "+14:00", "+15:00", "+08:60", "z"] {
                            let t = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}{zone}");
                            if let Some(v) = fast_rfc3339(&t) {
                                fast += 1;
                                assert_eq!(Some(v), chrono(&t), "{t}");
                            }
                            assert_eq!(parse_timestamp(&t), chrono(&t), "{t}");
                        }
                    }
                }
            }
        }
        assert!(fast > 1000, "the fast path is taken ({fast})");
        for other in [
            "2025-03-04t10:00:00+08:00",
            "2025-03-04T10:00:00.5+08:00",
            "2025-03-04 10:00:00Z",
            "+2025-03-04T10:00:00Z",
        ] {
            assert_eq!(fast_rfc3339(other), None, "{other}");
            assert_eq!(parse_timestamp(other), chrono(other), "{other}");
        }
    }

    #[test]
    fn scores_and_bools() {
        assert_eq!(check(&Cell::Text("5"), Kind::ReviewScore), Ok(Value::Int(5)));
        assert_eq!(check(&Cell::Text("0"), Kind::ReviewScore), Err(Reason::OutOfRange));
        assert_eq!(check(&Cell::Text("6"), Kind::ReviewScore), Err(Reason::OutOfRange));
        assert_eq!(check(&Cell::Text("4.5"), Kind::ReviewScore), Err(Reason::InvalidInteger));
        assert_eq!(check(&Cell::Text("TRUE"), Kind::Bool), Ok(Value::Bool(true)));
        assert_eq!(check(&Cell::Text("1"), Kind::Bool), Err(Reason::InvalidBool));
        assert_eq!(check(&Cell::TimestampNoZone, Kind::Timestamp), Err(Reason::InvalidTimestamp));
    }
}
