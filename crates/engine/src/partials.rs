//! Per-store, per-day partial sums and the rolling windows derived from them.
//!
//! For each store and measure the days with events are kept sorted with prefix sums,
//! so any window `[first, last]` is two binary searches and a subtraction, whatever
//! its length.

use dengta_model::{Day, Measure, MeasureSums};

/// One store's series of one measure.
#[derive(Clone, Debug, Default)]
pub(crate) struct Series {
    /// Days with events, ascending once sealed.
    days: Vec<Day>,
    /// Per-day sums, aligned with `days`, while unsealed (sealed, they are the
    /// differences of `prefix`, and not kept twice).
    sums: Vec<MeasureSums>,
    /// `prefix[i]` = sum of the first `i` days' sums; built by [`DayPartials::seal`].
    prefix: Vec<MeasureSums>,
}

impl Series {
    /// Adds one day's sums (in any order; sealed later).
    pub(crate) fn push(&mut self, day: Day, sums: MeasureSums) {
        if !self.prefix.is_empty() {
            self.sums = self.prefix.windows(2).map(|w| w[1] - w[0]).collect();
            self.prefix = Vec::new();
        }
        self.days.push(day);
        self.sums.push(sums);
    }

    /// Every `(day, sums)`, ascending once sealed.
    fn entries(&self) -> impl Iterator<Item = (Day, MeasureSums)> + '_ {
        let sealed = (!self.prefix.is_empty()).then(|| self.prefix.windows(2).map(|w| w[1] - w[0]));
        let unsealed = sealed.is_none().then(|| self.sums.iter().copied());
        self.days.iter().copied().zip(sealed.into_iter().flatten().chain(unsealed.into_iter().flatten()))
    }

    /// Sorts by day, merges repeated days and builds the prefix sums.
    pub(crate) fn seal(&mut self) {
        if !self.prefix.is_empty() {
            return; // sealed already, nothing added since
        }
        if self.days.windows(2).all(|w| w[0] < w[1]) {
            // Added in day order, each day once (as when read back day by day).
            let mut prefix = Vec::with_capacity(self.sums.len() + 1);
            let mut running = MeasureSums::default();
            prefix.push(running);
            for sums in &self.sums {
                running = running + *sums;
                prefix.push(running);
            }
            self.prefix = prefix;
            self.days.shrink_to_fit();
            self.sums = Vec::new();
            return;
        }
        let mut pairs: Vec<(Day, MeasureSums)> = self.days.drain(..).zip(self.sums.drain(..)).collect();
        pairs.sort_by_key(|(d, _)| *d);
        let mut prefix = vec![MeasureSums::default()];
        for (day, sums) in pairs {
            if self.days.last() == Some(&day) {
                let last = self.sums.len() - 1;
                self.sums[last] = self.sums[last] + sums;
                prefix[last + 1] = prefix[last + 1] + sums;
            } else {
                self.days.push(day);
                self.sums.push(sums);
                let running = prefix[prefix.len() - 1] + sums;
                prefix.push(running);
            }
        }
        self.prefix = prefix;
        self.prefix.shrink_to_fit();
        self.days.shrink_to_fit();
        self.sums = Vec::new();
    }

    /// Sums over the days `first..=last`.
    pub(crate) fn window(&self, first: Day, last: Day) -> MeasureSums {
        let lo = self.days.partition_point(|d| *d < first);
        let hi = self.days.partition_point(|d| *d <= last);
        if hi <= lo { MeasureSums::default() } else { self.prefix[hi] - self.prefix[lo] }
    }
}

/// Adds to a series, making room for `days_hint` days at its first day.
fn push_hinted(series: &mut Series, days_hint: usize, day: Day, sums: MeasureSums) {
    if series.days.capacity() == 0 && days_hint > 0 {
        series.days.reserve_exact(days_hint);
        series.sums.reserve_exact(days_hint);
    }
    series.push(day, sums);
}

/// Consecutive stores of a [`DayPartials`] (see [`DayPartials::ranges_mut`]).
pub(crate) struct StoreRange<'a> {
    first: usize,
    stores: &'a mut [[Series; Measure::ALL.len()]],
    days_hint: [usize; Measure::ALL.len()],
}

impl StoreRange<'_> {
    /// Does the range hold this store?
    pub(crate) fn holds(&self, store: usize) -> bool {
        (self.first..self.first + self.stores.len()).contains(&store)
    }

    /// As [`DayPartials::add`], for a store of the range (others are ignored).
    pub(crate) fn add(&mut self, store: usize, measure: Measure, day: Day, sums: MeasureSums) {
        if let Some(series) = store.checked_sub(self.first).and_then(|i| self.stores.get_mut(i)) {
            let m = usize::from(measure.code());
            push_hinted(&mut series[m], self.days_hint[m], day, sums);
        }
    }
}

/// Partial sums of every measure for every store and day.
#[derive(Clone, Debug)]
pub struct DayPartials {
    stores: Vec<[Series; Measure::ALL.len()]>,
    /// Room made in a series at its first day (the days expected per series of
    /// each measure).
    days_hint: [usize; Measure::ALL.len()],
}

impl DayPartials {
    /// Empty partials for `stores` stores.
    pub fn new(stores: usize) -> DayPartials {
        DayPartials { stores: (0..stores).map(|_| Default::default()).collect(), days_hint: [0; Measure::ALL.len()] }
    }

    /// Empty partials for `stores` stores, each series of measure `m` expected to
    /// hold up to `days[m]` days (room for them is made once, at a series' first
    /// day).
    pub fn with_days(stores: usize, days: [usize; Measure::ALL.len()]) -> DayPartials {
        DayPartials { days_hint: days, ..DayPartials::new(stores) }
    }

    /// Adds a day's sums (days may come in any order, and more than once).
    pub fn add(&mut self, store: usize, measure: Measure, day: Day, sums: MeasureSums) {
        if let Some(series) = self.stores.get_mut(store) {
            let m = usize::from(measure.code());
            push_hinted(&mut series[m], self.days_hint[m], day, sums);
        }
    }

    /// The stores split into consecutive ranges of `size` stores, each of which
    /// can be added to from its own thread.
    pub(crate) fn ranges_mut(&mut self, size: usize) -> Vec<StoreRange<'_>> {
        let days_hint = self.days_hint;
        self.stores
            .chunks_mut(size.max(1))
            .enumerate()
            .map(|(i, stores)| StoreRange { first: i * size.max(1), stores, days_hint })
            .collect()
    }

    /// Sorts each series, merges repeated days and builds the prefix sums.
    pub fn seal(&mut self) {
        for store in &mut self.stores {
            store.iter_mut().for_each(Series::seal);
        }
    }

    /// The sums of a measure over the days `first..=last` for one store.
    pub fn window(&self, store: usize, measure: Measure, first: Day, last: Day) -> MeasureSums {
        self.stores.get(store).map_or_else(MeasureSums::default, |s| s[usize::from(measure.code())].window(first, last))
    }

    /// Every `(day, sums)` of a store's measure, ascending.
    pub fn days(&self, store: usize, measure: Measure) -> impl Iterator<Item = (Day, MeasureSums)> + '_ {
        self.stores.get(store).into_iter().flat_map(move |s| {
            let series = &s[usize::from(measure.code())];
            series.entries()
        })
    }

    /// Number of stores.
    pub fn store_count(&self) -> usize {
        self.stores.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Window sums from prefix sums equal a direct sum over the days, and
        /// merging partials added in any order changes nothing.
        #[test]
        fn windows_equal_direct_sums(
            entries in proptest::collection::vec((0i32..60, 0i64..100, 1i64..5), 0..80),
            first in 0i32..60, len in 1i32..40,
        ) {
            let mut p = DayPartials::new(1);
            for (d, s, c) in entries.iter().rev() {
                p.add(0, Measure::Reviews, Day(*d), MeasureSums { sum: *s, count: *c });
            }
            p.seal();
            let last = first + len - 1;
            let direct = entries.iter()
                .filter(|(d, _, _)| (first..=last).contains(d))
                .fold(MeasureSums::default(), |acc, (_, s, c)| acc + MeasureSums { sum: *s, count: *c });
            prop_assert_eq!(p.window(0, Measure::Reviews, Day(first), Day(last)), direct);
            prop_assert_eq!(p.window(0, Measure::OrdersPaid, Day(first), Day(last)), MeasureSums::default());
        }
    }
}
