//! Scoring one store-day from its window counts (SPEC §4–§5), in exact arithmetic.

use dengta_model::exact::{self, Exact};
use dengta_model::{Dimension, Indicator};

use crate::curve::Segment;
use crate::rule_set::{RuleSet, Star};
use crate::shares::{normalised, weighted_sum};

/// The window sums of one indicator's ratio as of a day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowCounts {
    /// Window sum of the numerator term (a count, a sum of scores, or milliseconds).
    pub numerator: i64,
    /// Window count of the denominator term: the indicator's sample size.
    pub denominator: i64,
}

impl WindowCounts {
    /// No events in the window.
    pub const EMPTY: WindowCounts = WindowCounts { numerator: 0, denominator: 0 };
}

/// Why a store-day is a default pass (99), in the SPEC's order of precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DefaultPassReason {
    /// The main category is not assessed or unknown to the rules.
    CategoryNotAssessed,
    /// No dimension has data as of the day.
    NoData,
    /// An exemption covers the store on the day.
    Exempted,
}

impl DefaultPassReason {
    /// The output word.
    pub fn name(self) -> &'static str {
        match self {
            DefaultPassReason::CategoryNotAssessed => "category_not_assessed",
            DefaultPassReason::NoData => "no_data",
            DefaultPassReason::Exempted => "exempted",
        }
    }

    /// The reason in words, for merchants.
    pub fn describe(self) -> &'static str {
        match self {
            DefaultPassReason::CategoryNotAssessed => {
                "the store's main category is not part of the basic service assessment"
            }
            DefaultPassReason::NoData => {
                "the store had no product, logistics, after-sales, dispute or consultation data in any window"
            }
            DefaultPassReason::Exempted => {
                "an exemption (force majeure or a platform announcement) covers the store on this day"
            }
        }
    }
}

/// Scored, or a default pass with its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The basic score was computed.
    Scored,
    /// Shown as 99 and counted as passing.
    DefaultPass(DefaultPassReason),
}

impl Verdict {
    /// `scored` or `default_pass`.
    pub fn status(self) -> &'static str {
        match self {
            Verdict::Scored => "scored",
            Verdict::DefaultPass(_) => "default_pass",
        }
    }

    /// The reason word, empty when scored.
    pub fn reason(self) -> &'static str {
        match self {
            Verdict::Scored => "",
            Verdict::DefaultPass(r) => r.name(),
        }
    }
}

/// One indicator of a store-day.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorOutcome {
    /// Which indicator.
    pub indicator: Indicator,
    /// Its dimension in this rule version.
    pub dimension: Dimension,
    /// Window length in days.
    pub window_days: u32,
    /// The window sums.
    pub counts: WindowCounts,
    /// The value, `None` when the denominator is below `min_samples` (no data).
    pub value: Option<Exact>,
    /// The score on the curve, unrounded.
    pub score: Option<Exact>,
    /// Where the value fell on the curve.
    pub segment: Option<Segment>,
    /// Weight within the dimension.
    pub weight: Exact,
}

/// One dimension of a store-day.
#[derive(Clone, Debug, PartialEq)]
pub struct DimensionOutcome {
    /// Which dimension.
    pub dimension: Dimension,
    /// Weighted mean of its indicators with data; `None` when none has data.
    pub score: Option<Exact>,
    /// The category's weight, `None` for a category that is not assessed.
    pub weight: Option<Exact>,
    /// The weight after re-normalisation over the dimensions with data.
    pub effective_weight: Option<Exact>,
}

/// The full result of one store-day.
#[derive(Clone, Debug, PartialEq)]
pub struct DayScore {
    /// The rule version used.
    pub rule_version: String,
    /// The category whose weights were used.
    pub category: String,
    /// Scored or default pass.
    pub verdict: Verdict,
    /// Σ score × weight over dimensions with data, divided by their weight sum;
    /// `None` for a category that is not assessed or with no data.
    pub exact_score: Option<Exact>,
    /// The score shown: `exact_score` rounded to two decimals, or 99.
    pub score: Exact,
    /// The star, `None` while default pass.
    pub star: Option<Star>,
    /// Every indicator of the rule version, in catalogue order.
    pub indicators: Vec<IndicatorOutcome>,
    /// The five dimensions, in [`Dimension::ALL`] order.
    pub dimensions: Vec<DimensionOutcome>,
}

impl DayScore {
    /// The shown score with two decimals (`4.08`, `99.00`).
    pub fn score_text(&self) -> String {
        exact::format_fixed(&self.score, 2)
    }

    /// The outcome of one indicator, if the rule version uses it.
    pub fn indicator(&self, indicator: Indicator) -> Option<&IndicatorOutcome> {
        self.indicators.iter().find(|o| o.indicator == indicator)
    }

    /// The rounded score passes `threshold` (default pass always passes).
    pub fn passes(&self, threshold: &Exact) -> bool {
        match self.verdict {
            Verdict::DefaultPass(_) => true,
            Verdict::Scored => self.score >= *threshold,
        }
    }
}

/// The score shown while default pass.
pub const DEFAULT_PASS_SCORE: i64 = 99;

impl RuleSet {
    /// Scores one store-day of a store whose main category is `category`, given the
    /// window counts of each indicator (already taken over this version's windows)
    /// and whether an exemption covers the day.
    pub fn evaluate(&self, category: &str, counts: &dyn Fn(Indicator) -> WindowCounts, exempted: bool) -> DayScore {
        let indicators: Vec<IndicatorOutcome> = self
            .indicators
            .iter()
            .map(|rule| {
                let c = counts(rule.indicator);
                let value = (c.denominator >= rule.min_samples && c.denominator > 0).then(|| {
                    exact::ratio(
                        i128::from(c.numerator),
                        i128::from(c.denominator) * i128::from(rule.indicator.unit_divisor()),
                    )
                });
                let scored = value.as_ref().map(|v| rule.curve.score(v));
                IndicatorOutcome {
                    indicator: rule.indicator,
                    dimension: rule.dimension,
                    window_days: rule.window.days(),
                    counts: c,
                    value,
                    score: scored.as_ref().map(|(s, _)| s.clone()),
                    segment: scored.map(|(_, seg)| seg),
                    weight: rule.weight.clone(),
                }
            })
            .collect();
        // Dimension scores from the shares worked out once per rule set (the same
        // exact values as dividing by each dimension's weight sum here).
        let with_data = indicators.iter().enumerate().filter(|(_, o)| o.score.is_some());
        let shares = self.shares.within(with_data.fold(0, |set, (i, _)| set | 1 << i));
        let dim_scores = Dimension::ALL.map(|d| {
            weighted_sum(
                indicators
                    .iter()
                    .zip(shares)
                    .filter(|(o, _)| o.dimension == d)
                    .filter_map(|(o, share)| Some((o.score.as_ref()?, share))),
            )
        });
        self.finish(category, indicators, dim_scores, exempted)
    }

    /// Dimension scores, the weighted score, the 99 rules and the star from
    /// indicator outcomes already scored on their curves (SPEC §4–§5). What-if
    /// analyses call this with hypothetical values.
    pub fn compose(&self, category: &str, indicators: Vec<IndicatorOutcome>, exempted: bool) -> DayScore {
        // The outcomes' own weights, re-normalised at this call (they may be
        // hypothetical), by the same rule as the shares `evaluate` uses.
        let dim_scores: [Option<Exact>; 5] = Dimension::ALL.map(|d| {
            let with_data: Vec<(&Exact, &Exact)> = indicators
                .iter()
                .filter(|o| o.dimension == d)
                .filter_map(|o| Some((o.score.as_ref()?, &o.weight)))
                .collect();
            let shares = normalised(&with_data.iter().map(|(_, w)| *w).collect::<Vec<_>>());
            weighted_sum(with_data.iter().map(|(s, _)| *s).zip(&shares))
        });
        self.finish(category, indicators, dim_scores, exempted)
    }

    /// The weighted score across dimensions, the 99 rules and the star, from the
    /// dimension scores (`None`: no data).
    fn finish(
        &self,
        category: &str,
        indicators: Vec<IndicatorOutcome>,
        dim_scores: [Option<Exact>; 5],
        exempted: bool,
    ) -> DayScore {
        let assessment = self.categories.get(category).and_then(|c| c.assessment.as_ref());
        let with_data = Dimension::ALL.iter().filter(|d| dim_scores[d.index()].is_some());
        // `None` for a category that is not assessed, or when the weights of the
        // dimensions with data sum to zero (no data).
        let effective = self.shares.across(category, with_data.fold(0, |set, d| set | 1 << d.index()));
        let exact_score: Option<Exact> = effective.map(|effective| {
            Dimension::ALL
                .iter()
                .filter_map(|d| Some(dim_scores[d.index()].as_ref()? * effective[d.index()].as_ref()?))
                .sum()
        });
        let effective: [Option<Exact>; 5] = effective.cloned().unwrap_or_default();

        let verdict = if assessment.is_none() {
            Verdict::DefaultPass(DefaultPassReason::CategoryNotAssessed)
        } else if exact_score.is_none() {
            Verdict::DefaultPass(DefaultPassReason::NoData)
        } else if exempted {
            Verdict::DefaultPass(DefaultPassReason::Exempted)
        } else {
            Verdict::Scored
        };
        let (score, star) = match (&verdict, &exact_score) {
            (Verdict::Scored, Some(total)) => {
                let rounded = exact::round_half_away(total, 2);
                let star = self.stars.star(&rounded);
                (rounded, Some(star))
            }
            _ => (exact::int(DEFAULT_PASS_SCORE), None),
        };
        let dimensions = Dimension::ALL
            .iter()
            .map(|d| DimensionOutcome {
                dimension: *d,
                score: dim_scores[d.index()].clone(),
                weight: assessment.map(|a| a.weights[d.index()].clone()),
                effective_weight: effective[d.index()].clone(),
            })
            .collect();
        DayScore {
            rule_version: self.version.clone(),
            category: category.to_string(),
            verdict,
            exact_score,
            score,
            star,
            indicators,
            dimensions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dengta_model::exact::ratio;
    use proptest::prelude::*;

    const H: i64 = 3_600_000;

    fn counts(list: &[(Indicator, i64, i64)]) -> impl Fn(Indicator) -> WindowCounts + '_ {
        move |i| {
            list.iter()
                .find(|(x, _, _)| *x == i)
                .map_or(WindowCounts::EMPTY, |(_, n, d)| WindowCounts { numerator: *n, denominator: *d })
        }
    }

    /// The seed article's example: product 5, consultation 4, logistics 3,
    /// after-sales 4, disputes 1 with weights 0.2, 0.1, 0.3, 0.2, 0.2 (the `home`
    /// weights) give 5×0.2 + 4×0.1 + 3×0.3 + 4×0.2 + 1×0.2 = 3.3.
    #[test]
    fn seed_worked_example_gives_3_3() {
        let rules = RuleSet::default_rules();
        let c = counts(&[
            (Indicator::DsrItem, 5, 1),                 // mean 5.0 → 5
            (Indicator::Pickup24hRate, 9, 10),          // 0.9 → 3
            (Indicator::RefundOnlyHours, 12 * H, 1),    // 12 h → 4
            (Indicator::ReturnRefundHours, 72 * H, 1),  // 72 h → 4
            (Indicator::DisputeRefundRate, 2, 1000),    // 0.002 → 2
            (Indicator::ComplaintUpheldRate, 10, 1000), // 0.01 → 0  (disputes: (2+0)/2 = 1)
            (Indicator::ImReplyRate, 9, 10),            // 0.9 → 4
            (Indicator::ImFirstReplySecs, 20_000, 1),   // 20 s → 4
        ]);
        let day = rules.evaluate("home", &c, false);
        let dims: Vec<Exact> = day.dimensions.iter().map(|d| d.score.clone().expect("data")).collect();
        assert_eq!(dims, vec![exact::int(5), exact::int(3), exact::int(4), exact::int(1), exact::int(4)]);
        assert_eq!(day.verdict, Verdict::Scored);
        assert_eq!(day.exact_score, Some(ratio(33, 10)));
        assert_eq!(day.score_text(), "3.30");
        assert_eq!(day.star, Some(Star(6)));
    }

    /// 5×0.3 + 4×0.1 + 4×0.3 + 3.5×0.15 + 3×0.15 = 4.075 exactly; binary floating
    /// point gives 4.07499… and would round to 4.07.
    #[test]
    fn an_exact_tie_rounds_away_from_zero() {
        let rules = RuleSet::default_rules();
        let c = counts(&[
            (Indicator::DsrItem, 5, 1),
            (Indicator::Pickup24hRate, 19, 20),        // 0.95 → 4
            (Indicator::RefundOnlyHours, 18 * H, 1),   // 18 h → 3.5
            (Indicator::ReturnRefundHours, 96 * H, 1), // 96 h → 3.5
            (Indicator::DisputeRefundRate, 1, 1000),   // 0.001 → 3
            (Indicator::ComplaintUpheldRate, 2, 1000), // 0.002 → 3
            (Indicator::ImReplyRate, 9, 10),
            (Indicator::ImFirstReplySecs, 20_000, 1),
        ]);
        let day = rules.evaluate("food", &c, false);
        assert_eq!(day.exact_score, Some(ratio(4075, 1000)));
        assert_eq!(day.score_text(), "4.08");
        let as_float = 5.0 * 0.3 + 4.0 * 0.1 + 4.0 * 0.3 + 3.5 * 0.15 + 3.0 * 0.15_f64;
        assert_ne!(format!("{as_float:.2}"), "4.08", "the test must exercise a float-rounding trap");
    }

    #[test]
    fn renormalises_within_and_across_dimensions() {
        let rules = RuleSet::default_rules();
        // Only dsr (5) and only one of the after-sales indicators (refund-only 24 h → 3).
        let c = counts(&[(Indicator::DsrItem, 5, 1), (Indicator::RefundOnlyHours, 24 * H, 1)]);
        let day = rules.evaluate("home", &c, false);
        // After-sales is 3 (the one indicator with data carries the whole dimension).
        assert_eq!(day.dimensions[Dimension::AfterSales.index()].score, Some(exact::int(3)));
        // home: product 0.2, after-sales 0.2 → re-normalised 0.5 each → 4.
        assert_eq!(day.exact_score, Some(exact::int(4)));
        assert_eq!(day.dimensions[Dimension::Product.index()].effective_weight, Some(ratio(1, 2)));
        assert_eq!(day.dimensions[Dimension::Logistics.index()].effective_weight, None);
    }

    #[test]
    fn min_samples_turns_small_denominators_into_no_data() {
        let text = crate::DEFAULT_RULES_TOML.replacen("min_samples = 1", "min_samples = 3", 1);
        let rules = RuleSet::parse("t.toml", &text).expect("valid");
        let c = counts(&[(Indicator::DsrItem, 10, 2), (Indicator::Pickup24hRate, 1, 1)]);
        let day = rules.evaluate("home", &c, false);
        let dsr = day.indicator(Indicator::DsrItem).expect("dsr");
        assert_eq!(dsr.value, None);
        assert_eq!(dsr.counts.denominator, 2);
        assert_eq!(day.dimensions[0].score, None);
        assert_eq!(day.exact_score, Some(exact::int(5)));
    }

    #[test]
    fn the_three_default_pass_reasons_in_order() {
        let rules = RuleSet::default_rules();
        let some = counts(&[(Indicator::DsrItem, 4, 1)]);
        let none = counts(&[]);
        let telecom = rules.evaluate("telecom", &some, true);
        assert_eq!(telecom.verdict, Verdict::DefaultPass(DefaultPassReason::CategoryNotAssessed));
        assert_eq!(telecom.score_text(), "99.00");
        assert_eq!(telecom.star, None);
        // A default pass still carries its values.
        assert_eq!(telecom.dimensions[0].score, Some(exact::int(2)));
        let unknown = rules.evaluate("toys", &some, false);
        assert_eq!(unknown.verdict.reason(), "category_not_assessed");
        let empty = rules.evaluate("home", &none, true);
        assert_eq!(empty.verdict, Verdict::DefaultPass(DefaultPassReason::NoData));
        let exempted = rules.evaluate("home", &some, true);
        assert_eq!(exempted.verdict, Verdict::DefaultPass(DefaultPassReason::Exempted));
        assert_eq!(exempted.score_text(), "99.00");
        assert_eq!(exempted.exact_score, Some(exact::int(2)));
    }

    #[test]
    fn star_bands() {
        let rules = RuleSet::default_rules();
        for (score, star) in
            [(480, "5.0"), (479, "4.5"), (460, "4.5"), (440, "4.0"), (420, "3.5"), (419, "3.0"), (0, "3.0")]
        {
            assert_eq!(rules.stars.star(&ratio(score, 100)).to_string(), star, "score {score}");
        }
    }

    proptest! {
        #[test]
        fn scores_stay_within_0_and_5(
            a in 0i64..1000, b in 1i64..1000, c in 0i64..100_000_000, d in 1i64..100, e in 0i64..50, f in 1i64..5000,
        ) {
            let rules = RuleSet::default_rules();
            let list = [
                (Indicator::DsrItem, b.min(a) * 5 / b.max(1), 1),
                (Indicator::Pickup24hRate, a.min(b), b),
                (Indicator::RefundOnlyHours, c, d),
                (Indicator::DisputeRefundRate, e, f),
                (Indicator::ImReplyRate, a.min(b), b),
            ];
            let day = rules.evaluate("beauty", &counts(&list), false);
            let total = day.exact_score.expect("data");
            prop_assert!(total >= exact::int(0) && total <= exact::int(5));
            for o in &day.indicators {
                if let Some(s) = &o.score { prop_assert!(*s >= exact::int(0) && *s <= exact::int(5)); }
            }
        }

        /// `evaluate` takes its weights from the shares divided out once per rule
        /// set; `compose` (what-if) divides at every call: both must give the same
        /// exact values, also where weights with data sum to zero (a zero-weight
        /// indicator alone in its dimension, zero-weight dimensions alone).
        #[test]
        fn shares_give_the_same_scores_as_dividing_each_time(
            // A denominator of 0 (no data) one time in two, so that every set of
            // indicators with data comes up.
            counts_in in proptest::collection::vec((0i64..200_000_000, prop_oneof![Just(0i64), 1i64..300]), 8),
            category in prop::sample::select(vec!["apparel", "home", "food", "telecom", "toys"]),
            variant in 0usize..2,
            exempted in any::<bool>(),
        ) {
            let rules = match variant {
                0 => RuleSet::default_rules(),
                _ => {
                    let text = crate::DEFAULT_RULES_TOML
                        .replacen("weight = 0.5", "weight = 1.0", 1)
                        .replacen("weight = 0.5", "weight = 0.0", 1)
                        .replacen(
                            "weights = { product = 0.25, consultation = 0.10, logistics = 0.25, after_sales = 0.20, disputes = 0.20 }",
                            "weights = { product = 0.0, consultation = 0.0, logistics = 0.0, after_sales = 0.0, disputes = 1.0 }",
                            1,
                        );
                    RuleSet::parse("zero-weights.toml", &text).expect("valid")
                }
            };
            let list: Vec<(Indicator, i64, i64)> =
                Indicator::ALL.iter().zip(&counts_in).map(|(i, (n, d))| (*i, *n, *d)).collect();
            let day = rules.evaluate(category, &counts(&list), exempted);
            let composed = rules.compose(category, day.indicators.clone(), exempted);
            prop_assert_eq!(day, composed);
        }

        #[test]
        fn more_late_pickups_never_raise_the_score(on_time in 0i64..200, late in 0i64..200, extra in 1i64..50) {
            let rules = RuleSet::default_rules();
            let total = on_time + late;
            prop_assume!(total > 0);
            let before = rules.evaluate("home", &counts(&[(Indicator::Pickup24hRate, on_time, total)]), false);
            let after = rules.evaluate("home", &counts(&[(Indicator::Pickup24hRate, on_time, total + extra)]), false);
            prop_assert!(after.exact_score <= before.exact_score);
        }
    }
}
