//! API integration tests against a real server on a loopback port: every
//! endpoint's happy path and bad input, and the authorisation matrix.

mod common;

use common::{call, fixture, get, post_json};
use serde_json::{Value, json};

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn num(v: &Value) -> f64 {
    s(v).parse().unwrap_or_else(|_| panic!("not a decimal: {v}"))
}

#[test]
fn score_explanation_and_history_agree() {
    let f = fixture();
    let store = &f.own_store;
    let score = get(&format!("/api/v1/stores/{store}/score"), &f.merchant);
    assert_eq!(score.status, 200, "{}", score.text);
    assert_eq!(score.body["date"], f.to.to_string(), "default date is the latest day scored");
    assert_eq!(score.body["status"], "scored");
    let explain = get(&format!("/api/v1/stores/{store}/explain"), &f.merchant);
    assert_eq!(explain.status, 200, "{}", explain.text);
    assert_eq!(explain.body["score"]["score"], score.body["score"]);
    assert_eq!(explain.body["matches_stored"], true);
    assert_eq!(explain.body["score"]["rule_version"], "default-1");
    // Contributions add up to the unrounded score.
    let total: f64 = score.body["dimensions"]
        .as_array()
        .expect("dimensions")
        .iter()
        .filter_map(|d| d["contribution"].as_str())
        .map(|c| c.parse::<f64>().expect("decimal"))
        .sum();
    assert!((total - num(&explain.body["exact_score"])).abs() < 1e-5, "{total} vs {}", explain.body["exact_score"]);
    assert!((num(&explain.body["exact_score"]) - num(&score.body["score"])).abs() <= 0.005);
    let indicators = explain.body["indicators"].as_array().expect("indicators");
    assert_eq!(indicators.len(), 8);
    let pickup = indicators.iter().find(|i| i["name"] == "pickup_24h_rate").expect("pickup");
    assert_eq!(pickup["window_days"], 30);
    assert_eq!(pickup["window_to"], f.to.to_string());
    assert_eq!(pickup["window_from"], f.to.plus(-29).to_string());
    assert!(pickup["denominator"].as_i64().expect("n") > 0);
    assert!(pickup["segment"].as_str().is_some());
    assert!(pickup["peer_average"].as_f64().is_some(), "peer figures beside the value: {pickup}");
    assert!(
        pickup["peer_excellent"].as_f64().expect("excellent") >= pickup["peer_average"].as_f64().expect("avg") - 1e-12
    );

    let history = get(&format!("/api/v1/stores/{store}/history"), &f.merchant);
    assert_eq!(history.status, 200);
    let points = history.body["points"].as_array().expect("points");
    assert_eq!(points.len(), 90, "the default history is 90 days");
    assert_eq!(points.last().expect("last")["score"], score.body["score"]);
    let short = get(&format!("/api/v1/stores/{store}/history?from=2025-05-01&to=2025-05-10"), &f.merchant);
    assert_eq!(short.body["points"].as_array().expect("points").len(), 10);

    // An earlier day by date.
    let early = get(&format!("/api/v1/stores/{store}/score?date=2025-03-01"), &f.merchant);
    assert_eq!(early.status, 200);
    assert_eq!(early.body["date"], "2025-03-01");
    let outside = get(&format!("/api/v1/stores/{store}/score?date=2026-03-01"), &f.merchant);
    assert_eq!(outside.status, 404);
    assert_eq!(outside.body["code"], "no_score");
}

#[test]
fn bad_parameters_name_the_field() {
    let f = fixture();
    let store = &f.own_store;
    for (path, field) in [
        (format!("/api/v1/stores/{store}/score?date=2025-13-01"), "date"),
        (format!("/api/v1/stores/{store}/explain?date=yesterday"), "date"),
        (format!("/api/v1/stores/{store}/history?from=2025-05-10&to=2025-05-01"), "to"),
        (format!("/api/v1/stores/{store}/history?to=2025-02-30"), "to"),
        (format!("/api/v1/stores/{store}/months?year=twenty"), "year"),
        (format!("/api/v1/stores/{store}/settlement?year=1"), "year"),
        (format!("/api/v1/stores/{store}/eligibility?threshold=6"), "threshold"),
        (format!("/api/v1/stores/{store}/items?date=2025/01/01"), "date"),
        (format!("/api/v1/stores/{store}/fix-first?date=x"), "date"),
        ("/api/v1/eligibility?date=2025-00-01".to_string(), "date"),
        ("/api/v1/runs/abc".to_string(), "id"),
    ] {
        let r = get(&path, &f.operator);
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_eq!(r.body["code"], "bad_parameter", "{path}");
        assert_eq!(r.body["field"], field, "{path}: {}", r.text);
        assert!(!s(&r.body["message"]).is_empty());
    }
    let r = get("/api/v1/no/such/thing", &f.operator);
    assert_eq!(r.status, 404);
    assert_eq!(r.body["code"], "no_such_path");
}

#[test]
fn months_settlement_eligibility_items() {
    let f = fixture();
    let store = &f.own_store;
    let months = get(&format!("/api/v1/stores/{store}/months?year=2025"), &f.merchant);
    assert_eq!(months.status, 200);
    let list = months.body.as_array().expect("months");
    assert_eq!(
        list.iter().map(|m| s(&m["month"])).collect::<Vec<_>>(),
        ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
    );
    // May ends on the 31st; the run stops on the 30th, so May is provisional.
    assert_eq!(list[4]["provisional"], true);
    assert_eq!(list[4]["as_of"], "2025-05-30");
    assert_eq!(list[0]["provisional"], false);
    assert!(
        get(&format!("/api/v1/stores/{store}/months?year=2024"), &f.merchant).body.as_array().expect("list").is_empty()
    );

    let settlement = get(&format!("/api/v1/stores/{store}/settlement"), &f.merchant);
    assert_eq!(settlement.status, 200);
    let rows = settlement.body.as_array().expect("settlement");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["kind"], "year_to_date", "2025 is not covered whole: a projection");
    assert_eq!(rows[0]["year"], 2025);
    assert!(rows[0]["fee_due"].as_str().is_some());

    let at = |t: &str| get(&format!("/api/v1/stores/{store}/eligibility?threshold={t}"), &f.merchant);
    let score = num(&get(&format!("/api/v1/stores/{store}/score"), &f.merchant).body["score"]);
    assert_eq!(at("0").body["eligible"], true);
    let exactly = at(&format!("{score:.2}"));
    assert_eq!(exactly.body["eligible"], true, "a score exactly at the threshold passes: {}", exactly.text);
    let above = at(&format!("{:.2}", score + 0.01));
    assert_eq!(above.body["eligible"], false, "{}", above.text);
    let default = get(&format!("/api/v1/stores/{store}/eligibility"), &f.merchant);
    assert_eq!(default.status, 200);
    assert!(default.body["threshold"].as_str().is_some());

    let all = get("/api/v1/eligibility", &f.operator);
    assert_eq!(all.status, 200);
    let stores = get("/api/v1/stores", &f.operator).body.as_array().expect("stores").len();
    assert_eq!(all.body.as_array().expect("list").len(), stores, "every store, eligible or not");

    let own_items = get(&format!("/api/v1/stores/{store}/items?date=2025-05-30"), &f.merchant);
    assert_eq!(own_items.status, 200);
    let ids: Vec<String> = get("/api/v1/stores", &f.operator)
        .body
        .as_array()
        .expect("stores")
        .iter()
        .map(|x| s(&x["store_id"]).to_string())
        .collect();
    let best = ids
        .iter()
        .map(|id| get(&format!("/api/v1/stores/{id}/items?date=2025-05-30"), &f.operator).body)
        .max_by_key(|b| b.as_array().map_or(0, Vec::len))
        .expect("stores");
    let items = best.as_array().expect("items");
    assert!(items.len() >= 2, "some store has rated items: {best}");
    assert!(items.iter().all(|i| i["level"].as_str().is_some() && i["date"] == "2025-05-30"));
    let scores: Vec<f64> = items.iter().map(|i| num(&i["score"])).collect();
    assert!(scores.windows(2).all(|w| w[0] <= w[1]), "worst first: {scores:?}");
}

#[test]
fn fix_first_and_what_if_agree() {
    let f = fixture();
    let store = &f.own_store;
    let fix = get(&format!("/api/v1/stores/{store}/fix-first"), &f.merchant);
    assert_eq!(fix.status, 200);
    let steps = fix.body.as_array().expect("steps");
    assert!(!steps.is_empty(), "a generated store has something to improve");
    let gains: Vec<f64> = steps.iter().map(|x| num(&x["gain"])).collect();
    assert!(gains.windows(2).all(|w| w[0] >= w[1]), "largest gain first: {gains:?}");
    assert!(gains.iter().all(|g| *g > 0.0));
    for step in steps {
        assert!(s(&step["text_en"]).contains("rises by"));
        assert!(s(&step["text_zh"]).contains("总分可提高"));
        let what_if = post_json(
            &format!("/api/v1/stores/{store}/what-if"),
            &f.merchant,
            json!({"values": {s(&step["indicator"]): step["to"]}}),
        );
        assert_eq!(what_if.status, 200, "{}", what_if.text);
        assert_eq!(what_if.body["after"]["score"], step["score_after"], "{step}");
    }
    // Everything at its best point: 5.00 and 5 stars.
    let best = post_json(
        &format!("/api/v1/stores/{store}/what-if"),
        &f.merchant,
        json!({"values": {"dsr_item": 5.0, "pickup_24h_rate": 1.0, "refund_only_hours": 1, "return_refund_hours": 1,
            "dispute_refund_rate": 0, "complaint_upheld_rate": 0, "im_reply_rate": 1.0, "im_first_reply_secs": 5}}),
    );
    assert_eq!(best.status, 200, "{}", best.text);
    assert_eq!(best.body["after"]["score"], "5.00");
    assert_eq!(best.body["after"]["star"], "5.0");
    assert_eq!(best.body["after"]["passes"], true);
    // Bad input.
    let unknown = post_json(&format!("/api/v1/stores/{store}/what-if"), &f.merchant, json!({"values": {"speed": 1}}));
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.body["field"], "values.speed");
    let range =
        post_json(&format!("/api/v1/stores/{store}/what-if"), &f.merchant, json!({"values": {"im_reply_rate": 1.5}}));
    assert_eq!(range.status, 400);
    assert_eq!(range.body["field"], "values.im_reply_rate");
    let bad_date =
        post_json(&format!("/api/v1/stores/{store}/what-if"), &f.merchant, json!({"date": "soon", "values": {}}));
    assert_eq!(bad_date.body["field"], "date");
    let not_json =
        call("POST", &format!("/api/v1/stores/{store}/what-if"), Some(&f.merchant), Some("{"), "application/json");
    assert_eq!(not_json.status, 400);
    assert_eq!(not_json.body["code"], "bad_body");
}

#[test]
fn overview_counts_every_operating_store() {
    let f = fixture();
    let o = get("/api/v1/overview", &f.operator);
    assert_eq!(o.status, 200, "{}", o.text);
    assert_eq!(o.body["date"], f.to.to_string());
    let operating = get("/api/v1/eligibility", &f.operator)
        .body
        .as_array()
        .expect("list")
        .iter()
        .filter(|e| e["status"] != "not_operating")
        .count() as u64;
    let counted: u64 = o.body["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| c["scored"].as_u64().expect("n") + c["default_pass"].as_u64().expect("n"))
        .sum();
    assert_eq!(counted, operating);
    for c in o.body["categories"].as_array().expect("categories") {
        let in_buckets: u64 = c["buckets"].as_array().expect("buckets").iter().map(|b| b.as_u64().expect("n")).sum();
        assert_eq!(in_buckets, c["scored"].as_u64().expect("n"));
    }
    for s in o.body["failing_this_month"].as_array().expect("failing") {
        let m = get(&format!("/api/v1/stores/{}/months?year=2025", s["store_id"].as_str().expect("id")), &f.operator);
        assert_eq!(m.body.as_array().expect("months").last().expect("month")["compliant"], false);
    }
}

#[test]
fn exemptions_can_be_added_listed_and_ended() {
    let f = fixture();
    let add = post_json(
        "/api/v1/exemptions",
        &f.operator,
        json!({"scope": "store", "target": f.other_store, "from": "2026-01-01", "to": "2026-01-31", "reason": "flood"}),
    );
    assert_eq!(add.status, 201, "{}", add.text);
    let id = add.body["id"].as_i64().expect("id");
    assert_eq!(add.body["origin"], "operator");
    let list = get("/api/v1/exemptions", &f.operator);
    assert!(list.body.as_array().expect("list").iter().any(|e| e["id"] == id));
    let end = post_json(&format!("/api/v1/exemptions/{id}/end"), &f.operator, json!({"on": "2026-01-10"}));
    assert_eq!(end.status, 200, "{}", end.text);
    assert_eq!(end.body["to"], "2026-01-10");
    assert!(end.body["ended_at"].as_str().is_some());
    let missing = post_json("/api/v1/exemptions/99999/end", &f.operator, json!({"on": "2026-01-10"}));
    assert_eq!(missing.status, 404);
    for (body, field) in [
        (json!({"scope": "planet", "from": "2026-01-01", "to": "2026-01-02", "reason": "x"}), "scope"),
        (json!({"scope": "store", "from": "2026-01-01", "to": "2026-01-02", "reason": "x"}), "target"),
        (json!({"scope": "all", "from": "2026-01-05", "to": "2026-01-02", "reason": "x"}), "to"),
        (json!({"scope": "all", "from": "2026-1-5", "to": "2026-01-02", "reason": "x"}), "from"),
        (json!({"scope": "all", "from": "2026-01-01", "to": "2026-01-02", "reason": " "}), "reason"),
    ] {
        let r = post_json("/api/v1/exemptions", &f.operator, body.clone());
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["field"], field, "{body}");
    }
    let bad_end = post_json(&format!("/api/v1/exemptions/{id}/end"), &f.operator, json!({"on": "never"}));
    assert_eq!(bad_end.body["field"], "on");
}

#[test]
fn rule_versions_are_validated_like_the_cli() {
    let f = fixture();
    let list = get("/api/v1/rules", &f.operator);
    assert!(list.body.as_array().expect("list").iter().any(|r| r["version"] == "default-1"));
    let same = call(
        "POST",
        "/api/v1/rules?name=default.toml",
        Some(&f.operator),
        Some(dengta_rules::DEFAULT_RULES_TOML),
        "application/toml",
    );
    assert_eq!(same.status, 200, "already stored: {}", same.text);
    assert_eq!(same.body["added"], false);

    let changed = dengta_rules::DEFAULT_RULES_TOML.replacen("pass_threshold = 4.0", "pass_threshold = 3.9", 1);
    assert_ne!(changed, dengta_rules::DEFAULT_RULES_TOML);
    let conflict = call("POST", "/api/v1/rules", Some(&f.operator), Some(&changed), "application/toml");
    assert_eq!(conflict.status, 409, "{}", conflict.text);
    assert_eq!(conflict.body["code"], "rule_version_exists");

    let bad = dengta_rules::DEFAULT_RULES_TOML.replacen("pass_threshold = 4.0", "pass_threshold = \"high\"", 1);
    let invalid = call("POST", "/api/v1/rules?name=mine.toml", Some(&f.operator), Some(&bad), "application/toml");
    assert_eq!(invalid.status, 422, "{}", invalid.text);
    assert_eq!(invalid.body["code"], "invalid_rules");
    let cli_message = match dengta_rules::RuleSet::parse("mine.toml", &bad) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("the bad file parses"),
    };
    let message = s(&invalid.body["message"]);
    assert!(message.starts_with("mine.toml:95"), "file and line: {message}");
    assert!(
        cli_message.contains(message.lines().next().expect("a line")),
        "same words as the CLI:\n{cli_message}\n{message}"
    );

    let future = dengta_rules::DEFAULT_RULES_TOML
        .replacen("version = \"default-1\"", "version = \"api-test-2031\"", 1)
        .replacen("effective_from = \"2000-01-01\"", "effective_from = \"2031-01-01\"", 1);
    assert_ne!(future, dengta_rules::DEFAULT_RULES_TOML);
    let added = call("POST", "/api/v1/rules?name=future.toml", Some(&f.operator), Some(&future), "application/toml");
    assert_eq!(added.status, 201, "{}", added.text);
    assert_eq!(added.body["version"], "api-test-2031");
    assert_eq!(added.body["effective_from"], "2031-01-01");
}

#[test]
fn runs_are_listed_with_the_current_one() {
    let f = fixture();
    let runs = get("/api/v1/runs", &f.operator);
    assert_eq!(runs.status, 200);
    let first = &runs.body.as_array().expect("runs")[0];
    assert_eq!(first["state"], "done");
    assert_eq!(first["current"], true);
    assert_eq!(first["from"], f.from.to_string());
    let one = get(&format!("/api/v1/runs/{}", first["id"]), &f.operator);
    assert_eq!(one.status, 200);
    assert_eq!(one.body["daily_rows"], first["daily_rows"]);
    assert_eq!(get("/api/v1/runs/4242", &f.operator).status, 404);
}

#[test]
fn openapi_document_is_generated_and_covers_every_route() {
    let r = call("GET", "/openapi.json", None, None, "");
    assert_eq!(r.status, 200);
    let generated = serde_json::to_value(dengta_server::openapi()).expect("json");
    assert_eq!(r.body, generated);
    assert!(s(&r.body["openapi"]).starts_with("3."));
    let paths = r.body["paths"].as_object().expect("paths");
    let expected = [
        ("/api/v1/stores", "get"),
        ("/api/v1/stores/{store_id}/score", "get"),
        ("/api/v1/stores/{store_id}/history", "get"),
        ("/api/v1/stores/{store_id}/explain", "get"),
        ("/api/v1/stores/{store_id}/months", "get"),
        ("/api/v1/stores/{store_id}/settlement", "get"),
        ("/api/v1/stores/{store_id}/eligibility", "get"),
        ("/api/v1/stores/{store_id}/items", "get"),
        ("/api/v1/stores/{store_id}/fix-first", "get"),
        ("/api/v1/stores/{store_id}/what-if", "post"),
        ("/api/v1/eligibility", "get"),
        ("/api/v1/overview", "get"),
        ("/api/v1/exemptions", "get"),
        ("/api/v1/exemptions", "post"),
        ("/api/v1/exemptions/{id}/end", "post"),
        ("/api/v1/rules", "get"),
        ("/api/v1/rules", "post"),
        ("/api/v1/runs", "get"),
        ("/api/v1/runs", "post"),
        ("/api/v1/runs/{id}", "get"),
    ];
    let documented: usize = paths.values().map(|p| p.as_object().expect("ops").len()).sum();
    assert_eq!(documented, expected.len(), "every route and only those: {:?}", paths.keys().collect::<Vec<_>>());
    for (path, method) in expected {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        assert!(op["responses"]["401"].is_object(), "{method} {path} documents 401");
    }
    assert!(r.body["components"]["securitySchemes"]["bearer"].is_object());
}

/// Every endpoint × every kind of caller: no token, malformed, unknown, expired,
/// revoked → 401; operator → success; merchant → its own store only (another
/// store answers exactly like a store that does not exist), 403 on operator
/// endpoints.
#[test]
fn authorisation_matrix() {
    let f = fixture();
    // An operator exemption to end, so the operator's call succeeds.
    let ex = post_json(
        "/api/v1/exemptions",
        &f.operator,
        json!({"scope": "all", "from": "2027-01-01", "to": "2027-01-02", "reason": "matrix"}),
    );
    let ex_id = ex.body["id"].as_i64().expect("id");
    let what_if = json!({"values": {"dsr_item": 4.9}}).to_string();
    let end = json!({"on": "2027-01-01"}).to_string();
    let exemption = json!({"scope": "all", "from": "2027-02-01", "to": "2027-02-02", "reason": "matrix"}).to_string();
    // (method, path with {s} for the store, body, content type, operator only)
    let endpoints: Vec<(&str, String, Option<String>, &str, bool)> = vec![
        ("GET", "/api/v1/stores".into(), None, "", false),
        ("GET", "/api/v1/stores/{s}/score".into(), None, "", false),
        ("GET", "/api/v1/stores/{s}/history".into(), None, "", false),
        ("GET", "/api/v1/stores/{s}/explain".into(), None, "", false),
        ("GET", "/api/v1/stores/{s}/months".into(), None, "", false),
        ("GET", "/api/v1/stores/{s}/settlement".into(), None, "", false),
        ("GET", "/api/v1/stores/{s}/eligibility".into(), None, "", false),
        ("GET", "/api/v1/stores/{s}/items".into(), None, "", false),
        ("GET", "/api/v1/stores/{s}/fix-first".into(), None, "", false),
        ("POST", "/api/v1/stores/{s}/what-if".into(), Some(what_if), "application/json", false),
        ("GET", "/api/v1/eligibility".into(), None, "", true),
        ("GET", "/api/v1/overview".into(), None, "", true),
        ("GET", "/api/v1/exemptions".into(), None, "", true),
        ("POST", "/api/v1/exemptions".into(), Some(exemption), "application/json", true),
        ("POST", format!("/api/v1/exemptions/{ex_id}/end"), Some(end), "application/json", true),
        ("GET", "/api/v1/rules".into(), None, "", true),
        ("POST", "/api/v1/rules".into(), Some(dengta_rules::DEFAULT_RULES_TOML.to_string()), "application/toml", true),
        ("GET", "/api/v1/runs".into(), None, "", true),
        ("GET", "/api/v1/runs/1".into(), None, "", true),
        // POST /api/v1/runs (starting a recomputation) is covered in tests/runs.rs,
        // where a run may change the scores; here only its refusals are checked.
        ("POST", "/api/v1/runs".into(), Some("{}".into()), "application/json", true),
    ];
    let unknown = dengta_server::auth::new_token();
    let bad_tokens: [(Option<&str>, &str); 5] = [
        (None, "missing_token"),
        (Some("not-a-token"), "malformed_token"),
        (Some(&unknown), "unknown_token"),
        (Some(&f.expired), "expired_token"),
        (Some(&f.revoked), "revoked_token"),
    ];
    for (method, template, body, ct, operator_only) in &endpoints {
        let own = template.replace("{s}", &f.own_store);
        let other = template.replace("{s}", &f.other_store);
        let nowhere = template.replace("{s}", "NO-SUCH-STORE");
        let starts_run = *method == "POST" && template == "/api/v1/runs";
        for (token, code) in bad_tokens {
            let r = call(method, &own, token, body.as_deref(), ct);
            assert_eq!(r.status, 401, "{method} {own} with {code}: {}", r.text);
            assert_eq!(r.body["code"], code, "{method} {own}");
        }
        if !starts_run {
            let r = call(method, &own, Some(&f.operator), body.as_deref(), ct);
            assert!((200..300).contains(&r.status), "operator {method} {own}: {} {}", r.status, r.text);
        }
        let mine = call(method, &own, Some(&f.merchant), body.as_deref(), ct);
        if *operator_only {
            assert_eq!(mine.status, 403, "merchant {method} {own}: {}", mine.text);
            assert_eq!(mine.body["code"], "forbidden");
            continue;
        }
        assert!((200..300).contains(&mine.status), "merchant {method} {own}: {} {}", mine.status, mine.text);
        if template.contains("{s}") {
            let theirs = call(method, &other, Some(&f.merchant), body.as_deref(), ct);
            let absent = call(method, &nowhere, Some(&f.merchant), body.as_deref(), ct);
            assert_eq!(theirs.status, 404, "merchant {method} {other}: {}", theirs.text);
            assert_eq!(absent.status, 404);
            assert_eq!(
                theirs.text.replace(&f.other_store, "X"),
                absent.text.replace("NO-SUCH-STORE", "X"),
                "{method} {template}"
            );
            let operator_other = call(method, &other, Some(&f.operator), body.as_deref(), ct);
            assert!((200..300).contains(&operator_other.status), "operator sees every store: {}", operator_other.text);
        } else {
            // The store list: the merchant's own store only.
            let ids: Vec<&str> = mine.body.as_array().expect("list").iter().map(|x| s(&x["store_id"])).collect();
            assert_eq!(ids, [f.own_store.as_str()]);
        }
    }
}
