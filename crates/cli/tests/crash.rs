//! Crash safety of `dengta ingest`: the real binary is killed with SIGKILL at
//! random moments while it ingests a batch; each time the store must read as it
//! was before the batch or as it is after it, never in between, and the next run
//! must complete it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// Splits a table's rows by the date prefix of its creation column.
fn split(full: &Path, a: &Path, b: &Path, cut: &str) {
    for (table, created) in [
        ("orders", "paid_at"),
        ("reviews", "created_at"),
        ("chats", "started_at"),
        ("refunds", "requested_at"),
        ("disputes", "opened_at"),
        ("complaints", "filed_at"),
    ] {
        let path = full.join(format!("{table}.csv"));
        if !path.is_file() {
            continue;
        }
        let mut r = csv::Reader::from_path(&path).expect("read");
        let header = r.headers().expect("header").clone();
        let col = header.iter().position(|h| h == created).expect("column");
        let mut wa = csv::Writer::from_path(a.join(format!("{table}.csv"))).expect("write");
        let mut wb = csv::Writer::from_path(b.join(format!("{table}.csv"))).expect("write");
        wa.write_record(&header).expect("header");
        wb.write_record(&header).expect("header");
        for rec in r.records() {
            let rec = rec.expect("record");
            // RFC 3339 sorts by text within one offset; epoch-ms rows go to batch b.
            if rec[col].contains('T') && rec[col] < *cut { wa.write_record(&rec) } else { wb.write_record(&rec) }
                .expect("row");
        }
        wa.flush().expect("flush");
        wb.flush().expect("flush");
    }
}

fn ingest(batch: &Path, store: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dengta"))
        .args(["ingest", s(batch), "--into", s(store)])
        .args(extra)
        .output()
        .expect("run dengta ingest")
}

#[test]
fn ingest_killed_at_random_moments_is_before_or_after_never_between() {
    let work = tempfile::tempdir().expect("temp");
    let full = work.path().join("full");
    let o = Command::new(env!("CARGO_BIN_EXE_dengta"))
        .args(["generate", s(&full), "--stores", "40", "--days", "60", "--seed", "9", "--orders-per-day", "12"])
        .output()
        .expect("generate");
    assert!(o.status.success());
    let (a, b) = (work.path().join("a"), work.path().join("b"));
    std::fs::create_dir_all(&a).expect("mkdir");
    std::fs::create_dir_all(&b).expect("mkdir");
    split(&full, &a, &b, "2025-02-10");
    std::fs::copy(full.join("stores.csv"), a.join("stores.csv")).expect("stores");

    // Before: batch a. After: batch a then b (b includes late events for a's days).
    let before = work.path().join("before");
    let o = ingest(&a, &before, &["--from", "2025-01-01", "--day", "2025-02-09"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let before_lines = dengta_engine::incremental::content_lines(&before).expect("before");
    let after = work.path().join("after");
    copy_dir(&before, &after);
    let started = Instant::now();
    let o = ingest(&b, &after, &["--day", "2025-03-01"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let full_time = started.elapsed();
    let after_lines = dengta_engine::incremental::content_lines(&after).expect("after");
    assert_ne!(before_lines, after_lines);

    let mut seen = (0, 0);
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for round in 0..10 {
        let store = work.path().join(format!("kill-{round}"));
        copy_dir(&before, &store);
        let mut child = Command::new(env!("CARGO_BIN_EXE_dengta"))
            .args(["ingest", s(&b), "--into", s(&store), "--day", "2025-03-01"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait = Duration::from_micros(seed % (full_time.as_micros() as u64 * 11 / 10).max(1));
        std::thread::sleep(wait);
        child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
        let _ = child.wait();
        let lines = dengta_engine::incremental::content_lines(&store).expect("the store opens after a kill");
        // Opening removed what the killed run wrote and no manifest names.
        let stray = dengta_engine::incremental::stray_files(&store).expect("list the store");
        assert!(stray.is_empty(), "round {round}: leftovers after opening: {stray:?}");
        if lines == before_lines {
            seen.0 += 1;
        } else {
            assert!(
                lines == after_lines,
                "round {round}: killed after {wait:?}, the store is neither before nor after"
            );
            seen.1 += 1;
        }
        // The next run completes the batch (or finds it all ingested already).
        let o = ingest(&b, &store, &["--day", "2025-03-01"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(dengta_engine::incremental::content_lines(&store).expect("after rerun"), after_lines);
        let stray = dengta_engine::incremental::stray_files(&store).expect("list the store");
        assert!(stray.is_empty(), "round {round}: files no manifest names after the rerun: {stray:?}");
    }
    eprintln!("kills that left the state before the batch: {}, after it: {}", seen.0, seen.1);
}
