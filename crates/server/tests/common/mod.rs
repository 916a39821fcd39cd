//! A real server on a loopback port over a generated, scored dataset, shared by
//! the tests of one test binary.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use dengta_model::Day;
use dengta_server::auth::{self, Role};
use dengta_server::db::Db;
use dengta_server::{AppState, jobs};

pub struct Fixture {
    pub base: String,
    pub state: AppState,
    pub dir: PathBuf,
    pub operator: String,
    pub merchant: String,
    pub own_store: String,
    pub other_store: String,
    pub expired: String,
    pub revoked: String,
    pub from: Day,
    pub to: Day,
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

pub fn day(s: &str) -> Day {
    Day::parse(s).expect("test date")
}

/// Generates 16 stores × 150 days, scores them through the service's own
/// recompute path, makes tokens and serves on 127.0.0.1 (a free port).
pub fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let dataset = dir.join("dataset");
        let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
        let params = dengta_synth::Params {
            stores: 16,
            days: 150,
            start,
            seed: 7,
            orders_per_day: 6.0,
            ..dengta_synth::Params::default()
        };
        dengta_synth::generate(&params, &dataset).expect("generate");
        let db = Db::open(&dir.join("state.sqlite")).expect("db");
        let state = AppState::new(db, Some(dataset), dir.join("runs")).expect("state");
        let (from, to) = (day("2025-01-01"), day("2025-05-30"));
        jobs::run_now(&state, Some(from), Some(to)).expect("first run");

        // The merchant's store: a scored store on the last day; another one for the matrix.
        let rows = state
            .db
            .read(|r| {
                let run = r.require_run()?;
                r.daily_on(run.id, to)
            })
            .expect("rows");
        let first_day = state
            .db
            .read(|r| {
                let run = r.require_run()?;
                r.daily_on(run.id, from)
            })
            .expect("rows");
        let scored: Vec<String> = rows
            .iter()
            .filter(|r| r.row.verdict == dengta_rules::Verdict::Scored)
            .filter(|r| first_day.iter().any(|x| x.row.store_id == r.row.store_id))
            .map(|r| r.row.store_id.clone())
            .collect();
        let (own_store, other_store) = (scored[0].clone(), scored[1].clone());
        let (operator, _) = auth::create(&state.db, &Role::Operator, "test operator", None).expect("token");
        let (merchant, _) =
            auth::create(&state.db, &Role::Merchant(own_store.clone()), "test merchant", None).expect("token");
        let (expired, _) = auth::create(&state.db, &Role::Operator, "expired", Some(-1)).expect("token");
        let (revoked, revoked_id) = auth::create(&state.db, &Role::Operator, "revoked", None).expect("token");
        assert!(state.db.revoke_token(revoked_id).expect("revoke"));

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let serve_state = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                dengta_server::serve(serve_state, listener).await.expect("serve");
            });
        });
        Fixture {
            base: format!("http://{addr}"),
            state,
            dir,
            operator,
            merchant,
            own_store,
            other_store,
            expired,
            revoked,
            from,
            to,
        }
    })
}

/// A response: status and JSON body (or text as a JSON string).
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    pub text: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

pub fn call(method: &str, path: &str, token: Option<&str>, body: Option<&str>, content_type: &str) -> Reply {
    let f = fixture();
    let url = format!("{}{}", f.base, path);
    let agent = agent();
    let auth = token.map(|t| format!("Bearer {t}"));
    let response = match method {
        "GET" => {
            let mut rq = agent.get(&url);
            if let Some(a) = &auth {
                rq = rq.header("Authorization", a);
            }
            rq.call()
        }
        _ => {
            let mut rq = agent.post(&url).header("Content-Type", content_type);
            if let Some(a) = &auth {
                rq = rq.header("Authorization", a);
            }
            rq.send(body.unwrap_or(""))
        }
    };
    let mut response = response.expect("HTTP call");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text.clone()));
    Reply { status, body, text }
}

pub fn get(path: &str, token: &str) -> Reply {
    call("GET", path, Some(token), None, "")
}

pub fn post_json(path: &str, token: &str, body: serde_json::Value) -> Reply {
    call("POST", path, Some(token), Some(&body.to_string()), "application/json")
}
