//! Months, years and money (SPEC §6–§7) on small hand-made datasets. A test rule
//! version with one-day windows makes each month-end score the score of that day's
//! reviews alone: item scores 5 → 5.00, 4.8 → 4.50, 4.5 → 3.50, 4 → 2.00 (the DSR
//! curve), and a month-end without reviews is a default pass (no data).

use dengta_engine::campaign::{self, Campaign};
use dengta_engine::periods::AnnualRow;
use dengta_engine::run::ScoreOutcome;
use dengta_rules::{RuleBook, RuleSet};

use crate::util::*;

fn one_day_rules(extra: &[(&str, &str)]) -> RuleBook {
    let mut text = dengta_rules::DEFAULT_RULES_TOML.replace("window_days = 30", "window_days = 1");
    text = text.replacen("window_days = 90", "window_days = 1", 1);
    for (from, to) in extra {
        assert!(text.contains(from), "fixture: {from}");
        text = text.replacen(from, to, 1);
    }
    RuleBook::new(vec![RuleSet::parse("one-day.toml", &text).expect("valid test rules")]).expect("book")
}

/// Reviews on `date` whose item scores average `mean` (5, 4.8, 4.5 or 4).
fn reviews(store: &str, date: &str, mean: &str, n: &mut u32) -> Vec<String> {
    let scores: &[u8] = match mean {
        "5" => &[5],
        "4.8" => &[5, 5, 5, 5, 4],
        "4.5" => &[5, 4],
        "4" => &[4],
        "3" => &[3],
        _ => panic!("unsupported mean {mean}"),
    };
    scores
        .iter()
        .map(|s| {
            *n += 1;
            format!("R{n},O1,{store},I1,{date}T12:00:00+08:00,{s},5,5")
        })
        .collect()
}

fn order(id: &str, store: &str, category: &str, date: &str, amount: &str) -> String {
    format!("{id},{store},I1,{category},{date}T10:00:00+08:00,{amount},{date}T11:00:00+08:00")
}

struct Case {
    stores: Vec<String>,
    reviews: Vec<String>,
    orders: Vec<String>,
    refunds: Vec<String>,
    exemptions: Vec<String>,
    n: u32,
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

impl Case {
    fn new(stores: &[&str]) -> Case {
        Case {
            stores: stores.iter().map(|s| s.to_string()).collect(),
            reviews: Vec::new(),
            orders: Vec::new(),
            refunds: Vec::new(),
            exemptions: Vec::new(),
            n: 0,
        }
    }

    fn month_ends(&mut self, store: &str, ends: &[(&str, &str)]) {
        for (date, mean) in ends {
            let mut rows = reviews(store, date, mean, &mut self.n);
            self.reviews.append(&mut rows);
        }
    }

    async fn run(&self, book: &RuleBook, from: &str, to: &str) -> (ScoreOutcome, tempfile::TempDir) {
        let data = TestData::new(&[
            ("stores", table(STORES_HEADER, &strs(&self.stores))),
            ("reviews", table(REVIEWS_HEADER, &strs(&self.reviews))),
            ("orders", table(ORDERS_HEADER, &strs(&self.orders))),
            ("refunds", table(REFUNDS_HEADER, &strs(&self.refunds))),
            ("exemptions", table(EXEMPTIONS_HEADER, &strs(&self.exemptions))),
        ]);
        let (outcome, out) = run_into(data.path(), book, day(from), day(to), true).await;
        (outcome.expect("run"), out)
    }
}

fn annual<'a>(o: &'a ScoreOutcome, store: &str) -> &'a AnnualRow {
    o.annual.iter().find(|r| r.store_id == store).unwrap_or_else(|| panic!("no annual row for {store}"))
}

#[tokio::test]
async fn terminations_in_january_march_and_after_a_leap_february() {
    let mut c =
        Case::new(&["JAN,Jan,home,2020-01-01,2025-01-16,true,false", "MAR,Mar,home,2020-01-01,2025-03-15,true,false"]);
    // Applied on Jan 16: the score of Jan 15 (5.00); Jan 16 itself (2.00) is ignored.
    c.month_ends("JAN", &[("2025-01-15", "5"), ("2025-01-16", "4")]);
    // Applied on Mar 15: mean of Jan 31 (4.50) and Feb 28 (5.00) = 4.75; Mar 14 ignored.
    c.month_ends("MAR", &[("2025-01-31", "4.8"), ("2025-02-28", "5"), ("2025-03-14", "4")]);
    let (o, _out) = c.run(&one_day_rules(&[]), "2024-12-31", "2025-12-31").await;
    let jan = annual(&o, "JAN");
    assert_eq!((jan.basis, jan.score_text().as_str(), jan.months_in_mean), ("termination_january", "5.00", 1));
    let mar = annual(&o, "MAR");
    assert_eq!((mar.basis, mar.score_text().as_str(), mar.months_in_mean), ("termination_months_before", "4.75", 2));
    // Operating months include the exit month; the months that count do not.
    assert_eq!((mar.operating_months, mar.months_that_count), (3, 2));

    let mut leap = Case::new(&["LEAP,Leap,home,2020-01-01,2024-03-01,true,false"]);
    // Applied on Mar 1 2024: mean of Jan 31 (3.50) and the leap day Feb 29 (4.50) = 4.00.
    leap.month_ends("LEAP", &[("2024-01-31", "4.5"), ("2024-02-28", "4"), ("2024-02-29", "4.8")]);
    let (o, _out) = leap.run(&one_day_rules(&[]), "2024-01-01", "2024-12-31").await;
    let r = annual(&o, "LEAP");
    assert_eq!((r.score_text().as_str(), r.months_in_mean), ("4.00", 2));
    let months: Vec<String> = o.months.iter().filter(|m| m.store_id == "LEAP").map(|m| m.as_of.to_string()).collect();
    // The exit month never reaches its end: no March row.
    assert_eq!(months, vec!["2024-01-31", "2024-02-29"]);
}

#[tokio::test]
async fn onboarded_and_terminated_in_the_same_month_pays_no_fee() {
    let mut c = Case::new(&["SAME,Same,home,2025-02-05,2025-02-25,true,false"]);
    c.orders.push(order("O1", "SAME", "home", "2025-02-10", "500.00"));
    let (o, _out) = c.run(&one_day_rules(&[]), "2025-01-01", "2025-12-31").await;
    let r = annual(&o, "SAME");
    assert!(r.no_fee);
    assert_eq!((r.fee_due_fen, r.refund_fen, r.charged_months), (0, 0, 0));
    assert_eq!(r.note, "opened_and_terminated_same_month_no_fee");
}

#[tokio::test]
async fn settlement_category_is_the_largest_gmv_and_ties_go_to_the_main_category() {
    let mut c = Case::new(&[
        "BIG,Big,home,2020-01-01,,true,false",
        "TIE,Tie,home,2020-01-01,,true,false",
        "ALPHA,Alpha,toys,2020-01-01,,true,false",
    ]);
    c.orders.extend([
        order("O1", "BIG", "electronics", "2025-03-10", "300.00"),
        order("O2", "BIG", "home", "2025-03-10", "200.00"),
        order("O3", "TIE", "electronics", "2025-03-10", "200.00"),
        order("O4", "TIE", "home", "2025-03-10", "200.00"),
        // Main category unknown to the rules: ties go alphabetically.
        order("O5", "ALPHA", "food", "2025-03-10", "100.00"),
        order("O6", "ALPHA", "beauty", "2025-03-10", "100.00"),
    ]);
    let (o, _out) = c.run(&one_day_rules(&[]), "2025-01-01", "2025-12-31").await;
    assert_eq!(annual(&o, "BIG").settlement_category, "electronics");
    assert_eq!(annual(&o, "BIG").gmv_fen, 50_000);
    assert_eq!(annual(&o, "TIE").settlement_category, "home");
    assert_eq!(annual(&o, "ALPHA").settlement_category, "beauty");
}

#[tokio::test]
async fn proration_to_the_fen_and_tier_boundaries() {
    // A home fee of 10 000 yuan makes the proration inexact: 10 000 × 8/12 =
    // 6 666.666… → 6 666.67; the first tier 180 000 × 8/12 = 120 000.00.
    let book = one_day_rules(&[(
        "annual_fee = 30000\nrefund_tiers = [[180000, 0.5], [600000, 1.0]]\nrefund_min_score = 4.0",
        "annual_fee = 10000\nrefund_tiers = [[180000, 0.5], [600000, 1.0]]\nrefund_min_score = 4.0",
    )]);
    let mut c = Case::new(&[
        // Opened on Apr 10: April to December is 9 months, the first free: 8 charged.
        "AT,At,home,2025-04-10,,true,false",
        "BELOW,Below,home,2025-04-10,,true,false",
        "ABOVE,Above,home,2025-04-10,,true,false",
        // Exits on May 20 (opened earlier): January to May, 5 charged.
        "EXIT,Exit,home,2020-01-01,2025-05-20,true,false",
    ]);
    c.orders.extend([
        order("O1", "AT", "home", "2025-05-10", "120000.00"),
        order("O2", "BELOW", "home", "2025-05-10", "119999.99"),
        order("O3", "ABOVE", "home", "2025-05-10", "120000.01"),
        order("O4", "EXIT", "home", "2025-02-10", "75000.00"),
    ]);
    let (o, _out) = c.run(&book, "2025-01-01", "2025-12-31").await;
    for s in ["AT", "BELOW", "ABOVE"] {
        let r = annual(&o, s);
        assert_eq!((r.charged_months, r.fee_due_fen), (8, 666_667), "{s}");
    }
    assert_eq!(annual(&o, "AT").tier_gmv_fen, Some(12_000_000));
    assert_eq!(annual(&o, "AT").refund_ratio, dengta_model::exact::ratio(1, 2));
    assert_eq!(annual(&o, "BELOW").refund_ratio, dengta_model::exact::int(0));
    assert_eq!(annual(&o, "ABOVE").refund_ratio, dengta_model::exact::ratio(1, 2));
    // No month-end reviews: every month is a default pass, so the refund is paid:
    // 6 666.67 × 0.5 = 3 333.335 → 3 333.34 (half away from zero).
    assert_eq!(annual(&o, "AT").refund_fen, 333_334);
    assert_eq!(annual(&o, "AT").status.name(), "default_pass");
    let exit = annual(&o, "EXIT");
    // 10 000 × 5/12 = 4 166.666… → 4 166.67; threshold 180 000 × 5/12 = 75 000.00.
    assert_eq!((exit.charged_months, exit.fee_due_fen, exit.tier_gmv_fen), (5, 416_667, Some(7_500_000)));
}

#[tokio::test]
async fn highest_fee_is_paid_but_the_largest_gmv_category_judges_and_removal_forfeits() {
    let mut c = Case::new(&["MIX,Mix,home,2020-01-01,,true,false", "GONE,Gone,home,2020-01-01,,true,true"]);
    c.orders.extend([
        // Apparel (60 000 fee) is sold, but home has the larger GMV.
        order("O1", "MIX", "apparel", "2025-03-10", "100.00"),
        order("O2", "MIX", "home", "2025-03-10", "200000.00"),
        order("O3", "GONE", "home", "2025-03-10", "700000.00"),
        // Refunded by year end: left out of GMV.
        order("O4", "MIX", "home", "2025-03-11", "999999.00"),
    ]);
    c.refunds.push("F1,O4,MIX,I1,refund_only,other,2025-03-12T10:00:00+08:00,2025-03-13T10:00:00+08:00".into());
    for m in
        ["01-31", "02-28", "03-31", "04-30", "05-31", "06-30", "07-31", "08-31", "09-30", "10-31", "11-30", "12-31"]
    {
        c.month_ends("MIX", &[(&format!("2025-{m}"), "4.8")]);
        c.month_ends("GONE", &[(&format!("2025-{m}"), "5")]);
    }
    let (o, _out) = c.run(&one_day_rules(&[]), "2025-01-01", "2025-12-31").await;
    let mix = annual(&o, "MIX");
    assert_eq!(mix.settlement_category, "home");
    assert_eq!(mix.annual_fee_fen, Some(6_000_000));
    assert_eq!(mix.fee_due_fen, 6_000_000);
    assert_eq!(mix.gmv_fen, 20_010_000);
    assert_eq!(mix.orders, (3, 1));
    // Judged on home's tiers (180 000 → 0.5) and refund_min_score 4.0 (4.50 passes).
    assert_eq!((mix.refund_ratio.clone(), mix.refund_fen), (dengta_model::exact::ratio(1, 2), 3_000_000));
    let gone = annual(&o, "GONE");
    assert_eq!(gone.refund_ratio, dengta_model::exact::int(1));
    assert_eq!((gone.refund_fen, gone.note), (0, "removed_for_violation"));
}

#[tokio::test]
async fn renewal_at_the_limit_passes_one_over_fails_and_default_pass_months_comply() {
    // home allows 3 non-compliant months (score < 4.0; 2.00 here).
    let mut c = Case::new(&[
        "AT,At,home,2020-01-01,,true,false",
        "OVER,Over,home,2020-01-01,,true,false",
        "EXEMPT,Exempt,home,2020-01-01,,true,false",
    ]);
    let months =
        ["01-31", "02-28", "03-31", "04-30", "05-31", "06-30", "07-31", "08-31", "09-30", "10-31", "11-30", "12-31"];
    for (i, m) in months.iter().enumerate() {
        c.month_ends("AT", &[(&format!("2025-{m}"), if i < 3 { "4" } else { "5" })]);
        c.month_ends("OVER", &[(&format!("2025-{m}"), if i < 4 { "4" } else { "5" })]);
        c.month_ends("EXEMPT", &[(&format!("2025-{m}"), if i < 4 { "4" } else { "5" })]);
    }
    // An exemption on EXEMPT's first failing month-end makes it a default pass.
    c.exemptions.push("store,EXEMPT,2025-01-31,2025-01-31,flood".into());
    let (o, _out) = c.run(&one_day_rules(&[]), "2025-01-01", "2025-12-31").await;
    assert_eq!((annual(&o, "AT").noncompliant_months, annual(&o, "AT").renewal_pass), (3, true));
    assert_eq!((annual(&o, "OVER").noncompliant_months, annual(&o, "OVER").renewal_pass), (4, false));
    let e = annual(&o, "EXEMPT");
    assert_eq!((e.noncompliant_months, e.renewal_pass), (3, true));
    // The default-pass month is left out of the mean: (3 × 2.00 + 8 × 5.00) / 11 = 4.18.
    assert_eq!((e.months_in_mean, e.score_text().as_str()), (11, "4.18"));
    let jan = o.months.iter().find(|m| m.store_id == "EXEMPT" && m.month == 1).expect("January");
    assert!(jan.compliant && jan.verdict.status() == "default_pass");
}

#[tokio::test]
async fn an_annual_average_with_every_month_default_pass_is_default_pass() {
    let c = Case::new(&["QUIET,Quiet,home,2020-01-01,,true,false", "TEL,Tel,telecom,2020-01-01,,true,false"]);
    let (o, _out) = c.run(&one_day_rules(&[]), "2025-01-01", "2025-12-31").await;
    for s in ["QUIET", "TEL"] {
        let r = annual(&o, s);
        assert_eq!((r.status.name(), r.score_text().as_str(), r.months_in_mean), ("default_pass", "99.00", 0), "{s}");
    }
}

#[tokio::test]
async fn campaign_access_uses_the_rounded_score_against_the_threshold() {
    let mut c = Case::new(&["EXACT,Exact,home,2020-01-01,,true,false", "LOW,Low,home,2020-01-01,,true,false"]);
    // 4.8 average → 4.50, exactly a campaign threshold of 4.5; 4.5 average → 3.50.
    c.month_ends("EXACT", &[("2025-11-11", "4.8")]);
    c.month_ends("LOW", &[("2025-11-11", "4.5")]);
    let (o, _out) = c.run(&one_day_rules(&[]), "2025-11-11", "2025-11-11").await;
    let mut campaign = Campaign::default_access();
    campaign.thresholds.insert("home".into(), dengta_model::exact::ratio(45, 10));
    let book = one_day_rules(&[]);
    let d = campaign::decide(&o.dataset.stores, &o.rows, &book, &campaign, day("2025-11-11"));
    let get = |s: &str| d.iter().find(|e| e.store_id == s).expect("decision");
    assert!(get("EXACT").eligible, "{}", get("EXACT").why);
    assert!(!get("LOW").eligible);
    // November is still in progress at the end of the range: provisional.
    let nov = o.months.iter().find(|m| m.store_id == "EXACT").expect("a month row");
    assert_eq!((nov.month_text().as_str(), nov.provisional, nov.as_of), ("2025-11", true, day("2025-11-11")));
    // With the default threshold (home: 4.0), 3.50 still fails.
    let d = campaign::decide(&o.dataset.stores, &o.rows, &book, &Campaign::default_access(), day("2025-11-11"));
    assert_eq!(d.iter().filter(|e| e.eligible).count(), 1);
}
