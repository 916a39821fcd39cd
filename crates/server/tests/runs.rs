//! Recomputations through the API: progress, a second run refused while one
//! runs, operator exemptions taking effect, and atomic loading (readers never see
//! a run half loaded).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{fixture, get, post_json};
use serde_json::{Value, json};

/// The two tests each start runs; one at a time keeps their expectations exact.
static SERIAL: Mutex<()> = Mutex::new(());

fn wait_done(id: i64, token: &str) -> Value {
    let start = Instant::now();
    loop {
        let r = get(&format!("/api/v1/runs/{id}"), token);
        assert_eq!(r.status, 200, "{}", r.text);
        if r.body["state"] != "running" {
            return r.body;
        }
        assert!(start.elapsed() < Duration::from_secs(600), "run {id} did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn score_on(store: &str, date: &str, token: &str) -> Value {
    get(&format!("/api/v1/stores/{store}/score?date={date}"), token).body
}

#[test]
fn recomputation_applies_exemptions_and_loads_atomically() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let f = fixture();
    let store = f.own_store.clone();
    let to = f.to.to_string();
    let before = score_on(&store, &to, &f.operator);
    assert_eq!(before["status"], "scored");
    let rows_per_run = f.state.db.read(|r| r.result_counts()).expect("counts")[0].1;

    // A reader that checks, in one snapshot each time, that every run present in
    // the results table is whole, and that the current run is one of them.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        let db = f.state.db.clone();
        std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let (counts, current) =
                    db.read(|r| Ok((r.result_counts()?, r.current_run()?))).expect("a consistent read");
                for (run, n) in &counts {
                    assert_eq!(*n, rows_per_run, "run {run} seen half loaded: {counts:?}");
                }
                let current = current.expect("a current run");
                assert!(counts.iter().any(|(run, _)| *run == current.id), "current run {} has rows", current.id);
                reads += 1;
            }
            reads
        })
    };

    // An operator exemption covering the store's last day, then a recomputation.
    let ex = post_json(
        "/api/v1/exemptions",
        &f.operator,
        json!({"scope": "store", "target": store, "from": to, "to": to, "reason": "typhoon"}),
    );
    assert_eq!(ex.status, 201, "{}", ex.text);
    // Changing an exemption does not rewrite history until a recomputation.
    assert_eq!(score_on(&store, &to, &f.operator)["status"], "scored");

    let started = post_json("/api/v1/runs", &f.operator, json!({}));
    assert_eq!(started.status, 202, "{}", started.text);
    let id = started.body["id"].as_i64().expect("id");
    assert_eq!(started.body["state"], "running");
    assert_eq!(started.body["from"], f.from.to_string(), "the range of the current run by default");
    // A second run while one runs is refused (unless the first already finished).
    let second = post_json("/api/v1/runs", &f.operator, json!({}));
    if second.status != 202 {
        assert_eq!(second.status, 409, "{}", second.text);
        assert_eq!(second.body["code"], "run_in_progress");
    } else {
        wait_done(second.body["id"].as_i64().expect("id"), &f.operator);
    }
    let done = wait_done(id, &f.operator);
    assert_eq!(done["state"], "done", "{done}");
    let runs = get("/api/v1/runs", &f.operator).body;
    let current: Vec<&Value> = runs.as_array().expect("runs").iter().filter(|r| r["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert!(current[0]["id"].as_i64().expect("id") >= id);

    let exempted = score_on(&store, &to, &f.operator);
    assert_eq!(exempted["status"], "default_pass", "{exempted}");
    assert_eq!(exempted["reason"], "exempted");
    assert_eq!(exempted["score"], "99.00");
    // The day before is untouched.
    let day_before = f.to.plus(-1).to_string();
    assert_eq!(score_on(&store, &day_before, &f.operator)["status"], "scored");

    // End the exemption before it started: the next run scores the day again.
    let ex_id = ex.body["id"].as_i64().expect("id");
    let ended = post_json(&format!("/api/v1/exemptions/{ex_id}/end"), &f.operator, json!({"on": day_before}));
    assert_eq!(ended.status, 200, "{}", ended.text);
    let again = post_json("/api/v1/runs", &f.operator, json!({"from": f.from.to_string(), "to": to}));
    assert_eq!(again.status, 202, "{}", again.text);
    assert_eq!(wait_done(again.body["id"].as_i64().expect("id"), &f.operator)["state"], "done");
    assert_eq!(score_on(&store, &to, &f.operator)["score"], before["score"]);

    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("the reader saw only whole runs");
    assert!(reads > 0);

    // Bad ranges are refused before anything starts.
    let bad = post_json("/api/v1/runs", &f.operator, json!({"from": "2025-05-01", "to": "2025-04-01"}));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["field"], "to");
}

#[test]
fn progress_is_reported_while_running() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let f = fixture();
    // Wait for any run of the other test, then start one and poll.
    let start = Instant::now();
    let id = loop {
        let r = post_json("/api/v1/runs", &f.operator, json!({}));
        if r.status == 202 {
            break r.body["id"].as_i64().expect("id");
        }
        assert_eq!(r.status, 409, "{}", r.text);
        assert!(start.elapsed() < Duration::from_secs(600));
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut stages = Vec::new();
    loop {
        let r = get(&format!("/api/v1/runs/{id}"), &f.operator).body;
        if r["state"] != "running" {
            assert_eq!(r["state"], "done", "{r}");
            assert!(r["progress"].is_null(), "no progress once done");
            assert!(r["daily_rows"].as_i64().expect("rows") > 0);
            break;
        }
        if let Some(stage) = r["progress"]["stage"].as_str()
            && stages.last().map(String::as_str) != Some(stage)
        {
            stages.push(stage.to_string());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!stages.is_empty(), "at least one stage was seen while running");
}
