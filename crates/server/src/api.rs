//! The JSON API under `/api/v1`. Every route is declared with its OpenAPI
//! description next to the handler; `/openapi.json` is generated from them.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use dengta_engine::dataset::{Exemption, ExemptionScope};
use dengta_model::Day;
use dengta_model::exact::{self, Exact};
use dengta_rules::RuleSet;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Auth;
use crate::db::Reader;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::model::*;
use crate::{jobs, views};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dengta",
        description = "Merchant service scores (Tmall New Lighthouse basic service assessment): scores, explanations, months, settlements, campaign access, product quality, what-if; operator endpoints for exemptions, rule versions and recomputations. Authenticate with `Authorization: Bearer <token>` (`dengta token create`). Scores and money are decimal strings."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        }
    }
}

/// The API routes and their OpenAPI document.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(list_stores))
        .routes(routes!(store_score))
        .routes(routes!(store_history))
        .routes(routes!(store_explain))
        .routes(routes!(store_months))
        .routes(routes!(store_settlement))
        .routes(routes!(store_eligibility))
        .routes(routes!(store_items))
        .routes(routes!(store_fix_first))
        .routes(routes!(store_what_if))
        .routes(routes!(eligibility_all))
        .routes(routes!(overview))
        .routes(routes!(list_exemptions, add_exemption))
        .routes(routes!(end_exemption))
        .routes(routes!(list_rules, upload_rules))
        .routes(routes!(list_runs, start_run))
        .routes(routes!(get_run))
        .split_for_parts()
}

/// Runs blocking database work off the async threads.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&AppState) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state)).await.map_err(|e| ApiError::internal(e.to_string()))?
}

/// Parses an optional `YYYY-MM-DD` parameter, naming the field when it is bad.
pub fn day_param(field: &str, value: Option<&str>) -> ApiResult<Option<Day>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => Day::parse(v)
            .map(Some)
            .ok_or_else(|| ApiError::bad_parameter(field, format!("`{v}` is not a date; write YYYY-MM-DD"))),
    }
}

fn year_param(value: Option<&str>) -> ApiResult<Option<i32>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i32>()
            .ok()
            .filter(|y| (1970..=9999).contains(y))
            .map(Some)
            .ok_or_else(|| ApiError::bad_parameter("year", format!("`{v}` is not a year like 2025"))),
    }
}

fn score_param(field: &str, value: Option<&str>) -> ApiResult<Option<Exact>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => exact::parse_decimal(v)
            .filter(|x| *x >= exact::int(0) && *x <= exact::int(5))
            .map(Some)
            .ok_or_else(|| ApiError::bad_parameter(field, format!("`{v}` is not a score from 0 to 5"))),
    }
}

/// A store-scoped request: the current run, the store (404 when not visible) and the day.
fn scoped<'a>(
    r: &'a Reader<'a>,
    auth: &Auth,
    store: &str,
    date: Option<&str>,
) -> ApiResult<(crate::db::CurrentRun, dengta_engine::dataset::Store, Day)> {
    let s = views::visible_store(r, store, auth.can_see(store))?;
    let run = r.require_run()?;
    let day = match day_param("date", date)? {
        Some(d) => d,
        None => views::latest_day(r, &run, store)?,
    };
    Ok((run, s, day))
}

/// `?date=YYYY-MM-DD` (default: the latest day scored).
#[derive(Debug, Deserialize, IntoParams)]
pub struct DateQuery {
    /// The day (YYYY-MM-DD); default the latest day the store was scored.
    pub date: Option<String>,
}

/// `?from=&to=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RangeQuery {
    /// First day (default: 89 days before `to`).
    pub from: Option<String>,
    /// Last day (default: the latest day scored).
    pub to: Option<String>,
}

/// `?year=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct YearQuery {
    /// Year, e.g. 2025 (default: every year).
    pub year: Option<String>,
}

/// `?date=&threshold=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EligibilityQuery {
    /// Evaluation day (default: the run's last day).
    pub date: Option<String>,
    /// A campaign threshold for every category (default: each category's `pass_threshold`).
    pub threshold: Option<String>,
}

/// Stores the caller may see (a merchant sees one).
#[utoipa::path(get, path = "/api/v1/stores", tag = "stores",
    responses((status = 200, body = Vec<StoreInfo>), (status = 401, body = ErrorBody)))]
async fn list_stores(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<StoreInfo>>> {
    blocking(&state, move |s| {
        s.db.read(|r| Ok(r.stores()?.iter().filter(|x| auth.can_see(&x.id)).map(views::store_info).collect()))
    })
    .await
    .map(Json)
}

/// A store's score as of a day, with its dimensions, weights and contributions.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/score", tag = "stores",
    params(("store_id" = String, Path, description = "Store id"), DateQuery),
    responses((status = 200, body = ScoreView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn store_score(
    State(state): State<AppState>,
    auth: Auth,
    Path(store): Path<String>,
    Query(q): Query<DateQuery>,
) -> ApiResult<Json<ScoreView>> {
    blocking(&state, move |s| {
        let book = s.db.rule_book()?;
        s.db.read(|r| {
            let (run, _, day) = scoped(r, &auth, &store, q.date.as_deref())?;
            views::score(r, &book, &run, &store, day)
        })
    })
    .await
    .map(Json)
}

/// A store's daily scores over a range (default: the last 90 days).
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/history", tag = "stores",
    params(("store_id" = String, Path, description = "Store id"), RangeQuery),
    responses((status = 200, body = History), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn store_history(
    State(state): State<AppState>,
    auth: Auth,
    Path(store): Path<String>,
    Query(q): Query<RangeQuery>,
) -> ApiResult<Json<History>> {
    blocking(&state, move |s| {
        let book = s.db.rule_book()?;
        s.db.read(|r| {
            let (run, _, latest) = scoped(r, &auth, &store, None)?;
            let to = day_param("to", q.to.as_deref())?.unwrap_or(latest);
            let from = day_param("from", q.from.as_deref())?.unwrap_or(to.plus(-89));
            if to < from {
                return Err(ApiError::bad_parameter("to", format!("`to` {to} is before `from` {from}")));
            }
            views::history(r, &book, &run, &store, from, to)
        })
    })
    .await
    .map(Json)
}

/// Every number behind a score: indicator values, counts, windows, curve
/// segments, weights, rule version, and the category's peer figures.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/explain", tag = "stores",
    params(("store_id" = String, Path, description = "Store id"), DateQuery),
    responses((status = 200, body = Explanation), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn store_explain(
    State(state): State<AppState>,
    auth: Auth,
    Path(store): Path<String>,
    Query(q): Query<DateQuery>,
) -> ApiResult<Json<Explanation>> {
    blocking(&state, move |s| {
        let book = s.db.rule_book()?;
        s.db.read(|r| {
            let (run, _, day) = scoped(r, &auth, &store, q.date.as_deref())?;
            views::explain(r, &book, &run, &store, day)
        })
    })
    .await
    .map(Json)
}

/// A store's monthly scores with compliance (SPEC §6).
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/months", tag = "stores",
    params(("store_id" = String, Path, description = "Store id"), YearQuery),
    responses((status = 200, body = Vec<Month>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn store_months(
    State(state): State<AppState>,
    auth: Auth,
    Path(store): Path<String>,
    Query(q): Query<YearQuery>,
) -> ApiResult<Json<Vec<Month>>> {
    blocking(&state, move |s| {
        s.db.read(|r| {
            views::visible_store(r, &store, auth.can_see(&store))?;
            let year = year_param(q.year.as_deref())?;
            let run = r.require_run()?;
            r.months(run.id, Some(&store), year)
        })
    })
    .await
    .map(Json)
}

/// A store's annual settlement and refund (SPEC §6–§7): `settled` for years the
/// run covers whole, `year_to_date` for the year in progress.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/settlement", tag = "stores",
    params(("store_id" = String, Path, description = "Store id"), YearQuery),
    responses((status = 200, body = Vec<Settlement>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn store_settlement(
    State(state): State<AppState>,
    auth: Auth,
    Path(store): Path<String>,
    Query(q): Query<YearQuery>,
) -> ApiResult<Json<Vec<Settlement>>> {
    blocking(&state, move |s| {
        s.db.read(|r| {
            views::visible_store(r, &store, auth.can_see(&store))?;
            let year = year_param(q.year.as_deref())?;
            let run = r.require_run()?;
            r.settlements(run.id, Some(&store), year)
        })
    })
    .await
    .map(Json)
}

/// May the store join a campaign on a day?
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/eligibility", tag = "stores",
    params(("store_id" = String, Path, description = "Store id"), EligibilityQuery),
    responses((status = 200, body = EligibilityView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn store_eligibility(
    State(state): State<AppState>,
    auth: Auth,
    Path(store): Path<String>,
    Query(q): Query<EligibilityQuery>,
) -> ApiResult<Json<EligibilityView>> {
    blocking(&state, move |s| {
        let book = s.db.rule_book()?;
        s.db.read(|r| {
            let st = views::visible_store(r, &store, auth.can_see(&store))?;
            let run = r.require_run()?;
            let date = day_param("date", q.date.as_deref())?.unwrap_or(run.to);
            let threshold = score_param("threshold", q.threshold.as_deref())?;
            let mut list = views::eligibility(r, &book, &run, std::slice::from_ref(&st), date, threshold)?;
            list.pop().ok_or_else(|| ApiError::internal("no decision"))
        })
    })
    .await
    .map(Json)
}

/// Product quality of the store's items on a day (SPEC §8), worst first.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/items", tag = "stores",
    params(("store_id" = String, Path, description = "Store id"), DateQuery),
    responses((status = 200, body = Vec<ItemQuality>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn store_items(
    State(state): State<AppState>,
    auth: Auth,
    Path(store): Path<String>,
    Query(q): Query<DateQuery>,
) -> ApiResult<Json<Vec<ItemQuality>>> {
    blocking(&state, move |s| {
        s.db.read(|r| {
            let (run, _, day) = scoped(r, &auth, &store, q.date.as_deref())?;
            r.items(run.id, &store, day)
        })
    })
    .await
    .map(Json)
}

/// What to fix first: each indicator's gain if it reached its next curve point,
/// largest first.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/fix-first", tag = "stores",
    params(("store_id" = String, Path, description = "Store id"), DateQuery),
    responses((status = 200, body = Vec<FixStepView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn store_fix_first(
    State(state): State<AppState>,
    auth: Auth,
    Path(store): Path<String>,
    Query(q): Query<DateQuery>,
) -> ApiResult<Json<Vec<FixStepView>>> {
    blocking(&state, move |s| {
        let book = s.db.rule_book()?;
        s.db.read(|r| {
            let (run, _, day) = scoped(r, &auth, &store, q.date.as_deref())?;
            views::fix_first(r, &book, &run, &store, day)
        })
    })
    .await
    .map(Json)
}

/// What-if: the day's dimension scores, score, star and pass/fail with
/// hypothetical indicator values (the others keep the day's values).
#[utoipa::path(post, path = "/api/v1/stores/{store_id}/what-if", tag = "stores",
    params(("store_id" = String, Path, description = "Store id")),
    request_body = WhatIfRequest,
    responses((status = 200, body = WhatIfResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn store_what_if(
    State(state): State<AppState>,
    auth: Auth,
    Path(store): Path<String>,
    body: Result<Json<WhatIfRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<WhatIfResult>> {
    let Json(req) = body.map_err(|e| ApiError::bad_request("bad_body", e.body_text()))?;
    blocking(&state, move |s| {
        let book = s.db.rule_book()?;
        s.db.read(|r| {
            let (run, _, day) = scoped(r, &auth, &store, req.date.as_deref())?;
            views::what_if(r, &book, &run, &store, day, &req.values)
        })
    })
    .await
    .map(Json)
}

/// Campaign access of every store on a day (operators).
#[utoipa::path(get, path = "/api/v1/eligibility", tag = "operator",
    params(EligibilityQuery),
    responses((status = 200, body = Vec<EligibilityView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn eligibility_all(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<EligibilityQuery>,
) -> ApiResult<Json<Vec<EligibilityView>>> {
    auth.require_operator()?;
    blocking(&state, move |s| {
        let book = s.db.rule_book()?;
        s.db.read(|r| {
            let run = r.require_run()?;
            let date = day_param("date", q.date.as_deref())?.unwrap_or(run.to);
            let threshold = score_param("threshold", q.threshold.as_deref())?;
            views::eligibility(r, &book, &run, &r.stores()?, date, threshold)
        })
    })
    .await
    .map(Json)
}

/// Score distribution per category, stores failing this month, stores at risk
/// of failing renewal (operators).
#[utoipa::path(get, path = "/api/v1/overview", tag = "operator",
    responses((status = 200, body = Overview), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn overview(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Overview>> {
    auth.require_operator()?;
    blocking(&state, move |s| {
        let book = s.db.rule_book()?;
        s.db.read(|r| views::overview(r, &book, &r.require_run()?))
    })
    .await
    .map(Json)
}

fn exemption_view(x: crate::db::ExemptionRecord) -> ExemptionView {
    let (scope, target) = match x.exemption.scope {
        ExemptionScope::All => ("all", None),
        ExemptionScope::Category(c) => ("category", Some(c)),
        ExemptionScope::Store(s) => ("store", Some(s)),
    };
    ExemptionView {
        id: x.id,
        origin: x.origin,
        scope: scope.into(),
        target,
        from: x.exemption.from.to_string(),
        to: x.exemption.to.to_string(),
        reason: x.exemption.reason,
        ended_at: x.ended_at,
    }
}

/// Exemptions: the dataset's and the operators' (operators).
#[utoipa::path(get, path = "/api/v1/exemptions", tag = "operator",
    responses((status = 200, body = Vec<ExemptionView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_exemptions(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<ExemptionView>>> {
    auth.require_operator()?;
    blocking(&state, |s| s.db.read(|r| Ok(r.exemptions()?.into_iter().map(exemption_view).collect()))).await.map(Json)
}

/// Add an exemption (applied from the next recomputation).
#[utoipa::path(post, path = "/api/v1/exemptions", tag = "operator", request_body = NewExemption,
    responses((status = 201, body = ExemptionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn add_exemption(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Json<NewExemption>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<ExemptionView>)> {
    auth.require_operator()?;
    let Json(e) = body.map_err(|e| ApiError::bad_request("bad_body", e.body_text()))?;
    let target = e.target.clone().map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let scope = match (e.scope.as_str(), target) {
        ("all", None) => ExemptionScope::All,
        ("all", Some(_)) => return Err(ApiError::bad_parameter("target", "scope `all` takes no target")),
        ("category", Some(t)) => ExemptionScope::Category(t),
        ("store", Some(t)) => ExemptionScope::Store(t),
        ("category" | "store", None) => {
            return Err(ApiError::bad_parameter("target", format!("scope `{}` needs a target", e.scope)));
        }
        _ => return Err(ApiError::bad_parameter("scope", "scope must be `all`, `category` or `store`")),
    };
    let from = day_param("from", Some(&e.from))?.ok_or_else(|| ApiError::bad_parameter("from", "required"))?;
    let to = day_param("to", Some(&e.to))?.ok_or_else(|| ApiError::bad_parameter("to", "required"))?;
    if to < from {
        return Err(ApiError::bad_parameter("to", format!("`to` {to} is before `from` {from}")));
    }
    if e.reason.trim().is_empty() {
        return Err(ApiError::bad_parameter("reason", "say why (force majeure, platform announcement …)"));
    }
    let ex = Exemption { scope, from, to, reason: e.reason.trim().to_string() };
    blocking(&state, move |s| {
        let id = s.db.add_exemption(&ex)?;
        let rec = s.db.read(|r| r.exemptions())?.into_iter().find(|x| x.id == id);
        rec.map(exemption_view).ok_or_else(|| ApiError::internal("exemption vanished"))
    })
    .await
    .map(|v| (StatusCode::CREATED, Json(v)))
}

/// End an operator exemption on a day (its last covered day).
#[utoipa::path(post, path = "/api/v1/exemptions/{id}/end", tag = "operator",
    params(("id" = i64, Path, description = "Exemption id")), request_body = EndExemption,
    responses((status = 200, body = ExemptionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn end_exemption(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: Result<Json<EndExemption>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<ExemptionView>> {
    auth.require_operator()?;
    let id: i64 = id.parse().map_err(|_| ApiError::bad_parameter("id", format!("`{id}` is not an exemption id")))?;
    let Json(e) = body.map_err(|e| ApiError::bad_request("bad_body", e.body_text()))?;
    let on = day_param("on", Some(&e.on))?.ok_or_else(|| ApiError::bad_parameter("on", "required"))?;
    blocking(&state, move |s| {
        if !s.db.end_exemption(id, on)? {
            return Err(ApiError::not_found("exemption_not_found", format!("no operator exemption {id}")));
        }
        let rec = s.db.read(|r| r.exemptions())?.into_iter().find(|x| x.id == id);
        rec.map(exemption_view).ok_or_else(|| ApiError::internal("exemption vanished"))
    })
    .await
    .map(Json)
}

fn rule_views(r: &Reader<'_>, added: Option<&str>) -> ApiResult<Vec<RuleVersionView>> {
    Ok(r.rule_versions()?
        .into_iter()
        .map(|(version, effective_from, sha256, source_name, added_at)| RuleVersionView {
            added: added == Some(version.as_str()),
            version,
            effective_from,
            sha256,
            source_name,
            added_at,
        })
        .collect())
}

/// Stored rule versions (operators).
#[utoipa::path(get, path = "/api/v1/rules", tag = "operator",
    responses((status = 200, body = Vec<RuleVersionView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_rules(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<RuleVersionView>>> {
    auth.require_operator()?;
    blocking(&state, |s| s.db.read(|r| rule_views(r, None))).await.map(Json)
}

/// `?name=` for an uploaded rule file.
#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// File name shown in error messages and stored with the version (default `uploaded.toml`).
    pub name: Option<String>,
}

/// The validation errors of an uploaded rule file.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleErrors {
    /// `invalid_rules`.
    pub code: String,
    /// Every problem, one per line, as the CLI prints them (file, line, key, reason).
    pub message: String,
    /// The same problems as a list.
    pub errors: Vec<String>,
}

/// Upload a rule version (the TOML file as the body). It is validated with the
/// CLI's messages, stored, and used from the next recomputation.
#[utoipa::path(post, path = "/api/v1/rules", tag = "operator", params(UploadQuery),
    request_body(content = String, content_type = "application/toml", description = "A rule file"),
    responses((status = 201, body = RuleVersionView), (status = 200, body = RuleVersionView, description = "Already stored, unchanged"),
        (status = 422, body = RuleErrors), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn upload_rules(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<UploadQuery>,
    body: String,
) -> Result<(StatusCode, Json<RuleVersionView>), axum::response::Response> {
    use axum::response::IntoResponse;
    auth.require_operator().map_err(IntoResponse::into_response)?;
    let name = q.name.unwrap_or_else(|| "uploaded.toml".into());
    let rules = match RuleSet::parse(&name, &body) {
        Ok(r) => r,
        Err(dengta_rules::Error::InvalidRules(errors)) => {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            let body = RuleErrors { code: "invalid_rules".into(), message: lines.join("\n"), errors: lines };
            return Err((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
        }
        Err(e) => return Err(ApiError::invalid("invalid_rules", e.to_string()).into_response()),
    };
    let result = blocking(&state, move |s| {
        // The book with this version must still be valid (e.g. no two versions from one day).
        let mut versions: Vec<RuleSet> = s.db.rule_book()?.versions().to_vec();
        if !versions.iter().any(|v| v.version == rules.version) {
            versions.push(rules.clone());
            dengta_rules::RuleBook::new(versions).map_err(|e| ApiError::invalid("invalid_rules", e.to_string()))?;
        }
        let added = s.db.add_rules(&rules)?;
        let view = s.db.read(|r| rule_views(r, Some(&rules.version)))?;
        let mut v = view
            .into_iter()
            .find(|v| v.version == rules.version)
            .ok_or_else(|| ApiError::internal("rules vanished"))?;
        v.added = added;
        Ok(v)
    })
    .await
    .map_err(IntoResponse::into_response)?;
    Ok((if result.added { StatusCode::CREATED } else { StatusCode::OK }, Json(result)))
}

fn run_view(s: &AppState, r: &Reader<'_>, mut run: Run) -> ApiResult<Run> {
    run.current = r.current_run()?.is_some_and(|c| c.id == run.id);
    run.progress = if run.state == "running" { s.jobs.progress(run.id) } else { None };
    Ok(run)
}

/// Scoring runs, newest first (operators).
#[utoipa::path(get, path = "/api/v1/runs", tag = "operator",
    responses((status = 200, body = Vec<Run>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_runs(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<Run>>> {
    auth.require_operator()?;
    blocking(&state, |s| s.db.read(|r| r.runs()?.into_iter().map(|x| run_view(s, r, x)).collect())).await.map(Json)
}

/// Start a recomputation of the dataset with the stored rule versions and
/// exemptions; poll `GET /api/v1/runs/{id}` for progress. Readers keep seeing the
/// previous run until the new one is loaded whole.
#[utoipa::path(post, path = "/api/v1/runs", tag = "operator", request_body = RunRequest,
    responses((status = 202, body = Run), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn start_run(
    State(state): State<AppState>,
    auth: Auth,
    body: Option<Json<RunRequest>>,
) -> ApiResult<(StatusCode, Json<Run>)> {
    auth.require_operator()?;
    let req = body.map(|Json(b)| b).unwrap_or_default();
    let from = day_param("from", req.from.as_deref())?;
    let to = day_param("to", req.to.as_deref())?;
    blocking(&state, move |s| {
        let id = jobs::start(s, from, to)?;
        s.db.read(|r| {
            let run = r.runs()?.into_iter().find(|x| x.id == id).ok_or_else(|| ApiError::internal("run vanished"))?;
            run_view(s, r, run)
        })
    })
    .await
    .map(|r| (StatusCode::ACCEPTED, Json(r)))
}

/// One run and its progress (operators).
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "operator",
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, body = Run), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_run(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Run>> {
    auth.require_operator()?;
    let id: i64 = id.parse().map_err(|_| ApiError::bad_parameter("id", format!("`{id}` is not a run id")))?;
    blocking(&state, move |s| {
        s.db.read(|r| {
            let run = r
                .runs()?
                .into_iter()
                .find(|x| x.id == id)
                .ok_or_else(|| ApiError::not_found("run_not_found", format!("no run {id}")))?;
            run_view(s, r, run)
        })
    })
    .await
    .map(Json)
}

/// Values of a what-if form (dashboard), by indicator name.
pub fn form_values(form: &BTreeMap<String, String>) -> ApiResult<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    for (k, v) in form {
        let Some(name) = k.strip_prefix("v_") else { continue };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let x: f64 = v.parse().map_err(|_| ApiError::bad_parameter(k, format!("`{v}` is not a number")))?;
        out.insert(name.to_string(), x);
    }
    Ok(out)
}
