//! The bad-input contract (SPEC §3): one test per kind of bad row, a missing column,
//! absent tables, BOM and CRLF, and Parquet input read like CSV.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use dengta_engine::dataset::Dataset;
use dengta_engine::schema::Table;
use dengta_engine::{Error, NoProgress, reader};

use crate::util::*;

fn stores() -> String {
    table(STORES_HEADER, &["S1,One,home,2025-01-01,,true,false"])
}

fn read(tables: &[(&str, String)]) -> Dataset {
    let data = TestData::new(tables);
    reader::read_dataset(data.path(), &NoProgress).expect("dataset reads")
}

/// `(row, column, reason)` of every reject of a table.
fn rejects(ds: &Dataset, t: Table) -> Vec<(u64, String, &'static str)> {
    ds.rejects.iter().filter(|r| r.table == t).map(|r| (r.row, r.column.clone(), r.reason.name())).collect()
}

#[test]
fn one_reject_per_kind_of_bad_row() {
    let ds = read(&[
        ("stores", stores()),
        (
            "reviews",
            table(
                REVIEWS_HEADER,
                &[
                    "R1,O1,S1,I1,2025-03-01T10:00:00+08:00,5,5,5",
                    "R2,O1,S1,I1,2025-03-01T10:00:00,5,5,5",       // no offset
                    "R3,O1,S1,I1,2025-03-01T10:00:00+08:00,6,5,5", // score outside 1..5
                    "R4,O1,S9,I1,2025-03-01T10:00:00+08:00,5,5,5", // unknown store
                    "R1,O1,S1,I1,2025-03-01T10:00:00+08:00,4,4,4", // duplicate id
                    "R5,O1,S1,I1,2025-03-01T10:00:00+08:00,5,,5",  // missing value
                    "R1,O1,S1,I1,bad,4,4,4",                       // invalid, not a duplicate
                ],
            ),
        ),
        (
            "orders",
            table(
                ORDERS_HEADER,
                &["O1,S1,I1,home,2025-03-01T10:00:00+08:00,-1.00,", "O2,S1,I1,home,2025-03-01T10:00:00+08:00,1.5,"],
            ),
        ),
    ]);
    assert_eq!(
        rejects(&ds, Table::Reviews),
        vec![
            (2, "created_at".into(), "invalid_timestamp"),
            (3, "item_score".into(), "out_of_range"),
            (4, "store_id".into(), "unknown_store"),
            (5, "review_id".into(), "duplicate_id"),
            (6, "service_score".into(), "missing_value"),
            (7, "created_at".into(), "invalid_timestamp"),
        ]
    );
    assert_eq!(rejects(&ds, Table::Orders), vec![(1, "amount".into(), "negative_amount")]);
    let s = &ds.summaries[&Table::Reviews];
    assert_eq!((s.read, s.accepted, s.rejected), (7, 1, 6));
    // The first valid row with the id is the one kept.
    assert_eq!(ds.events[&Table::Reviews].batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
}

#[test]
fn a_missing_required_column_fails_the_file() {
    let data = TestData::new(&[
        ("stores", stores()),
        ("chats", "chat_id,store_id,first_human_reply_at\nC1,S1,\n".to_string()),
    ]);
    let err = reader::read_dataset(data.path(), &NoProgress).expect_err("must fail");
    let text = err.to_string();
    assert!(matches!(err, Error::InvalidInput { .. }));
    assert!(text.contains("chats.csv") && text.contains("`started_at`"), "{text}");
}

#[test]
fn optional_store_columns_may_be_absent() {
    let ds = read(&[("stores", "store_id,main_category,opened_on,onboarded\nS1,home,2025-01-01,TRUE\n".to_string())]);
    assert_eq!(ds.stores.len(), 1);
    assert!(ds.stores[0].closed_on.is_none() && !ds.stores[0].removed_for_violation);
}

#[test]
fn absent_event_tables_are_empty_with_a_warning() {
    let ds = read(&[("stores", stores())]);
    assert!(ds.warnings.iter().any(|w| w.contains("`chats` is absent")), "{:?}", ds.warnings);
    assert!(ds.rejects.is_empty());
}

#[test]
fn no_stores_table_is_an_error() {
    let data = TestData::new(&[("orders", table(ORDERS_HEADER, &[]))]);
    assert!(reader::read_dataset(data.path(), &NoProgress).is_err());
}

#[test]
fn bom_crlf_quoting_and_column_order() {
    let text = "\u{feff}onboarded,store_id,\"main_category\",opened_on,extra\r\ntrue,\"S,1\",home,2025-01-01,x\r\n";
    let ds = read(&[("stores", text.to_string())]);
    assert_eq!(ds.stores[0].id, "S,1");
    assert!(ds.rejects.is_empty());
}

#[test]
fn incoherent_orderings_are_rejected_and_others_accepted() {
    let ds = read(&[
        (
            "stores",
            table(
                STORES_HEADER,
                &["S1,One,home,2025-01-01,,true,false", "S2,Two,home,2025-03-01,2025-02-01,true,false"],
            ),
        ),
        ("chats", table(CHATS_HEADER, &["C1,S1,2025-03-01T10:00:00+08:00,2025-03-01T09:59:59+08:00"])),
        // A pickup before payment is accepted as it is.
        ("orders", table(ORDERS_HEADER, &["O1,S1,I1,home,2025-03-01T10:00:00+08:00,1.00,2025-03-01T09:00:00+08:00"])),
    ]);
    assert_eq!(rejects(&ds, Table::Stores), vec![(2, "closed_on".into(), "end_before_start")]);
    assert_eq!(rejects(&ds, Table::Chats), vec![(1, "first_human_reply_at".into(), "end_before_start")]);
    assert!(rejects(&ds, Table::Orders).is_empty());
}

fn write_parquet(path: &std::path::Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).expect("create parquet");
    let mut w = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    w.write(batch).expect("write");
    w.close().expect("close");
}

#[tokio::test]
async fn parquet_input_scores_like_csv() {
    let csv = TestData::new(&[
        ("stores", stores()),
        (
            "orders",
            table(
                ORDERS_HEADER,
                &[
                    "O1,S1,I1,home,2025-03-01T10:00:00+08:00,12.50,2025-03-01T20:00:00+08:00",
                    "O2,S1,I1,home,2025-03-02T10:00:00+08:00,3.00,",
                ],
            ),
        ),
    ]);
    let pq = TestData::new(&[("stores", stores())]);
    let ts =
        |ms: Vec<Option<i64>>| -> ArrayRef { Arc::new(TimestampMillisecondArray::from(ms).with_timezone("+08:00")) };
    let schema = Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Utf8, false),
        Field::new("store_id", DataType::Utf8, false),
        Field::new("item_id", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("paid_at", DataType::Timestamp(TimeUnit::Millisecond, Some("+08:00".into())), false),
        Field::new("amount", DataType::Float64, false),
        Field::new("picked_up_at", DataType::Timestamp(TimeUnit::Millisecond, Some("+08:00".into())), true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["O1", "O2"])),
            Arc::new(StringArray::from(vec!["S1", "S1"])),
            Arc::new(StringArray::from(vec!["I1", "I1"])),
            Arc::new(StringArray::from(vec!["home", "home"])),
            ts(vec![Some(1_740_794_400_000), Some(1_740_880_800_000)]),
            Arc::new(Float64Array::from(vec![12.5, 3.0])),
            ts(vec![Some(1_740_830_400_000), None]),
        ],
    )
    .expect("batch");
    std::fs::create_dir(pq.path().join("orders")).expect("folder");
    write_parquet(&pq.path().join("orders/part-0.parquet"), &batch);
    let a = score(csv.path(), day("2025-03-01"), day("2025-03-05")).await;
    let b = score(pq.path(), day("2025-03-01"), day("2025-03-05")).await;
    assert_eq!(a.len(), 5);
    assert_eq!(a, b);
}

#[test]
fn parquet_timestamps_without_a_zone_are_rejected() {
    let pq = TestData::new(&[("stores", stores())]);
    let schema = Arc::new(Schema::new(vec![
        Field::new("chat_id", DataType::Utf8, false),
        Field::new("store_id", DataType::Utf8, false),
        Field::new("started_at", DataType::Timestamp(TimeUnit::Millisecond, None), false),
        Field::new("first_human_reply_at", DataType::Timestamp(TimeUnit::Millisecond, None), true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["C1"])),
            Arc::new(StringArray::from(vec!["S1"])),
            Arc::new(TimestampMillisecondArray::from(vec![1_740_794_400_000])),
            Arc::new(TimestampMillisecondArray::from(vec![None])),
        ],
    )
    .expect("batch");
    write_parquet(&pq.path().join("chats.parquet"), &batch);
    let ds = reader::read_dataset(pq.path(), &NoProgress).expect("reads");
    assert_eq!(rejects(&ds, Table::Chats), vec![(1, "started_at".into(), "invalid_timestamp")]);
}

#[test]
fn duplicate_ids_are_found_across_batches_and_the_first_row_is_kept() {
    // More rows than one Arrow batch (65,536), with repeats inside a batch and across
    // batches, and a row whose only other check fails (not a duplicate).
    let n = 150_000;
    let mut rows: Vec<String> =
        (0..n).map(|i| format!("O{i},S1,I1,home,2025-03-01T10:00:00+08:00,{}.00,", i % 97)).collect();
    rows.push("O5,S1,I1,home,2025-03-01T10:00:00+08:00,7.00,".into()); // row n+1: repeats row 6
    rows.push("O140000,S1,I1,home,2025-03-01T10:00:00+08:00,-1,".into()); // n+2: invalid, not a duplicate
    rows.insert(70_000, "O69999,S1,I1,home,2025-03-01T10:00:00+08:00,1.00,".into()); // row 70,001: repeats 70,000
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let data = TestData::new(&[("stores", stores()), ("orders", table(ORDERS_HEADER, &refs))]);
    let spill = tempfile::tempdir().expect("temp");
    // In memory, spilled whole, and spilled keeping two columns (the id column is
    // then not kept, yet duplicates are still found and quoted).
    let two: std::collections::BTreeSet<String> = ["store".to_string(), "paid_at".to_string()].into();
    let projected = reader::ReadOptions {
        spill: Some(spill.path().to_path_buf()),
        columns: Some([(Table::Orders, two)].into()),
        ..Default::default()
    };
    let whole = reader::ReadOptions { spill: Some(spill.path().to_path_buf()), columns: None, ..Default::default() };
    for options in [reader::ReadOptions::default(), whole, projected] {
        let ds = reader::read_dataset_with(data.path(), &NoProgress, &options).expect("dataset reads");
        let quoted: Vec<&str> =
            ds.rejects.iter().filter(|r| r.reason.name() == "duplicate_id").map(|r| r.value.as_str()).collect();
        assert_eq!(quoted, vec!["O69999", "O5"]);
        let mut got = rejects(&ds, Table::Orders);
        got.sort();
        assert_eq!(
            got,
            vec![
                (70_001, "order_id".into(), "duplicate_id"),
                (n as u64 + 2, "order_id".into(), "duplicate_id"),
                (n as u64 + 3, "amount".into(), "negative_amount"),
            ]
        );
        let s = &ds.summaries[&Table::Orders];
        assert_eq!((s.read, s.accepted, s.rejected), (n as u64 + 3, n as u64, 3));
        let events = &ds.events[&Table::Orders];
        if options.spill.is_none() {
            let kept: usize = events.batches.iter().map(|b| b.num_rows()).sum();
            assert_eq!(kept, n);
            assert_eq!(events.row_numbers.len(), n);
            assert!(!events.row_numbers.contains(&70_001) && events.row_numbers.contains(&70_002));
            // The first O5 (row 6) is kept with its amount, 5 fen × 100.
            let b = &events.batches[0];
            let amounts = b.column_by_name("amount").expect("amount");
            let amounts = amounts.as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().expect("fen");
            assert_eq!(amounts.value(5), 500);
        } else {
            assert_eq!(events.files.len(), 1);
            let file = std::fs::File::open(&events.files[0]).expect("spill file");
            let spilled = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("spilled Parquet");
            let names: Vec<String> = spilled.schema().fields().iter().map(|f| f.name().clone()).collect();
            let expected: Vec<&str> = if options.columns.is_some() {
                vec!["store", "paid_at"]
            } else {
                vec!["order_id", "store", "item_id", "category", "paid_at", "amount", "picked_up_at"]
            };
            assert_eq!(names, expected);
            assert_eq!(events.schema.fields().len(), expected.len());
            assert_eq!(spilled.metadata().file_metadata().num_rows(), n as i64);
        }
    }
}

#[test]
fn bytes_that_are_not_utf8_reject_the_row_only_in_a_column_dengta_reads() {
    let data = TestData::new(&[("stores", stores())]);
    let mut text = format!("{ORDERS_HEADER},note\n").into_bytes();
    text.extend_from_slice(b"O1,S1,I1,home,2025-03-01T10:00:00+08:00,1.00,,fine\n");
    text.extend_from_slice(b"O2,S1,I1,home,2025-03-01T10:00:00+08:00,1.00,,\xff\xfe\n"); // unread column
    text.extend_from_slice(b"O3,S1,I\xff,home,2025-03-01T10:00:00+08:00,1.00,,fine\n"); // item_id
    std::fs::write(data.path().join("orders.csv"), text).expect("write");
    let ds = reader::read_dataset(data.path(), &NoProgress).expect("dataset reads");
    assert_eq!(rejects(&ds, Table::Orders), vec![(3, String::new(), "malformed_row")]);
    assert_eq!(ds.summaries[&Table::Orders].accepted, 2);
}
