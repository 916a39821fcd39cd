//! The Chinese working-day calendar (SPEC §7: refunds due 7 working days after an
//! exit application), from the data file `calendar/cn-workdays.toml`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Weekday};
use dengta_model::Day;
use serde::Deserialize;

/// The calendar shipped with dengta.
pub const CN_WORKDAYS_TOML: &str = include_str!("../../../calendar/cn-workdays.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    years: BTreeMap<String, RawYear>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    holidays: Vec<String>,
    makeup_workdays: Vec<String>,
}

/// A date the calendar cannot answer for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{day} is outside the working-day calendar (it covers {first}–{last}); add the year's State Council holiday notice to calendar/cn-workdays.toml"
)]
pub struct OutsideCalendar {
    /// The day asked about.
    pub day: Day,
    /// First year covered.
    pub first: i32,
    /// Last year covered.
    pub last: i32,
}

/// Holidays and make-up working days of the covered years.
#[derive(Clone, Debug)]
pub struct WorkCalendar {
    years: BTreeSet<i32>,
    holidays: BTreeSet<Day>,
    makeup: BTreeSet<Day>,
}

impl WorkCalendar {
    /// The built-in calendar.
    pub fn builtin() -> WorkCalendar {
        WorkCalendar::parse(CN_WORKDAYS_TOML).expect("the built-in calendar is checked by this crate's tests")
    }

    /// Parses a calendar file.
    pub fn parse(text: &str) -> Result<WorkCalendar, String> {
        let raw: RawCalendar = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut cal = WorkCalendar { years: BTreeSet::new(), holidays: BTreeSet::new(), makeup: BTreeSet::new() };
        for (year, y) in raw.years {
            let year: i32 = year.parse().map_err(|_| format!("`{year}` is not a year"))?;
            cal.years.insert(year);
            for (list, target) in [(&y.holidays, &mut cal.holidays), (&y.makeup_workdays, &mut cal.makeup)] {
                for d in list {
                    let day = Day::parse(d).ok_or_else(|| format!("`{d}` is not a date"))?;
                    if day.date().year() != year {
                        return Err(format!("{d} is listed under {year}"));
                    }
                    target.insert(day);
                }
            }
        }
        Ok(cal)
    }

    fn check(&self, day: Day) -> Result<(), OutsideCalendar> {
        if self.years.contains(&day.date().year()) {
            return Ok(());
        }
        Err(OutsideCalendar {
            day,
            first: self.years.first().copied().unwrap_or(0),
            last: self.years.last().copied().unwrap_or(0),
        })
    }

    /// Is `day` a working day?
    pub fn is_working_day(&self, day: Day) -> Result<bool, OutsideCalendar> {
        self.check(day)?;
        if self.makeup.contains(&day) {
            return Ok(true);
        }
        let weekend = matches!(day.date().weekday(), Weekday::Sat | Weekday::Sun);
        Ok(!weekend && !self.holidays.contains(&day))
    }

    /// The `n`-th working day after `day` (not counting `day` itself).
    pub fn working_days_after(&self, day: Day, n: u32) -> Result<Day, OutsideCalendar> {
        let mut d = day;
        let mut left = n;
        while left > 0 {
            d = d.plus(1);
            if self.is_working_day(d)? {
                left -= 1;
            }
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        Day::parse(s).expect("date")
    }

    #[test]
    fn spring_festival_2025_with_a_makeup_saturday() {
        let c = WorkCalendar::builtin();
        // Applied Sat 2025-01-25: Sun 26 (make-up) 1, Mon 27 2, holiday 28 Jan–4 Feb,
        // Wed 5 3, Thu 6 4, Fri 7 5, Sat 8 (make-up) 6, Mon 10 7.
        assert_eq!(c.working_days_after(day("2025-01-25"), 7), Ok(day("2025-02-10")));
        assert_eq!(c.is_working_day(day("2025-02-08")), Ok(true));
        assert_eq!(c.is_working_day(day("2025-01-29")), Ok(false));
    }

    #[test]
    fn national_day_2025_and_2024() {
        let c = WorkCalendar::builtin();
        // Applied Fri 2025-09-26: Sun 28 (make-up) 1, Mon 29 2, Tue 30 3, holiday 1–8 Oct,
        // Thu 9 4, Fri 10 5, Sat 11 (make-up) 6, Mon 13 7.
        assert_eq!(c.working_days_after(day("2025-09-26"), 7), Ok(day("2025-10-13")));
        // Applied Mon 2024-09-30: holiday 1–7 Oct, Tue 8 1 … Fri 11 4, Sat 12 (make-up) 5,
        // Mon 14 6, Tue 15 7.
        assert_eq!(c.working_days_after(day("2024-09-30"), 7), Ok(day("2024-10-15")));
    }

    #[test]
    fn an_ordinary_week_and_the_2026_spring_festival() {
        let c = WorkCalendar::builtin();
        assert_eq!(c.working_days_after(day("2025-03-02"), 7), Ok(day("2025-03-11")));
        // Applied Fri 2026-02-13: Sat 14 (make-up) 1, holiday 15–23, Tue 24 2 … Fri 27 5,
        // Sat 28 (make-up) 6, Mon 2 Mar 7.
        assert_eq!(c.working_days_after(day("2026-02-13"), 7), Ok(day("2026-03-02")));
    }

    #[test]
    fn outside_the_calendar_is_an_error() {
        let c = WorkCalendar::builtin();
        let err = c.working_days_after(day("2026-12-28"), 7).expect_err("2027 is not covered");
        assert_eq!(err.day, day("2027-01-01"));
        assert!(err.to_string().contains("outside the working-day calendar"));
        assert!(c.is_working_day(day("2023-06-01")).is_err());
    }
}
