//! The re-normalised weights of SPEC §4–§5, worked out once per rule set.
//!
//! A dimension's score is the weighted mean of its indicators with data, and the
//! basic score the weighted mean of the dimensions with data: which weights apply
//! depends only on *which* indicators and dimensions have data, not on the values.
//! There are few such sets (at most 2⁸ indicator sets, 2⁵ dimension sets), so each
//! share (`weight / sum of the weights with data`) is divided out once, the first
//! time a set is met, and a store-day's score is then a sum of products. The values
//! are the same exact rationals as dividing at every store-day:
//! `Σ sᵢwᵢ / W = Σ sᵢ(wᵢ/W)`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use dengta_model::Dimension;
use dengta_model::exact::{self, Exact};
use num_traits::One;

use crate::rule_set::{CategoryRule, IndicatorRule};

/// Shares by set of indicators and of dimensions with data, each worked out the
/// first time a store-day needs it (a day's batch meets a handful of the 2⁸ sets).
#[derive(Clone, Debug)]
pub(crate) struct Shares {
    /// Each indicator's dimension and weight, in the rule set's order.
    indicators: Vec<(Dimension, Exact)>,
    /// Indexed by the set of indicators with data (bit `i`: the rule set's `i`-th
    /// indicator): each indicator's share of its dimension (meaningful for the
    /// indicators in the set only).
    within: Box<[OnceLock<Within>]>,
    /// Per assessed category, its dimension weights and, indexed by the set of
    /// dimensions with data (bit [`Dimension::index`]), each dimension's effective
    /// weight, `None` for a dimension without data; the whole entry `None` when the
    /// weights with data sum to zero (no score).
    across: BTreeMap<String, CategoryShares>,
}

/// An assessed category's dimension weights and the effective weights worked out
/// from them so far.
#[derive(Clone, Debug)]
struct CategoryShares {
    weights: [Exact; 5],
    by_set: Box<[OnceLock<Across>]>,
}

/// The shares of a dimension's indicators with data: each weight over their sum,
/// or, when they sum to zero (every indicator with data has weight 0), equal shares,
/// so that the dimension is a plain mean rather than a division by zero.
pub(crate) fn normalised(weights: &[&Exact]) -> Vec<Exact> {
    let sum: Exact = weights.iter().copied().sum();
    if sum.is_zero() {
        let n = weights.len().max(1) as i128;
        return weights.iter().map(|_| exact::ratio(1, n)).collect();
    }
    weights.iter().map(|w| *w / &sum).collect()
}

/// `Σ score × share`, `None` when there is no term (a share of one is not multiplied).
pub(crate) fn weighted_sum<'a>(terms: impl Iterator<Item = (&'a Exact, &'a Exact)>) -> Option<Exact> {
    terms.fold(None, |total, (score, share)| {
        let part = if share.is_one() { score.clone() } else { score * share };
        Some(match total {
            Some(t) => &t + &part,
            None => part,
        })
    })
}

/// The most indicators a rule set can hold (the catalogue's size).
const MAX_INDICATORS: usize = dengta_model::Indicator::ALL.len();

/// Per set of indicators with data: each indicator's share of its dimension.
type Within = Box<[Exact]>;

/// Per set of dimensions with data: each dimension's effective weight.
type Across = Option<[Option<Exact>; 5]>;

impl Shares {
    pub(crate) fn new(indicators: &[IndicatorRule], categories: &BTreeMap<String, CategoryRule>) -> Shares {
        assert!(indicators.len() <= MAX_INDICATORS, "a rule set uses each catalogue indicator at most once");
        let across = categories
            .iter()
            .filter_map(|(name, c)| Some((name.clone(), c.assessment.as_ref()?)))
            .map(|(name, a)| {
                let by_set = (0..1usize << Dimension::ALL.len()).map(|_| OnceLock::new()).collect();
                (name, CategoryShares { weights: a.weights.clone(), by_set })
            })
            .collect();
        Shares {
            indicators: indicators.iter().map(|r| (r.dimension, r.weight.clone())).collect(),
            within: (0..1usize << indicators.len()).map(|_| OnceLock::new()).collect(),
            across,
        }
    }

    /// Each indicator's share of its dimension when the indicators in `set` have data.
    pub(crate) fn within(&self, set: usize) -> &[Exact] {
        self.within[set].get_or_init(|| {
            let mut shares = vec![exact::int(0); self.indicators.len()];
            for d in Dimension::ALL {
                let with_data: Vec<usize> =
                    (0..self.indicators.len()).filter(|&i| set & (1 << i) != 0 && self.indicators[i].0 == d).collect();
                let weights: Vec<&Exact> = with_data.iter().map(|&i| &self.indicators[i].1).collect();
                for (i, share) in with_data.into_iter().zip(normalised(&weights)) {
                    shares[i] = share;
                }
            }
            shares.into()
        })
    }

    /// The effective dimension weights of an assessed `category` when the dimensions
    /// in `set` have data; `None` when they sum to zero or the category is not assessed.
    pub(crate) fn across(&self, category: &str, set: usize) -> Option<&[Option<Exact>; 5]> {
        let CategoryShares { weights, by_set } = self.across.get(category)?;
        by_set[set]
            .get_or_init(|| {
                let has = |d: Dimension| set & (1 << d.index()) != 0;
                let weight_sum: Exact =
                    Dimension::ALL.iter().filter(|d| has(**d)).map(|d| weights[d.index()].clone()).sum();
                (!weight_sum.is_zero())
                    .then(|| Dimension::ALL.map(|d| has(d).then(|| &weights[d.index()] / &weight_sum)))
            })
            .as_ref()
    }
}

/// Two rule sets' shares are equal when what they are worked out from is: which of
/// them have been worked out so far is not part of the value.
impl PartialEq for Shares {
    fn eq(&self, other: &Shares) -> bool {
        self.indicators == other.indicators
            && self.across.len() == other.across.len()
            && self.across.iter().zip(&other.across).all(|((a, x), (b, y))| a == b && x.weights == y.weights)
    }
}

#[cfg(test)]
mod tests {
    use dengta_model::Dimension;
    use dengta_model::exact::{int, ratio};

    use crate::RuleSet;

    #[test]
    fn shares_are_worked_out_when_asked_and_do_not_change_what_a_rule_set_equals() {
        let rules = RuleSet::default_rules();
        // Catalogue order: dsr_item, pickup_24h_rate, refund_only_hours,
        // return_refund_hours, dispute_refund_rate, complaint_upheld_rate,
        // im_reply_rate, im_first_reply_secs; two indicators each in the last three
        // dimensions, weights 0.5.
        let half = ratio(1, 2);
        let all = rules.shares.within(0b1111_1111);
        assert_eq!(all, [int(1), int(1), half.clone(), half.clone(), half.clone(), half.clone(), half.clone(), half]);
        assert_eq!(rules.shares.within(0b0000_0100)[2], int(1), "refund_only_hours alone has all of after-sales");
        let product = Dimension::Product.index();
        let only_product = rules.shares.across("apparel", 1 << product).expect("apparel is assessed");
        assert_eq!(only_product[product], Some(int(1)));
        assert!(only_product.iter().enumerate().all(|(d, w)| d == product || w.is_none()));
        let every = rules.shares.across("apparel", 0b1_1111).expect("assessed");
        assert_eq!(every[product], Some(ratio(1, 4)), "apparel's product weight, 0.25, unchanged");
        assert!(rules.shares.across("telecom", 0b1_1111).is_none(), "telecom is not assessed");
        // Equality is of what the shares come from, not of which were worked out.
        assert_eq!(rules, RuleSet::default_rules());
        let other = RuleSet::parse(
            "other.toml",
            &crate::DEFAULT_RULES_TOML.replacen("weight = 0.5", "weight = 0.6", 1).replacen(
                "weight = 0.5",
                "weight = 0.4",
                1,
            ),
        )
        .expect("valid");
        assert_ne!(other.shares, RuleSet::default_rules().shares);
    }
}
