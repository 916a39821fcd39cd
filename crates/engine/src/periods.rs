//! Months and years (SPEC §6–§7): monthly scores and compliance, renewal, the annual
//! average with the termination rules, the settlement category, the fee, GMV tiers
//! and the refund. Money is exact: fen as integers, proration in rationals.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use dengta_model::Day;
use dengta_model::exact::{self, Exact};
use dengta_rules::{RuleBook, Verdict};

use crate::daily::ScoreRow;
use crate::dataset::{Dataset, Store};
use crate::gmv::YearSales;

/// One row of `monthly` (SPEC §11).
#[derive(Clone, Debug, PartialEq)]
pub struct MonthRow {
    /// Store.
    pub store_id: String,
    /// Year and month.
    pub year: i32,
    /// Month 1–12.
    pub month: u32,
    /// The day whose score is the month's: its last day, or the latest scored day of a
    /// month still in progress.
    pub as_of: Day,
    /// Main category used.
    pub category: String,
    /// Scored or default pass.
    pub verdict: Verdict,
    /// Score in hundredths (9900 while default pass).
    pub score_cents: i64,
    /// At or above the category's pass threshold, or default pass.
    pub compliant: bool,
    /// The month is not over in the scored range.
    pub provisional: bool,
    /// Rule version in force on `as_of`.
    pub rule_version: String,
}

impl MonthRow {
    /// `YYYY-MM`.
    pub fn month_text(&self) -> String {
        format!("{}-{:02}", self.year, self.month)
    }
}

fn month_end(year: i32, month: u32) -> Day {
    let next = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    Day::from_date(NaiveDate::from_ymd_opt(next.0, next.1, 1).expect("valid month")).plus(-1)
}

fn month_start(year: i32, month: u32) -> Day {
    Day::from_date(NaiveDate::from_ymd_opt(year, month, 1).expect("valid month"))
}

/// `score_cents` passes `category`'s threshold under the version in force on `day`.
fn compliant(book: &RuleBook, row: &ScoreRow) -> bool {
    match row.verdict {
        Verdict::DefaultPass(_) => true,
        Verdict::Scored => book
            .in_force(row.date)
            .and_then(|r| r.categories.get(&row.category))
            .and_then(|c| c.assessment.as_ref())
            .is_none_or(|a| exact::ratio(i128::from(row.score_cents), 100) >= a.pass_threshold),
    }
}

/// Monthly rows from daily rows (sorted by store, then date): the score as of each
/// month's last day; the last month of the range, if not over, shows its latest day
/// as provisional.
pub fn monthly(rows: &[ScoreRow], book: &RuleBook, to: Day) -> Vec<MonthRow> {
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let d = r.date.date();
        let end = month_end(d.year(), d.month());
        let last_of_store = rows.get(i + 1).is_none_or(|n| n.store_id != r.store_id);
        let provisional = r.date == to && end != to;
        if r.date != end && !(provisional && last_of_store) {
            continue;
        }
        out.push(MonthRow {
            store_id: r.store_id.clone(),
            year: d.year(),
            month: d.month(),
            as_of: r.date,
            category: r.category.clone(),
            verdict: r.verdict,
            score_cents: r.score_cents,
            compliant: compliant(book, r),
            provisional,
            rule_version: r.rule_version.clone(),
        });
    }
    out
}

/// The annual result of a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnualStatus {
    /// An annual score was computed.
    Scored,
    /// Every month was a default pass, or none counts.
    DefaultPass,
    /// The settlement category is unknown to the rules: the fee is unknown.
    FeeUnknown,
}

impl AnnualStatus {
    /// The output word.
    pub fn name(self) -> &'static str {
        match self {
            AnnualStatus::Scored => "scored",
            AnnualStatus::DefaultPass => "default_pass",
            AnnualStatus::FeeUnknown => "fee_unknown",
        }
    }
}

/// One row of `annual` (SPEC §11), with the counts that explain it.
#[derive(Clone, Debug, PartialEq)]
pub struct AnnualRow {
    /// Store.
    pub store_id: String,
    /// Year.
    pub year: i32,
    /// Months of the year with an operating day (exit month included).
    pub operating_months: u32,
    /// Scored, default pass or fee unknown.
    pub status: AnnualStatus,
    /// Annual score in hundredths; `None` while default pass (shown as 99).
    pub annual_score_cents: Option<i64>,
    /// How the annual score was taken: `monthly_mean`, `termination_january`,
    /// `termination_months_before`.
    pub basis: &'static str,
    /// Monthly scores in the mean (or 1 for a January termination with a score).
    pub months_in_mean: u32,
    /// Settlement category.
    pub settlement_category: String,
    /// Total GMV of the year, fen.
    pub gmv_fen: i64,
    /// Orders paid in the year, and those left out of GMV.
    pub orders: (i64, i64),
    /// The annual fee of the highest-fee category sold in, fen.
    pub annual_fee_fen: Option<i64>,
    /// Charged months (first month free when the agreement started within the year).
    pub charged_months: u32,
    /// Fee due, fen.
    pub fee_due_fen: i64,
    /// The prorated GMV threshold reached, fen.
    pub tier_gmv_fen: Option<i64>,
    /// Refund ratio of the highest tier reached.
    pub refund_ratio: Exact,
    /// Refund paid, fen.
    pub refund_fen: i64,
    /// Why no refund is paid, or what is special.
    pub note: &'static str,
    /// Non-compliant months among the months that count.
    pub noncompliant_months: u32,
    /// Months that count.
    pub months_that_count: u32,
    /// Renewal passes.
    pub renewal_pass: bool,
    /// Onboarded and terminated in the same month: no fee.
    pub no_fee: bool,
    /// For a store that never completed onboarding: when its fee is due back.
    pub refund_due_on: Option<Day>,
}

impl AnnualRow {
    /// The annual score as shown (`99.00` while default pass).
    pub fn score_text(&self) -> String {
        exact::hundredths(self.annual_score_cents.unwrap_or(9900))
    }
}

/// Formats fen as yuan with two decimals.
pub fn yuan(fen: i64) -> String {
    exact::hundredths(fen)
}

fn to_fen(value: &Exact) -> i64 {
    exact::round_half_away(&(value * exact::int(100)), 0).trunc_i64().unwrap_or(i64::MAX)
}

/// Months of `year` in which `[first, last]` has a day.
fn months_within(year: i32, first: Day, last: Option<Day>) -> Vec<u32> {
    (1..=12)
        .filter(|m| {
            let (s, e) = (month_start(year, *m), month_end(year, *m));
            first <= e && last.is_none_or(|l| l >= s)
        })
        .collect()
}

/// Due date of a never-onboarded store's refund from its exit application date, or
/// why it cannot be computed.
pub type DueDate<'a> = &'a dyn Fn(Day) -> Result<Day, String>;

/// Settles `year` for every store that operated, or was signed, in it. Returns the
/// rows and warnings (due dates that could not be computed).
pub fn annual(
    ds: &Dataset,
    rows: &[ScoreRow],
    months: &[MonthRow],
    sales: &YearSales,
    book: &RuleBook,
    year: i32,
    due_date: DueDate<'_>,
) -> (Vec<AnnualRow>, Vec<String>) {
    let mut warnings = Vec::new();
    let (y_start, y_end) = (month_start(year, 1), month_end(year, 12));
    let rules = book.in_force(y_end);
    let by_day: HashMap<(&str, Day), &ScoreRow> = rows.iter().map(|r| ((r.store_id.as_str(), r.date), r)).collect();
    let mut by_month: HashMap<(&str, u32), &MonthRow> = HashMap::new();
    for m in months.iter().filter(|m| m.year == year && !m.provisional) {
        by_month.insert((m.store_id.as_str(), m.month), m);
    }
    let mut order: Vec<(usize, &Store)> = ds.stores.iter().enumerate().collect();
    order.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    let mut out = Vec::new();
    for (index, store) in order {
        if store.opened_on > y_end || store.closed_on.is_some_and(|c| c < y_start) {
            continue;
        }
        let open_months = months_within(year, store.opened_on, store.closed_on);
        let operating: Vec<u32> = if store.onboarded { open_months.clone() } else { Vec::new() };
        let exit = store.closed_on.filter(|c| c.date().year() == year).map(|c| c.date().month());
        let counting: Vec<u32> = operating.iter().copied().filter(|m| Some(*m) != exit).collect();
        let started_in_year = store.opened_on >= y_start;
        let charged = open_months.len() as u32 - u32::from(started_in_year && !open_months.is_empty());
        let no_fee = store.onboarded
            && store.closed_on.is_some_and(|c| {
                let (o, c) = (store.opened_on.date(), c.date());
                o.year() == c.year() && o.month() == c.month()
            });

        // Annual score (SPEC §6).
        let (basis, scores): (&'static str, Vec<i64>) = match store.closed_on.filter(|c| c.date().year() == year) {
            Some(t) if t.date().month() == 1 => {
                let before = by_day.get(&(store.id.as_str(), t.plus(-1)));
                let s = before.filter(|r| r.verdict == Verdict::Scored).map(|r| r.score_cents);
                ("termination_january", s.into_iter().collect())
            }
            Some(t) => {
                let months: Vec<i64> = (1..t.date().month())
                    .filter_map(|m| by_month.get(&(store.id.as_str(), m)))
                    .filter(|m| m.verdict == Verdict::Scored)
                    .map(|m| m.score_cents)
                    .collect();
                ("termination_months_before", months)
            }
            None => {
                let months: Vec<i64> = counting
                    .iter()
                    .filter_map(|m| by_month.get(&(store.id.as_str(), *m)))
                    .filter(|m| m.verdict == Verdict::Scored)
                    .map(|m| m.score_cents)
                    .collect();
                ("monthly_mean", months)
            }
        };
        let annual_score_cents = (!scores.is_empty()).then(|| {
            let mean = exact::ratio(i128::from(scores.iter().sum::<i64>()), scores.len() as i128);
            exact::round_half_away(&mean, 0).trunc_i64().unwrap_or(0)
        });
        let noncompliant =
            counting.iter().filter_map(|m| by_month.get(&(store.id.as_str(), *m))).filter(|m| !m.compliant).count()
                as u32;
        let main_assessment =
            rules.and_then(|r| r.categories.get(&store.main_category)).and_then(|c| c.assessment.as_ref());
        let renewal_pass = main_assessment.is_none_or(|a| noncompliant <= a.max_noncompliant_months);

        // Settlement category and GMV (SPEC §6–§7).
        let empty = Default::default();
        let store_sales = sales.get(&(index as u32)).unwrap_or(&empty);
        let known = |c: &str| rules.is_some_and(|r| r.categories.contains_key(c));
        let best = store_sales.iter().filter(|(c, s)| known(c) && s.gmv_fen > 0).map(|(_, s)| s.gmv_fen).max();
        let settlement = match best {
            None => store.main_category.clone(),
            Some(top) => {
                let tied: Vec<&String> =
                    store_sales.iter().filter(|(c, s)| known(c) && s.gmv_fen == top).map(|(c, _)| c).collect();
                if tied.iter().any(|c| **c == store.main_category) {
                    store.main_category.clone()
                } else {
                    tied[0].clone()
                }
            }
        };
        let gmv_fen: i64 = store_sales.values().map(|s| s.gmv_fen).sum();
        let orders = (store_sales.values().map(|s| s.orders).sum(), store_sales.values().map(|s| s.left_out).sum());
        let fee_of = |c: &str| rules.and_then(|r| r.categories.get(c)).map(|c| c.annual_fee.clone());
        let sold_fees: Vec<Exact> =
            store_sales.iter().filter(|(_, s)| s.orders > 0).filter_map(|(c, _)| fee_of(c)).collect();
        let annual_fee = sold_fees.into_iter().max().or_else(|| fee_of(&store.main_category));
        let settlement_rule = rules.and_then(|r| r.categories.get(&settlement));

        let mut row = AnnualRow {
            store_id: store.id.clone(),
            year,
            operating_months: operating.len() as u32,
            status: if annual_score_cents.is_some() { AnnualStatus::Scored } else { AnnualStatus::DefaultPass },
            annual_score_cents,
            basis,
            months_in_mean: scores.len() as u32,
            settlement_category: settlement.clone(),
            gmv_fen,
            orders,
            annual_fee_fen: annual_fee.as_ref().map(to_fen),
            charged_months: charged,
            fee_due_fen: 0,
            tier_gmv_fen: None,
            refund_ratio: Exact::zero(),
            refund_fen: 0,
            note: "",
            noncompliant_months: noncompliant,
            months_that_count: counting.len() as u32,
            renewal_pass,
            no_fee,
            refund_due_on: None,
        };
        let (Some(fee), Some(cat)) = (annual_fee, settlement_rule) else {
            row.status = AnnualStatus::FeeUnknown;
            row.note = "settlement_category_unknown_to_rules";
            out.push(row);
            continue;
        };
        if !store.onboarded {
            row.refund_ratio = exact::int(1);
            row.refund_fen = to_fen(&fee);
            row.note = "not_onboarded_whole_fee_back";
            match store.closed_on.map(due_date) {
                Some(Ok(d)) => row.refund_due_on = Some(d),
                Some(Err(e)) => warnings.push(format!("store {}: refund due date unknown: {e}", store.id)),
                None => warnings.push(format!(
                    "store {} never completed onboarding and has no exit application date (closed_on): no refund due date",
                    store.id
                )),
            }
            out.push(row);
            continue;
        }
        let share = exact::ratio(i128::from(charged), 12);
        row.fee_due_fen = if no_fee { 0 } else { to_fen(&(&fee * &share)) };
        for tier in &cat.refund_tiers {
            let threshold = to_fen(&(&tier.gmv * &share));
            if gmv_fen >= threshold {
                row.refund_ratio = tier.ratio.clone();
                row.tier_gmv_fen = Some(threshold);
            }
        }
        let score_ok = match (annual_score_cents, cat.assessment.as_ref()) {
            (Some(c), Some(a)) => exact::ratio(i128::from(c), 100) >= a.refund_min_score,
            _ => true,
        };
        if no_fee {
            row.note = "opened_and_terminated_same_month_no_fee";
        } else if store.removed_for_violation {
            row.note = "removed_for_violation";
        } else if !score_ok {
            row.note = "annual_score_below_refund_min_score";
        }
        if score_ok && !store.removed_for_violation {
            row.refund_fen = to_fen(&(exact::int(row.fee_due_fen) * &row.refund_ratio / exact::int(100)));
        }
        out.push(row);
    }
    (out, warnings)
}

/// Years in `from..=to` whose every day is in the range.
pub fn covered_years(from: Day, to: Day) -> Vec<i32> {
    (from.date().year()..=to.date().year()).filter(|y| month_start(*y, 1) >= from && month_end(*y, 12) <= to).collect()
}
