//! No look-ahead (SPEC §2): adding any events after the end of D never changes the
//! score as of D.

use proptest::prelude::*;

use crate::util::*;

const D: &str = "2025-03-10";
/// 2025-03-11 00:00:00 +08:00, the end of D, in epoch ms.
const END_OF_D: i64 = 1_741_622_400_000;
const DAY_MS: i64 = 86_400_000;

/// One generated event: kind, start offset from the end of D (ms, may be negative),
/// a duration (ms), and a flag/score.
type Event = (u8, i64, i64, u8);

fn render(events: &[Event], prefix: &str) -> Vec<(&'static str, Vec<String>)> {
    let mut out: Vec<(&'static str, Vec<String>)> =
        ["orders", "reviews", "chats", "refunds", "disputes", "complaints"].iter().map(|t| (*t, Vec::new())).collect();
    for (i, (kind, offset, dur, flag)) in events.iter().enumerate() {
        let t = END_OF_D + offset;
        let later = t + dur;
        let store = if flag % 2 == 0 { "S1" } else { "S2" };
        let b = if flag % 3 == 0 { "true" } else { "false" };
        let id = format!("{prefix}{i}");
        let (table, row) = match kind % 6 {
            0 => (
                0,
                format!(
                    "{id},{store},I1,home,{t},10.00,{}",
                    if flag % 4 == 0 { String::new() } else { later.to_string() }
                ),
            ),
            1 => (1, format!("{id},O1,{store},I1,{t},{},5,5", 1 + flag % 5)),
            2 => (
                2,
                format!(
                    "{id},{store},{t},{}",
                    if flag % 4 == 0 { String::new() } else { (t + dur / 1000).to_string() }
                ),
            ),
            3 => (
                3,
                format!(
                    "{id},O1,{store},I1,{},other,{t},{later}",
                    if flag % 2 == 0 { "refund_only" } else { "return_refund" }
                ),
            ),
            4 => (4, format!("{id},O1,{store},{t},{later},{b},true")),
            _ => (5, format!("{id},O1,{store},{t},{later},{b}")),
        };
        out[table].1.push(row);
    }
    out
}

fn dataset(before: &[Event], after: &[Event]) -> TestData {
    let headers = [ORDERS_HEADER, REVIEWS_HEADER, CHATS_HEADER, REFUNDS_HEADER, DISPUTES_HEADER, COMPLAINTS_HEADER];
    let a = render(before, "A");
    let b = render(after, "B");
    let mut tables = vec![(
        "stores",
        table(STORES_HEADER, &["S1,One,home,2025-01-01,,true,false", "S2,Two,food,2025-01-01,,true,false"]),
    )];
    for (i, header) in headers.iter().enumerate() {
        let rows: Vec<&str> = a[i].1.iter().chain(b[i].1.iter()).map(String::as_str).collect();
        tables.push((a[i].0, table(header, &rows)));
    }
    TestData::new(&tables)
}

fn event(before_end: bool) -> impl Strategy<Value = Event> {
    let offset = if before_end { (-40 * DAY_MS..-1).boxed() } else { (0..20 * DAY_MS).boxed() };
    (0u8..6, offset, 0i64..(5 * DAY_MS), any::<u8>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn adding_events_after_d_never_changes_the_score_as_of_d(
        before in proptest::collection::vec(event(true), 1..40),
        after in proptest::collection::vec(event(false), 1..40),
    ) {
        // Events that start before the end of D but whose closing instant is after it
        // are part of `before`; only their closing counts, once it happens.
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let base = rt.block_on(score(dataset(&before, &[]).path(), day(D), day(D)));
        let more = rt.block_on(score(dataset(&before, &after).path(), day(D), day(D)));
        prop_assert_eq!(base, more);
    }
}
