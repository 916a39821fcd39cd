//! Marketing access (营销准入, SPEC §6): may a store join a campaign on a day?

use std::collections::BTreeMap;
use std::path::Path;

use dengta_model::Day;
use dengta_model::exact::{self, Exact};
use dengta_rules::{RuleBook, Verdict};
use serde::Deserialize;

use crate::daily::ScoreRow;
use crate::dataset::Store;
use crate::error::{Error, Result};

/// A campaign: its evaluation day and per-category thresholds (categories without
/// one use their `pass_threshold`).
#[derive(Clone, Debug, PartialEq)]
pub struct Campaign {
    /// Name shown in outputs.
    pub name: String,
    /// The day whose score decides.
    pub date: Option<Day>,
    /// Threshold per category.
    pub thresholds: BTreeMap<String, Exact>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    name: String,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    thresholds: BTreeMap<String, f64>,
}

impl Campaign {
    /// The default: every category's `pass_threshold`.
    pub fn default_access() -> Campaign {
        Campaign { name: "default access (pass_threshold)".into(), date: None, thresholds: BTreeMap::new() }
    }

    /// Reads a campaign file (TOML: `name`, optional `date`, `[thresholds]`).
    pub fn load(path: &Path) -> Result<Campaign> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let raw: RawCampaign = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].lines().count().max(1));
            Error::input(path, format!("line {}: {}", line.map_or("?".into(), |l| l.to_string()), e.message()))
        })?;
        let date = match raw.date {
            None => None,
            Some(d) => Some(Day::parse(&d).ok_or_else(|| Error::input(path, format!("date `{d}` is not YYYY-MM-DD")))?),
        };
        let mut thresholds = BTreeMap::new();
        for (category, t) in raw.thresholds {
            let value = exact::from_literal_f64(t)
                .filter(|v| *v >= exact::int(0) && *v <= exact::int(5))
                .ok_or_else(|| Error::input(path, format!("threshold of `{category}` must be a score 0 to 5")))?;
            thresholds.insert(category, value);
        }
        Ok(Campaign { name: raw.name, date, thresholds })
    }
}

/// One store's access decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Eligibility {
    /// Store.
    pub store_id: String,
    /// Evaluation day.
    pub date: Day,
    /// Main category.
    pub category: String,
    /// Its daily row's status and reason (`not_operating` when it has none).
    pub status: String,
    /// Reason word.
    pub reason: String,
    /// Score shown (two decimals), when operating.
    pub score: Option<String>,
    /// The threshold applied, when there is one.
    pub threshold: Option<String>,
    /// May join.
    pub eligible: bool,
    /// Why, in words.
    pub why: String,
}

/// Decides every store of the dataset on `date` from that day's daily rows.
pub fn decide(
    stores: &[Store],
    rows: &[ScoreRow],
    book: &RuleBook,
    campaign: &Campaign,
    date: Day,
) -> Vec<Eligibility> {
    let mut stores: Vec<_> = stores.iter().collect();
    stores.sort_by(|a, b| a.id.cmp(&b.id));
    stores
        .into_iter()
        .map(|s| {
            let row = rows.iter().find(|r| r.store_id == s.id && r.date == date);
            let Some(r) = row else {
                let why = if !s.onboarded {
                    "never completed onboarding".to_string()
                } else if s.opened_on > date {
                    format!("not open yet (opens {})", s.opened_on)
                } else {
                    format!("terminated (applied on {})", s.closed_on.map_or_else(String::new, |c| c.to_string()))
                };
                return Eligibility {
                    store_id: s.id.clone(),
                    date,
                    category: s.main_category.clone(),
                    status: "not_operating".into(),
                    reason: String::new(),
                    score: None,
                    threshold: None,
                    eligible: false,
                    why,
                };
            };
            let default = book
                .in_force(date)
                .and_then(|rules| rules.categories.get(&r.category))
                .and_then(|c| c.assessment.as_ref())
                .map(|a| a.pass_threshold.clone());
            let threshold = campaign.thresholds.get(&r.category).cloned().or(default);
            let score = exact::ratio(i128::from(r.score_cents), 100);
            let (eligible, why) = match (r.verdict, &threshold) {
                (Verdict::DefaultPass(reason), _) => {
                    (true, format!("default pass ({}) counts as passing", reason.name()))
                }
                (Verdict::Scored, Some(t)) if score >= *t => {
                    (true, format!("score {} ≥ threshold {}", r.score_text(), exact::format_fixed(t, 2)))
                }
                (Verdict::Scored, Some(t)) => {
                    (false, format!("score {} < threshold {}", r.score_text(), exact::format_fixed(t, 2)))
                }
                (Verdict::Scored, None) => (true, "no threshold for this category".into()),
            };
            Eligibility {
                store_id: s.id.clone(),
                date,
                category: r.category.clone(),
                status: r.verdict.status().into(),
                reason: r.verdict.reason().into(),
                score: Some(r.score_text()),
                threshold: threshold.map(|t| exact::format_fixed(&t, 2)),
                eligible,
                why,
            }
        })
        .collect()
}
