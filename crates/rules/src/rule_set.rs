//! The validated rule set and its validation from the raw TOML.

use std::collections::BTreeMap;
use std::ops::Range;

use dengta_model::exact::{self, Exact};
use dengta_model::{Day, Dimension, Indicator, UtcOffset, Window};
use num_traits::One;
use sha2::{Digest, Sha256};

use crate::curve::Curve;
use crate::error::{Error, Result, RuleError};
use crate::raw::{Num, RawCategory, RawIndicator, RawQuality, RawRuleSet, RawStars};
use crate::shares::Shares;

/// A star rating in half stars (`Star(9)` is 4.5 stars).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Star(pub u8);

impl std::fmt::Display for Star {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0 / 2, if self.0 % 2 == 1 { 5 } else { 0 })
    }
}

/// The star bands: the first band whose `min_score` the rounded score reaches.
#[derive(Clone, Debug, PartialEq)]
pub struct StarBands {
    /// `(min_score, star)`, highest first.
    pub bands: Vec<(Exact, Star)>,
    /// The star below every band.
    pub otherwise: Star,
}

impl StarBands {
    /// The star of a rounded score.
    pub fn star(&self, rounded_score: &Exact) -> Star {
        self.bands.iter().find(|(min, _)| rounded_score >= min).map_or(self.otherwise, |(_, star)| *star)
    }
}

/// How one indicator is scored in a rule version.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorRule {
    /// The indicator of the catalogue.
    pub indicator: Indicator,
    /// The dimension it belongs to.
    pub dimension: Dimension,
    /// Its window.
    pub window: Window,
    /// Below this denominator the indicator has no data.
    pub min_samples: i64,
    /// Weight within its dimension.
    pub weight: Exact,
    /// The score curve.
    pub curve: Curve,
}

/// A GMV threshold (yuan) and the share of the fee refunded from it on.
#[derive(Clone, Debug, PartialEq)]
pub struct RefundTier {
    /// Total GMV needed, in yuan (before proration).
    pub gmv: Exact,
    /// Share of `fee_due` refunded.
    pub ratio: Exact,
}

/// The assessment part of an assessed category.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// Dimension weights, indexed by [`Dimension::index`]; they sum to 1.
    pub weights: [Exact; 5],
    /// A month (or campaign day) passes at or above this rounded score.
    pub pass_threshold: Exact,
    /// Renewal fails above this many non-compliant months.
    pub max_noncompliant_months: u32,
    /// The annual score needed for a fee refund.
    pub refund_min_score: Exact,
}

/// A category of the rule file.
#[derive(Clone, Debug, PartialEq)]
pub struct CategoryRule {
    /// Its key (`apparel`).
    pub name: String,
    /// Human label (`服饰`), if given.
    pub label: Option<String>,
    /// `None` when the category is not assessed (every day is a default pass).
    pub assessment: Option<Assessment>,
    /// Annual software service fee, yuan.
    pub annual_fee: Exact,
    /// Refund tiers, ascending by GMV.
    pub refund_tiers: Vec<RefundTier>,
}

/// Product-quality rules (SPEC §8).
#[derive(Clone, Debug, PartialEq)]
pub struct QualityRules {
    /// Window of the item rates.
    pub window: Window,
    /// Items with fewer orders paid in the window get no row.
    pub min_orders: i64,
    /// A review with `item_score` at or below this is a bad review.
    pub bad_review_max_item_score: i64,
    /// Refund reasons that count as quality refunds.
    pub quality_refund_reasons: Vec<String>,
    /// Curve of the bad-review rate.
    pub bad_review_rate_curve: Curve,
    /// Curve of the quality-refund rate.
    pub quality_refund_rate_curve: Curve,
    /// `(min_score, level)`, highest first.
    pub levels: Vec<(Exact, String)>,
    /// The level below every band.
    pub otherwise: String,
}

/// A validated rule version. Build it with [`RuleSet::parse`] or
/// [`RuleSet::default_rules`].
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSet {
    /// The version name recorded with every score.
    pub version: String,
    /// The first day this version is in force.
    pub effective_from: Day,
    /// The business time zone offset.
    pub offset: UtcOffset,
    /// Pickup deadline after payment, ms.
    pub pickup_deadline_ms: i64,
    /// Human reply deadline after a chat starts, ms.
    pub reply_deadline_ms: i64,
    /// Indicators used by this version, in catalogue order.
    pub indicators: Vec<IndicatorRule>,
    /// Categories by name.
    pub categories: BTreeMap<String, CategoryRule>,
    /// Star bands.
    pub stars: StarBands,
    /// Product quality rules.
    pub quality: QualityRules,
    /// Where the rules came from (a path, or the built-in name).
    pub source_name: String,
    /// The file's text, kept so a run can store exactly what scored it.
    pub source_text: String,
    /// SHA-256 of the file's text, hex.
    pub content_hash: String,
    /// The re-normalised weights, from `indicators` and `categories` (which are
    /// therefore not changed after parsing).
    pub(crate) shares: Shares,
}

impl RuleSet {
    /// The rule file shipped with dengta (SPEC defaults).
    pub fn default_rules() -> RuleSet {
        RuleSet::parse(crate::DEFAULT_RULES_NAME, crate::DEFAULT_RULES_TOML)
            .expect("the built-in rule file is validated by this crate's tests")
    }

    /// Reads and validates a rule file.
    pub fn load(path: &std::path::Path) -> Result<RuleSet> {
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        RuleSet::parse(&path.display().to_string(), &text)
    }

    /// Parses and validates rule-file text; `name` is used in error messages.
    pub fn parse(name: &str, text: &str) -> Result<RuleSet> {
        let mut v = Validator { file: name, text, errors: Vec::new(), dims_named: Vec::new() };
        let raw: RawRuleSet = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let line = e.span().map(|s| v.line(s.start));
                let message = e.message().trim().to_string();
                let key = unknown_key(&message).unwrap_or_default();
                return Err(Error::InvalidRules(vec![RuleError { file: name.to_string(), line, key, message }]));
            }
        };
        let rules = v.rule_set(raw);
        if v.errors.is_empty() {
            let rules = rules.expect("a rule set is built whenever no error was recorded");
            Ok(rules)
        } else {
            Err(Error::InvalidRules(v.errors))
        }
    }

    /// The rule of an indicator, if this version uses it.
    pub fn indicator(&self, indicator: Indicator) -> Option<&IndicatorRule> {
        self.indicators.iter().find(|r| r.indicator == indicator)
    }

    /// The longest indicator window of this version, in days.
    pub fn longest_window_days(&self) -> u32 {
        self.indicators.iter().map(|r| r.window.days()).max().unwrap_or(1)
    }
}

/// Extracts the key name from toml's "unknown field `x`" message.
fn unknown_key(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}

struct Validator<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<RuleError>,
    /// Dimensions named by indicators, valid or not: an invalid indicator is reported
    /// once, not again as a dimension without indicators.
    dims_named: Vec<Dimension>,
}

impl Validator<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].bytes().filter(|b| *b == b'\n').count() + 1
    }

    fn error(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let line = Some(self.line(span.start));
        self.errors.push(RuleError { file: self.file.to_string(), line, key: key.into(), message: message.into() });
    }

    fn rule_set(&mut self, raw: RawRuleSet) -> Option<RuleSet> {
        let version = raw.version.get_ref().trim().to_string();
        if version.is_empty() {
            self.error(raw.version.span(), "version", "the version must not be empty");
        }
        let effective_from = Day::parse(raw.effective_from.get_ref());
        if effective_from.is_none() {
            self.error(
                raw.effective_from.span(),
                "effective_from",
                format!("`{}` is not a date; write YYYY-MM-DD", raw.effective_from.get_ref()),
            );
        }
        let offset = UtcOffset::parse(raw.business_utc_offset.get_ref());
        if offset.is_none() {
            self.error(
                raw.business_utc_offset.span(),
                "business_utc_offset",
                format!("`{}` is not an offset; write +hh:mm, e.g. +08:00", raw.business_utc_offset.get_ref()),
            );
        }
        let pickup = self.positive(&raw.deadlines.pickup_secs, "deadlines.pickup_secs");
        let reply = self.positive(&raw.deadlines.reply_secs, "deadlines.reply_secs");
        let stars = self.stars(&raw.stars);

        let mut indicators = Vec::new();
        for (name, spanned) in &raw.indicators {
            if let Some(rule) = self.indicator(name, spanned.span(), spanned.get_ref()) {
                indicators.push(rule);
            }
        }
        indicators.sort_by_key(|r| r.indicator);
        self.dimension_weights(&indicators, &raw);

        let covered: Vec<Dimension> =
            Dimension::ALL.into_iter().filter(|d| indicators.iter().any(|r| r.dimension == *d)).collect();
        let mut categories = BTreeMap::new();
        for (name, spanned) in &raw.categories {
            if let Some(rule) = self.category(name, spanned.span(), spanned.get_ref(), &covered) {
                categories.insert(name.clone(), rule);
            }
        }
        let quality = self.quality(&raw.quality);

        Some(RuleSet {
            version,
            effective_from: effective_from?,
            offset: offset?,
            pickup_deadline_ms: pickup? * 1000,
            reply_deadline_ms: reply? * 1000,
            shares: Shares::new(&indicators, &categories),
            indicators,
            categories,
            stars: stars?,
            quality: quality?,
            source_name: self.file.to_string(),
            source_text: self.text.to_string(),
            content_hash: hex(&Sha256::digest(self.text.as_bytes())),
        })
    }

    fn positive(&mut self, value: &toml::Spanned<i64>, key: &str) -> Option<i64> {
        if *value.get_ref() <= 0 {
            self.error(value.span(), key, format!("{} must be a positive whole number", value.get_ref()));
            return None;
        }
        Some(*value.get_ref())
    }

    fn stars(&mut self, raw: &toml::Spanned<RawStars>) -> Option<StarBands> {
        let span = raw.span();
        let mut ok = true;
        let mut star_of = |v: &Exact, this: &mut Self| -> Star {
            let halves = v * exact::int(2);
            if !halves.is_integer() || v.is_negative() || *v > exact::int(5) {
                this.error(
                    span.clone(),
                    "stars",
                    format!("star {} must be 0 to 5 in steps of 0.5", exact::format_trimmed(v, 6)),
                );
                ok = false;
                return Star(0);
            }
            Star(halves.trunc_i64().and_then(|h| h.try_into().ok()).unwrap_or(0))
        };
        let mut bands = Vec::new();
        for band in &raw.get_ref().bands {
            let star = star_of(&band.star.0, self);
            bands.push((band.min_score.0.clone(), star));
        }
        let otherwise = star_of(&raw.get_ref().otherwise.0, self);
        if bands.windows(2).any(|w| w[0].0 <= w[1].0) {
            self.error(span, "stars.bands", "bands must be listed from the highest min_score down, without repeats");
            ok = false;
        }
        ok.then_some(StarBands { bands, otherwise })
    }

    fn curve(&mut self, raw: &toml::Spanned<Vec<(Num, Num)>>, key: &str) -> Option<Curve> {
        let points: Vec<(Exact, Exact)> = raw.get_ref().iter().map(|(v, s)| (v.0.clone(), s.0.clone())).collect();
        if points.len() < 2 {
            self.error(raw.span(), key, "a curve needs at least two [value, score] points");
            return None;
        }
        if points.windows(2).any(|w| w[0].0 >= w[1].0) {
            self.error(raw.span(), key, "curve points must be sorted by value, ascending, without repeated values");
            return None;
        }
        if points.iter().any(|(_, s)| s.is_negative() || *s > exact::int(5)) {
            self.error(raw.span(), key, "curve scores must lie between 0 and 5");
            return None;
        }
        Some(Curve::new(points))
    }

    fn window(&mut self, raw: &toml::Spanned<i64>, key: &str) -> Option<Window> {
        let days = *raw.get_ref();
        if !(1..=3660).contains(&days) {
            self.error(raw.span(), key, format!("{days} days is not a window; use 1 to 3660"));
            return None;
        }
        Some(Window::new(days as u32))
    }

    fn indicator(&mut self, name: &str, span: Range<usize>, raw: &RawIndicator) -> Option<IndicatorRule> {
        let key = format!("indicators.{name}");
        let Some(indicator) = Indicator::from_name(name) else {
            let known: Vec<&str> = Indicator::ALL.iter().map(|i| i.name()).collect();
            self.error(span, key, format!("unknown indicator; the catalogue has {}", known.join(", ")));
            return None;
        };
        let dimension = Dimension::from_name(raw.dimension.get_ref());
        self.dims_named.extend(dimension);
        if dimension.is_none() {
            self.error(
                raw.dimension.span(),
                format!("{key}.dimension"),
                format!(
                    "unknown dimension `{}`; use product, logistics, after_sales, disputes or consultation",
                    raw.dimension.get_ref()
                ),
            );
        }
        let window = self.window(&raw.window_days, &format!("{key}.window_days"));
        let min_samples = *raw.min_samples.get_ref();
        if min_samples < 1 {
            self.error(raw.min_samples.span(), format!("{key}.min_samples"), "min_samples must be at least 1");
        }
        let weight = raw.weight.get_ref().0.clone();
        if weight.is_negative() || weight > exact::int(1) {
            self.error(
                raw.weight.span(),
                format!("{key}.weight"),
                format!("weight {} is outside 0..=1", exact::format_trimmed(&weight, 6)),
            );
        }
        let curve = self.curve(&raw.curve, &format!("{key}.curve"));
        Some(IndicatorRule {
            indicator,
            dimension: dimension?,
            window: window?,
            min_samples: min_samples.max(1),
            weight,
            curve: curve?,
        })
    }

    fn dimension_weights(&mut self, indicators: &[IndicatorRule], raw: &RawRuleSet) {
        for dimension in Dimension::ALL {
            let members: Vec<&IndicatorRule> = indicators.iter().filter(|r| r.dimension == dimension).collect();
            if members.is_empty() && self.dims_named.contains(&dimension) {
                continue;
            }
            if members.is_empty() {
                self.errors.push(RuleError {
                    file: self.file.to_string(),
                    line: None,
                    key: "indicators".into(),
                    message: format!(
                        "no indicator covers the {dimension} dimension; every dimension needs at least one"
                    ),
                });
                continue;
            }
            let sum: Exact = members.iter().map(|r| r.weight.clone()).sum();
            if !sum.is_one() {
                let first = members[0].indicator.name();
                let span = raw.indicators.get(first).map_or(0..0, |s| s.get_ref().weight.span());
                let names: Vec<&str> = members.iter().map(|r| r.indicator.name()).collect();
                self.error(
                    span,
                    format!("indicators.{first}.weight"),
                    format!(
                        "weights of the {dimension} dimension ({}) sum to {}, not 1",
                        names.join(", "),
                        exact::format_trimmed(&sum, 6)
                    ),
                );
            }
        }
    }

    fn category(
        &mut self,
        name: &str,
        span: Range<usize>,
        raw: &RawCategory,
        covered: &[Dimension],
    ) -> Option<CategoryRule> {
        let key = format!("categories.{name}");
        let annual_fee = raw.annual_fee.get_ref().0.clone();
        if annual_fee.is_negative() {
            self.error(raw.annual_fee.span(), format!("{key}.annual_fee"), "the annual fee must not be negative");
        }
        let tiers: Vec<RefundTier> = raw
            .refund_tiers
            .get_ref()
            .iter()
            .map(|(g, r)| RefundTier { gmv: g.0.clone(), ratio: r.0.clone() })
            .collect();
        if tiers.windows(2).any(|w| w[0].gmv >= w[1].gmv)
            || tiers.iter().any(|t| t.ratio.is_negative() || t.ratio > exact::int(1) || t.gmv.is_negative())
        {
            self.error(
                raw.refund_tiers.span(),
                format!("{key}.refund_tiers"),
                "tiers are [gmv, ratio] pairs ascending by gmv, with ratios between 0 and 1",
            );
        }
        let assessment = if raw.assessed {
            self.assessment(&key, span.clone(), raw, covered)
        } else {
            for (present, field) in [
                (raw.weights.is_some(), "weights"),
                (raw.pass_threshold.is_some(), "pass_threshold"),
                (raw.max_noncompliant_months.is_some(), "max_noncompliant_months"),
            ] {
                if present {
                    self.error(span.clone(), format!("{key}.{field}"), "a category with `assessed = false` takes no assessment values; remove it or set `assessed = true`");
                }
            }
            None
        };
        Some(CategoryRule {
            name: name.to_string(),
            label: raw.label.clone(),
            assessment,
            annual_fee,
            refund_tiers: tiers,
        })
    }

    fn assessment(
        &mut self,
        key: &str,
        span: Range<usize>,
        raw: &RawCategory,
        covered: &[Dimension],
    ) -> Option<Assessment> {
        let missing = |field: &str, this: &mut Self| {
            this.error(span.clone(), format!("{key}.{field}"), format!("an assessed category needs `{field}`"));
        };
        let Some(weights) = &raw.weights else {
            missing("weights", self);
            return None;
        };
        let mut values: [Exact; 5] = std::array::from_fn(|_| Exact::zero());
        let mut ok = true;
        for (dim_name, weight) in weights.get_ref() {
            match Dimension::from_name(dim_name) {
                Some(d) => values[d.index()] = weight.0.clone(),
                None => {
                    self.error(
                        weights.span(),
                        format!("{key}.weights.{dim_name}"),
                        "unknown dimension; use product, logistics, after_sales, disputes or consultation",
                    );
                    ok = false;
                }
            }
        }
        for d in covered {
            if !weights.get_ref().contains_key(d.name()) {
                self.error(weights.span(), format!("{key}.weights"), format!("no weight for the {d} dimension"));
                ok = false;
            }
        }
        if values.iter().any(|w| w.is_negative()) {
            self.error(weights.span(), format!("{key}.weights"), "weights must not be negative");
            ok = false;
        }
        let sum: Exact = values.iter().cloned().sum();
        if !sum.is_one() {
            self.error(
                weights.span(),
                format!("{key}.weights"),
                format!("dimension weights sum to {}, not 1", exact::format_trimmed(&sum, 6)),
            );
            ok = false;
        }
        let pass_threshold = raw.pass_threshold.as_ref().map(|n| n.0.clone());
        let max_months = raw.max_noncompliant_months;
        let refund_min = raw.refund_min_score.as_ref().map(|n| n.0.clone());
        if pass_threshold.is_none() {
            missing("pass_threshold", self);
        }
        if max_months.is_none() {
            missing("max_noncompliant_months", self);
        }
        if refund_min.is_none() {
            missing("refund_min_score", self);
        }
        if !ok {
            return None;
        }
        Some(Assessment {
            weights: values,
            pass_threshold: pass_threshold?,
            max_noncompliant_months: max_months?,
            refund_min_score: refund_min?,
        })
    }

    fn quality(&mut self, raw: &toml::Spanned<RawQuality>) -> Option<QualityRules> {
        let q = raw.get_ref();
        let window = self.window(&q.window_days, "quality.window_days");
        let bad = self.curve(&q.bad_review_rate_curve, "quality.bad_review_rate_curve");
        let refund = self.curve(&q.quality_refund_rate_curve, "quality.quality_refund_rate_curve");
        if *q.min_orders.get_ref() < 1 {
            self.error(q.min_orders.span(), "quality.min_orders", "min_orders must be at least 1");
        }
        let levels: Vec<(Exact, String)> = q.levels.iter().map(|l| (l.min_score.0.clone(), l.level.clone())).collect();
        if levels.windows(2).any(|w| w[0].0 <= w[1].0) {
            self.error(raw.span(), "quality.levels", "levels must be listed from the highest min_score down");
        }
        Some(QualityRules {
            window: window?,
            min_orders: (*q.min_orders.get_ref()).max(1),
            bad_review_max_item_score: q.bad_review_max_item_score,
            quality_refund_reasons: q.quality_refund_reasons.clone(),
            bad_review_rate_curve: bad?,
            quality_refund_rate_curve: refund?,
            levels,
            otherwise: q.otherwise.clone(),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "rule_set_tests.rs"]
mod tests;
