//! Business days, time-zone offsets and windows (SPEC §2).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Milliseconds in a day: windows and business days are whole days.
pub const MS_PER_DAY: i64 = 86_400_000;

/// A business day, as days since 1970-01-01 (the same encoding as Arrow `Date32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Day(pub i32);

impl Day {
    /// The day of a calendar date.
    pub fn from_date(date: NaiveDate) -> Day {
        Day(date.num_days_from_ce() - EPOCH_DAYS_FROM_CE)
    }

    /// The calendar date of this day.
    pub fn date(self) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.0 + EPOCH_DAYS_FROM_CE)
            .expect("days since 1970 that came from a NaiveDate or an i64 instant are in chrono's range")
    }

    /// Parses `YYYY-MM-DD` strictly (four-digit year, two-digit month and day).
    pub fn parse(text: &str) -> Option<Day> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let digits_ok = bytes.iter().enumerate().all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !digits_ok {
            return None;
        }
        let num = |range: std::ops::Range<usize>| bytes[range].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        let year = i32::try_from(num(0..4)).ok()?;
        NaiveDate::from_ymd_opt(year, num(5..7), num(8..10)).map(Day::from_date)
    }

    /// The day `n` days later (or earlier, for negative `n`).
    pub fn plus(self, n: i32) -> Day {
        Day(self.0 + n)
    }

    /// Every day from `self` to `last`, both included.
    pub fn through(self, last: Day) -> impl Iterator<Item = Day> {
        (self.0..=last.0).map(Day)
    }

    /// The first instant of this day, as epoch milliseconds, for a business offset.
    pub fn start_ms(self, offset: UtcOffset) -> i64 {
        i64::from(self.0) * MS_PER_DAY - offset.millis()
    }
}

/// Days from 0001-01-01 (chrono's CE day 1) to 1970-01-01.
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // chrono's own `YYYY-MM-DD`, without parsing a format string each time (a
        // nightly batch writes some thousands of dates as map keys and file names).
        write!(f, "{}", self.date())
    }
}

/// The business time zone as a fixed offset from UTC (Asia/Shanghai is `+08:00`
/// all year). A fixed offset keeps the business day a pure integer function of the
/// instant, so the same arithmetic runs in DataFusion, on Ballista and in tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UtcOffset {
    seconds: i32,
}

impl UtcOffset {
    /// Parses `+hh:mm` or `-hh:mm` (also `Z`).
    pub fn parse(text: &str) -> Option<UtcOffset> {
        if text == "Z" {
            return Some(UtcOffset { seconds: 0 });
        }
        let bytes = text.as_bytes();
        if bytes.len() != 6 || bytes[3] != b':' {
            return None;
        }
        let sign = match bytes[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let hours: i32 = text[1..3].parse().ok()?;
        let minutes: i32 = text[4..6].parse().ok()?;
        if hours > 14 || minutes > 59 {
            return None;
        }
        Some(UtcOffset { seconds: sign * (hours * 3600 + minutes * 60) })
    }

    /// The offset in milliseconds.
    pub fn millis(self) -> i64 {
        i64::from(self.seconds) * 1000
    }

    /// The business day of an instant given in epoch milliseconds.
    pub fn business_day(self, epoch_ms: i64) -> Day {
        let local = epoch_ms + self.millis();
        Day(local.div_euclid(MS_PER_DAY) as i32)
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.seconds < 0 { '-' } else { '+' };
        let abs = self.seconds.abs();
        write!(f, "{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
    }
}

/// A window of `days` business days ending on (and including) the day a score is as
/// of: `[start of D−W+1, end of D)` (SPEC §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    days: u32,
}

impl Window {
    /// A window of `days` days; `days` must be at least 1 (checked by rule validation).
    pub fn new(days: u32) -> Window {
        Window { days: days.max(1) }
    }

    /// The number of days.
    pub fn days(self) -> u32 {
        self.days
    }

    /// The first day of the window as of `as_of`.
    pub fn first_day(self, as_of: Day) -> Day {
        as_of.plus(1 - self.days as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHANGHAI: &str = "+08:00";

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339).expect("test timestamp").timestamp_millis()
    }

    #[test]
    fn business_day_edges_in_local_and_utc_notation() {
        let off = UtcOffset::parse(SHANGHAI).expect("offset");
        // 23:59:59 local is still the 1st; midnight local is the 2nd.
        assert_eq!(off.business_day(ms("2025-03-01T23:59:59+08:00")).to_string(), "2025-03-01");
        assert_eq!(off.business_day(ms("2025-03-02T00:00:00+08:00")).to_string(), "2025-03-02");
        // The same instants written in UTC.
        assert_eq!(off.business_day(ms("2025-03-01T15:59:59Z")).to_string(), "2025-03-01");
        assert_eq!(off.business_day(ms("2025-03-01T16:00:00Z")).to_string(), "2025-03-02");
    }

    #[test]
    fn business_day_before_1970_uses_floor_division() {
        let utc = UtcOffset::parse("Z").expect("offset");
        assert_eq!(utc.business_day(-1).to_string(), "1969-12-31");
    }

    #[test]
    fn day_parse_is_strict() {
        assert!(Day::parse("2025-02-28").is_some());
        assert!(Day::parse("2024-02-29").is_some());
        assert!(Day::parse("2025-02-29").is_none());
        assert!(Day::parse("2024-13-01").is_none());
        assert!(Day::parse("2024-1-01").is_none());
        assert!(Day::parse("2024/01/01").is_none());
    }

    #[test]
    fn day_text_is_iso_and_round_trips() {
        let first = Day::parse("0001-01-01").expect("day");
        let last = Day::parse("9999-12-31").expect("day");
        let step = (last.0 - first.0) / 5000;
        for day in (0..=5000).map(|i| first.plus(i * step)).chain([last, Day(0), Day(-1)]) {
            let text = day.to_string();
            assert_eq!(text, day.date().format("%Y-%m-%d").to_string());
            assert_eq!(Day::parse(&text), Some(day), "{text}");
        }
    }

    #[test]
    fn window_start_and_day_start() {
        let d = Day::parse("2025-03-31").expect("day");
        assert_eq!(Window::new(1).first_day(d), d);
        assert_eq!(Window::new(30).first_day(d).to_string(), "2025-03-02");
        let off = UtcOffset::parse(SHANGHAI).expect("offset");
        assert_eq!(d.start_ms(off), ms("2025-03-31T00:00:00+08:00"));
    }

    #[test]
    fn offset_round_trips() {
        for text in ["+08:00", "-03:30", "+00:00"] {
            assert_eq!(UtcOffset::parse(text).expect("offset").to_string(), text);
        }
        assert!(UtcOffset::parse("08:00").is_none());
        assert!(UtcOffset::parse("+8:00").is_none());
    }
}
