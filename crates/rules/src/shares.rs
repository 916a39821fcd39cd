//! The re-normalised weights of SPEC §4–§5, worked out once per rule set.
//!
//! A dimension's score is the weighted mean of its indicators with data, and the
//! basic score the weighted mean of the dimensions with data: which weights apply
//! depends only on *which* indicators and dimensions have data, not on the values.
//! There are few such sets (at most 2⁸ indicator sets, 2⁵ dimension sets), so each
//! share (`weight / sum of the weights with data`) is divided out here once, and a
//! store-day's score is then a sum of products. The values are the same exact
//! rationals as dividing at every store-day: `Σ sᵢwᵢ / W = Σ sᵢ(wᵢ/W)`.

use std::collections::BTreeMap;

use dengta_model::Dimension;
use dengta_model::exact::{self, Exact};
use num_traits::One;

use crate::rule_set::{CategoryRule, IndicatorRule};

/// Shares by set of indicators and of dimensions with data.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Shares {
    /// Indexed by the set of indicators with data (bit `i`: the rule set's `i`-th
    /// indicator): each indicator's share of its dimension (meaningful for the
    /// indicators in the set only).
    within: Vec<Vec<Exact>>,
    /// Per assessed category, indexed by the set of dimensions with data (bit
    /// [`Dimension::index`]): each dimension's effective weight, `None` for a
    /// dimension without data; the whole entry `None` when the weights with data
    /// sum to zero (no score).
    across: BTreeMap<String, Vec<Option<[Option<Exact>; 5]>>>,
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

impl Shares {
    pub(crate) fn new(indicators: &[IndicatorRule], categories: &BTreeMap<String, CategoryRule>) -> Shares {
        assert!(indicators.len() <= MAX_INDICATORS, "a rule set uses each catalogue indicator at most once");
        let within = (0..1usize << indicators.len())
            .map(|set| {
                let mut shares = vec![exact::int(0); indicators.len()];
                for d in Dimension::ALL {
                    let with_data: Vec<usize> = (0..indicators.len())
                        .filter(|&i| set & (1 << i) != 0 && indicators[i].dimension == d)
                        .collect();
                    let weights: Vec<&Exact> = with_data.iter().map(|&i| &indicators[i].weight).collect();
                    for (i, share) in with_data.into_iter().zip(normalised(&weights)) {
                        shares[i] = share;
                    }
                }
                shares
            })
            .collect();
        let across = categories
            .iter()
            .filter_map(|(name, c)| Some((name.clone(), c.assessment.as_ref()?)))
            .map(|(name, a)| {
                let by_set = (0..1usize << Dimension::ALL.len())
                    .map(|set| {
                        let has = |d: Dimension| set & (1 << d.index()) != 0;
                        let weight_sum: Exact =
                            Dimension::ALL.iter().filter(|d| has(**d)).map(|d| a.weights[d.index()].clone()).sum();
                        (!weight_sum.is_zero())
                            .then(|| Dimension::ALL.map(|d| has(d).then(|| &a.weights[d.index()] / &weight_sum)))
                    })
                    .collect();
                (name, by_set)
            })
            .collect();
        Shares { within, across }
    }

    /// Each indicator's share of its dimension when the indicators in `set` have data.
    pub(crate) fn within(&self, set: usize) -> &[Exact] {
        &self.within[set]
    }

    /// The effective dimension weights of an assessed `category` when the dimensions
    /// in `set` have data; `None` when they sum to zero or the category is not assessed.
    pub(crate) fn across(&self, category: &str, set: usize) -> Option<&[Option<Exact>; 5]> {
        self.across.get(category)?[set].as_ref()
    }
}
