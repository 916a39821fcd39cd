//! Each indicator on a small hand-made dataset, with the expected value worked out
//! in a comment; window edges in local time and in UTC.

use dengta_model::Indicator;

use crate::util::*;

const STORES: &str = "S1,One,home,2025-01-01,,true,false";

/// As of 2025-03-10 (30-day windows start 2025-02-09, the 90-day one 2024-12-11).
fn hand_made() -> TestData {
    TestData::new(&[
        ("stores", table(STORES_HEADER, &[STORES])),
        (
            "reviews",
            table(
                REVIEWS_HEADER,
                &[
                    // item scores 5, 4, 3 in the window → mean 4.0 (n = 3)
                    "R1,O1,S1,I1,2025-03-01T10:00:00+08:00,5,1,1",
                    "R2,O2,S1,I1,2025-03-02T10:00:00+08:00,4,1,1",
                    "R3,O3,S1,I1,2025-03-03T10:00:00+08:00,3,1,1",
                    // before the 90-day window: ignored
                    "R4,O4,S1,I1,2024-12-10T23:59:59+08:00,1,1,1",
                ],
            ),
        ),
        (
            "orders",
            table(
                ORDERS_HEADER,
                &[
                    // deadline 03-10 10:00, picked up exactly then → on time
                    "O1,S1,I1,home,2025-03-09T10:00:00+08:00,10.00,2025-03-10T10:00:00+08:00",
                    // deadline 03-10 11:00, picked up one second late → late
                    "O2,S1,I1,home,2025-03-09T11:00:00+08:00,10.00,2025-03-10T11:00:01+08:00",
                    // deadline 03-10 12:00, never picked up → late
                    "O3,S1,I1,home,2025-03-09T12:00:00+08:00,10.00,",
                    // deadline 03-11 09:00: not yet due as of 03-10, but paid in the window
                    "O4,S1,I1,home,2025-03-10T09:00:00+08:00,10.00,",
                ],
            ),
        ),
        (
            "refunds",
            table(
                REFUNDS_HEADER,
                &[
                    // refund-only: 6 h and 24 h → mean 15 h (n = 2)
                    "F1,O1,S1,I1,refund_only,other,2025-03-05T00:00:00+08:00,2025-03-05T06:00:00+08:00",
                    "F2,O2,S1,I1,refund_only,quality,2025-03-06T00:00:00+08:00,2025-03-07T00:00:00+08:00",
                    // still open: not counted
                    "F3,O3,S1,I1,refund_only,other,2025-03-08T00:00:00+08:00,",
                    // return-and-refund: 72 h (n = 1)
                    "F4,O4,S1,I1,return_refund,other,2025-03-01T00:00:00+08:00,2025-03-04T00:00:00+08:00",
                ],
            ),
        ),
        (
            "disputes",
            table(
                DISPUTES_HEADER,
                &[
                    // refunded and merchant-liable, closed in the window → 1 / 4 orders = 0.25
                    "D1,O1,S1,2025-03-01T00:00:00+08:00,2025-03-08T00:00:00+08:00,true,true",
                    "D2,O2,S1,2025-03-01T00:00:00+08:00,2025-03-08T00:00:00+08:00,true,false",
                    "D3,O3,S1,2025-03-01T00:00:00+08:00,,true,true",
                ],
            ),
        ),
        (
            "complaints",
            table(
                COMPLAINTS_HEADER,
                &[
                    // upheld and decided in the window → 1 / 4 orders = 0.25
                    "P1,O1,S1,2025-03-01T00:00:00+08:00,2025-03-09T00:00:00+08:00,true",
                    "P2,O2,S1,2025-03-01T00:00:00+08:00,2025-03-09T00:00:00+08:00,false",
                    // decided after 03-10: not yet known as of 03-10
                    "P3,O3,S1,2025-03-01T00:00:00+08:00,2025-03-11T00:00:00+08:00,true",
                ],
            ),
        ),
        (
            "chats",
            table(
                CHATS_HEADER,
                &[
                    // reply exactly at the 180 s deadline → on time; delay 180 s
                    "C1,S1,2025-03-10T10:00:00+08:00,2025-03-10T10:03:00+08:00",
                    // 181 s → late; delay 181 s
                    "C2,S1,2025-03-10T11:00:00+08:00,2025-03-10T11:03:01+08:00",
                    // never answered → late
                    "C3,S1,2025-03-10T12:00:00+08:00,",
                    // deadline 03-11 00:01 is outside the window, but the reply (30 s) is inside
                    "C4,S1,2025-03-10T23:58:00+08:00,2025-03-10T23:58:30+08:00",
                ],
            ),
        ),
    ])
}

#[tokio::test]
async fn each_indicator_on_a_hand_made_dataset() {
    let data = hand_made();
    let rows = score(data.path(), day("2025-03-10"), day("2025-03-10")).await;
    let r = row(&rows, "S1", "2025-03-10");
    let v = |i: Indicator| (r.indicators[i.index()].value, r.indicators[i.index()].n);
    assert_eq!(v(Indicator::DsrItem), (Some(4.0), Some(3)));
    assert_eq!(v(Indicator::Pickup24hRate), (Some(1.0 / 3.0), Some(3)));
    assert_eq!(v(Indicator::RefundOnlyHours), (Some(15.0), Some(2)));
    assert_eq!(v(Indicator::ReturnRefundHours), (Some(72.0), Some(1)));
    assert_eq!(v(Indicator::DisputeRefundRate), (Some(0.25), Some(4)));
    assert_eq!(v(Indicator::ComplaintUpheldRate), (Some(0.25), Some(4)));
    assert_eq!(v(Indicator::ImReplyRate), (Some(1.0 / 3.0), Some(3)));
    // (180 + 181 + 30) / 3 = 130.333… s
    assert_eq!(v(Indicator::ImFirstReplySecs), (Some(391.0 / 3.0), Some(3)));
    // Scores: dsr 4.0 → 2; pickup 1/3 → 0; refund-only 15 h → 3.75; return 72 h → 4;
    // disputes 0.25 → 0 and 0.25 → 0; reply rate 1/3 → 0; 130 s → 0.
    // home: product 2×0.2 + logistics 0×0.3 + after-sales 3.875×0.2 + 0 + 0 = 1.175 → 1.18.
    assert_eq!(r.score_text(), "1.18");
    assert_eq!(r.indicators[Indicator::RefundOnlyHours.index()].score, Some(3.75));
}

#[tokio::test]
async fn as_of_the_next_day_the_window_moves() {
    let data = hand_made();
    let rows = score(data.path(), day("2025-03-11"), day("2025-03-11")).await;
    let r = row(&rows, "S1", "2025-03-11");
    // O4's deadline (03-11 09:00) is now due and it was never picked up: 1 of 4 on time.
    assert_eq!(r.indicators[Indicator::Pickup24hRate.index()].value, Some(0.25));
    // P3 is decided on 03-11: 2 upheld of 4 orders.
    assert_eq!(r.indicators[Indicator::ComplaintUpheldRate.index()].value, Some(0.5));
    // C4's deadline (03-11 00:01) is now due and it was answered in 30 s: 2 of 4.
    assert_eq!(r.indicators[Indicator::ImReplyRate.index()].value, Some(0.5));
}

fn edge_reviews(times: &[&str]) -> TestData {
    let rows: Vec<String> = times.iter().enumerate().map(|(i, t)| format!("R{i},O{i},S1,I1,{t},5,5,5")).collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    TestData::new(&[("stores", table(STORES_HEADER, &[STORES])), ("reviews", table(REVIEWS_HEADER, &rows))])
}

async fn review_counts(data: &TestData) -> (i64, i64) {
    let rows = score(data.path(), day("2025-03-10"), day("2025-03-11")).await;
    let n = |d: &str| row(&rows, "S1", d).indicators[Indicator::DsrItem.index()].n.expect("dsr is used");
    (n("2025-03-10"), n("2025-03-11"))
}

#[tokio::test]
async fn window_edge_in_local_time() {
    // 23:59:59 local on the 10th belongs to the 10th; midnight local is the 11th.
    let data = edge_reviews(&["2025-03-10T23:59:59+08:00", "2025-03-11T00:00:00+08:00"]);
    assert_eq!(review_counts(&data).await, (1, 2));
}

#[tokio::test]
async fn window_edge_for_the_same_instants_in_utc_and_epoch_ms() {
    // The same two instants: 15:59:59Z is 23:59:59+08:00, 16:00:00Z is midnight +08:00.
    let data = edge_reviews(&["2025-03-10T15:59:59Z", "1741622400000"]);
    assert_eq!(review_counts(&data).await, (1, 2));
}

#[tokio::test]
async fn window_start_edge() {
    // The 90-day window as of 03-10 starts at 2024-12-11 00:00 +08:00.
    let data = edge_reviews(&["2024-12-10T23:59:59+08:00", "2024-12-11T00:00:00+08:00"]);
    let rows = score(data.path(), day("2025-03-10"), day("2025-03-10")).await;
    assert_eq!(row(&rows, "S1", "2025-03-10").indicators[Indicator::DsrItem.index()].n, Some(1));
}

#[tokio::test]
async fn the_three_default_pass_reasons_end_to_end() {
    let data = TestData::new(&[
        (
            "stores",
            table(
                STORES_HEADER,
                &[
                    "T1,telecom,telecom,2025-01-01,,true,false",
                    "E1,empty,home,2025-01-01,,true,false",
                    "X1,exempt,food,2025-01-01,,true,false",
                    "N1,never,home,2025-01-01,,false,false",
                ],
            ),
        ),
        (
            "reviews",
            table(
                REVIEWS_HEADER,
                &["R1,O1,T1,I1,2025-03-01T10:00:00+08:00,4,4,4", "R2,O2,X1,I1,2025-03-01T10:00:00+08:00,4,4,4"],
            ),
        ),
        ("exemptions", table(EXEMPTIONS_HEADER, &["category,food,2025-03-05,2025-03-05,announcement"])),
    ]);
    let rows = score(data.path(), day("2025-03-04"), day("2025-03-05")).await;
    assert_eq!(row(&rows, "T1", "2025-03-05").verdict.reason(), "category_not_assessed");
    assert_eq!(row(&rows, "E1", "2025-03-05").verdict.reason(), "no_data");
    assert_eq!(row(&rows, "X1", "2025-03-05").verdict.reason(), "exempted");
    assert_eq!(row(&rows, "X1", "2025-03-05").score_text(), "99.00");
    // The exemption's `to` is inclusive and its `from` exact: the 4th is scored.
    assert_eq!(row(&rows, "X1", "2025-03-04").verdict.status(), "scored");
    // A default pass still carries its values.
    assert_eq!(row(&rows, "X1", "2025-03-05").indicators[Indicator::DsrItem.index()].value, Some(4.0));
    // A store that never completed onboarding has no rows.
    assert!(rows.iter().all(|r| r.store_id != "N1"));
}

#[tokio::test]
async fn rule_versions_apply_from_their_effective_date() {
    let v2 = dengta_rules::DEFAULT_RULES_TOML
        .replace("version = \"default-1\"", "version = \"v2\"")
        .replace("effective_from = \"2000-01-01\"", "effective_from = \"2025-03-11\"")
        // A 1-day DSR window in v2.
        .replacen("window_days = 90", "window_days = 1", 1);
    let v2 = dengta_rules::RuleSet::parse("v2.toml", &v2).expect("valid rules");
    let book = dengta_rules::RuleBook::new(vec![dengta_rules::RuleSet::default_rules(), v2]).expect("book");
    let data = edge_reviews(&["2025-03-01T10:00:00+08:00", "2025-03-11T10:00:00+08:00"]);
    let (_, rows) = score_with(data.path(), &book, day("2025-03-10"), day("2025-03-11")).await;
    let a = row(&rows, "S1", "2025-03-10");
    let b = row(&rows, "S1", "2025-03-11");
    assert_eq!((a.rule_version.as_str(), a.indicators[0].n), ("default-1", Some(1)));
    // v2 governs the whole window as of the 11th: only that day's review.
    assert_eq!((b.rule_version.as_str(), b.indicators[0].n), ("v2", Some(1)));
}

#[tokio::test]
async fn peer_benchmarks_per_category_and_day() {
    let data = TestData::new(&[
        (
            "stores",
            table(
                STORES_HEADER,
                &[
                    "A,a,home,2025-01-01,,true,false",
                    "B,b,home,2025-01-01,,true,false",
                    "C,c,home,2025-01-01,,true,false",
                    "F,f,food,2025-01-01,,true,false",
                ],
            ),
        ),
        (
            "reviews",
            table(
                REVIEWS_HEADER,
                &[
                    "R1,O1,A,I1,2025-03-01T10:00:00+08:00,3,5,5",
                    "R2,O2,B,I1,2025-03-01T10:00:00+08:00,4,5,5",
                    "R3,O3,C,I1,2025-03-01T10:00:00+08:00,5,5,5",
                    "R4,O4,F,I1,2025-03-01T10:00:00+08:00,1,5,5",
                ],
            ),
        ),
        (
            "refunds",
            table(
                REFUNDS_HEADER,
                &[
                    // refund-only hours 10, 20, 30: lower is better, so "excellent" is
                    // the 10th percentile: 10 + (20 − 10) × 0.2 = 12.
                    "F1,O1,A,I1,refund_only,other,2025-03-01T00:00:00+08:00,2025-03-01T10:00:00+08:00",
                    "F2,O2,B,I1,refund_only,other,2025-03-01T00:00:00+08:00,2025-03-01T20:00:00+08:00",
                    "F3,O3,C,I1,refund_only,other,2025-03-01T00:00:00+08:00,2025-03-02T06:00:00+08:00",
                ],
            ),
        ),
    ]);
    let rows = score(data.path(), day("2025-03-02"), day("2025-03-02")).await;
    let peers = dengta_engine::peers::peers(&rows);
    let get = |c: &str, i: Indicator| peers.iter().find(|p| p.category == c && p.indicator == i).expect("peer row");
    // DSR 3, 4, 5: average 4; the 90th percentile 4 + (5 − 4) × 0.8 = 4.8.
    let dsr = get("home", Indicator::DsrItem);
    assert_eq!(dsr.stores, 3);
    assert!((dsr.average - 4.0).abs() < 1e-12 && (dsr.excellent - 4.8).abs() < 1e-12, "{dsr:?}");
    let hours = get("home", Indicator::RefundOnlyHours);
    assert!((hours.average - 20.0).abs() < 1e-12 && (hours.excellent - 12.0).abs() < 1e-12, "{hours:?}");
    // Other categories are separate peers.
    assert_eq!(get("food", Indicator::DsrItem).stores, 1);
}
