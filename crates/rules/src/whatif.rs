//! What-if and "what to fix first": the daily score's own composition
//! ([`RuleSet::compose`]) run on hypothetical indicator values, so the dashboard
//! can never disagree with the engine about what a value would be worth.

use dengta_model::exact::{self, Exact};
use dengta_model::{Better, Indicator};

use crate::evaluate::DayScore;
use crate::rule_set::RuleSet;

/// Why a hypothetical value cannot be scored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WhatIfError {
    /// The rule version does not use the indicator.
    #[error("indicator `{0}` is not part of rule version `{1}`")]
    NotInRules(&'static str, String),
    /// The value is outside what the indicator can take.
    #[error("indicator `{indicator}`: {value} is outside {range}")]
    OutOfRange {
        /// Indicator name.
        indicator: &'static str,
        /// The value given.
        value: String,
        /// The allowed range in words.
        range: &'static str,
    },
}

/// The values an indicator can take: a rating 1–5, a share 0–1, a duration ≥ 0.
pub fn valid_range(indicator: Indicator) -> (Option<Exact>, Option<Exact>, &'static str) {
    match indicator {
        Indicator::DsrItem => (Some(exact::int(1)), Some(exact::int(5)), "1 to 5"),
        Indicator::RefundOnlyHours | Indicator::ReturnRefundHours | Indicator::ImFirstReplySecs => {
            (Some(exact::int(0)), None, "0 or more")
        }
        _ => (Some(exact::int(0)), Some(exact::int(1)), "0 to 1 (a share)"),
    }
}

/// The day's score if the given indicators had the given values (the others keep
/// theirs). An indicator without data gains data with the value given.
pub fn what_if(
    rules: &RuleSet,
    base: &DayScore,
    values: &[(Indicator, Exact)],
    exempted: bool,
) -> Result<DayScore, WhatIfError> {
    let mut indicators = base.indicators.clone();
    for (indicator, value) in values {
        let (low, high, range) = valid_range(*indicator);
        if low.is_some_and(|l| *value < l) || high.is_some_and(|h| *value > h) {
            return Err(WhatIfError::OutOfRange {
                indicator: indicator.name(),
                value: exact::format_trimmed(value, 6),
                range,
            });
        }
        let rule = rules
            .indicators
            .iter()
            .find(|r| r.indicator == *indicator)
            .ok_or_else(|| WhatIfError::NotInRules(indicator.name(), rules.version.clone()))?;
        let outcome = indicators
            .iter_mut()
            .find(|o| o.indicator == *indicator)
            .ok_or_else(|| WhatIfError::NotInRules(indicator.name(), rules.version.clone()))?;
        let (score, segment) = rule.curve.score(value);
        outcome.value = Some(value.clone());
        outcome.score = Some(score);
        outcome.segment = Some(segment);
    }
    Ok(rules.compose(&base.category, indicators, exempted))
}

/// One suggestion of "what to fix first".
#[derive(Clone, Debug, PartialEq)]
pub struct FixStep {
    /// The indicator to improve.
    pub indicator: Indicator,
    /// Its value now.
    pub from: Exact,
    /// The value of its next curve point in the better direction.
    pub to: Exact,
    /// The indicator's curve score now.
    pub indicator_score: Exact,
    /// The indicator's curve score at that point.
    pub point_score: Exact,
    /// The store's unrounded score now.
    pub score_before: Exact,
    /// The store's unrounded score with the indicator at that point.
    pub score_after: Exact,
    /// `score_after − score_before`.
    pub gain: Exact,
}

/// For each indicator with data that is not yet at its curve's best point: the
/// score gain if it reached its next curve point, largest gain first (ties in
/// catalogue order). Empty for a category that is not assessed or without data.
pub fn fix_first(rules: &RuleSet, base: &DayScore, exempted: bool) -> Vec<FixStep> {
    let Some(before) = base.exact_score.clone() else { return Vec::new() };
    let mut steps = Vec::new();
    for outcome in &base.indicators {
        let (Some(value), Some(score)) = (&outcome.value, &outcome.score) else { continue };
        let Some(rule) = rules.indicators.iter().find(|r| r.indicator == outcome.indicator) else { continue };
        let Some(target) = next_point(rule.curve.points(), value, score, outcome.indicator.better()) else {
            continue;
        };
        let Ok(after) = what_if(rules, base, &[(outcome.indicator, target.0.clone())], exempted) else { continue };
        let Some(after_score) = after.exact_score else { continue };
        let gain = &after_score - &before;
        if gain <= exact::int(0) {
            continue;
        }
        steps.push(FixStep {
            indicator: outcome.indicator,
            from: value.clone(),
            to: target.0.clone(),
            indicator_score: score.clone(),
            point_score: target.1.clone(),
            score_before: before.clone(),
            score_after: after_score,
            gain,
        });
    }
    steps.sort_by(|a, b| b.gain.cmp(&a.gain).then(a.indicator.cmp(&b.indicator)));
    steps
}

/// The nearest curve point beyond `value` in the better direction whose score is
/// higher than the current one.
fn next_point<'a>(
    points: &'a [(Exact, Exact)],
    value: &Exact,
    score: &Exact,
    better: Better,
) -> Option<&'a (Exact, Exact)> {
    let ahead = |p: &&(Exact, Exact)| match better {
        Better::Higher => p.0 > *value,
        Better::Lower => p.0 < *value,
    };
    let candidates = points.iter().filter(ahead).filter(|p| p.1 > *score);
    match better {
        Better::Higher => candidates.min_by(|a, b| a.0.cmp(&b.0)),
        Better::Lower => candidates.max_by(|a, b| a.0.cmp(&b.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::WindowCounts;
    use dengta_model::exact::ratio;
    use proptest::prelude::*;

    fn base(rules: &RuleSet, category: &str, counts: &[(Indicator, i64, i64)]) -> DayScore {
        let f = |i: Indicator| {
            counts
                .iter()
                .find(|(x, _, _)| *x == i)
                .map_or(WindowCounts::EMPTY, |(_, n, d)| WindowCounts { numerator: *n, denominator: *d })
        };
        rules.evaluate(category, &f, false)
    }

    #[test]
    fn what_if_with_the_current_values_changes_nothing() {
        let rules = RuleSet::default_rules();
        let b = base(&rules, "apparel", &[(Indicator::DsrItem, 45, 10), (Indicator::Pickup24hRate, 9, 10)]);
        let values: Vec<_> = b.indicators.iter().filter_map(|o| Some((o.indicator, o.value.clone()?))).collect();
        assert_eq!(what_if(&rules, &b, &values, false).expect("valid"), b);
    }

    #[test]
    fn what_if_moves_the_score_along_the_curve() {
        let rules = RuleSet::default_rules();
        // DSR 4.0 scores 2; the only dimension with data is product, so the score is 2.
        let b = base(&rules, "apparel", &[(Indicator::DsrItem, 40, 10)]);
        assert_eq!(b.score, exact::int(2));
        let after = what_if(&rules, &b, &[(Indicator::DsrItem, ratio(45, 10))], false).expect("valid");
        assert_eq!(after.score, ratio(35, 10));
        // A new indicator gains data: pickup 0.99 scores 5 in logistics.
        let after = what_if(&rules, &b, &[(Indicator::Pickup24hRate, ratio(99, 100))], false).expect("valid");
        assert!(after.score > b.score);
        let Err(err) = what_if(&rules, &b, &[(Indicator::Pickup24hRate, ratio(3, 2))], false) else {
            panic!("a share of 1.5 is refused")
        };
        assert!(err.to_string().contains("0 to 1"), "{err}");
    }

    #[test]
    fn fix_first_targets_the_next_point_and_sorts_by_gain() {
        let rules = RuleSet::default_rules();
        // DSR 4.2 (between 4.0 and 4.5, next point 4.5); pickup 0.85 (next point 0.9);
        // refund-only 30 h (lower is better: next point 24 h).
        let b = base(
            &rules,
            "apparel",
            &[
                (Indicator::DsrItem, 42, 10),
                (Indicator::Pickup24hRate, 85, 100),
                (Indicator::RefundOnlyHours, 30 * 3_600_000, 1),
            ],
        );
        let steps = fix_first(&rules, &b, false);
        let by = |i: Indicator| steps.iter().find(|s| s.indicator == i).expect("a step");
        assert_eq!(by(Indicator::DsrItem).to, ratio(45, 10));
        assert_eq!(by(Indicator::Pickup24hRate).to, ratio(9, 10));
        assert_eq!(by(Indicator::RefundOnlyHours).to, exact::int(24));
        for w in steps.windows(2) {
            assert!(w[0].gain >= w[1].gain);
        }
        for s in &steps {
            let after = what_if(&rules, &b, &[(s.indicator, s.to.clone())], false).expect("valid");
            assert_eq!(after.exact_score.expect("scored") - &s.score_before, s.gain);
        }
        // An indicator already at its best point has nothing to gain.
        let top = base(&rules, "apparel", &[(Indicator::DsrItem, 50, 10)]);
        assert!(fix_first(&rules, &top, false).is_empty());
    }

    fn better_value(indicator: Indicator, v: f64, step: f64) -> f64 {
        match indicator.better() {
            Better::Higher => v + step,
            Better::Lower => (v - step).max(0.0),
        }
    }

    proptest! {
        /// Raising any indicator to a better value never lowers the score.
        #[test]
        fn a_better_value_never_lowers_the_score(
            which in 0usize..8,
            raw in prop::collection::vec(0u32..=1000, 8),
            step in 0u32..=1000,
            category in prop::sample::select(vec!["apparel", "home", "telecom", "food"]),
        ) {
            let rules = RuleSet::default_rules();
            let indicator = Indicator::ALL[which];
            let to_value = |i: Indicator, r: u32| -> f64 {
                let (low, high, _) = valid_range(i);
                let low = low.map_or(0.0, |x| exact::to_f64(&x));
                let high = high.map_or(300.0, |x| exact::to_f64(&x));
                low + (high - low) * f64::from(r) / 1000.0
            };
            let values: Vec<(Indicator, Exact)> = Indicator::ALL
                .iter()
                .zip(&raw)
                .map(|(i, r)| (*i, exact::from_literal_f64(to_value(*i, *r)).expect("finite")))
                .collect();
            let empty = base(&rules, category, &[]);
            let before = what_if(&rules, &empty, &values, false).expect("valid");
            let current = to_value(indicator, raw[which]);
            let (_, high, _) = valid_range(indicator);
            let mut improved = better_value(indicator, current, f64::from(step) / 1000.0 * 5.0);
            if let Some(h) = high { improved = improved.min(exact::to_f64(&h)); }
            let improved = exact::from_literal_f64(improved).expect("finite");
            let after = what_if(&rules, &before, &[(indicator, improved)], false).expect("valid");
            prop_assert!(after.score >= before.score,
                "{} {:?}: {} -> {}", indicator.name(), raw, before.score, after.score);
            if let (Some(a), Some(b)) = (&after.exact_score, &before.exact_score) {
                prop_assert!(a >= b);
            }
        }
    }
}
