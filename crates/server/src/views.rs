//! What the API and the dashboard show, computed once here so the two can never
//! disagree. Every score is recomputed exactly from the stored window counts and
//! the stored rule version, and checked against the stored score.

use std::collections::BTreeMap;

use dengta_engine::campaign::{self, Campaign};
use dengta_engine::daily::ScoreRow;
use dengta_engine::dataset::Store;
use dengta_model::exact::{self, Exact};
use dengta_model::{Better, Day, Indicator};
use dengta_rules::{DayScore, RuleBook, RuleSet, Verdict, WindowCounts};

use crate::db::{CurrentRun, DailyRecord, Reader};
use crate::error::{ApiError, ApiResult};
use crate::model::*;

/// The rule version that made a stored row.
pub fn rules_of<'a>(book: &'a RuleBook, row: &ScoreRow) -> ApiResult<&'a RuleSet> {
    book.by_version(&row.rule_version).ok_or_else(|| {
        ApiError::internal(format!(
            "rule version `{}` of a stored score is not in the state database",
            row.rule_version
        ))
    })
}

/// Recomputes a stored row's full result from its window counts.
pub fn recompute(book: &RuleBook, rec: &DailyRecord) -> ApiResult<(RuleSet, DayScore)> {
    let rules = rules_of(book, &rec.row)?;
    let cols = rec.row.indicators;
    let counts = move |i: Indicator| {
        let c = cols[i.index()];
        WindowCounts { numerator: c.numerator.unwrap_or(0), denominator: c.n.unwrap_or(0) }
    };
    let score = rules.evaluate(&rec.row.category, &counts, rec.exempted);
    Ok((rules.clone(), score))
}

fn threshold(rules: &RuleSet, category: &str) -> Option<Exact> {
    rules.categories.get(category).and_then(|c| c.assessment.as_ref()).map(|a| a.pass_threshold.clone())
}

fn six(x: &Exact) -> String {
    exact::format_fixed(x, 6)
}

/// The view of one day's score.
pub fn score_view(store_id: &str, date: Day, rules: &RuleSet, s: &DayScore) -> ScoreView {
    let t = threshold(rules, &s.category);
    ScoreView {
        store_id: store_id.to_string(),
        date: date.to_string(),
        rule_version: s.rule_version.clone(),
        category: s.category.clone(),
        status: s.verdict.status().to_string(),
        reason: s.verdict.reason().to_string(),
        reason_text: match s.verdict {
            Verdict::Scored => String::new(),
            Verdict::DefaultPass(r) => r.describe().to_string(),
        },
        score: s.score_text(),
        star: s.star.map(|x| x.to_string()),
        passes: t.as_ref().is_none_or(|t| s.passes(t)),
        threshold: t.map(|t| exact::format_fixed(&t, 2)),
        dimensions: s
            .dimensions
            .iter()
            .map(|d| DimensionView {
                name: d.dimension.name().to_string(),
                label_zh: d.dimension.label_zh().to_string(),
                label_en: d.dimension.label_en().to_string(),
                score: d.score.as_ref().map(six),
                weight: d.weight.as_ref().map(|w| exact::format_trimmed(w, 4)),
                effective_weight: d.effective_weight.as_ref().map(six),
                contribution: match (&d.score, &d.effective_weight) {
                    (Some(s), Some(w)) => Some(six(&(s * w))),
                    _ => None,
                },
            })
            .collect(),
    }
}

/// The store, when `visible`; otherwise the same 404 as for an unknown store.
pub fn visible_store(r: &Reader<'_>, store_id: &str, visible: bool) -> ApiResult<Store> {
    match r.store(store_id)? {
        Some(s) if visible => Ok(s),
        _ => Err(ApiError::store_not_found(store_id)),
    }
}

/// The latest day a store was scored in the run (its closing day for a closed store).
pub fn latest_day(r: &Reader<'_>, run: &CurrentRun, store: &str) -> ApiResult<Day> {
    let rows = r.daily(run.id, store, run.from, run.to)?;
    rows.last().map(|x| x.row.date).ok_or_else(|| {
        ApiError::not_found(
            "no_score",
            format!("store `{store}` has no score in the current run ({} to {})", run.from, run.to),
        )
    })
}

/// The stored row of a store-day.
pub fn record(r: &Reader<'_>, run: &CurrentRun, store: &str, date: Day) -> ApiResult<DailyRecord> {
    r.daily(run.id, store, date, date)?.into_iter().next().ok_or_else(|| {
        ApiError::not_found(
            "no_score",
            format!(
                "store `{store}` has no score on {date}: the current run covers {} to {} and the store must be operating that day",
                run.from, run.to
            ),
        )
    })
}

/// A store's score as of a day.
pub fn score(r: &Reader<'_>, book: &RuleBook, run: &CurrentRun, store: &str, date: Day) -> ApiResult<ScoreView> {
    let rec = record(r, run, store, date)?;
    let (rules, s) = recompute(book, &rec)?;
    Ok(score_view(store, date, &rules, &s))
}

/// A store's history.
pub fn history(
    r: &Reader<'_>,
    book: &RuleBook,
    run: &CurrentRun,
    store: &str,
    from: Day,
    to: Day,
) -> ApiResult<History> {
    let rows = r.daily(run.id, store, from, to)?;
    let threshold = book
        .in_force(to)
        .and_then(|rules| r.store(store).ok().flatten().and_then(|s| threshold(rules, &s.main_category)));
    Ok(History {
        store_id: store.to_string(),
        from: from.to_string(),
        to: to.to_string(),
        threshold: threshold.map(|t| exact::format_fixed(&t, 2)),
        points: rows
            .iter()
            .map(|x| HistoryPoint {
                date: x.row.date.to_string(),
                score: x.row.score_text(),
                status: x.row.verdict.status().to_string(),
                reason: x.row.verdict.reason().to_string(),
                star: x.row.star.map(|s| s.to_string()),
                rule_version: x.row.rule_version.clone(),
            })
            .collect(),
    })
}

/// Every number behind a score.
pub fn explain(r: &Reader<'_>, book: &RuleBook, run: &CurrentRun, store: &str, date: Day) -> ApiResult<Explanation> {
    let rec = record(r, run, store, date)?;
    let (rules, s) = recompute(book, &rec)?;
    let peers: BTreeMap<Indicator, (i64, f64, f64)> =
        r.peers(run.id, &s.category, date)?.into_iter().map(|(i, n, a, x)| (i, (n, a, x))).collect();
    let indicators = s
        .indicators
        .iter()
        .map(|o| {
            let rule = rules.indicators.iter().find(|x| x.indicator == o.indicator);
            let peer = peers.get(&o.indicator);
            IndicatorView {
                name: o.indicator.name().to_string(),
                label_zh: o.indicator.label_zh().to_string(),
                label_en: o.indicator.label_en().to_string(),
                dimension: o.dimension.name().to_string(),
                better: match o.indicator.better() {
                    Better::Higher => "higher",
                    Better::Lower => "lower",
                }
                .to_string(),
                unit: o.indicator.unit().to_string(),
                window_days: o.window_days,
                window_from: date.plus(1 - o.window_days as i32).to_string(),
                window_to: date.to_string(),
                numerator: o.counts.numerator,
                denominator: o.counts.denominator,
                min_samples: rule.map_or(1, |x| x.min_samples),
                value: o.value.as_ref().map(exact::to_f64),
                value_text: o.value.as_ref().map(six),
                score: o.score.as_ref().map(six),
                segment: match (rule, o.segment) {
                    (Some(rule), Some(seg)) => Some(rule.curve.describe(seg)),
                    _ => None,
                },
                curve: rule
                    .map(|x| x.curve.points().iter().map(|(v, s)| [exact::to_f64(v), exact::to_f64(s)]).collect())
                    .unwrap_or_default(),
                weight: exact::format_trimmed(&o.weight, 4),
                peer_average: peer.map(|p| p.1),
                peer_excellent: peer.map(|p| p.2),
                peer_stores: peer.map(|p| p.0),
            }
        })
        .collect();
    Ok(Explanation {
        matches_stored: s.score == exact::ratio(i128::from(rec.row.score_cents), 100),
        exact_score: s.exact_score.as_ref().map(|x| exact::format_fixed(x, 10)),
        rules_sha256: rules.content_hash.clone(),
        score: score_view(store, date, &rules, &s),
        indicators,
    })
}

/// Formats an indicator value for people: shares in percent, others with units.
pub fn value_text(i: Indicator, v: f64, zh: bool) -> String {
    match i.unit() {
        "" => format!("{:.2}%", v * 100.0),
        "hours" => format!("{v:.1} {}", if zh { "小时" } else { "h" }),
        "seconds" => format!("{v:.1} {}", if zh { "秒" } else { "s" }),
        _ => format!("{v:.2}"),
    }
}

/// "What to fix first", largest gain first.
pub fn fix_first(
    r: &Reader<'_>,
    book: &RuleBook,
    run: &CurrentRun,
    store: &str,
    date: Day,
) -> ApiResult<Vec<FixStepView>> {
    let rec = record(r, run, store, date)?;
    let (rules, s) = recompute(book, &rec)?;
    Ok(dengta_rules::fix_first(&rules, &s, rec.exempted)
        .into_iter()
        .map(|f| {
            let (from, to) = (exact::to_f64(&f.from), exact::to_f64(&f.to));
            let gain = exact::format_fixed(&f.gain, 4);
            let after = exact::format_fixed(&exact::round_half_away(&f.score_after, 2), 2);
            let verb_zh = if f.indicator.better() == Better::Higher { "提高到" } else { "降低到" };
            let verb_en = if f.indicator.better() == Better::Higher { "Raise" } else { "Bring" };
            FixStepView {
                indicator: f.indicator.name().to_string(),
                label_zh: f.indicator.label_zh().to_string(),
                label_en: f.indicator.label_en().to_string(),
                text_zh: format!(
                    "把{}从 {} {} {}（曲线的下一个分档，指标得分 {} → {}），总分可提高 {}，达到 {}",
                    f.indicator.label_zh(),
                    value_text(f.indicator, from, true),
                    verb_zh,
                    value_text(f.indicator, to, true),
                    exact::format_fixed(&f.indicator_score, 2),
                    exact::format_fixed(&f.point_score, 2),
                    gain,
                    after
                ),
                text_en: format!(
                    "{verb_en} {} from {} to {} (its next curve point: indicator score {} → {}) and your score rises by {} to {}",
                    f.indicator.label_en(),
                    value_text(f.indicator, from, false),
                    value_text(f.indicator, to, false),
                    exact::format_fixed(&f.indicator_score, 2),
                    exact::format_fixed(&f.point_score, 2),
                    gain,
                    after
                ),
                from,
                to,
                indicator_score: six(&f.indicator_score),
                point_score: six(&f.point_score),
                gain,
                score_after: after,
            }
        })
        .collect())
}

/// The day's score with hypothetical values.
pub fn what_if(
    r: &Reader<'_>,
    book: &RuleBook,
    run: &CurrentRun,
    store: &str,
    date: Day,
    values: &BTreeMap<String, f64>,
) -> ApiResult<WhatIfResult> {
    let rec = record(r, run, store, date)?;
    let (rules, s) = recompute(book, &rec)?;
    let mut parsed = Vec::new();
    for (name, v) in values {
        let field = format!("values.{name}");
        let i = Indicator::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Indicator::ALL.iter().map(|i| i.name()).collect();
            ApiError::bad_parameter(&field, format!("unknown indicator `{name}`; known: {}", names.join(", ")))
        })?;
        let x = exact::from_literal_f64(*v).ok_or_else(|| ApiError::bad_parameter(&field, "not a finite number"))?;
        parsed.push((i, x));
    }
    let after = dengta_rules::what_if(&rules, &s, &parsed, rec.exempted).map_err(|e| {
        let field = match &e {
            dengta_rules::WhatIfError::NotInRules(n, _) => format!("values.{n}"),
            dengta_rules::WhatIfError::OutOfRange { indicator, .. } => format!("values.{indicator}"),
        };
        ApiError::bad_parameter(&field, e.to_string())
    })?;
    Ok(WhatIfResult {
        before: score_view(store, date, &rules, &s),
        after: score_view(store, date, &rules, &after),
        values: values.clone(),
    })
}

/// Campaign access of the given stores on a day.
pub fn eligibility(
    r: &Reader<'_>,
    book: &RuleBook,
    run: &CurrentRun,
    stores: &[Store],
    date: Day,
    threshold: Option<Exact>,
) -> ApiResult<Vec<EligibilityView>> {
    let rows: Vec<ScoreRow> = r.daily_on(run.id, date)?.into_iter().map(|x| x.row).collect();
    let mut c = Campaign::default_access();
    if let (Some(t), Some(rules)) = (threshold, book.in_force(date)) {
        c.name = "custom threshold".into();
        for category in rules.categories.keys() {
            c.thresholds.insert(category.clone(), t.clone());
        }
    }
    Ok(campaign::decide(stores, &rows, book, &c, date)
        .into_iter()
        .map(|e| EligibilityView {
            store_id: e.store_id,
            date: e.date.to_string(),
            category: e.category,
            status: e.status,
            reason: e.reason,
            score: e.score,
            threshold: e.threshold,
            eligible: e.eligible,
            why: e.why,
        })
        .collect())
}

/// The operator overview as of the run's last day.
pub fn overview(r: &Reader<'_>, book: &RuleBook, run: &CurrentRun) -> ApiResult<Overview> {
    let date = run.to;
    let rules = book.in_force(date).ok_or_else(|| ApiError::internal(format!("no rule version in force on {date}")))?;
    let rows = r.daily_on(run.id, date)?;
    let mut categories: BTreeMap<String, CategoryDistribution> = BTreeMap::new();
    for x in &rows {
        let t = threshold(rules, &x.row.category);
        let c = categories.entry(x.row.category.clone()).or_insert_with(|| CategoryDistribution {
            category: x.row.category.clone(),
            threshold: t.as_ref().map(|t| exact::format_fixed(t, 2)),
            scored: 0,
            default_pass: 0,
            failing: 0,
            buckets: vec![0; 10],
        });
        match x.row.verdict {
            Verdict::DefaultPass(_) => c.default_pass += 1,
            Verdict::Scored => {
                c.scored += 1;
                let bucket = usize::try_from(x.row.score_cents / 50).unwrap_or(0).min(9);
                c.buckets[bucket] += 1;
                if t.as_ref().is_some_and(|t| exact::ratio(i128::from(x.row.score_cents), 100) < *t) {
                    c.failing += 1;
                }
            }
        }
    }
    let year = date.to_string()[..4].parse::<i32>().unwrap_or(0);
    let month = date.to_string()[..7].to_string();
    let months = r.months(run.id, None, Some(year))?;
    let stores = r.stores()?;
    let mut failing = Vec::new();
    let mut risk = Vec::new();
    for s in &stores {
        let mine: Vec<&Month> = months.iter().filter(|m| m.store_id == s.id).collect();
        let Some(latest) = mine.last() else { continue };
        let limit = rules
            .categories
            .get(&latest.category)
            .and_then(|c| c.assessment.as_ref())
            .map(|a| a.max_noncompliant_months);
        // Months that count for renewal: every month but a provisional one.
        let noncompliant = mine.iter().filter(|m| !m.provisional && !m.compliant).count() as u32;
        let entry = StoreAtRisk {
            store_id: s.id.clone(),
            category: latest.category.clone(),
            score: latest.score.clone(),
            noncompliant_months: noncompliant,
            max_noncompliant_months: limit,
        };
        if latest.month == month && !latest.compliant {
            failing.push(entry.clone());
        }
        if limit.is_some_and(|l| noncompliant + 1 >= l) {
            risk.push(entry);
        }
    }
    risk.sort_by(|a, b| b.noncompliant_months.cmp(&a.noncompliant_months).then(a.store_id.cmp(&b.store_id)));
    Ok(Overview {
        date: date.to_string(),
        month,
        categories: categories.into_values().collect(),
        failing_this_month: failing,
        renewal_risk: risk,
    })
}

/// A store's public view.
pub fn store_info(s: &Store) -> StoreInfo {
    StoreInfo {
        store_id: s.id.clone(),
        name: s.name.clone(),
        main_category: s.main_category.clone(),
        opened_on: s.opened_on.to_string(),
        closed_on: s.closed_on.map(|d| d.to_string()),
        onboarded: s.onboarded,
        removed_for_violation: s.removed_for_violation,
    }
}
