//! The rule file as written: serde structs that mirror the TOML, with spans for the
//! keys that validation may complain about. Only [`crate::RuleSet`] is public.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A number exactly as the author wrote it (integer or decimal literal).
#[derive(Clone, Debug)]
pub(crate) struct Num(pub(crate) dengta_model::exact::Exact);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(dengta_model::exact::int(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Num, E> {
                i64::try_from(v).map(|v| Num(dengta_model::exact::int(v))).map_err(|_| E::custom("number too large"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Num, E> {
                dengta_model::exact::from_literal_f64(v).map(Num).ok_or_else(|| E::custom("not a finite number"))
            }
        }
        de.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRuleSet {
    pub version: Spanned<String>,
    pub effective_from: Spanned<String>,
    pub business_utc_offset: Spanned<String>,
    pub deadlines: RawDeadlines,
    pub stars: Spanned<RawStars>,
    pub indicators: BTreeMap<String, Spanned<RawIndicator>>,
    pub categories: BTreeMap<String, Spanned<RawCategory>>,
    pub quality: Spanned<RawQuality>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDeadlines {
    pub pickup_secs: Spanned<i64>,
    pub reply_secs: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStars {
    pub bands: Vec<RawStarBand>,
    pub otherwise: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStarBand {
    pub min_score: Num,
    pub star: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIndicator {
    pub dimension: Spanned<String>,
    pub window_days: Spanned<i64>,
    pub min_samples: Spanned<i64>,
    pub weight: Spanned<Num>,
    pub curve: Spanned<Vec<(Num, Num)>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCategory {
    #[serde(default)]
    pub label: Option<String>,
    pub assessed: bool,
    #[serde(default)]
    pub weights: Option<Spanned<BTreeMap<String, Num>>>,
    #[serde(default)]
    pub pass_threshold: Option<Num>,
    #[serde(default)]
    pub max_noncompliant_months: Option<u32>,
    pub annual_fee: Spanned<Num>,
    pub refund_tiers: Spanned<Vec<(Num, Num)>>,
    #[serde(default)]
    pub refund_min_score: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuality {
    pub window_days: Spanned<i64>,
    pub min_orders: Spanned<i64>,
    pub bad_review_max_item_score: i64,
    pub quality_refund_reasons: Vec<String>,
    pub bad_review_rate_curve: Spanned<Vec<(Num, Num)>>,
    pub quality_refund_rate_curve: Spanned<Vec<(Num, Num)>>,
    pub levels: Vec<RawLevel>,
    pub otherwise: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLevel {
    pub min_score: Num,
    pub level: String,
}
