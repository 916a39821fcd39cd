//! The manifest's files kept one per day: running totals (`partials`), daily scores
//! (`daily`) and event ids (`ids`). Each is `FOLDER/date=DAY/gN.parquet`, written by
//! the batch of generation N, so the manifest keeps, per day, only that N, and
//! writes the days as runs of consecutive days of one generation:
//! `[["2025-01-01", "2025-01-31", 1], …]`. A store of a year built month by month
//! holds about 13 runs per folder where it held 365 paths; every batch reads,
//! copies and writes its manifest, and did it at about 3 % of a day's batch.
//!
//! Manifests written before session 20 map each day to its path; they are read as
//! well (every path they hold has that form, which is checked).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use dengta_model::Day;
use serde::de::{self, Deserializer, MapAccess, SeqAccess};
use serde::ser::Serializer;

/// Per day, the generation of the batch that wrote its file.
pub type DayFiles = BTreeMap<Day, u64>;

/// The folders of the day-keyed files.
pub const PARTIALS: &str = "partials";
pub const DAILY: &str = "daily";
pub const IDS: &str = "ids";

/// Where the batch of `generation` writes `folder`'s file of `day`.
pub fn path(folder: &str, day: Day, generation: u64) -> PathBuf {
    PathBuf::from(format!("{folder}/date={day}/g{generation}.parquet"))
}

/// The runs of consecutive days with the same generation, in day order.
pub fn runs(files: &DayFiles) -> Vec<(Day, Day, u64)> {
    let mut runs: Vec<(Day, Day, u64)> = Vec::new();
    for (day, generation) in files {
        match runs.last_mut() {
            Some((_, last, g)) if g == generation && last.plus(1) == *day => *last = *day,
            _ => runs.push((*day, *day, *generation)),
        }
    }
    runs
}

pub fn serialize<S: Serializer>(files: &DayFiles, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(runs(files).into_iter().map(|(first, last, g)| (first.to_string(), last.to_string(), g)))
}

pub fn partials<'de, D: Deserializer<'de>>(d: D) -> Result<DayFiles, D::Error> {
    d.deserialize_any(Visitor(PARTIALS))
}

pub fn daily<'de, D: Deserializer<'de>>(d: D) -> Result<DayFiles, D::Error> {
    d.deserialize_any(Visitor(DAILY))
}

pub fn ids<'de, D: Deserializer<'de>>(d: D) -> Result<DayFiles, D::Error> {
    d.deserialize_any(Visitor(IDS))
}

/// Reads runs, or the map of days to paths of earlier manifests, of one folder.
struct Visitor(&'static str);

fn day<E: de::Error>(text: &str) -> Result<Day, E> {
    Day::parse(text).ok_or_else(|| E::custom(format!("`{text}` is not a date")))
}

impl<'de> de::Visitor<'de> for Visitor {
    type Value = DayFiles;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "runs of days [first, last, generation], or a map of days to {}/date=DAY/gN.parquet", self.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DayFiles, A::Error> {
        let mut files = DayFiles::new();
        while let Some((first, last, generation)) = seq.next_element::<(&str, &str, u64)>()? {
            let (first, last) = (day::<A::Error>(first)?, day::<A::Error>(last)?);
            if last < first || files.last_key_value().is_some_and(|(d, _)| *d >= first) {
                return Err(de::Error::custom(format!("{} run {first} to {last} out of order", self.0)));
            }
            files.extend(first.through(last).map(|d| (d, generation)));
        }
        Ok(files)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DayFiles, A::Error> {
        let mut files = DayFiles::new();
        while let Some((key, file)) = map.next_entry::<&str, &str>()? {
            let generation = file
                .strip_prefix(self.0)
                .and_then(|rest| rest.strip_prefix("/date="))
                .and_then(|rest| rest.strip_prefix(key))
                .and_then(|rest| rest.strip_prefix("/g"))
                .and_then(|rest| rest.strip_suffix(".parquet"))
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| de::Error::custom(format!("`{file}` is not a {}/date={key}/gN.parquet file", self.0)))?;
            files.insert(day::<A::Error>(key)?, generation);
        }
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Files {
        #[serde(serialize_with = "serialize", deserialize_with = "partials")]
        partials: DayFiles,
    }

    fn days(list: &[(&str, u64)]) -> DayFiles {
        list.iter().map(|(d, g)| (Day::parse(d).expect("a date"), *g)).collect()
    }

    #[test]
    fn consecutive_days_of_one_generation_are_one_run_and_read_back_the_same() {
        let files = Files {
            partials: days(&[
                ("2025-01-30", 1),
                ("2025-01-31", 1),
                ("2025-02-01", 1),
                ("2025-02-02", 2),
                ("2025-02-04", 2),
                ("2025-02-05", 2),
            ]),
        };
        let json = serde_json::to_string(&files).expect("serialize");
        assert_eq!(
            json,
            r#"{"partials":[["2025-01-30","2025-02-01",1],["2025-02-02","2025-02-02",2],["2025-02-04","2025-02-05",2]]}"#
        );
        assert_eq!(serde_json::from_str::<Files>(&json).expect("read back"), files);
    }

    #[test]
    fn a_map_of_days_to_paths_is_read_and_a_path_of_another_form_refused() {
        let old = r#"{"partials":{"2025-03-01":"partials/date=2025-03-01/g1.parquet","2025-03-02":"partials/date=2025-03-02/g12.parquet"}}"#;
        assert_eq!(
            serde_json::from_str::<Files>(old).expect("the old form").partials,
            days(&[("2025-03-01", 1), ("2025-03-02", 12)])
        );
        for bad in [
            r#"{"partials":{"2025-03-01":"partials/date=2025-03-02/g1.parquet"}}"#,
            r#"{"partials":{"2025-03-01":"daily/date=2025-03-01/g1.parquet"}}"#,
            r#"{"partials":{"2025-03-01":"partials/date=2025-03-01/x.parquet"}}"#,
            r#"{"partials":[["2025-03-02","2025-03-01",1]]}"#,
            r#"{"partials":[["2025-03-01","2025-03-02",1],["2025-03-02","2025-03-03",2]]}"#,
        ] {
            assert!(serde_json::from_str::<Files>(bad).is_err(), "{bad}");
        }
    }
}
