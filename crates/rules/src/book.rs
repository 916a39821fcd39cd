//! Several rule versions and which one is in force on a day (SPEC §10).

use dengta_model::Day;

use crate::error::{Error, Result, RuleError};
use crate::rule_set::RuleSet;

/// Rule versions ordered by `effective_from`.
#[derive(Clone, Debug)]
pub struct RuleBook {
    versions: Vec<RuleSet>,
}

impl RuleBook {
    /// A book of the given versions; two versions with the same name or the same
    /// `effective_from` are an error.
    pub fn new(mut versions: Vec<RuleSet>) -> Result<RuleBook> {
        versions.sort_by_key(|r| r.effective_from);
        let mut errors = Vec::new();
        for pair in versions.windows(2) {
            if pair[0].effective_from == pair[1].effective_from {
                errors.push(RuleError {
                    file: pair[1].source_name.clone(),
                    line: None,
                    key: "effective_from".into(),
                    message: format!(
                        "{} is also the effective_from of `{}` in {}; two versions cannot start on the same day",
                        pair[1].effective_from, pair[0].version, pair[0].source_name
                    ),
                });
            }
        }
        for (i, a) in versions.iter().enumerate() {
            if versions[..i].iter().any(|b| b.version == a.version) {
                errors.push(RuleError {
                    file: a.source_name.clone(),
                    line: None,
                    key: "version".into(),
                    message: format!("version `{}` is given twice", a.version),
                });
            }
        }
        if versions.is_empty() {
            errors.push(RuleError {
                file: String::new(),
                line: None,
                key: String::new(),
                message: "no rule file given".into(),
            });
        }
        if errors.is_empty() { Ok(RuleBook { versions }) } else { Err(Error::InvalidRules(errors)) }
    }

    /// The book holding only the built-in default rules.
    pub fn default_book() -> RuleBook {
        RuleBook { versions: vec![RuleSet::default_rules()] }
    }

    /// The version in force on `day`: the latest whose `effective_from` is on or
    /// before it.
    pub fn in_force(&self, day: Day) -> Option<&RuleSet> {
        self.versions.iter().rev().find(|r| r.effective_from <= day)
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> &[RuleSet] {
        &self.versions
    }

    /// A version by name.
    pub fn by_version(&self, version: &str) -> Option<&RuleSet> {
        self.versions.iter().find(|r| r.version == version)
    }
}
