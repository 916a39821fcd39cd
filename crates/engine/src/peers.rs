//! Peer benchmarks (SPEC §12): per category, indicator and day, the mean of the
//! indicator over the category's stores with data (the peer average) and its 90th
//! percentile in the better direction (the peer excellent value: the 90th percentile
//! for higher-is-better indicators, the 10th for lower-is-better ones).
//!
//! Percentiles interpolate linearly between the closest ranks (the "inclusive"
//! definition of numpy's default and Excel's PERCENTILE.INC). These numbers are shown
//! beside a store's value; no decision depends on them, so they are `f64`.

use std::collections::BTreeMap;

use dengta_model::{Better, Day, Indicator};

use crate::daily::ScoreRow;

/// One row of `peers`.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerRow {
    /// Main category of the stores compared.
    pub category: String,
    /// Day.
    pub date: Day,
    /// Indicator.
    pub indicator: Indicator,
    /// Stores of the category with a value that day.
    pub stores: usize,
    /// Mean value.
    pub average: f64,
    /// 90th percentile in the better direction.
    pub excellent: f64,
}

/// The `p`-quantile (0–1) of sorted values, linear between the closest ranks.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let position = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo as f64)
}

/// Peer benchmarks from daily rows (operating store-days, default passes included:
/// they carry their values).
pub fn peers(rows: &[ScoreRow]) -> Vec<PeerRow> {
    let mut groups: BTreeMap<(&str, Day, usize), Vec<f64>> = BTreeMap::new();
    for r in rows {
        for i in Indicator::ALL {
            if let Some(v) = r.indicators[i.index()].value {
                groups.entry((r.category.as_str(), r.date, i.index())).or_default().push(v);
            }
        }
    }
    groups
        .into_iter()
        .map(|((category, date, i), mut values)| {
            values.sort_by(f64::total_cmp);
            let indicator = Indicator::ALL[i];
            let p = match indicator.better() {
                Better::Higher => 0.9,
                Better::Lower => 0.1,
            };
            PeerRow {
                category: category.to_string(),
                date,
                indicator,
                stores: values.len(),
                average: values.iter().sum::<f64>() / values.len() as f64,
                excellent: quantile(&values, p),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_ranks() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert!((quantile(&v, 0.9) - 9.1).abs() < 1e-12);
        assert!((quantile(&v, 0.1) - 1.9).abs() < 1e-12);
        assert_eq!(quantile(&[4.2], 0.9), 4.2);
    }
}
