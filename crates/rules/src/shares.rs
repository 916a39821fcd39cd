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

/// The most indicators a rule set can hold (the catalogue's size).
const MAX_INDICATORS: usize = dengta_model::Indicator::ALL.len();

impl Shares {
    pub(crate) fn new(indicators: &[IndicatorRule], categories: &BTreeMap<String, CategoryRule>) -> Shares {
        assert!(indicators.len() <= MAX_INDICATORS, "a rule set uses each catalogue indicator at most once");
        let within = (0..1usize << indicators.len())
            .map(|set| {
                let has = |i: usize| set & (1 << i) != 0;
                indicators
                    .iter()
                    .enumerate()
                    .map(|(i, rule)| {
                        if !has(i) {
                            return exact::int(0);
                        }
                        let peers =
                            || indicators.iter().enumerate().filter(|(j, r)| has(*j) && r.dimension == rule.dimension);
                        let weight_sum: Exact = peers().map(|(_, r)| &r.weight).sum();
                        if weight_sum.is_zero() {
                            // Every indicator with data has weight 0: a plain mean keeps
                            // the dimension meaningful rather than dividing by zero.
                            exact::ratio(1, peers().count() as i128)
                        } else {
                            &rule.weight / &weight_sum
                        }
                    })
                    .collect()
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
