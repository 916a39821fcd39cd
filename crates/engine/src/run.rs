//! A scoring run: read → aggregate per store-day → windows → scores → outputs.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Datelike;
use dengta_model::Day;
use dengta_rules::RuleBook;

use crate::aggregate::{self, Profile};
use crate::daily::{self, ScoreRow};
use crate::dataset::{Dataset, TableSummary};
use crate::error::{Error, Result};
use crate::output;
use crate::partials::DayPartials;
use crate::periods::{self, AnnualRow, MonthRow};
use crate::progress::Progress;
use crate::reader;
use crate::schema::Table;
use crate::table_out::TextTable;
use datafusion::arrow::datatypes::DataType;

/// A never-onboarded store's fee is due back this many Chinese working days after
/// its exit application [seed].
pub const REFUND_WORKING_DAYS: u32 = 7;

/// What to score.
#[derive(Clone, Debug)]
pub struct ScoreRequest {
    /// Dataset directory (SPEC §3).
    pub dataset: PathBuf,
    /// First day scored.
    pub from: Day,
    /// Last day scored (inclusive).
    pub to: Day,
    /// Output directory.
    pub out: PathBuf,
    /// Fail when any row is rejected.
    pub strict: bool,
    /// Exemptions kept outside the dataset (the service's operator-entered ones),
    /// applied together with the dataset's own `exemptions` table.
    pub extra_exemptions: Vec<crate::dataset::Exemption>,
    /// Only the daily scores (with partials, rejects and the manifest).
    pub daily_only: bool,
    /// A Ballista scheduler (`df://HOST:PORT`) to run the aggregation on.
    pub cluster: Option<String>,
}

impl ScoreRequest {
    /// Scores `dataset` on the days `from..=to` into `out`, with every option at its
    /// default (not strict, no extra exemptions, all outputs, locally); set the
    /// public fields to change one.
    pub fn new(dataset: impl Into<PathBuf>, from: Day, to: Day, out: impl Into<PathBuf>) -> ScoreRequest {
        ScoreRequest {
            dataset: dataset.into(),
            from,
            to,
            out: out.into(),
            strict: false,
            extra_exemptions: Vec::new(),
            daily_only: false,
            cluster: None,
        }
    }
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct ScoreOutcome {
    /// Per-table account of rows.
    pub summaries: BTreeMap<Table, TableSummary>,
    /// Rows rejected in all.
    pub rejected: usize,
    /// Things a person should know.
    pub warnings: Vec<String>,
    /// Stores in the dataset.
    pub stores: usize,
    /// The dataset as read (stores, exemptions; events are dropped from it).
    pub dataset: Dataset,
    /// Stores with at least one scored row.
    pub stores_scored: usize,
    /// Days in the range.
    pub days: u32,
    /// The daily rows written (empty for a `daily_only` run: written, not kept).
    pub rows: Vec<ScoreRow>,
    /// How many daily rows were written.
    pub daily_rows: usize,
    /// Monthly rows.
    pub months: Vec<MonthRow>,
    /// Annual rows of every year the range fully covers.
    pub annual: Vec<AnnualRow>,
    /// Item quality rows.
    pub items: Vec<crate::quality::ItemRow>,
    /// Peer benchmarks per category, indicator and day (SPEC §12).
    pub peers: Vec<crate::peers::PeerRow>,
    /// The settlement of the year containing `to` as far as the range goes, when
    /// the range does not cover that whole year (a projection for dashboards: the
    /// mean of the month-end scores so far, and the tiers reached by GMV so far).
    pub year_to_date: Vec<AnnualRow>,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Wall time of the run, seconds.
    pub seconds: f64,
}

/// File names inside a run's output directory.
pub mod files {
    /// Daily scores, CSV.
    pub const DAILY_CSV: &str = "daily_scores.csv";
    /// Daily scores, Parquet.
    pub const DAILY_PARQUET: &str = "daily_scores.parquet";
    /// Rejected rows.
    pub const REJECTS: &str = "rejects.csv";
    /// Per-store, per-day partial aggregates.
    pub const PARTIALS: &str = "partials.parquet";
    /// Monthly scores (CSV and Parquet share this stem).
    pub const MONTHLY: &str = "monthly";
    /// Annual settlement (CSV and Parquet share this stem).
    pub const ANNUAL: &str = "annual";
    /// Product quality per item and day (CSV and Parquet share this stem).
    pub const ITEM_QUALITY: &str = "item_quality";
    /// Peer benchmarks per category, indicator and day (CSV and Parquet share this stem).
    pub const PEERS: &str = "peers";
    /// The run manifest, written last.
    pub const MANIFEST: &str = "run.json";
    /// The rule files that scored the run.
    pub const RULES_DIR: &str = "rules";
}

/// Aggregates the dataset once per distinct rule profile, locally or on a Ballista
/// cluster (`df://HOST:PORT`) with the events staged as Parquet under `stage`.
pub async fn aggregate_all(
    ds: &Dataset,
    book: &RuleBook,
    cluster: Option<(&str, &Path)>,
) -> Result<HashMap<Profile, DayPartials>> {
    let ctx = match cluster {
        None => aggregate::session_for(ds)?,
        Some((url, stage)) => aggregate::cluster_session(url, ds, stage).await?,
    };
    let mut partials = HashMap::new();
    for rules in book.versions() {
        let profile = Profile::of(rules);
        if let std::collections::hash_map::Entry::Vacant(e) = partials.entry(profile) {
            // Streamed into the window index batch by batch: the plan's output is
            // never held whole.
            let mut stream = aggregate::partials_plan(&ctx, &profile).await?.execute_stream().await?;
            let mut p = DayPartials::new(ds.stores.len());
            while let Some(batch) = futures::StreamExt::next(&mut stream).await {
                aggregate::add_partials(&mut p, &batch?)?;
            }
            p.seal();
            e.insert(p);
        }
    }
    Ok(partials)
}

/// Writes every profile's partials into one Parquet file, a block of stores at a
/// time (the text columns of a whole year of a large marketplace would not fit).
fn write_partials(path: &Path, ds: &Dataset, partials: &HashMap<Profile, DayPartials>) -> Result<()> {
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::basic::{Compression, ZstdLevel};
    use datafusion::parquet::file::properties::WriterProperties;
    const STORES_PER_BATCH: usize = 4096;
    if partials.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = ds.stores.iter().map(|s| s.id.clone()).collect();
    output::write_atomically(path, |out| {
        let props = WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
        let schema = output::partials_batch("", &ids, &DayPartials::new(0), 0..0)?.schema();
        let mut writer = ArrowWriter::try_new(out, schema, Some(props))?;
        for (profile, p) in partials {
            let key = profile.key();
            for first in (0..ids.len().max(1)).step_by(STORES_PER_BATCH) {
                writer.write(&output::partials_batch(&key, &ids, p, first..first + STORES_PER_BATCH)?)?;
            }
        }
        writer.close()?;
        Ok(())
    })
}

/// Settles every year that `from..=to` fully covers (SPEC §6–§7), with the rule
/// version in force on each December 31.
/// The year of `to` settled on the days `from..=to` when the range does not cover
/// it whole; empty otherwise.
async fn year_so_far(
    ds: &Dataset,
    rows: &[ScoreRow],
    months: &[MonthRow],
    book: &RuleBook,
    from: Day,
    to: Day,
) -> Result<Vec<AnnualRow>> {
    let year = to.date().year();
    if periods::covered_years(from, to).contains(&year) {
        return Ok(Vec::new());
    }
    let jan1 = Day::from_date(chrono::NaiveDate::from_ymd_opt(year, 1, 1).expect("a valid date"));
    let rules = daily::rules_on(book, to)?;
    let sales = crate::gmv::year_sales(ds, rules.offset, jan1.max(from), to).await?;
    let no_due = |_: Day| Err("not settled yet".to_string());
    Ok(periods::annual(ds, rows, months, &sales, book, year, &no_due).0)
}

async fn settle_years(
    ds: &Dataset,
    rows: &[ScoreRow],
    months: &[MonthRow],
    book: &RuleBook,
    from: Day,
    to: Day,
) -> Result<(Vec<AnnualRow>, Vec<String>)> {
    let calendar = dengta_rules::WorkCalendar::builtin();
    let due = |d: Day| calendar.working_days_after(d, REFUND_WORKING_DAYS).map_err(|e| e.to_string());
    let (mut annual, mut warnings) = (Vec::new(), Vec::new());
    for year in periods::covered_years(from, to) {
        let day = |m, d| Day::from_date(chrono::NaiveDate::from_ymd_opt(year, m, d).expect("a valid date"));
        let rules = daily::rules_on(book, day(12, 31))?;
        let sales = crate::gmv::year_sales(ds, rules.offset, day(1, 1), day(12, 31)).await?;
        let (rows_y, warnings_y) = periods::annual(ds, rows, months, &sales, book, year, &due);
        annual.extend(rows_y);
        warnings.extend(warnings_y);
    }
    Ok((annual, warnings))
}

/// Runs a scoring job end to end and writes its outputs.
pub async fn score(req: &ScoreRequest, book: &RuleBook, progress: &dyn Progress) -> Result<ScoreOutcome> {
    let started = Instant::now();
    if req.to < req.from {
        return Err(Error::InvalidRequest(format!("--to {} is before --from {}", req.to, req.from)));
    }
    daily::rules_on(book, req.from)?;
    std::fs::create_dir_all(&req.out).map_err(|e| Error::io(&req.out, e))?;

    let t = Instant::now();
    // Checked events go to Parquet under OUT/staged (not memory), where the local
    // session and a Ballista cluster both read them; removed when the run ends.
    let stage = req.out.join("staged");
    // A daily-only run keeps only the columns the aggregation reads; the other
    // outputs (item quality, sales) read more.
    let columns = req.daily_only.then(|| {
        let profiles: Vec<Profile> = book.versions().iter().map(Profile::of).collect();
        aggregate::columns_read(&profiles)
    });
    let options = reader::ReadOptions { spill: Some(stage.clone()), columns, ..Default::default() };
    let mut ds = reader::read_dataset_with(&req.dataset, progress, &options)?;
    ds.exemptions.extend(req.extra_exemptions.iter().cloned());
    tracing::info!(seconds = t.elapsed().as_secs_f64(), rejects = ds.rejects.len(), "Read and checked the dataset.");
    let rejects_path = req.out.join(files::REJECTS);
    output::write_rejects(&rejects_path, &ds.rejects)?;
    if req.strict && !ds.rejects.is_empty() {
        return Err(Error::StrictRejects {
            count: ds.rejects.len(),
            first: ds.rejects[0].to_string(),
            rejects_file: rejects_path.display().to_string(),
        });
    }

    progress.stage("aggregating events per store and day", None);
    let t = Instant::now();
    let partials = aggregate_all(&ds, book, req.cluster.as_deref().map(|url| (url, stage.as_path()))).await?;
    tracing::info!(
        seconds = t.elapsed().as_secs_f64(),
        profiles = partials.len(),
        "Aggregated events per store and day."
    );
    // Daily rows are written as they are scored, a block of stores at a time; a
    // --daily-only run does not keep them (its memory does not grow with the rows).
    // Beside the scoring, which keeps the cores busy, a thread that mostly waits on
    // the disk writes the partials file and, for a --daily-only run (nothing reads
    // the staged events after the aggregation), removes the staged events.
    let t = Instant::now();
    let daily_csv = req.out.join(files::DAILY_CSV);
    let daily_parquet = req.out.join(files::DAILY_PARQUET);
    let partials_path = req.out.join(files::PARTIALS);
    let mut rows = Vec::new();
    let mut stores_scored = 0;
    let (scored, beside) = std::thread::scope(|scope| {
        let beside = scope.spawn(|| -> Result<()> {
            write_partials(&partials_path, &ds, &partials)?;
            if req.daily_only {
                std::fs::remove_dir_all(&stage).map_err(|e| Error::io(&stage, e))?;
            }
            Ok(())
        });
        let scored = (|| -> Result<(Vec<String>, usize)> {
            let mut writer = output::DailyWriter::create(&daily_csv, &daily_parquet)?;
            let warnings = daily::score_range_each(&ds, book, &partials, req.from, req.to, progress, &mut |block| {
                writer.write(&block)?;
                // Rows come ordered by store: count the changes of store.
                stores_scored += block.windows(2).filter(|w| w[0].store_id != w[1].store_id).count()
                    + usize::from(!block.is_empty());
                if !req.daily_only {
                    rows.extend(block);
                }
                Ok(())
            })?;
            let daily_rows = writer.rows;
            writer.finish()?;
            Ok((warnings, daily_rows))
        })();
        (scored, beside.join())
    });
    beside.unwrap_or_else(|_| Err(Error::Internal("the thread writing the partials panicked".into())))?;
    let (score_warnings, daily_rows) = scored?;
    tracing::info!(seconds = t.elapsed().as_secs_f64(), rows = daily_rows, "Scored and wrote store-days.");
    let t = Instant::now();

    progress.stage("writing results", None);
    let (months, annual, period_warnings, peers, year_to_date, items) = if req.daily_only {
        Default::default()
    } else {
        let months = periods::monthly(&rows, book, req.to);
        monthly_table(&months).write(&req.out, files::MONTHLY)?;
        let (annual, period_warnings) = settle_years(&ds, &rows, &months, book, req.from, req.to).await?;
        annual_table(&annual).write(&req.out, files::ANNUAL)?;
        let peers = crate::peers::peers(&rows);
        peers_table(&peers).write(&req.out, files::PEERS)?;
        let year_to_date = year_so_far(&ds, &rows, &months, book, req.from, req.to).await?;
        let t_items = Instant::now();
        let items = crate::quality::item_quality(&ds, book, req.from, req.to).await?;
        tracing::info!(seconds = t_items.elapsed().as_secs_f64(), rows = items.len(), "Computed item quality.");
        let t_items = Instant::now();
        crate::quality::write(&req.out, &items)?;
        tracing::info!(seconds = t_items.elapsed().as_secs_f64(), "Wrote item quality.");
        (months, annual, period_warnings, peers, year_to_date, items)
    };
    let rules_dir = req.out.join(files::RULES_DIR);
    std::fs::create_dir_all(&rules_dir).map_err(|e| Error::io(&rules_dir, e))?;
    for r in book.versions() {
        let path = rules_dir.join(format!("{}.toml", r.version));
        output::write_atomically(&path, |w| w.write_all(r.source_text.as_bytes()).map_err(|e| Error::io(&path, e)))?;
    }

    if !req.daily_only {
        std::fs::remove_dir_all(&stage).map_err(|e| Error::io(&stage, e))?;
    }
    tracing::info!(seconds = t.elapsed().as_secs_f64(), "Wrote results.");
    let mut warnings = ds.warnings.clone();
    warnings.extend(score_warnings);
    warnings.extend(period_warnings);
    let days = (req.to.0 - req.from.0 + 1) as u32;
    let seconds = started.elapsed().as_secs_f64();
    let manifest = serde_json::json!({
        "dengta_version": env!("CARGO_PKG_VERSION"),
        "dataset": absolute(&req.dataset),
        "from": req.from.to_string(),
        "to": req.to.to_string(),
        "strict": req.strict,
        "rules": book.versions().iter().map(|r| serde_json::json!({
            "version": r.version,
            "effective_from": r.effective_from.to_string(),
            "source": r.source_name,
            "sha256": r.content_hash,
            "file": format!("{}/{}.toml", files::RULES_DIR, r.version),
        })).collect::<Vec<_>>(),
        "tables": ds.summaries.iter().map(|(t, s)| (t.name().to_string(), serde_json::json!({
            "source": s.source.as_ref().map(|p| p.display().to_string()),
            "read": s.read, "accepted": s.accepted, "rejected": s.rejected,
        }))).collect::<serde_json::Map<_, _>>(),
        "warnings": warnings,
        "stores": ds.stores.len(),
        "stores_scored": stores_scored,
        "daily_rows": daily_rows,
        "seconds": seconds,
        "monthly_rows": months.len(),
        "annual_rows": annual.len(),
        "item_quality_rows": items.len(),
        "files": [files::DAILY_CSV, files::DAILY_PARQUET, "monthly.csv", "monthly.parquet", "annual.csv", "annual.parquet", "item_quality.csv", "item_quality.parquet", "peers.csv", "peers.parquet", files::REJECTS, files::PARTIALS],
    });
    let manifest_path = req.out.join(files::MANIFEST);
    output::write_atomically(&manifest_path, |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest).map_err(|e| Error::Engine(e.to_string()))?;
        w.write_all(b"\n").map_err(|e| Error::io(&manifest_path, e))
    })?;

    let mut dataset = ds.clone();
    dataset.events.clear();
    Ok(ScoreOutcome {
        dataset,
        peers,
        year_to_date,
        summaries: ds.summaries,
        rejected: ds.rejects.len(),
        warnings,
        stores: ds.stores.len(),
        stores_scored,
        days,
        rows,
        daily_rows,
        months,
        annual,
        items,
        files: vec![
            daily_csv,
            daily_parquet,
            req.out.join("monthly.csv"),
            req.out.join("annual.csv"),
            rejects_path,
            partials_path,
            manifest_path,
        ],
        seconds,
    })
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}

fn monthly_table(months: &[MonthRow]) -> TextTable {
    let score = DataType::Decimal128(6, 2);
    TextTable {
        columns: vec![
            ("store_id", DataType::Utf8),
            ("month", DataType::Utf8),
            ("category", DataType::Utf8),
            ("status", DataType::Utf8),
            ("reason", DataType::Utf8),
            ("score", score),
            ("compliant", DataType::Boolean),
            ("as_of", DataType::Date32),
            ("provisional", DataType::Boolean),
            ("rule_version", DataType::Utf8),
        ],
        rows: months
            .iter()
            .map(|m| {
                vec![
                    m.store_id.clone(),
                    m.month_text(),
                    m.category.clone(),
                    m.verdict.status().into(),
                    m.verdict.reason().into(),
                    dengta_model::exact::hundredths(m.score_cents),
                    m.compliant.to_string(),
                    m.as_of.to_string(),
                    m.provisional.to_string(),
                    m.rule_version.clone(),
                ]
            })
            .collect(),
    }
}

fn annual_table(rows: &[AnnualRow]) -> TextTable {
    let money = DataType::Decimal128(18, 2);
    let ratio = |r: &AnnualRow| dengta_model::exact::format_trimmed(&r.refund_ratio, 6);
    TextTable {
        columns: vec![
            ("store_id", DataType::Utf8),
            ("year", DataType::Int32),
            ("operating_months", DataType::Int32),
            ("status", DataType::Utf8),
            ("annual_score", DataType::Decimal128(6, 2)),
            ("settlement_category", DataType::Utf8),
            ("gmv", money.clone()),
            ("fee_due", money.clone()),
            ("refund_ratio", DataType::Float64),
            ("refund_amount", money.clone()),
            ("noncompliant_months", DataType::Int32),
            ("renewal", DataType::Utf8),
            ("no_fee", DataType::Boolean),
            ("refund_due_on", DataType::Date32),
            ("annual_basis", DataType::Utf8),
            ("months_that_count", DataType::Int32),
            ("months_in_mean", DataType::Int32),
            ("annual_fee", money.clone()),
            ("charged_months", DataType::Int32),
            ("tier_gmv", money),
            ("orders_in_year", DataType::Int64),
            ("orders_left_out", DataType::Int64),
            ("refund_note", DataType::Utf8),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.store_id.clone(),
                    r.year.to_string(),
                    r.operating_months.to_string(),
                    r.status.name().into(),
                    r.score_text(),
                    r.settlement_category.clone(),
                    periods::yuan(r.gmv_fen),
                    periods::yuan(r.fee_due_fen),
                    ratio(r),
                    periods::yuan(r.refund_fen),
                    r.noncompliant_months.to_string(),
                    if r.renewal_pass { "pass" } else { "fail" }.into(),
                    r.no_fee.to_string(),
                    r.refund_due_on.map(|d| d.to_string()).unwrap_or_default(),
                    r.basis.into(),
                    r.months_that_count.to_string(),
                    r.months_in_mean.to_string(),
                    r.annual_fee_fen.map(periods::yuan).unwrap_or_default(),
                    r.charged_months.to_string(),
                    r.tier_gmv_fen.map(periods::yuan).unwrap_or_default(),
                    r.orders.0.to_string(),
                    r.orders.1.to_string(),
                    r.note.into(),
                ]
            })
            .collect(),
    }
}

fn peers_table(rows: &[crate::peers::PeerRow]) -> TextTable {
    TextTable {
        columns: vec![
            ("category", DataType::Utf8),
            ("date", DataType::Date32),
            ("indicator", DataType::Utf8),
            ("stores_with_data", DataType::Int64),
            ("peer_average", DataType::Float64),
            ("peer_excellent", DataType::Float64),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.category.clone(),
                    r.date.to_string(),
                    r.indicator.name().to_string(),
                    r.stores.to_string(),
                    format!("{:?}", r.average),
                    format!("{:?}", r.excellent),
                ]
            })
            .collect(),
    }
}
