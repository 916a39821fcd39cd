//! `dengta serve`, `dengta token`, `dengta openapi`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use dengta_model::Day;
use dengta_server::auth::{self, Role};
use dengta_server::db::Db;
use dengta_server::{AppState, jobs};

use super::{parse_day, runtime};

/// Serve the JSON API (/api/v1, described at /openapi.json) and the merchant and
/// operator dashboards (/dashboard, /operator) from one process.
///
/// State lives in an SQLite file (default DATASET/dengta.sqlite); runs write their
/// Parquet and CSV files under RUNS (default: a `runs` folder beside the database).
/// When the database has no scoring run yet, one is made first (give --from and
/// --to). When it has no token yet, an operator token is created and printed once.
#[derive(clap::Args)]
pub struct Args {
    /// The dataset folder that recomputations read.
    pub dataset: Option<PathBuf>,
    /// State database file.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Folder for the runs' output files.
    #[arg(long)]
    pub runs: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// First day of the first run (when the database has none).
    #[arg(long, value_parser = parse_day)]
    pub from: Option<Day>,
    /// Last day of the first run (when the database has none).
    #[arg(long, value_parser = parse_day)]
    pub to: Option<Day>,
}

/// The database path: `--db`, else DATASET/dengta.sqlite.
pub fn db_path(db: Option<&Path>, dataset: Option<&Path>) -> Result<PathBuf> {
    match (db, dataset) {
        (Some(p), _) => Ok(p.to_path_buf()),
        (None, Some(d)) => Ok(d.join("dengta.sqlite")),
        (None, None) => bail!("give the dataset folder or --db FILE"),
    }
}

/// Opens the state and its runs folder.
pub fn state(db: &Path, dataset: Option<PathBuf>, runs: Option<PathBuf>) -> Result<AppState> {
    let runs = runs.unwrap_or_else(|| db.parent().unwrap_or(Path::new(".")).join("runs"));
    let db = Db::open(db).with_context(|| format!("opening the state database {}", db.display()))?;
    Ok(AppState::new(db, dataset, runs)?)
}

pub fn run(args: Args) -> Result<()> {
    let db = db_path(args.db.as_deref(), args.dataset.as_deref())?;
    if let Some(d) = &args.dataset
        && !d.join("stores.csv").is_file()
        && !d.join("stores.parquet").exists()
        && !d.join("stores").is_dir()
    {
        bail!("{} has no stores table; is it a dataset folder?", d.display());
    }
    let state = state(&db, args.dataset.clone(), args.runs)?;
    if state.db.read(|r| r.current_run())?.is_none() {
        if args.dataset.is_none() {
            bail!("the database {} has no scoring run and no dataset was given to make one", db.display());
        }
        if args.to.is_none() {
            bail!("the database {} has no scoring run yet: give --from and --to for the first one", db.display());
        }
        eprintln!(
            "scoring {} to {} for the first run …",
            args.from.map_or("(to − 364 days)".into(), |d| d.to_string()),
            args.to.map_or(String::new(), |d| d.to_string())
        );
        let (id, outcome) = jobs::run_now(&state, args.from, args.to)?;
        eprintln!("run {id}: {} daily rows, {} rejected input rows", outcome.rows.len(), outcome.rejected);
    }
    if state.db.read(|r| r.tokens())?.is_empty() {
        let (token, _) = auth::create(&state.db, &Role::Operator, "first operator token (dengta serve)", None)?;
        println!("operator token (shown once; keep it): {token}");
    }
    serve(state, args.listen, None)
}

/// Binds and serves, printing the address (and a login link when given a token).
pub fn serve(state: AppState, listen: SocketAddr, login: Option<(&str, &str)>) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr()?;
        println!("serving on http://{addr}  (API: /api/v1, OpenAPI: /openapi.json, operator page: /operator)");
        if let Some((who, token)) = login {
            println!("open the dashboard as {who}: http://{addr}/login?token={token}");
        }
        dengta_server::serve(state, listener).await.context("serving")
    })
}

/// Manage API and dashboard tokens (stored hashed; a new token is printed once).
#[derive(clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(clap::Subcommand)]
enum TokenCommand {
    /// Create a token and print it once.
    Create {
        /// State database file.
        #[arg(long)]
        db: PathBuf,
        /// `operator` (every store, operator endpoints) or `merchant` (one store).
        #[arg(long)]
        role: String,
        /// The merchant's store id.
        #[arg(long)]
        store: Option<String>,
        /// Days until it expires (default: never).
        #[arg(long)]
        days: Option<i64>,
        /// A note on whom it is for.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (never their values).
    List {
        /// State database file.
        #[arg(long)]
        db: PathBuf,
    },
    /// Revoke a token by id.
    Revoke {
        /// Token id (from `dengta token list`).
        id: i64,
        /// State database file.
        #[arg(long)]
        db: PathBuf,
    },
}

pub fn token(args: TokenArgs) -> Result<()> {
    match args.command {
        TokenCommand::Create { db, role, store, days, label } => {
            let role = match (role.as_str(), store) {
                ("operator", None) => Role::Operator,
                ("operator", Some(_)) => bail!("an operator token sees every store; drop --store"),
                ("merchant", Some(s)) => Role::Merchant(s),
                ("merchant", None) => bail!("a merchant token needs --store STORE_ID"),
                (other, _) => bail!("--role must be `operator` or `merchant`, not `{other}`"),
            };
            if days.is_some_and(|d| d <= 0) {
                bail!("--days must be at least 1");
            }
            let state = Db::open(&db)?;
            let (token, id) = auth::create(&state, &role, &label, days)?;
            eprintln!("token {id} created; it is shown once:");
            println!("{token}");
        }
        TokenCommand::List { db } => {
            let state = Db::open(&db)?;
            for t in state.read(|r| r.tokens())? {
                println!(
                    "{}\t{}\t{}\tcreated {}\texpires {}\t{}\t{}",
                    t.id,
                    t.role,
                    t.store_id.unwrap_or_else(|| "*".into()),
                    t.created_at,
                    t.expires_at.unwrap_or_else(|| "never".into()),
                    t.revoked_at.map_or("active".into(), |r| format!("revoked {r}")),
                    t.label
                );
            }
        }
        TokenCommand::Revoke { id, db } => {
            let state = Db::open(&db)?;
            if !state.revoke_token(id)? {
                bail!("no active token {id} in {}", db.display());
            }
            println!("token {id} revoked");
        }
    }
    Ok(())
}

/// Print the OpenAPI document of the service.
#[derive(clap::Args)]
pub struct OpenApiArgs {}

pub fn openapi(_: OpenApiArgs) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(&dengta_server::openapi())?);
    Ok(())
}
