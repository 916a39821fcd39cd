//! The service's state in one embedded SQLite file: stores, exemptions, rule
//! versions, scoring runs, tokens and the results people look up.
//!
//! Loading a run is one transaction that inserts the run's rows and then moves the
//! `current_run` pointer; readers read inside a transaction too (WAL mode), so they
//! see the previous run or the new one, never a mix.

use std::path::{Path, PathBuf};

use dengta_engine::daily::ScoreRow;
use dengta_engine::dataset::{Exemption, ExemptionScope, Store};
use dengta_engine::run::ScoreOutcome;
use dengta_model::{Day, Indicator};
use dengta_rules::{RuleBook, RuleSet};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{ApiError, ApiResult};

/// The schema; `CREATE … IF NOT EXISTS` so opening an existing file is a no-op.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stores(
  store_id TEXT PRIMARY KEY, name TEXT NOT NULL, main_category TEXT NOT NULL,
  opened_on TEXT NOT NULL, closed_on TEXT, onboarded INTEGER NOT NULL, removed_for_violation INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS exemptions(
  id INTEGER PRIMARY KEY, origin TEXT NOT NULL, scope TEXT NOT NULL, target TEXT,
  from_day TEXT NOT NULL, to_day TEXT NOT NULL, reason TEXT NOT NULL,
  created_at TEXT NOT NULL, ended_at TEXT);
CREATE TABLE IF NOT EXISTS rule_versions(
  version TEXT PRIMARY KEY, effective_from TEXT NOT NULL, sha256 TEXT NOT NULL,
  source_name TEXT NOT NULL, source_text TEXT NOT NULL, added_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY, state TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
  dataset TEXT NOT NULL, out_dir TEXT NOT NULL, from_day TEXT NOT NULL, to_day TEXT NOT NULL,
  rule_versions TEXT NOT NULL, daily_rows INTEGER, rejected INTEGER, message TEXT);
CREATE TABLE IF NOT EXISTS tokens(
  id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, role TEXT NOT NULL, store_id TEXT,
  label TEXT, created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS daily(
  run_id INTEGER NOT NULL, store_id TEXT NOT NULL, date TEXT NOT NULL, rule_version TEXT NOT NULL,
  category TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL, score_cents INTEGER NOT NULL,
  star TEXT, exempted INTEGER NOT NULL,
  dim_product REAL, dim_logistics REAL, dim_after_sales REAL, dim_disputes REAL, dim_consultation REAL,
  counts TEXT NOT NULL,
  PRIMARY KEY(run_id, store_id, date)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS monthly(
  run_id INTEGER NOT NULL, store_id TEXT NOT NULL, month TEXT NOT NULL, as_of TEXT NOT NULL,
  category TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL, score_cents INTEGER NOT NULL,
  compliant INTEGER NOT NULL, provisional INTEGER NOT NULL, rule_version TEXT NOT NULL,
  PRIMARY KEY(run_id, store_id, month)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS annual(
  run_id INTEGER NOT NULL, store_id TEXT NOT NULL, year INTEGER NOT NULL, kind TEXT NOT NULL,
  body TEXT NOT NULL, PRIMARY KEY(run_id, store_id, year)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items(
  run_id INTEGER NOT NULL, store_id TEXT NOT NULL, date TEXT NOT NULL, item_id TEXT NOT NULL,
  bad_review_rate REAL, quality_refund_rate REAL NOT NULL, score_cents INTEGER NOT NULL, level TEXT NOT NULL,
  PRIMARY KEY(run_id, store_id, date, item_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS peers(
  run_id INTEGER NOT NULL, category TEXT NOT NULL, date TEXT NOT NULL, indicator TEXT NOT NULL,
  stores INTEGER NOT NULL, average REAL NOT NULL, excellent REAL NOT NULL,
  PRIMARY KEY(run_id, category, date, indicator)) WITHOUT ROWID;
";

/// A handle on the state file; every call opens its own connection (SQLite
/// connections are cheap, and this keeps handlers free of shared locks).
#[derive(Clone, Debug)]
pub struct Db {
    path: PathBuf,
}

/// The run whose results readers see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentRun {
    /// Run id.
    pub id: i64,
    /// First day scored.
    pub from: Day,
    /// Last day scored.
    pub to: Day,
}

/// A stored daily row: the engine's row plus whether an exemption covered the day
/// (needed to recompute the 99 rules in what-if).
#[derive(Clone, Debug)]
pub struct DailyRecord {
    /// The row as the engine wrote it (indicator values and scores left empty:
    /// they are recomputed exactly from the counts and the rule version).
    pub row: ScoreRow,
    /// An exemption covered the store that day.
    pub exempted: bool,
}

pub(crate) fn now_text() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn day_text(d: Day) -> String {
    d.to_string()
}

fn parse_day(text: &str) -> rusqlite::Result<Day> {
    Day::parse(text).ok_or_else(|| rusqlite::Error::InvalidColumnType(0, text.into(), rusqlite::types::Type::Text))
}

impl Db {
    /// Opens (creating if needed) the state file and its schema.
    pub fn open(path: &Path) -> ApiResult<Db> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| ApiError::internal(format!("creating {}: {e}", parent.display())))?;
        }
        let db = Db { path: path.to_path_buf() };
        let conn = db.connect()?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| db.err(e))?;
        conn.execute_batch(SCHEMA).map_err(|e| db.err(e))?;
        Ok(db)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> ApiError {
        ApiError::internal(format!("state database {}: {e}", self.path.display()))
    }

    /// A new connection with a busy timeout.
    pub fn connect(&self) -> ApiResult<Connection> {
        let conn = Connection::open(&self.path).map_err(|e| self.err(e))?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| self.err(e))?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(|e| self.err(e))?;
        Ok(conn)
    }

    /// Runs `f` inside one read transaction: every query sees one snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&Reader<'_>) -> ApiResult<T>) -> ApiResult<T> {
        let mut conn = self.connect()?;
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let reader = Reader { tx: &tx, db: self };
        let out = f(&reader)?;
        tx.finish().map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Runs `f` inside one immediate write transaction, committed when `f` succeeds.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>) -> ApiResult<T> {
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(|e| self.err(e))?;
        let out = f(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    // --- rule versions -------------------------------------------------------

    /// Stores a validated rule version. The same version with the same content is
    /// accepted again (idempotent); different content under a stored version name
    /// is a conflict.
    pub fn add_rules(&self, rules: &RuleSet) -> ApiResult<bool> {
        let existing: Option<String> = self.write(|tx| {
            tx.query_row("SELECT sha256 FROM rule_versions WHERE version = ?1", [&rules.version], |r| r.get(0))
                .optional()
        })?;
        match existing {
            Some(h) if h == rules.content_hash => Ok(false),
            Some(_) => Err(ApiError::conflict(
                "rule_version_exists",
                format!(
                    "rule version `{}` is already stored with different content; give the new file another `version`",
                    rules.version
                ),
            )),
            None => {
                self.write(|tx| {
                    tx.execute(
                        "INSERT INTO rule_versions VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![
                            rules.version,
                            day_text(rules.effective_from),
                            rules.content_hash,
                            rules.source_name,
                            rules.source_text,
                            now_text()
                        ],
                    )
                })?;
                Ok(true)
            }
        }
    }

    /// Every stored rule version as a book (the built-in defaults when none is).
    pub fn rule_book(&self) -> ApiResult<RuleBook> {
        let texts: Vec<(String, String)> = self.read(|r| r.rule_texts())?;
        if texts.is_empty() {
            return Ok(RuleBook::default_book());
        }
        let mut versions = Vec::new();
        for (name, text) in texts {
            versions.push(RuleSet::parse(&name, &text).map_err(|e| ApiError::internal(e.to_string()))?);
        }
        RuleBook::new(versions).map_err(|e| ApiError::internal(e.to_string()))
    }

    // --- exemptions ----------------------------------------------------------

    /// Adds an operator exemption; returns its id.
    pub fn add_exemption(&self, e: &Exemption) -> ApiResult<i64> {
        let (scope, target) = scope_text(&e.scope);
        self.write(|tx| {
            tx.execute(
                "INSERT INTO exemptions(origin, scope, target, from_day, to_day, reason, created_at)
                 VALUES ('operator', ?1, ?2, ?3, ?4, ?5, ?6)",
                params![scope, target, day_text(e.from), day_text(e.to), e.reason, now_text()],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Ends an operator exemption on `on` (its last covered day becomes the earlier
    /// of `on` and its `to`). Returns false when there is no such operator exemption.
    pub fn end_exemption(&self, id: i64, on: Day) -> ApiResult<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE exemptions SET to_day = min(to_day, ?2), ended_at = ?3 WHERE id = ?1 AND origin = 'operator'",
                params![id, day_text(on), now_text()],
            )?;
            Ok(n == 1)
        })
    }

    /// The operator exemptions, as the engine applies them.
    pub fn operator_exemptions(&self) -> ApiResult<Vec<Exemption>> {
        Ok(self.read(|r| r.exemptions())?.into_iter().filter(|x| x.origin == "operator").map(|x| x.exemption).collect())
    }

    // --- runs ----------------------------------------------------------------

    /// Records a run that starts now; returns its id.
    pub fn start_run(&self, dataset: &Path, out_dir: &Path, from: Day, to: Day, book: &RuleBook) -> ApiResult<i64> {
        let versions: Vec<&str> = book.versions().iter().map(|r| r.version.as_str()).collect();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO runs(state, started_at, dataset, out_dir, from_day, to_day, rule_versions)
                 VALUES ('running', ?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    now_text(),
                    dataset.display().to_string(),
                    out_dir.display().to_string(),
                    day_text(from),
                    day_text(to),
                    versions.join(",")
                ],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Marks a run failed with its message.
    pub fn fail_run(&self, id: i64, message: &str) -> ApiResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET state = 'failed', finished_at = ?2, message = ?3 WHERE id = ?1",
                params![id, now_text(), message],
            )
            .map(|_| ())
        })
    }

    /// Marks runs left `running` by a process that stopped as failed.
    pub fn fail_interrupted_runs(&self) -> ApiResult<usize> {
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET state = 'failed', finished_at = ?1,
                 message = 'interrupted: the service stopped during the run' WHERE state = 'running'",
                [now_text()],
            )
        })
    }

    /// Loads a finished run's results and makes it the current run, atomically.
    /// Keeps the previous run's rows (for comparison) and drops older ones.
    pub fn load_run(&self, id: i64, outcome: &ScoreOutcome, from: Day, to: Day) -> ApiResult<()> {
        let ds = &outcome.dataset;
        self.write(|tx| {
            let previous: Option<i64> = tx
                .query_row("SELECT value FROM meta WHERE key = 'current_run'", [], |r| r.get::<_, String>(0))
                .optional()?
                .and_then(|v| v.parse().ok());
            tx.execute("DELETE FROM stores", [])?;
            {
                let mut st = tx.prepare("INSERT INTO stores VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
                for s in &ds.stores {
                    st.execute(params![
                        s.id,
                        s.name,
                        s.main_category,
                        day_text(s.opened_on),
                        s.closed_on.map(day_text),
                        s.onboarded,
                        s.removed_for_violation
                    ])?;
                }
            }
            tx.execute("DELETE FROM exemptions WHERE origin = 'dataset'", [])?;
            {
                let mut st = tx.prepare(
                    "INSERT INTO exemptions(origin, scope, target, from_day, to_day, reason, created_at)
                     VALUES ('dataset', ?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                let operator = load_exemptions(tx)?;
                let now = now_text();
                for e in ds.exemptions.iter().filter(|e| !operator.iter().any(|o| o.exemption == **e)) {
                    let (scope, target) = scope_text(&e.scope);
                    st.execute(params![scope, target, day_text(e.from), day_text(e.to), e.reason, now])?;
                }
            }
            {
                let stores: std::collections::HashMap<&str, &Store> =
                    ds.stores.iter().map(|s| (s.id.as_str(), s)).collect();
                let mut st = tx.prepare(
                    "INSERT INTO daily VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                )?;
                for r in &outcome.rows {
                    let exempted = stores.get(r.store_id.as_str()).is_some_and(|s| ds.exempted(s, r.date));
                    let counts: Vec<Option<[i64; 2]>> =
                        r.indicators.iter().map(|c| Some([c.numerator?, c.n?])).collect();
                    st.execute(params![
                        id,
                        r.store_id,
                        day_text(r.date),
                        r.rule_version,
                        r.category,
                        r.verdict.status(),
                        r.verdict.reason(),
                        r.score_cents,
                        r.star.map(|s| s.to_string()),
                        exempted,
                        r.dims[0],
                        r.dims[1],
                        r.dims[2],
                        r.dims[3],
                        r.dims[4],
                        serde_json::to_string(&counts).unwrap_or_default(),
                    ])?;
                }
            }
            {
                let mut st = tx.prepare("INSERT INTO monthly VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")?;
                for m in &outcome.months {
                    st.execute(params![
                        id,
                        m.store_id,
                        m.month_text(),
                        day_text(m.as_of),
                        m.category,
                        m.verdict.status(),
                        m.verdict.reason(),
                        m.score_cents,
                        m.compliant,
                        m.provisional,
                        m.rule_version
                    ])?;
                }
            }
            {
                let mut st = tx.prepare("INSERT OR REPLACE INTO annual VALUES (?1, ?2, ?3, ?4, ?5)")?;
                for (kind, rows) in [("settled", &outcome.annual), ("year_to_date", &outcome.year_to_date)] {
                    for a in rows {
                        let body =
                            serde_json::to_string(&crate::model::Settlement::from_row(a, kind)).unwrap_or_default();
                        st.execute(params![id, a.store_id, a.year, kind, body])?;
                    }
                }
            }
            {
                let mut st = tx.prepare("INSERT INTO items VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
                for i in &outcome.items {
                    st.execute(params![
                        id,
                        &*i.store_id,
                        day_text(i.date),
                        &*i.item_id,
                        i.bad_review_rate,
                        i.quality_refund_rate,
                        i.score_cents,
                        &*i.level
                    ])?;
                }
            }
            {
                let mut st = tx.prepare("INSERT INTO peers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
                for p in &outcome.peers {
                    st.execute(params![
                        id,
                        p.category,
                        day_text(p.date),
                        p.indicator.name(),
                        p.stores as i64,
                        p.average,
                        p.excellent
                    ])?;
                }
            }
            tx.execute(
                "UPDATE runs SET state = 'done', finished_at = ?2, daily_rows = ?3, rejected = ?4,
                 from_day = ?5, to_day = ?6, message = ?7 WHERE id = ?1",
                params![
                    id,
                    now_text(),
                    outcome.rows.len() as i64,
                    outcome.rejected as i64,
                    day_text(from),
                    day_text(to),
                    outcome.warnings.join("\n")
                ],
            )?;
            tx.execute("INSERT OR REPLACE INTO meta VALUES ('current_run', ?1)", [id.to_string()])?;
            let keep = previous.unwrap_or(id);
            for table in ["daily", "monthly", "annual", "items", "peers"] {
                tx.execute(&format!("DELETE FROM {table} WHERE run_id NOT IN (?1, ?2)"), params![id, keep])?;
            }
            Ok(())
        })
    }

    // --- tokens --------------------------------------------------------------

    /// Stores a token's hash; returns its id.
    pub fn add_token(
        &self,
        sha256: &str,
        role: &str,
        store: Option<&str>,
        label: &str,
        expires_at: Option<&str>,
    ) -> ApiResult<i64> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO tokens(sha256, role, store_id, label, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![sha256, role, store, label, now_text(), expires_at],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Revokes a token; false when there is none with that id.
    pub fn revoke_token(&self, id: i64) -> ApiResult<bool> {
        self.write(|tx| {
            tx.execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now_text()],
            )
            .map(|n| n == 1)
        })
    }
}

/// One stored exemption.
#[derive(Clone, Debug)]
pub struct ExemptionRecord {
    /// Id.
    pub id: i64,
    /// `dataset` (from the dataset's table) or `operator` (added through the API).
    pub origin: String,
    /// The exemption.
    pub exemption: Exemption,
    /// When it was ended through the API.
    pub ended_at: Option<String>,
}

/// A stored rule version: `(version, effective_from, sha256, source_name, added_at)`.
pub type RuleVersionRow = (String, String, String, String, String);

/// A stored token.
#[derive(Clone, Debug)]
pub struct TokenRecord {
    /// Id.
    pub id: i64,
    /// `operator` or `merchant`.
    pub role: String,
    /// The merchant's store.
    pub store_id: Option<String>,
    /// Label.
    pub label: String,
    /// Created.
    pub created_at: String,
    /// Expiry instant (RFC 3339 UTC), if any.
    pub expires_at: Option<String>,
    /// Revocation instant, if revoked.
    pub revoked_at: Option<String>,
}

fn scope_text(scope: &ExemptionScope) -> (&'static str, Option<String>) {
    match scope {
        ExemptionScope::All => ("all", None),
        ExemptionScope::Category(c) => ("category", Some(c.clone())),
        ExemptionScope::Store(s) => ("store", Some(s.clone())),
    }
}

fn load_exemptions(tx: &Connection) -> rusqlite::Result<Vec<ExemptionRecord>> {
    let mut st =
        tx.prepare("SELECT id, origin, scope, target, from_day, to_day, reason, ended_at FROM exemptions ORDER BY id")?;
    st.query_map([], |r| {
        let scope: String = r.get(2)?;
        let target: Option<String> = r.get(3)?;
        let scope = match scope.as_str() {
            "category" => ExemptionScope::Category(target.unwrap_or_default()),
            "store" => ExemptionScope::Store(target.unwrap_or_default()),
            _ => ExemptionScope::All,
        };
        Ok(ExemptionRecord {
            id: r.get(0)?,
            origin: r.get(1)?,
            exemption: Exemption {
                scope,
                from: parse_day(&r.get::<_, String>(4)?)?,
                to: parse_day(&r.get::<_, String>(5)?)?,
                reason: r.get(6)?,
            },
            ended_at: r.get(7)?,
        })
    })?
    .collect()
}

/// Queries inside one read transaction.
pub struct Reader<'a> {
    tx: &'a Transaction<'a>,
    db: &'a Db,
}

impl Reader<'_> {
    fn err(&self, e: rusqlite::Error) -> ApiError {
        self.db.err(e)
    }

    /// The current run, if one was loaded.
    pub fn current_run(&self) -> ApiResult<Option<CurrentRun>> {
        self.tx
            .query_row(
                "SELECT r.id, r.from_day, r.to_day FROM meta m JOIN runs r ON r.id = CAST(m.value AS INTEGER)
                 WHERE m.key = 'current_run'",
                [],
                |r| {
                    Ok(CurrentRun {
                        id: r.get(0)?,
                        from: parse_day(&r.get::<_, String>(1)?)?,
                        to: parse_day(&r.get::<_, String>(2)?)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The current run, or the error a caller can act on.
    pub fn require_run(&self) -> ApiResult<CurrentRun> {
        self.current_run()?.ok_or_else(|| {
            ApiError::unavailable(
                "no_scores_yet",
                "no scoring run has been loaded yet; an operator can start one with POST /api/v1/runs",
            )
        })
    }

    /// Every store, by id.
    pub fn stores(&self) -> ApiResult<Vec<Store>> {
        let mut st = self
            .tx
            .prepare("SELECT store_id, name, main_category, opened_on, closed_on, onboarded, removed_for_violation FROM stores ORDER BY store_id")
            .map_err(|e| self.err(e))?;
        st.query_map([], store_row).map_err(|e| self.err(e))?.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))
    }

    /// One store.
    pub fn store(&self, id: &str) -> ApiResult<Option<Store>> {
        self.tx
            .query_row(
                "SELECT store_id, name, main_category, opened_on, closed_on, onboarded, removed_for_violation FROM stores WHERE store_id = ?1",
                [id],
                store_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Daily rows of a store in `from..=to` of the current run.
    pub fn daily(&self, run: i64, store: &str, from: Day, to: Day) -> ApiResult<Vec<DailyRecord>> {
        let mut st = self
            .tx
            .prepare(
                "SELECT store_id, date, rule_version, category, status, reason, score_cents, star, exempted,
                        dim_product, dim_logistics, dim_after_sales, dim_disputes, dim_consultation, counts
                 FROM daily WHERE run_id = ?1 AND store_id = ?2 AND date BETWEEN ?3 AND ?4 ORDER BY date",
            )
            .map_err(|e| self.err(e))?;
        st.query_map(params![run, store, day_text(from), day_text(to)], daily_row)
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Every store's daily row on one day of the current run.
    pub fn daily_on(&self, run: i64, date: Day) -> ApiResult<Vec<DailyRecord>> {
        let mut st = self
            .tx
            .prepare(
                "SELECT store_id, date, rule_version, category, status, reason, score_cents, star, exempted,
                        dim_product, dim_logistics, dim_after_sales, dim_disputes, dim_consultation, counts
                 FROM daily WHERE run_id = ?1 AND date = ?2 ORDER BY store_id",
            )
            .map_err(|e| self.err(e))?;
        st.query_map(params![run, day_text(date)], daily_row)
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Monthly rows of a store (all stores when `store` is `None`), optionally of one year.
    pub fn months(&self, run: i64, store: Option<&str>, year: Option<i32>) -> ApiResult<Vec<crate::model::Month>> {
        let mut st = self
            .tx
            .prepare(
                "SELECT store_id, month, as_of, category, status, reason, score_cents, compliant, provisional, rule_version
                 FROM monthly WHERE run_id = ?1 AND (?2 IS NULL OR store_id = ?2) AND (?3 IS NULL OR substr(month, 1, 4) = ?3)
                 ORDER BY store_id, month",
            )
            .map_err(|e| self.err(e))?;
        st.query_map(params![run, store, year.map(|y| format!("{y:04}"))], |r| {
            Ok(crate::model::Month {
                store_id: r.get(0)?,
                month: r.get(1)?,
                as_of: r.get(2)?,
                category: r.get(3)?,
                status: r.get(4)?,
                reason: r.get(5)?,
                score: dengta_model::exact::hundredths(r.get(6)?),
                compliant: r.get(7)?,
                provisional: r.get(8)?,
                rule_version: r.get(9)?,
            })
        })
        .map_err(|e| self.err(e))?
        .collect::<rusqlite::Result<_>>()
        .map_err(|e| self.err(e))
    }

    /// The settlement rows of a store (all stores when `None`), optionally of one year.
    pub fn settlements(
        &self,
        run: i64,
        store: Option<&str>,
        year: Option<i32>,
    ) -> ApiResult<Vec<crate::model::Settlement>> {
        let mut st = self
            .tx
            .prepare(
                "SELECT body FROM annual WHERE run_id = ?1 AND (?2 IS NULL OR store_id = ?2) AND (?3 IS NULL OR year = ?3)
                 ORDER BY store_id, year",
            )
            .map_err(|e| self.err(e))?;
        let bodies: Vec<String> = st
            .query_map(params![run, store, year], |r| r.get(0))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))?;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(|e| ApiError::internal(format!("stored settlement: {e}"))))
            .collect()
    }

    /// Item quality rows of a store on a day.
    pub fn items(&self, run: i64, store: &str, date: Day) -> ApiResult<Vec<crate::model::ItemQuality>> {
        let mut st = self
            .tx
            .prepare(
                "SELECT item_id, store_id, date, bad_review_rate, quality_refund_rate, score_cents, level
                 FROM items WHERE run_id = ?1 AND store_id = ?2 AND date = ?3 ORDER BY score_cents, item_id",
            )
            .map_err(|e| self.err(e))?;
        st.query_map(params![run, store, day_text(date)], |r| {
            Ok(crate::model::ItemQuality {
                item_id: r.get(0)?,
                store_id: r.get(1)?,
                date: r.get(2)?,
                bad_review_rate: r.get(3)?,
                quality_refund_rate: r.get(4)?,
                score: dengta_model::exact::hundredths(r.get(5)?),
                level: r.get(6)?,
            })
        })
        .map_err(|e| self.err(e))?
        .collect::<rusqlite::Result<_>>()
        .map_err(|e| self.err(e))
    }

    /// Peer benchmarks of a category on a day: `(indicator, stores, average, excellent)`.
    pub fn peers(&self, run: i64, category: &str, date: Day) -> ApiResult<Vec<(Indicator, i64, f64, f64)>> {
        let mut st = self
            .tx
            .prepare("SELECT indicator, stores, average, excellent FROM peers WHERE run_id = ?1 AND category = ?2 AND date = ?3")
            .map_err(|e| self.err(e))?;
        let rows: Vec<(String, i64, f64, f64)> = st
            .query_map(params![run, category, day_text(date)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().filter_map(|(i, n, a, x)| Some((Indicator::from_name(&i)?, n, a, x))).collect())
    }

    /// Stored rule texts `(source name, text)` by effective date.
    pub fn rule_texts(&self) -> ApiResult<Vec<(String, String)>> {
        let mut st = self
            .tx
            .prepare("SELECT source_name, source_text FROM rule_versions ORDER BY effective_from")
            .map_err(|e| self.err(e))?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Stored rule versions: `(version, effective_from, sha256, source_name, added_at)`.
    pub fn rule_versions(&self) -> ApiResult<Vec<RuleVersionRow>> {
        let mut st = self
            .tx
            .prepare("SELECT version, effective_from, sha256, source_name, added_at FROM rule_versions ORDER BY effective_from")
            .map_err(|e| self.err(e))?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }

    /// Every exemption, dataset and operator.
    pub fn exemptions(&self) -> ApiResult<Vec<ExemptionRecord>> {
        load_exemptions(self.tx).map_err(|e| self.err(e))
    }

    /// Runs, newest first.
    pub fn runs(&self) -> ApiResult<Vec<crate::model::Run>> {
        let mut st = self
            .tx
            .prepare(
                "SELECT id, state, started_at, finished_at, dataset, out_dir, from_day, to_day, rule_versions,
                        daily_rows, rejected, message FROM runs ORDER BY id DESC",
            )
            .map_err(|e| self.err(e))?;
        st.query_map([], |r| {
            Ok(crate::model::Run {
                id: r.get(0)?,
                state: r.get(1)?,
                started_at: r.get(2)?,
                finished_at: r.get(3)?,
                dataset: r.get(4)?,
                out_dir: r.get(5)?,
                from: r.get(6)?,
                to: r.get(7)?,
                rule_versions: r.get::<_, String>(8)?.split(',').filter(|s| !s.is_empty()).map(String::from).collect(),
                daily_rows: r.get(9)?,
                rejected: r.get(10)?,
                message: r.get(11)?,
                current: false,
                progress: None,
            })
        })
        .map_err(|e| self.err(e))?
        .collect::<rusqlite::Result<_>>()
        .map_err(|e| self.err(e))
    }

    /// A token by its hash.
    pub fn token(&self, sha256: &str) -> ApiResult<Option<TokenRecord>> {
        self.tx
            .query_row(
                "SELECT id, role, store_id, label, created_at, expires_at, revoked_at FROM tokens WHERE sha256 = ?1",
                [sha256],
                token_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every token (hashes are not returned).
    pub fn tokens(&self) -> ApiResult<Vec<TokenRecord>> {
        let mut st = self
            .tx
            .prepare("SELECT id, role, store_id, label, created_at, expires_at, revoked_at FROM tokens ORDER BY id")
            .map_err(|e| self.err(e))?;
        st.query_map([], token_row).map_err(|e| self.err(e))?.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))
    }

    /// Row counts of the results tables per run (for the atomic-load test).
    pub fn result_counts(&self) -> ApiResult<Vec<(i64, i64)>> {
        let mut st = self
            .tx
            .prepare("SELECT run_id, count(*) FROM daily GROUP BY run_id ORDER BY run_id")
            .map_err(|e| self.err(e))?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.get(0)?,
        role: r.get(1)?,
        store_id: r.get(2)?,
        label: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

fn store_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Store> {
    Ok(Store {
        id: r.get(0)?,
        name: r.get(1)?,
        main_category: r.get(2)?,
        opened_on: parse_day(&r.get::<_, String>(3)?)?,
        closed_on: r.get::<_, Option<String>>(4)?.map(|t| parse_day(&t)).transpose()?,
        onboarded: r.get(5)?,
        removed_for_violation: r.get(6)?,
    })
}

fn daily_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DailyRecord> {
    use dengta_engine::daily::IndicatorColumns;
    use dengta_rules::{DefaultPassReason, Star, Verdict};
    let reason: String = r.get(5)?;
    let verdict = match reason.as_str() {
        "category_not_assessed" => Verdict::DefaultPass(DefaultPassReason::CategoryNotAssessed),
        "no_data" => Verdict::DefaultPass(DefaultPassReason::NoData),
        "exempted" => Verdict::DefaultPass(DefaultPassReason::Exempted),
        _ => Verdict::Scored,
    };
    let star: Option<String> = r.get(7)?;
    let star = star.and_then(|s| {
        let (whole, half) = s.split_once('.')?;
        Some(Star(whole.parse::<u8>().ok()? * 2 + u8::from(half == "5")))
    });
    let counts: Vec<Option<[i64; 2]>> = serde_json::from_str(&r.get::<_, String>(14)?).unwrap_or_default();
    let mut indicators = [IndicatorColumns::default(); 8];
    for (slot, c) in indicators.iter_mut().zip(counts) {
        if let Some([num, n]) = c {
            slot.numerator = Some(num);
            slot.n = Some(n);
        }
    }
    Ok(DailyRecord {
        row: ScoreRow {
            store_id: r.get(0)?,
            date: parse_day(&r.get::<_, String>(1)?)?,
            rule_version: r.get(2)?,
            category: r.get(3)?,
            verdict,
            score_cents: r.get(6)?,
            star,
            raw_score: None,
            dims: [r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?],
            indicators,
        },
        exempted: r.get(8)?,
    })
}
