//! Validation: one test per kind of rule-file error, each naming file, line and key.

use super::*;
use crate::DEFAULT_RULES_TOML;

fn errors_of(text: &str) -> Vec<RuleError> {
    match RuleSet::parse("test.toml", text) {
        Ok(_) => panic!("expected the rule file to be rejected"),
        Err(e) => e.rule_errors().to_vec(),
    }
}

fn replaced(from: &str, to: &str) -> String {
    assert!(DEFAULT_RULES_TOML.contains(from), "test fixture out of date: {from}");
    DEFAULT_RULES_TOML.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).expect("needle in text");
    text[..at].lines().count() + usize::from(!text[..at].ends_with('\n')).saturating_sub(1) + 1
}

#[test]
fn the_default_rules_are_valid_and_match_the_spec() {
    let rules = RuleSet::default_rules();
    assert_eq!(rules.version, "default-1");
    assert_eq!(rules.indicators.len(), 8);
    assert_eq!(rules.pickup_deadline_ms, 86_400_000);
    assert_eq!(rules.reply_deadline_ms, 180_000);
    assert_eq!(rules.offset.to_string(), "+08:00");
    let food = rules.categories["food"].assessment.as_ref().expect("food is assessed");
    assert_eq!(food.weights[Dimension::AfterSales.index()], exact::ratio(15, 100));
    assert!(rules.categories["telecom"].assessment.is_none());
    assert_eq!(rules.indicator(Indicator::DsrItem).expect("dsr").window.days(), 90);
}

#[test]
fn category_weights_must_sum_to_one() {
    let text = replaced(
        "product = 0.25, consultation = 0.10, logistics = 0.25",
        "product = 0.30, consultation = 0.10, logistics = 0.25",
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].key, "categories.apparel.weights");
    assert!(errors[0].message.contains("sum to 1.05"), "{}", errors[0].message);
    assert_eq!(errors[0].line, Some(line_of(&text, "weights = { product = 0.30")));
    assert_eq!(errors[0].file, "test.toml");
}

#[test]
fn indicator_weights_within_a_dimension_must_sum_to_one() {
    let text = DEFAULT_RULES_TOML.replace("weight = 0.5\ncurve = [[2, 5]", "weight = 0.6\ncurve = [[2, 5]");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("after_sales dimension"), "{}", errors[0].message);
    assert!(errors[0].message.contains("sum to 1.1"), "{}", errors[0].message);
}

#[test]
fn curve_points_must_be_sorted_by_value() {
    let text = replaced("curve = [[3.0, 0], [4.0, 2], [4.5, 3.5]", "curve = [[3.0, 0], [4.5, 2], [4.0, 3.5]");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].key, "indicators.dsr_item.curve");
    assert!(errors[0].message.contains("sorted by value"));
    assert_eq!(errors[0].line, Some(line_of(&text, "curve = [[3.0, 0], [4.5")));
}

#[test]
fn every_dimension_must_be_covered() {
    let start = DEFAULT_RULES_TOML.find("[indicators.im_reply_rate]").expect("fixture");
    let end = DEFAULT_RULES_TOML.find("# Categories").expect("fixture");
    let text = format!("{}{}", &DEFAULT_RULES_TOML[..start], &DEFAULT_RULES_TOML[end..]);
    let errors = errors_of(&text);
    assert!(errors.iter().any(|e| e.message.contains("consultation dimension")), "{errors:?}");
}

#[test]
fn unknown_keys_are_rejected_with_their_line() {
    let text = replaced("min_samples = 1\nweight = 1.0\ncurve = [[3.0", "min_samples = 1\nwieght = 1.0\ncurve = [[3.0");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].key, "wieght");
    assert_eq!(errors[0].line, Some(line_of(&text, "wieght")));
}

#[test]
fn unknown_indicators_and_dimensions_are_named() {
    let text =
        replaced("[indicators.dsr_item]\ndimension = \"product\"", "[indicators.dsr_items]\ndimension = \"produce\"");
    let errors = errors_of(&text);
    assert!(
        errors.iter().any(|e| e.key == "indicators.dsr_items" && e.message.contains("unknown indicator")),
        "{errors:?}"
    );
    assert!(errors.iter().any(|e| e.message.contains("product dimension")), "{errors:?}");
}

#[test]
fn bad_dates_offsets_and_windows_are_each_reported() {
    let text = replaced("effective_from = \"2000-01-01\"", "effective_from = \"2000-13-01\"")
        .replace("business_utc_offset = \"+08:00\"", "business_utc_offset = \"8\"")
        .replacen("window_days = 30", "window_days = 0", 1);
    let errors = errors_of(&text);
    let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    assert!(keys.contains(&"effective_from"), "{keys:?}");
    assert!(keys.contains(&"business_utc_offset"), "{keys:?}");
    assert!(keys.contains(&"indicators.pickup_24h_rate.window_days"), "{keys:?}");
}

#[test]
fn assessed_categories_need_their_thresholds() {
    let text = replaced(
        "pass_threshold = 4.0\nmax_noncompliant_months = 3\nannual_fee = 60000",
        "max_noncompliant_months = 3\nannual_fee = 60000",
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].key, "categories.apparel.pass_threshold");
}

#[test]
fn rule_book_picks_the_version_in_force() {
    let v2 = DEFAULT_RULES_TOML
        .replace("version = \"default-1\"", "version = \"v2\"")
        .replace("effective_from = \"2000-01-01\"", "effective_from = \"2025-03-01\"");
    let v2 = RuleSet::parse("v2.toml", &v2).expect("valid");
    let book = crate::RuleBook::new(vec![v2, RuleSet::default_rules()]).expect("book");
    let day = |s: &str| Day::parse(s).expect("day");
    assert_eq!(book.in_force(day("2025-02-28")).expect("in force").version, "default-1");
    assert_eq!(book.in_force(day("2025-03-01")).expect("in force").version, "v2");
    assert!(book.in_force(day("1999-12-31")).is_none());
    let dup = crate::RuleBook::new(vec![RuleSet::default_rules(), RuleSet::default_rules()]);
    assert!(dup.is_err());
}
