//! Recomputations: a scoring run of the dataset with the stored rule versions and
//! the operator's exemptions, loaded into the state database when it succeeds.
//! One run at a time; its progress is kept in memory while it runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dengta_engine::Progress;
use dengta_engine::run::{self, ScoreOutcome, ScoreRequest};
use dengta_model::Day;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::model::RunProgress;

/// Live progress of runs in this process.
#[derive(Debug, Default)]
pub struct Jobs {
    live: Mutex<HashMap<i64, RunProgress>>,
}

impl Jobs {
    /// Progress of a run that is running here.
    pub fn progress(&self, id: i64) -> Option<RunProgress> {
        self.live.lock().ok()?.get(&id).cloned()
    }

    fn running(&self) -> Option<i64> {
        self.live.lock().ok()?.keys().next().copied()
    }

    fn update(&self, id: i64, f: impl FnOnce(&mut RunProgress)) {
        if let Ok(mut live) = self.live.lock()
            && let Some(p) = live.get_mut(&id)
        {
            f(p);
        }
    }
}

struct Live {
    jobs: Arc<Jobs>,
    id: i64,
}

impl Progress for Live {
    fn stage(&self, name: &str, total: Option<u64>) {
        self.jobs.update(self.id, |p| *p = RunProgress { stage: name.to_string(), done: 0, total });
    }

    fn advance(&self, n: u64) {
        self.jobs.update(self.id, |p| p.done += n);
    }
}

/// Resolves the range of a new run: what was asked, else the current run's.
fn range(state: &AppState, from: Option<Day>, to: Option<Day>) -> ApiResult<(Day, Day)> {
    let current = state.db.read(|r| r.current_run())?;
    let to = to.or(current.as_ref().map(|c| c.to)).ok_or_else(|| {
        ApiError::bad_parameter("to", "there is no earlier run to take the range from; give `from` and `to`")
    })?;
    let from = from.or(current.as_ref().map(|c| c.from)).unwrap_or(to.plus(-364));
    if to < from {
        return Err(ApiError::bad_parameter("to", format!("`to` {to} is before `from` {from}")));
    }
    Ok((from, to))
}

/// Starts a run in the background; returns its id at once.
pub fn start(state: &AppState, from: Option<Day>, to: Option<Day>) -> ApiResult<i64> {
    let (id, req) = prepare(state, from, to)?;
    let state = state.clone();
    std::thread::Builder::new()
        .name(format!("dengta-run-{id}"))
        .spawn(move || {
            let _ = execute(&state, id, &req);
        })
        .map_err(|e| ApiError::internal(format!("starting the run: {e}")))?;
    Ok(id)
}

/// Runs to the end in this thread (the first run of `serve`, the demo).
pub fn run_now(state: &AppState, from: Option<Day>, to: Option<Day>) -> ApiResult<(i64, ScoreOutcome)> {
    let (id, req) = prepare(state, from, to)?;
    let outcome = execute(state, id, &req)?;
    Ok((id, outcome))
}

fn prepare(state: &AppState, from: Option<Day>, to: Option<Day>) -> ApiResult<(i64, ScoreRequest)> {
    let dataset = state.dataset.clone().ok_or_else(|| {
        ApiError::conflict("no_dataset", "this service was started without a dataset folder, so it cannot recompute")
    })?;
    let (from, to) = range(state, from, to)?;
    let mut live = state.jobs.live.lock().map_err(|_| ApiError::internal("run registry poisoned"))?;
    if let Some(running) = live.keys().next().copied() {
        // A run whose results are committed is finished even if its thread has not
        // yet cleared its progress entry.
        let state: Option<String> =
            state.db.read(|r| Ok(r.runs()?.into_iter().find(|x| x.id == running).map(|x| x.state)))?;
        if state.as_deref() == Some("running") {
            return Err(ApiError::conflict("run_in_progress", format!("run {running} is still running; wait for it")));
        }
        live.remove(&running);
    }
    let book = state.db.rule_book()?;
    let exemptions = state.db.operator_exemptions()?;
    let provisional_out = state.runs_dir.join("pending");
    let id = state.db.start_run(&dataset, &provisional_out, from, to, &book)?;
    let out = state.runs_dir.join(format!("run-{id}"));
    state.db.write(|tx| {
        tx.execute("UPDATE runs SET out_dir = ?2 WHERE id = ?1", rusqlite::params![id, out.display().to_string()])
    })?;
    live.insert(id, RunProgress { stage: "starting".into(), done: 0, total: None });
    Ok((id, ScoreRequest { extra_exemptions: exemptions, ..ScoreRequest::new(dataset, from, to, out) }))
}

fn execute(state: &AppState, id: i64, req: &ScoreRequest) -> ApiResult<ScoreOutcome> {
    let result: ApiResult<ScoreOutcome> = (|| {
        let book = state.db.rule_book()?;
        let progress = Live { jobs: state.jobs.clone(), id };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| ApiError::internal(format!("starting a runtime: {e}")))?;
        let outcome = rt
            .block_on(run::score(req, &book, &progress))
            .map_err(|e| ApiError::invalid("run_failed", e.to_string()))?;
        progress.stage("loading results into the state database", None);
        for rules in book.versions() {
            state.db.add_rules(rules)?;
        }
        state.db.load_run(id, &outcome, req.from, req.to)?;
        Ok(outcome)
    })();
    if let Err(e) = &result {
        let _ = state.db.fail_run(id, &e.message);
        tracing::error!(run = id, error = %e.message, "Run failed.");
    }
    if let Ok(mut live) = state.jobs.live.lock() {
        live.remove(&id);
    }
    result
}

/// Id of the run in progress, if any.
pub fn running(state: &AppState) -> Option<i64> {
    state.jobs.running()
}

/// Records a run made outside the service (the CLI's `demo`) and loads it as the
/// current run.
pub fn adopt(
    state: &AppState,
    req: &ScoreRequest,
    book: &dengta_rules::RuleBook,
    outcome: &ScoreOutcome,
) -> ApiResult<i64> {
    let id = state.db.start_run(&req.dataset, &req.out, req.from, req.to, book)?;
    for rules in book.versions() {
        state.db.add_rules(rules)?;
    }
    state.db.load_run(id, outcome, req.from, req.to)?;
    Ok(id)
}
