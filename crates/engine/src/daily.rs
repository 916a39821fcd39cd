//! Daily scores: for every operating store-day in a range, the window counts of each
//! indicator under the rule version in force that day, scored by the rules crate.

use std::collections::{BTreeSet, HashMap};

use dengta_model::exact;
use dengta_model::{Day, Dimension, Indicator, Term};
use dengta_rules::{DayScore, RuleBook, RuleSet, Star, Verdict, WindowCounts};

use crate::aggregate::Profile;
use crate::dataset::{Dataset, Store};
use crate::error::{Error, Result};
use crate::partials::DayPartials;
use crate::progress::Progress;

/// One indicator's columns in `daily_scores`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IndicatorColumns {
    /// The value (`None`: no data, or not used by the rule version).
    pub value: Option<f64>,
    /// The denominator (`None` when the rule version does not use the indicator).
    pub n: Option<i64>,
    /// The numerator's window sum (ms for durations).
    pub numerator: Option<i64>,
    /// The curve score.
    pub score: Option<f64>,
}

/// One row of `daily_scores` (SPEC §11).
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreRow {
    /// Store.
    pub store_id: String,
    /// The day the score is as of.
    pub date: Day,
    /// The rule version in force.
    pub rule_version: String,
    /// The main category used.
    pub category: String,
    /// Scored or default pass (with reason).
    pub verdict: Verdict,
    /// The shown score in hundredths (9900 while default pass); exact, so thresholds
    /// compare without floating point.
    pub score_cents: i64,
    /// The star, when scored.
    pub star: Option<Star>,
    /// The unrounded weighted score before the 99 rules, for diagnostics.
    pub raw_score: Option<f64>,
    /// Dimension scores in [`Dimension::ALL`] order.
    pub dims: [Option<f64>; 5],
    /// Indicator columns in [`Indicator::ALL`] order.
    pub indicators: [IndicatorColumns; 8],
}

impl ScoreRow {
    /// The shown score as text with two decimals.
    pub fn score_text(&self) -> String {
        exact::hundredths(self.score_cents)
    }

    fn from_score(store: &Store, date: Day, s: DayScore) -> ScoreRow {
        let cents = (&s.score * exact::int(100)).trunc_i64().unwrap_or(i64::MAX);
        let mut indicators = [IndicatorColumns::default(); 8];
        for o in &s.indicators {
            indicators[o.indicator.index()] = IndicatorColumns {
                value: o.value.as_ref().map(exact::to_f64),
                n: Some(o.counts.denominator),
                numerator: Some(o.counts.numerator),
                score: o.score.as_ref().map(exact::to_f64),
            };
        }
        let mut dims = [None; 5];
        for d in &s.dimensions {
            dims[d.dimension.index()] = d.score.as_ref().map(exact::to_f64);
        }
        ScoreRow {
            store_id: store.id.clone(),
            date,
            rule_version: s.rule_version,
            category: s.category,
            verdict: s.verdict,
            score_cents: cents,
            star: s.star,
            raw_score: s.exact_score.as_ref().map(exact::to_f64),
            dims,
            indicators,
        }
    }
}

/// The window counts of every indicator of `rules` for one store as of `day`.
pub fn window_counts(
    rules: &RuleSet,
    partials: &DayPartials,
    store: usize,
    day: Day,
) -> impl Fn(Indicator) -> WindowCounts + use<> {
    let counts: Vec<(Indicator, WindowCounts)> = rules
        .indicators
        .iter()
        .map(|r| {
            let first = r.window.first_day(day);
            let term = |t: Term| {
                let sums = partials.window(store, t.measure(), first, day);
                match t {
                    Term::Sum(_) => sums.sum,
                    Term::Count(_) => sums.count,
                }
            };
            (
                r.indicator,
                WindowCounts { numerator: term(r.indicator.numerator()), denominator: term(r.indicator.denominator()) },
            )
        })
        .collect();
    move |i| counts.iter().find(|(x, _)| *x == i).map_or(WindowCounts::EMPTY, |(_, c)| *c)
}

/// Scores one store on one day with full detail (for explanations).
pub fn score_store_day(
    ds: &Dataset,
    book: &RuleBook,
    partials: &HashMap<Profile, DayPartials>,
    store_index: usize,
    day: Day,
) -> Result<DayScore> {
    let store = &ds.stores[store_index];
    let rules = rules_on(book, day)?;
    let p = partials
        .get(&Profile::of(rules))
        .ok_or_else(|| Error::Internal(format!("no partials for rule version {}", rules.version)))?;
    let counts = window_counts(rules, p, store_index, day);
    Ok(rules.evaluate(&store.main_category, &counts, ds.exempted(store, day)))
}

/// The rule version in force on a day, or a clear error.
pub fn rules_on(book: &RuleBook, day: Day) -> Result<&RuleSet> {
    book.in_force(day).ok_or_else(|| {
        let earliest =
            book.versions().first().map_or_else(String::new, |r| format!("{} ({})", r.effective_from, r.version));
        Error::InvalidRequest(format!(
            "no rule version is in force on {day}; the earliest effective_from is {earliest}"
        ))
    })
}

/// Scores every operating store-day in `from..=to`, ordered by store id then date.
/// Returns the rows and warnings (categories the rules do not know).
pub fn score_range(
    ds: &Dataset,
    book: &RuleBook,
    partials: &HashMap<Profile, DayPartials>,
    from: Day,
    to: Day,
    progress: &dyn Progress,
) -> Result<(Vec<ScoreRow>, Vec<String>)> {
    let mut rows = Vec::new();
    let warnings = score_range_each(ds, book, partials, from, to, progress, &mut |block| {
        rows.extend(block);
        Ok(())
    })?;
    Ok((rows, warnings))
}

/// Store-days scored together (on every core) before their rows are handed on: 64
/// stores of a year, or every store of a marketplace of some 23 000 for one day (a
/// block's threads are spawned anew, which for a day's 64 stores cost more than
/// scoring them). A range of one block is scored without the thread that hands
/// blocks over.
const STORE_DAYS_PER_BLOCK: usize = 64 * 366;

/// Scores every operating store-day in `from..=to` and hands the rows to `sink` a
/// block of stores at a time, ordered by store id then date: memory holds one
/// block's rows, whatever the number of stores. Returns the warnings (categories
/// the rules do not know).
pub fn score_range_each(
    ds: &Dataset,
    book: &RuleBook,
    partials: &HashMap<Profile, DayPartials>,
    from: Day,
    to: Day,
    progress: &dyn Progress,
    sink: &mut dyn FnMut(Vec<ScoreRow>) -> Result<()>,
) -> Result<Vec<String>> {
    for day in [from, to] {
        rules_on(book, day)?;
    }
    let mut order: Vec<usize> = (0..ds.stores.len()).collect();
    order.sort_by(|a, b| ds.stores[*a].id.cmp(&ds.stores[*b].id));
    progress.stage("scoring store-days", Some(order.len() as u64));

    let threads = crate::cores();
    let score_block = |block: &[usize]| -> Result<Vec<ScoreRow>> {
        let chunks: Vec<&[usize]> = block.chunks(block.len().div_ceil(threads).max(1)).collect();
        let score_chunk = |stores: &&[usize]| -> Result<Vec<ScoreRow>> {
            let mut rows = Vec::new();
            for &i in *stores {
                let store = &ds.stores[i];
                for day in from.through(to).filter(|d| store.operating_on(*d)) {
                    let score = score_store_day(ds, book, partials, i, day)?;
                    rows.push(ScoreRow::from_score(store, day, score));
                }
                progress.advance(1);
            }
            Ok(rows)
        };
        Ok(crate::on_threads(threads, &chunks, score_chunk, "a scoring thread")?.concat())
    };
    let days = usize::try_from(to.0 - from.0 + 1).unwrap_or(1).max(1);
    let block_stores = (STORE_DAYS_PER_BLOCK / days).max(1);
    if !order.is_empty() && order.len() <= block_stores {
        // One block (a day's batch): scored on this thread and its helpers, with no
        // thread in between to hand it over.
        sink(score_block(&order)?)?;
    } else {
        // The next block is scored while the sink takes the previous one (one block
        // in flight, so memory stays at two blocks).
        std::thread::scope(|scope| -> Result<()> {
            let (send, receive) = std::sync::mpsc::sync_channel::<Result<Vec<ScoreRow>>>(1);
            let order = &order;
            let score_block = &score_block;
            scope.spawn(move || {
                for block in order.chunks(block_stores) {
                    let rows = score_block(block);
                    let failed = rows.is_err();
                    if send.send(rows).is_err() || failed {
                        break;
                    }
                }
            });
            for rows in receive {
                sink(rows?)?;
            }
            Ok(())
        })?;
    }

    let unknown: BTreeSet<&str> = ds
        .stores
        .iter()
        .filter(|s| s.onboarded)
        .map(|s| s.main_category.as_str())
        .filter(|c| book.versions().iter().any(|r| !r.categories.contains_key(*c)))
        .collect();
    Ok(unknown
        .into_iter()
        .map(|c| format!("category `{c}` is not in the rules; its stores are a default pass (category_not_assessed)"))
        .collect())
}

/// Dimension names in output order, for column headers.
pub fn dimension_columns() -> impl Iterator<Item = String> {
    Dimension::ALL.into_iter().map(|d| format!("dim_{}", d.name()))
}
