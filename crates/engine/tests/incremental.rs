//! Incremental ingestion equals a full recompute: generated data split into daily
//! batches, with late events (arriving up to 20 days after their day), events sent
//! twice, batches without the store list, and a batch ingested twice.

use std::collections::BTreeMap;
use std::path::Path;

use dengta_engine::incremental::{self, IngestRequest};
use dengta_engine::{NoProgress, run};
use dengta_model::Day;
use dengta_rules::RuleBook;
use rand::{Rng, SeedableRng};

use crate::util::day;

const EVENT_TABLES: [(&str, &str); 6] = [
    ("orders", "paid_at"),
    ("reviews", "created_at"),
    ("chats", "started_at"),
    ("refunds", "requested_at"),
    ("disputes", "opened_at"),
    ("complaints", "filed_at"),
];

/// The business day (+08:00) of an RFC 3339 or epoch-ms instant.
fn business_day(text: &str) -> Option<Day> {
    let ms = if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        text.parse::<i64>().ok()?
    } else {
        chrono::DateTime::parse_from_rfc3339(text).ok()?.timestamp_millis()
    };
    Some(Day((ms + 8 * 3_600_000).div_euclid(86_400_000) as i32))
}

/// Rows of a table as (header, records).
fn read_csv(path: &Path) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_path(path).expect("read generated table");
    let header = r.headers().expect("header").clone();
    (header, r.records().map(|x| x.expect("record")).collect())
}

fn write_csv(path: &Path, header: &csv::StringRecord, rows: &[csv::StringRecord]) {
    let mut w = csv::Writer::from_path(path).expect("write batch table");
    w.write_record(header).expect("header");
    for r in rows {
        w.write_record(r).expect("row");
    }
    w.flush().expect("flush");
}

/// Sorted text rows of daily-score batches, for exact comparison.
fn rows_text(batches: &[datafusion::arrow::array::RecordBatch]) -> Vec<String> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let mut out = Vec::new();
    for b in batches {
        let formatters: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()).expect("formatter"))
            .collect();
        for i in 0..b.num_rows() {
            out.push(formatters.iter().map(|f| f.value(i).to_string()).collect::<Vec<_>>().join(","));
        }
    }
    out.sort();
    out
}

fn read_parquet(path: &Path) -> Vec<datafusion::arrow::array::RecordBatch> {
    let file = std::fs::File::open(path).expect("open parquet");
    datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader")
        .collect::<Result<Vec<_>, _>>()
        .expect("batches")
}

#[test]
fn random_batches_with_late_and_duplicated_events_equal_a_full_recompute() {
    batches_equal_a_full_recompute(0.1, 0.05);
}

/// Without late events every batch rescores its own day alone, so that day's row is
/// scored from the window partials loaded for that day only: a window one day short
/// (for any measure) shows here, where later rescoring hides it above.
#[test]
fn batches_in_order_equal_a_full_recompute() {
    batches_equal_a_full_recompute(0.0, 0.0);
}

/// Splits generated data into daily batches (a share `late` of the events arriving
/// up to 20 days late, a share `twice` sent again), ingests them, and compares the
/// store with a full recompute.
fn batches_equal_a_full_recompute(late_share: f64, twice_share: f64) {
    let work = tempfile::tempdir().expect("temp");
    let full = work.path().join("full");
    let start = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).expect("date");
    let days = 45;
    let params = dengta_synth::Params { stores: 14, days, start, seed: 11, orders_per_day: 5.0, ..Default::default() };
    dengta_synth::generate(&params, &full).expect("generate");
    let first = Day::from_date(start);
    let last = first.plus(days as i32 - 1);

    // Split every event table by creation day; some events arrive late, some twice.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut batches: BTreeMap<Day, BTreeMap<&str, Vec<csv::StringRecord>>> = BTreeMap::new();
    let mut headers = BTreeMap::new();
    let (mut late, mut twice, mut same_batch) = (0, 0, 0);
    for (table, created) in EVENT_TABLES {
        let path = full.join(format!("{table}.csv"));
        if !path.is_file() {
            continue;
        }
        let (header, rows) = read_csv(&path);
        let col = header.iter().position(|h| h == created).expect("creation column");
        for row in rows {
            let d = business_day(&row[col]).unwrap_or(first).clamp(first, last);
            let mut target = d;
            if rng.random_bool(late_share) {
                target = d.plus(rng.random_range(1..=20)).min(last);
                late += 1;
            }
            batches.entry(target).or_default().entry(table).or_default().push(row.clone());
            if rng.random_bool(twice_share) {
                let again = target.plus(rng.random_range(0..=10)).min(last);
                batches.entry(again).or_default().entry(table).or_default().push(row);
                twice += 1;
                same_batch += usize::from(again == target);
            }
        }
        headers.insert(table, header);
    }
    if late_share > 0.0 {
        assert!(late > 50 && twice > 20, "the split has late ({late}) and repeated ({twice}) events");
    }

    let store = work.path().join("store");
    let book = RuleBook::default_book();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut duplicates = 0;
    let mut dirs = Vec::new();
    let (mut kept_apart, mut folds) = (0, 0);
    for (i, d) in first.through(last).enumerate() {
        let dir = work.path().join(format!("batch-{d}"));
        std::fs::create_dir_all(&dir).expect("batch dir");
        // The store list and exemptions come with the first batch and every 7th.
        if i % 7 == 0 {
            std::fs::copy(full.join("stores.csv"), dir.join("stores.csv")).expect("stores");
            if full.join("exemptions.csv").is_file() {
                std::fs::copy(full.join("exemptions.csv"), dir.join("exemptions.csv")).expect("exemptions");
            }
        }
        for (table, rows) in batches.get(&d).into_iter().flatten() {
            write_csv(&dir.join(format!("{table}.csv")), &headers[table], rows);
        }
        let req =
            IngestRequest { batch: dir.clone(), store: store.clone(), from: (i == 0).then_some(first), day: Some(d) };
        let outcome = rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress)).expect("ingest");
        assert_eq!(outcome.generation, i as u64 + 1);
        assert_eq!(outcome.horizon, d);
        duplicates += outcome.duplicates;
        // Late sums: the running totals take a batch's sums only from the
        // REWRITE_DAYS-th latest file on (plus the new day and the next); older days'
        // go to the corrections, until those are folded in.
        if !outcome.folded {
            assert!(
                outcome.partials_written <= incremental::REWRITE_DAYS + 2,
                "{d}: {} partials files rewritten",
                outcome.partials_written
            );
        }
        kept_apart += usize::from(outcome.correction_rows > 0);
        folds += usize::from(outcome.folded);
        if i > 0 && i % 7 != 0 {
            // A day with no late events rescores the new day only (windows end at the horizon).
            assert!(outcome.days_rescored <= 21, "{d}: {} days rescored", outcome.days_rescored);
            if late_share == 0.0 {
                assert_eq!(outcome.days_rescored, 1, "{d}: only the new day is rescored");
            }
        }
        dirs.push(dir);
    }
    if late_share > 0.0 {
        assert!(kept_apart > 5 && folds > 0, "late sums kept apart after {kept_apart} batches, folded {folds} times");
    } else {
        assert_eq!((kept_apart, folds), (0, 0), "batches in order have no late sums");
    }
    // Repeats inside one batch are the reader's duplicates; across batches, the store's.
    assert_eq!(duplicates, twice - same_batch, "every event sent twice is counted once");

    // Every file of the store is one the manifest names: what a batch superseded is gone.
    let stray = incremental::stray_files(&store).expect("list the store");
    assert!(stray.is_empty(), "files the manifest does not name: {stray:?}");
    let text = std::fs::read_to_string(store.join("manifest.json")).expect("manifest");
    let m: incremental::Manifest = serde_json::from_str(&text).expect("manifest json");
    for rel in m.files() {
        assert!(store.join(&rel).is_file(), "the manifest names {}, which is missing", rel.display());
    }
    assert!(m.partials.len() >= days as usize, "one partials file per day");

    // Ingesting a batch again changes no score.
    let before = rows_text(&incremental::daily_batches(&store).expect("daily"));
    let again = IngestRequest { batch: dirs[10].clone(), store: store.clone(), from: None, day: Some(first.plus(10)) };
    let outcome = rt.block_on(incremental::ingest(&again, Some(&book), &NoProgress)).expect("re-ingest");
    assert!(outcome.duplicates > 0);
    let accepted: u64 = outcome
        .summaries
        .iter()
        .filter(|(t, _)| incremental::creation_column(**t).is_some())
        .map(|(_, s)| s.accepted)
        .sum();
    assert_eq!(accepted, 0, "no event of a batch ingested twice is accepted again");
    assert_eq!(rows_text(&incremental::daily_batches(&store).expect("daily")), before);

    // A review 30 days late, for one store: its windows are rescored for that store
    // alone, and its sums kept apart from the running totals.
    let (header, mut reviews) = read_csv(&full.join("reviews.csv"));
    let mut review = reviews[0].clone();
    let late_day = last.plus(-30);
    let col = |name: &str| header.iter().position(|h| h == name).expect("review column");
    let when = format!("{late_day}T12:00:00+08:00");
    review = review
        .iter()
        .enumerate()
        .map(|(i, v)| match i {
            _ if i == col("review_id") => "R-LATE-1",
            _ if i == col("created_at") => when.as_str(),
            _ if i == col("item_score") => "1",
            _ => v,
        })
        .collect();
    let late_dir = work.path().join("batch-late");
    std::fs::create_dir_all(&late_dir).expect("late batch dir");
    write_csv(&late_dir.join("reviews.csv"), &header, std::slice::from_ref(&review));
    let req = IngestRequest { batch: late_dir, store: store.clone(), from: None, day: Some(last) };
    let outcome = rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress)).expect("late review");
    assert_eq!(outcome.days_rescored, 31, "the late review's day to the horizon");
    assert!(outcome.rows_written <= 31, "one store rescored: {} rows", outcome.rows_written);
    assert!(outcome.folded || outcome.correction_rows > 0, "the late sums are kept apart");
    assert!(outcome.partials_written <= 1, "{} partials files rewritten", outcome.partials_written);
    reviews.push(review);
    write_csv(&full.join("reviews.csv"), &header, &reviews);

    // The full recompute over the same days.
    let out = work.path().join("out");
    let req = run::ScoreRequest::new(full.clone(), first, last, out.clone());
    rt.block_on(run::score(&req, &book, &NoProgress)).expect("full run");
    let expected = rows_text(&read_parquet(&out.join("daily_scores.parquet")));
    assert!(expected.len() > 300);
    let got = rows_text(&incremental::daily_batches(&store).expect("daily"));
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g, e);
    }
    let _ = day("2025-03-01");
}

/// A second writer (or a reader during a batch) stops with a clear error while a
/// batch holds the store's lock, and goes ahead once it is released.
#[test]
fn a_store_being_written_is_not_opened_by_another_process() {
    let work = tempfile::tempdir().expect("temp");
    let data = work.path().join("data");
    let start = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).expect("date");
    let params = dengta_synth::Params { stores: 3, days: 3, start, seed: 2, ..Default::default() };
    dengta_synth::generate(&params, &data).expect("generate");
    let store = work.path().join("store");
    let book = RuleBook::default_book();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let first = Day::from_date(start);
    let req = IngestRequest { batch: data.clone(), store: store.clone(), from: Some(first), day: Some(first.plus(2)) };
    rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress)).expect("first batch");
    let before = incremental::content_lines(&store).expect("readable");

    // What a running batch holds (advisory locks are per open file, so this works
    // within one process as between two).
    let held = std::fs::File::open(store.join("lock")).expect("the store has a lock file");
    held.lock().expect("lock");
    let again = rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress)).expect_err("locked");
    assert!(again.to_string().contains("being written by another `dengta ingest`"), "{again}");
    let read = incremental::content_lines(&store).expect_err("locked");
    assert!(read.to_string().contains("being written by another"), "{read}");
    held.unlock().expect("unlock");

    rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress)).expect("after the lock is released");
    assert_eq!(incremental::content_lines(&store).expect("readable"), before, "the same batch again changes nothing");
    assert!(incremental::stray_files(&store).expect("list").is_empty());
}

/// A batch folder that is not there (a mistyped path) is an input error naming it,
/// and leaves no store folder behind; an existing store is left as it was.
#[test]
fn a_missing_batch_creates_no_store_and_changes_none() {
    let work = tempfile::tempdir().expect("temp");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let book = RuleBook::default_book();
    let missing = work.path().join("no-such-batch");
    let store = work.path().join("store");
    let req = IngestRequest { batch: missing.clone(), store: store.clone(), from: None, day: None };
    let err = rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress)).expect_err("no batch");
    assert!(matches!(err, dengta_engine::Error::InvalidInput { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-batch") && err.to_string().contains("not a dataset directory"), "{err}");
    assert!(!store.exists(), "a failed first batch leaves no store folder");

    let data = work.path().join("data");
    let start = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).expect("date");
    let params = dengta_synth::Params { stores: 3, days: 2, start, seed: 3, ..Default::default() };
    dengta_synth::generate(&params, &data).expect("generate");
    let first = IngestRequest { batch: data, store: store.clone(), from: None, day: None };
    rt.block_on(incremental::ingest(&first, Some(&book), &NoProgress)).expect("first batch");
    let before = incremental::content_lines(&store).expect("readable");
    rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress)).expect_err("no batch");
    assert_eq!(incremental::content_lines(&store).expect("readable"), before);
    assert!(incremental::stray_files(&store).expect("list").is_empty());
}

/// A store written when ids were kept per table and UTC day (the fixture's README
/// says how it was made) still rejects the events it holds, keeps its old id files,
/// and ends with the same scores as a store written in today's layout.
#[test]
fn a_store_with_ids_in_the_first_layout_keeps_rejecting_them() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/legacy-ids");
    let work = tempfile::tempdir().expect("temp");
    let old = work.path().join("old");
    copy_dir(&fixture.join("store"), &old);
    let book = RuleBook::default_book();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let ingest = |batch: &str, store: &Path| {
        let req = IngestRequest { batch: fixture.join(batch), store: store.to_path_buf(), from: None, day: None };
        rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress)).expect("ingest")
    };
    let manifest = |store: &Path| -> incremental::Manifest {
        serde_json::from_str(&std::fs::read_to_string(store.join("manifest.json")).expect("manifest")).expect("json")
    };
    let first_events: u64 = ingest("first", &work.path().join("new")).summaries.values().map(|s| s.accepted).sum();
    let events_of = |o: &incremental::IngestOutcome| -> u64 {
        o.summaries.iter().filter(|(t, _)| incremental::creation_column(**t).is_some()).map(|(_, s)| s.read).sum()
    };
    let old_ids = manifest(&old).ids;
    assert!(old_ids.values().map(|d| d.len()).sum::<usize>() > 5, "the fixture has ids in the first layout");

    let o = ingest("full", &old);
    let n = ingest("full", &work.path().join("new"));
    // Every event of `first` (stores and exemptions aside) is a duplicate, in both.
    let first_rows = first_events - 4 - 2;
    assert_eq!(o.duplicates as u64, first_rows, "the first layout's ids are still checked");
    assert_eq!(n.duplicates, o.duplicates);
    assert!(events_of(&o) > first_rows, "full brings new events too");
    assert_eq!(
        incremental::content_lines(&old).expect("old"),
        incremental::content_lines(&work.path().join("new")).expect("new")
    );
    // The old id files stay named (and on disk); the new ids go to the new layout.
    let m = manifest(&old);
    assert_eq!(m.ids, old_ids);
    assert!(incremental::stray_files(&old).expect("list").is_empty());
    assert!(m.id_days.len() >= 5 && m.id_zone.as_deref() == Some("+08:00"), "{:?} {:?}", m.id_days, m.id_zone);
    // And everything is a duplicate now.
    let again = ingest("full", &old);
    assert_eq!(again.duplicates as u64, events_of(&again));
}

/// A store written before session 10 holds each day's own sums; its next batch
/// rewrites them as running totals, even a batch without events (which touches no
/// date), so that the store is never marked cumulative with per-day files in it.
#[test]
fn a_store_of_per_day_partials_is_converted_by_any_batch() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/legacy-ids");
    let work = tempfile::tempdir().expect("temp");
    let (old, new, empty) = (work.path().join("old"), work.path().join("new"), work.path().join("empty"));
    copy_dir(&fixture.join("store"), &old);
    std::fs::create_dir_all(&empty).expect("mkdir");
    let book = RuleBook::default_book();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let ingest = |batch: &Path, store: &Path| {
        let req = IngestRequest { batch: batch.to_path_buf(), store: store.to_path_buf(), from: None, day: None };
        rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress)).expect("ingest")
    };
    let cumulative = |store: &Path| -> bool {
        let text = std::fs::read_to_string(store.join("manifest.json")).expect("manifest");
        serde_json::from_str::<incremental::Manifest>(&text).expect("json").cumulative
    };
    assert!(!cumulative(&old), "the fixture holds per-day sums");
    ingest(&fixture.join("first"), &new);
    assert_ne!(
        incremental::content_lines(&old).expect("old"),
        incremental::content_lines(&new).expect("new"),
        "per-day sums and running totals differ on a store with events on several days"
    );
    let o = ingest(&empty, &old);
    ingest(&empty, &new);
    assert_eq!(o.days_touched, 0);
    assert!(cumulative(&old));
    assert_eq!(incremental::content_lines(&old).expect("old"), incremental::content_lines(&new).expect("new"));
    assert!(incremental::stray_files(&old).expect("list").is_empty(), "the per-day files are gone");
}

/// A power cut can keep a batch's new file and lose its `pending.json` (not
/// synced where the system names its boots). The manifest records the boot that
/// committed it, and the first opening after another boot looks through every
/// folder; within the same boot, the record cannot have been lost, and opening
/// looks nowhere.
#[test]
fn a_file_left_by_a_power_cut_goes_at_the_first_opening_after_a_reboot() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/legacy-ids");
    let work = tempfile::tempdir().expect("temp");
    let store = work.path().join("store");
    let book = RuleBook::default_book();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let req = IngestRequest { batch: fixture.join("first"), store: store.clone(), from: None, day: None };
    rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress)).expect("ingest");
    let this_boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_string()).ok();
    let path = store.join("manifest.json");
    let mut m: incremental::Manifest =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("manifest")).expect("json");
    assert_eq!(m.boot_id, this_boot, "the commit records this boot");
    let Some(this_boot) = this_boot else {
        return; // No boots named here: `pending.json` is synced instead.
    };

    // What a killed batch leaves without its record: `open` in the same boot does
    // not look for it (a killed process's record is never lost)...
    let orphan = store.join("partials/date=2030-01-01/g99.parquet");
    std::fs::create_dir_all(orphan.parent().expect("folder")).expect("mkdir");
    std::fs::write(&orphan, b"half a file").expect("write");
    incremental::open(&store).expect("open");
    assert!(orphan.is_file(), "same boot: nothing to look for");
    // ...but after another boot (or from a manifest that names none) it does.
    for boot in [Some("another-boot".to_string()), None] {
        std::fs::write(&orphan, b"half a file").expect("write");
        m.boot_id = boot;
        std::fs::write(&path, serde_json::to_string(&m).expect("json")).expect("write manifest");
        let opened = incremental::open(&store).expect("open").expect("a store");
        assert_eq!(opened.generation, m.generation);
        assert!(!orphan.exists(), "after a reboot the leftover goes ({:?})", m.boot_id);
        assert!(incremental::stray_files(&store).expect("list").is_empty());
    }
    // The next batch records this boot again.
    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let req = IngestRequest { batch: empty, ..req };
    rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress)).expect("ingest");
    let m: incremental::Manifest =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("manifest")).expect("json");
    assert_eq!(m.boot_id.as_deref(), Some(this_boot.as_str()));
}

/// A store manifest without a `format` (every store before format 2, as the fixture)
/// is read and written back in this dengta's format by its next batch. One of a later
/// format is refused with a message saying so, whether or not the rest of it parses,
/// and the store is left as it was, byte for byte: read, what this dengta does not
/// know would be lost when it wrote the manifest back.
#[test]
fn a_store_of_a_later_format_is_refused_and_one_of_an_earlier_is_upgraded() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/legacy-ids");
    let work = tempfile::tempdir().expect("temp");
    let store = work.path().join("store");
    copy_dir(&fixture.join("store"), &store);
    let path = store.join("manifest.json");
    let text = std::fs::read_to_string(&path).expect("manifest");
    assert!(!text.contains("\"format\""), "the fixture predates the format field");
    assert_eq!(serde_json::from_str::<incremental::Manifest>(&text).expect("json").format, 1);

    let book = RuleBook::default_book();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let ingest = |batch: &Path| {
        let req = IngestRequest { batch: batch.to_path_buf(), store: store.clone(), from: None, day: None };
        rt.block_on(incremental::ingest(&req, Some(&book), &NoProgress))
    };
    ingest(&empty).expect("an empty batch");
    let upgraded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("manifest")).expect("json");
    assert_eq!(upgraded["format"], incremental::FORMAT);

    let later = incremental::FORMAT + 1;
    let mut parses = upgraded.clone();
    parses["format"] = later.into();
    parses["something_new"] = "this dengta does not know it".into();
    let mut does_not_parse = parses.clone();
    does_not_parse["daily"] = serde_json::json!({"kind": "a form this dengta cannot read"});
    for manifest in [parses, does_not_parse] {
        std::fs::write(&path, serde_json::to_string_pretty(&manifest).expect("json")).expect("write");
        let before = files_of(&store);
        let err = ingest(&fixture.join("full")).expect_err("a later format");
        assert!(matches!(err, dengta_engine::Error::InvalidInput { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("manifest.json") && message.contains("newer dengta"), "{message}");
        assert!(message.contains(&format!("format {later}")), "{message}");
        assert_eq!(files_of(&store), before, "nothing changed");
        let err = incremental::content_lines(&store).expect_err("readers refuse it too");
        assert!(err.to_string().contains("newer dengta"), "{err}");
    }
}

/// Every file under `dir` with its bytes, by path relative to `dir`.
fn files_of(dir: &Path) -> BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for e in std::fs::read_dir(&folder).expect("read dir") {
            let e = e.expect("entry");
            if e.file_type().expect("type").is_dir() {
                folders.push(e.path());
            } else {
                let relative = e.path().strip_prefix(dir).expect("under dir").to_path_buf();
                files.insert(relative, std::fs::read(e.path()).expect("read"));
            }
        }
    }
    files
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}
