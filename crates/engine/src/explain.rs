//! Explaining one store-day from a scoring run's output directory: every indicator's
//! window, numerator, denominator, value, curve segment and score; the dimension
//! scores and weights with any re-normalisation; the total, its rounding, the star
//! and the rule version.
//!
//! The explanation is recomputed from what the run stored (its rule files and its
//! per-store-day partials), then checked against the score the run wrote.

use std::fmt::{self, Write as _};
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::datatypes::{Date32Type, Decimal128Type, Int64Type};
use datafusion::common::ScalarValue;
use datafusion::prelude::*;
use dengta_model::exact::{self, Exact};
use dengta_model::{Day, Indicator, Measure, MeasureSums, Term};
use dengta_rules::{DayScore, DefaultPassReason, RuleBook, RuleSet, Verdict};

use crate::aggregate::Profile;
use crate::daily::window_counts;
use crate::error::{Error, Result};
use crate::partials::DayPartials;
use crate::run::files;

/// One store-day, explained.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// Store.
    pub store_id: String,
    /// Day.
    pub date: Day,
    /// The full recomputed result.
    pub score: DayScore,
    /// The rule version used.
    pub rules: RuleSet,
    /// The score the run wrote (two decimals).
    pub stored_score: String,
}

/// Explains `store_id` as of `date` from the run in `run_dir`.
pub async fn explain(run_dir: &Path, store_id: &str, date: Day) -> Result<Explanation> {
    let manifest_path = run_dir.join(files::MANIFEST);
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| {
        Error::InvalidRequest(format!(
            "{}: {e}; is this the --out folder of a `dengta score` run?",
            manifest_path.display()
        ))
    })?;
    let manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::input(&manifest_path, format!("not a run manifest: {e}")))?;
    let mut versions = Vec::new();
    for r in manifest["rules"].as_array().into_iter().flatten() {
        let file = r["file"].as_str().ok_or_else(|| Error::input(&manifest_path, "a rules entry has no `file`"))?;
        versions.push(RuleSet::load(&run_dir.join(file))?);
    }
    let book = RuleBook::new(versions)?;

    let ctx = SessionContext::new();
    let daily = read_filtered(&ctx, &run_dir.join(files::DAILY_PARQUET), store_id, Some(date)).await?;
    let row = first_row(&daily).ok_or_else(|| {
        Error::InvalidRequest(format!(
            "store `{store_id}` has no daily score on {date} in {}: it was not operating that day, is unknown, or the day is outside the run's --from/--to",
            run_dir.display()
        ))
    })?;
    let (batch, i) = row;
    let category = text_column(batch, "category")?.map(|c| c.value(i).to_string()).unwrap_or_default();
    let reason =
        text_column(batch, "reason")?.filter(|c| !c.is_null(i)).map(|c| c.value(i).to_string()).unwrap_or_default();
    let cents = batch.column_by_name("score").map_or(0, |c| c.as_primitive::<Decimal128Type>().value(i));
    let stored_score = exact::hundredths(i64::try_from(cents).unwrap_or(i64::MAX));

    let rules = book
        .in_force(date)
        .ok_or_else(|| Error::InvalidRequest(format!("no rule version of the run is in force on {date}")))?
        .clone();
    let profile = Profile::of(&rules).key();
    let partial_rows = read_filtered(&ctx, &run_dir.join(files::PARTIALS), store_id, None).await?;
    let mut partials = DayPartials::new(1);
    for b in &partial_rows {
        let (Some(profiles), Some(measures)) = (text_column(b, "profile")?, text_column(b, "measure")?) else {
            continue;
        };
        let days = b.column(3).as_primitive::<Date32Type>();
        let sums = b.column(4).as_primitive::<Int64Type>();
        let counts = b.column(5).as_primitive::<Int64Type>();
        for j in 0..b.num_rows() {
            if profiles.value(j) != profile {
                continue;
            }
            let Some(m) = Measure::ALL.into_iter().find(|m| m.name() == measures.value(j)) else { continue };
            partials.add(0, m, Day(days.value(j)), MeasureSums { sum: sums.value(j), count: counts.value(j) });
        }
    }
    partials.seal();
    let counts = window_counts(&rules, &partials, 0, date);
    let score = rules.evaluate(&category, &counts, reason == DefaultPassReason::Exempted.name());
    Ok(Explanation { store_id: store_id.to_string(), date, score, rules, stored_score })
}

async fn read_filtered(
    ctx: &SessionContext,
    path: &Path,
    store_id: &str,
    date: Option<Day>,
) -> Result<Vec<RecordBatch>> {
    if !path.is_file() {
        return Err(Error::InvalidRequest(format!("{} is missing; run `dengta score` again", path.display())));
    }
    let mut df = ctx
        .read_parquet(path.display().to_string(), ParquetReadOptions::default())
        .await?
        .filter(col("store_id").eq(lit(store_id)))?;
    if let Some(d) = date {
        df = df.filter(col("date").eq(lit(ScalarValue::Date32(Some(d.0)))))?;
    }
    Ok(df.collect().await?)
}

/// A text column as plain `Utf8` (DataFusion may read Parquet strings as views).
fn text_column(batch: &RecordBatch, name: &str) -> Result<Option<StringArray>> {
    match batch.column_by_name(name) {
        None => Ok(None),
        Some(c) => Ok(Some(cast(c, &DataType::Utf8)?.as_string::<i32>().clone())),
    }
}

fn first_row(batches: &[RecordBatch]) -> Option<(&RecordBatch, usize)> {
    batches.iter().find(|b| b.num_rows() > 0).map(|b| (b, 0))
}

fn num(v: &Exact, decimals: u32) -> String {
    exact::format_trimmed(v, decimals)
}

fn quantity(indicator: Indicator, term: Term, value: i64) -> String {
    match (indicator, term) {
        (Indicator::RefundOnlyHours | Indicator::ReturnRefundHours, Term::Sum(_)) => {
            format!("{} hours in all", num(&exact::ratio(i128::from(value), 3_600_000), 4))
        }
        (Indicator::ImFirstReplySecs, Term::Sum(_)) => {
            format!("{} seconds in all", num(&exact::ratio(i128::from(value), 1000), 3))
        }
        (Indicator::DsrItem, Term::Sum(_)) => format!("{value} points in all"),
        _ => value.to_string(),
    }
}

fn denominator_noun(indicator: Indicator) -> &'static str {
    match indicator {
        Indicator::DsrItem => "reviews",
        Indicator::Pickup24hRate => "orders due for pickup",
        Indicator::RefundOnlyHours => "refund-only refunds completed",
        Indicator::ReturnRefundHours => "return-and-refund refunds completed",
        Indicator::DisputeRefundRate | Indicator::ComplaintUpheldRate => "orders paid",
        Indicator::ImReplyRate => "chats due for a reply",
        Indicator::ImFirstReplySecs => "chats answered",
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.score;
        let r = &self.rules;
        let mut out = String::new();
        let headline = match s.verdict {
            Verdict::Scored => format!(
                "basic service score {} ({} stars)",
                s.score_text(),
                s.star.map_or_else(|| "no".into(), |x| x.to_string())
            ),
            Verdict::DefaultPass(reason) => format!("99 = default pass ({}): {}", reason.name(), reason.describe()),
        };
        let _ = writeln!(out, "Store {} on {}: {}", self.store_id, self.date, headline);
        let _ = writeln!(
            out,
            "Rule version {} (in force since {}; {}; sha256 {}), main category `{}`{}.",
            r.version,
            r.effective_from,
            r.source_name,
            &r.content_hash[..12.min(r.content_hash.len())],
            s.category,
            r.categories
                .get(&s.category)
                .and_then(|c| c.label.as_ref())
                .map_or_else(String::new, |l| format!(" ({l})"))
        );
        let _ = writeln!(
            out,
            "Business days are calendar dates at UTC{}; a window of W days as of {} runs from the start of its first day to the end of {}.",
            r.offset, self.date, self.date
        );
        let _ = writeln!(out, "\nIndicators");
        for o in &s.indicators {
            let rule = r.indicator(o.indicator).expect("outcomes come from this rule version");
            let first = rule.window.first_day(self.date);
            let _ = writeln!(
                out,
                "  {} {} [{}], {} days {}..{}: {}.",
                o.indicator.label_zh(),
                o.indicator.name(),
                o.dimension,
                o.window_days,
                first,
                self.date,
                o.indicator.describe()
            );
            match (&o.value, &o.score, o.segment) {
                (Some(v), Some(score), Some(seg)) => {
                    let _ = writeln!(
                        out,
                        "      {} / {} {} = {} {} → score {} ({})",
                        quantity(o.indicator, o.indicator.numerator(), o.counts.numerator),
                        o.counts.denominator,
                        denominator_noun(o.indicator),
                        num(v, 6),
                        o.indicator.unit(),
                        num(score, 6),
                        rule.curve.describe(seg)
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "      no data: {} {} in the window, fewer than min_samples {}",
                        o.counts.denominator,
                        denominator_noun(o.indicator),
                        rule.min_samples
                    );
                }
            }
        }
        let _ = writeln!(out, "\nDimensions (score = weighted mean of its indicators with data)");
        let mut renormalised = false;
        for d in &s.dimensions {
            let members: Vec<String> = s
                .indicators
                .iter()
                .filter(|o| o.dimension == d.dimension && o.score.is_some())
                .map(|o| format!("{}×{}", num(o.score.as_ref().expect("filtered on score"), 4), num(&o.weight, 4)))
                .collect();
            let weights = match (&d.weight, &d.effective_weight) {
                (Some(w), Some(e)) => {
                    if w != e {
                        renormalised = true;
                    }
                    format!("category weight {}, used {}", num(w, 4), num(e, 6))
                }
                (Some(w), None) => format!("category weight {}, unused (no data)", num(w, 4)),
                _ => "no weight (category not assessed)".to_string(),
            };
            let value = d.score.as_ref().map_or_else(|| "no data".to_string(), |v| num(v, 6));
            let _ = writeln!(
                out,
                "  {} {:<13} {:>10}   {}{}",
                d.dimension.label_zh(),
                d.dimension.name(),
                value,
                weights,
                if members.is_empty() { String::new() } else { format!("   from {}", members.join(" + ")) }
            );
        }
        if renormalised {
            let _ = writeln!(out, "  Weights were re-normalised to sum to 1 over the dimensions with data.");
        }
        let _ = writeln!(out);
        match &s.exact_score {
            Some(total) => {
                let terms: Vec<String> = s
                    .dimensions
                    .iter()
                    .filter_map(|d| {
                        Some(format!("{}×{}", num(d.score.as_ref()?, 6), num(d.effective_weight.as_ref()?, 6)))
                    })
                    .collect();
                let _ = writeln!(out, "Total = {} = {}", terms.join(" + "), num(total, 10));
                let _ = writeln!(out, "Rounded half away from zero to two decimals: {}", exact::format_fixed(total, 2));
            }
            None => {
                let _ = writeln!(
                    out,
                    "No total: {}.",
                    if s.verdict == Verdict::DefaultPass(DefaultPassReason::CategoryNotAssessed) {
                        "the category is not assessed"
                    } else {
                        "no dimension has data"
                    }
                );
            }
        }
        match (s.verdict, s.star) {
            (Verdict::Scored, Some(star)) => {
                let band =
                    r.stars.bands.iter().find(|(min, st)| *st == star && s.score >= *min).map(|(m, _)| num(m, 2));
                let _ = writeln!(
                    out,
                    "Star: {} stars ({}).",
                    star,
                    band.map_or_else(|| "below every band".to_string(), |m| format!("score ≥ {m}"))
                );
            }
            (Verdict::DefaultPass(reason), _) => {
                let _ = writeln!(
                    out,
                    "Shown as 99 and counted as passing: {}. No star while a default pass.",
                    reason.describe()
                );
            }
            _ => {}
        }
        if s.score_text() != self.stored_score {
            let _ = writeln!(
                out,
                "WARNING: the run stored {}, but recomputing gives {}.",
                self.stored_score,
                s.score_text()
            );
        }
        f.write_str(&out)
    }
}
