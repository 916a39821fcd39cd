//! The merchant dashboard and the operator overview: server-rendered HTML with
//! inline CSS and SVG charts — nothing is loaded from anywhere else. Chinese by
//! default, English with `lang=en`. The numbers come from [`crate::views`], the
//! same functions the API serves.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use dengta_model::Indicator;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::AppState;
use crate::auth::{self, Auth, COOKIE};
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::views;

/// Dashboard routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/login", get(login_page).post(login_form))
        .route("/logout", get(logout))
        .route("/dashboard", get(dashboard))
        .route("/operator", get(operator))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

impl Lang {
    fn of(q: &BTreeMap<String, String>) -> Lang {
        if q.get("lang").is_some_and(|l| l == "en") { Lang::En } else { Lang::Zh }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    fn zh(self) -> bool {
        self == Lang::Zh
    }
}

/// Every label of the pages: key, Chinese, English.
const LABELS: &[(&str, &str, &str)] = &[
    ("title", "灯塔 · 基础服务考核", "dengta · Basic service assessment"),
    ("operator_title", "灯塔 · 运营总览", "dengta · Operator overview"),
    ("score", "基础服务考核分", "Basic service score"),
    ("star", "综合体验星级", "Experience star rating"),
    ("status", "状态", "Status"),
    ("scored", "已评分", "Scored"),
    ("default_pass", "默认通过（99）", "Default pass (99)"),
    ("passes", "达标", "Passes"),
    ("fails", "未达标", "Below threshold"),
    ("threshold", "类目达标线", "Category threshold"),
    ("as_of", "数据截至", "As of"),
    ("category", "主营类目", "Main category"),
    ("rule_version", "规则版本", "Rule version"),
    ("dimensions", "五大维度", "The five dimensions"),
    ("dimension", "维度", "Dimension"),
    ("dim_score", "维度得分", "Score"),
    ("weight", "权重", "Weight"),
    ("contribution", "对总分的贡献", "Contribution to the score"),
    ("trend", "近90天趋势", "Last 90 days"),
    ("indicators", "指标明细", "Indicators"),
    ("indicator", "指标", "Indicator"),
    ("value", "指标值", "Value"),
    ("counts", "分子 / 样本数", "Numerator / sample"),
    ("window", "统计周期", "Window"),
    ("curve_score", "指标得分", "Indicator score"),
    ("curve_pos", "在评分曲线上的位置", "Where it stands on the curve"),
    ("peer_avg", "同行平均", "Peer average"),
    ("peer_excellent", "同行优秀", "Peer excellent"),
    ("no_data", "无数据", "no data"),
    ("months", "月度考核", "Months"),
    ("month", "月份", "Month"),
    ("compliant", "是否达标", "Compliant"),
    ("provisional", "（进行中）", " (in progress)"),
    ("year", "年度", "The year"),
    ("year_so_far", "本年至今（预估）", "Year so far (projection)"),
    ("year_settled", "年度结算", "Annual settlement"),
    ("annual_avg", "年度平均分", "Annual average"),
    ("fee_due", "应缴年费", "Fee due"),
    ("refund_ratio", "返还比例", "Refund ratio"),
    ("refund", "预计返还", "Refund"),
    ("renewal", "续签", "Renewal"),
    ("fix_first", "优先改进什么", "What to fix first"),
    (
        "fix_none",
        "各项指标都已处于曲线的最高分档，或没有可改进的数据。",
        "Every indicator with data is already at its curve's best point.",
    ),
    ("what_if", "模拟测算", "What if"),
    (
        "what_if_hint",
        "填入假设的指标值（比率填 0–1），其余保持当天的值。",
        "Enter hypothetical values (shares as 0–1); the others keep the day's values.",
    ),
    ("compute", "测算", "Compute"),
    ("before", "当前", "Now"),
    ("after", "测算后", "With these values"),
    ("items", "商品质量测评（最差的10个）", "Product quality (worst 10 items)"),
    ("item", "商品", "Item"),
    ("level", "等级", "Level"),
    ("bad_review_rate", "差评率", "Bad-review rate"),
    ("quality_refund_rate", "质量退款率", "Quality refund rate"),
    ("logout", "退出", "Log out"),
    ("switch", "English", "中文"),
    ("stores", "店铺", "Stores"),
    ("store", "店铺", "Store"),
    ("pick_store", "选择店铺", "Pick a store"),
    ("distribution", "各类目得分分布", "Score distribution per category"),
    ("failing_month", "本月未达标的店铺", "Stores failing this month"),
    ("renewal_risk", "续签风险店铺", "Stores at risk of failing renewal"),
    ("noncompliant", "未达标月数 / 上限", "Non-compliant months / limit"),
    ("none", "无", "none"),
    ("login", "登录", "Log in"),
    ("token", "访问令牌", "Access token"),
    ("yes", "是", "yes"),
    ("no", "否", "no"),
    ("days", "天", "days"),
];

fn t(key: &str, lang: Lang) -> &'static str {
    LABELS.iter().find(|(k, _, _)| *k == key).map_or("?", |(_, zh, en)| if lang.zh() { zh } else { en })
}

fn reason_words(reason: &str, lang: Lang) -> &'static str {
    match (reason, lang) {
        ("category_not_assessed", Lang::Zh) => "所属类目不参与基础服务考核",
        ("no_data", Lang::Zh) => "各考核维度在统计周期内均无数据",
        ("exempted", Lang::Zh) => "受豁免保护（不可抗力或平台公告）",
        ("category_not_assessed", Lang::En) => "the store's main category is not assessed",
        ("no_data", Lang::En) => "no dimension had data in its window",
        ("exempted", Lang::En) => "an exemption (force majeure or a platform announcement) covers the day",
        _ => "",
    }
}

fn page(lang: Lang, title: &str, switch_href: &str, body: &str) -> Html<String> {
    let mut h = String::with_capacity(body.len() + 4096);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{}</style></head><body><header><span class=\"brand\">{}</span><nav><a id=\"lang-switch\" href=\"{}\">{}</a> · <a href=\"/logout\">{}</a></nav></header><main>{}</main></body></html>",
        lang.code(),
        text(title),
        CSS,
        text(title),
        attr(switch_href),
        t("switch", lang),
        t("logout", lang),
        body
    );
    Html(h)
}

const CSS: &str = "body{font-family:system-ui,'PingFang SC','Noto Sans CJK SC',sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
header{display:flex;justify-content:space-between;align-items:center;padding:10px 24px;background:#0f3d5e;color:#fff}
header a{color:#cfe8ff}.brand{font-weight:600}main{max-width:1100px;margin:0 auto;padding:16px 24px}
section{background:#fff;border-radius:8px;padding:14px 18px;margin:14px 0;box-shadow:0 1px 3px #0001}
h2{font-size:1.05em;margin:0 0 10px}table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{padding:5px 8px;border-bottom:1px solid #e6ebf0;text-align:left;vertical-align:top}th{color:#55616e;font-weight:500}
.big{font-size:2.6em;font-weight:700}.ok{color:#1a7f37}.bad{color:#c62828}.muted{color:#7a8694}
.cards{display:flex;gap:16px;flex-wrap:wrap}.card{flex:1;min-width:180px}.bar{background:#4a90d9;height:10px;display:inline-block}
input[type=text]{width:90px}ol li{margin:4px 0}";

async fn page_auth(state: &AppState, headers: &HeaderMap) -> Result<Auth, Response> {
    let Some(token) = auth::cookie_token(headers) else { return Err(Redirect::to("/login").into_response()) };
    let db = state.db.clone();
    match tokio::task::spawn_blocking(move || auth::check(&db, &token)).await {
        Ok(Ok(a)) => Ok(a),
        _ => Err(Redirect::to("/login?expired=1").into_response()),
    }
}

fn safe_next(next: Option<&String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//")).cloned().unwrap_or_else(|| "/dashboard".into())
}

fn set_cookie_and_go(token: &str, next: &str) -> Response {
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
    ([(header::SET_COOKIE, cookie)], Redirect::to(next)).into_response()
}

async fn login_page(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> Response {
    let lang = Lang::of(&q);
    if let Some(token) = q.get("token") {
        let db = state.db.clone();
        let token2 = token.clone();
        if let Ok(Ok(_)) = tokio::task::spawn_blocking(move || auth::check(&db, &token2)).await {
            return set_cookie_and_go(token, &safe_next(q.get("next")));
        }
    }
    let note = if q.contains_key("token") || q.contains_key("expired") {
        "<p class=\"bad\">This token is not valid (unknown, expired or revoked). 令牌无效。</p>"
    } else {
        ""
    };
    let body = format!(
        "<section><h2>{}</h2>{note}<form method=\"post\" action=\"/login\"><label>{} <input name=\"token\" size=\"70\"></label><input type=\"hidden\" name=\"next\" value=\"{}\"> <button>{}</button></form></section>",
        t("login", lang),
        t("token", lang),
        attr(&safe_next(q.get("next"))),
        t("login", lang)
    );
    let status = if note.is_empty() { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
    (status, page(lang, t("title", lang), "/login?lang=en", &body)).into_response()
}

async fn login_form(State(state): State<AppState>, axum::Form(f): axum::Form<BTreeMap<String, String>>) -> Response {
    let token = f.get("token").map(|t| t.trim().to_string()).unwrap_or_default();
    let db = state.db.clone();
    let token2 = token.clone();
    match tokio::task::spawn_blocking(move || auth::check(&db, &token2)).await {
        Ok(Ok(_)) => set_cookie_and_go(&token, &safe_next(f.get("next"))),
        _ => Redirect::to("/login?expired=1").into_response(),
    }
}

async fn logout() -> Response {
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

fn error_page(lang: Lang, e: &ApiError) -> Response {
    let body = format!("<section><h2>{}</h2><p>{}</p></section>", e.status, text(&e.message));
    (e.status, page(lang, t("title", lang), "?lang=en", &body)).into_response()
}

fn query_string(q: &BTreeMap<String, String>, lang: Lang) -> String {
    let mut pairs: Vec<String> = q
        .iter()
        .filter(|(k, _)| *k != "lang")
        .map(|(k, v)| format!("{}={}", k, v.replace('&', "%26").replace(' ', "%20")))
        .collect();
    pairs.push(format!("lang={}", lang.code()));
    pairs.join("&")
}

/// Everything the merchant page shows, gathered in one read transaction.
struct StoreData {
    info: StoreInfo,
    explanation: Explanation,
    history: History,
    months: Vec<Month>,
    settlement: Option<Settlement>,
    fix: Vec<FixStepView>,
    items: Vec<ItemQuality>,
    what_if: Option<ApiResult<WhatIfResult>>,
}

async fn dashboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::of(&q);
    let who = match page_auth(&state, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let store = match (&who.role, q.get("store").filter(|s| !s.is_empty())) {
        (auth::Role::Merchant(own), None) => own.clone(),
        (_, Some(s)) => s.clone(),
        (auth::Role::Operator, None) => return store_picker(&state, lang).await,
    };
    let q2 = q.clone();
    let data = tokio::task::spawn_blocking(move || -> ApiResult<StoreData> {
        let book = state.db.rule_book()?;
        state.db.read(|r| {
            let s = views::visible_store(r, &store, who.can_see(&store))?;
            let run = r.require_run()?;
            let day = match crate::api::day_param("date", q2.get("date").map(String::as_str))? {
                Some(d) => d,
                None => views::latest_day(r, &run, &store)?,
            };
            let explanation = views::explain(r, &book, &run, &store, day)?;
            let history = views::history(r, &book, &run, &store, day.plus(-89), day)?;
            let year: i32 = day.to_string()[..4].parse().unwrap_or(0);
            let months = r.months(run.id, Some(&store), Some(year))?;
            let settlement = r.settlements(run.id, Some(&store), Some(year))?.into_iter().next();
            let fix = views::fix_first(r, &book, &run, &store, day)?;
            let items = r.items(run.id, &store, day)?.into_iter().take(10).collect();
            let values = crate::api::form_values(&q2);
            let what_if = match values {
                Err(e) => Some(Err(e)),
                Ok(v) if v.is_empty() => None,
                Ok(v) => Some(views::what_if(r, &book, &run, &store, day, &v)),
            };
            Ok(StoreData { info: views::store_info(&s), explanation, history, months, settlement, fix, items, what_if })
        })
    })
    .await;
    let data = match data {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return error_page(lang, &e),
        Err(e) => return error_page(lang, &ApiError::internal(e.to_string())),
    };
    let other = if lang.zh() { Lang::En } else { Lang::Zh };
    let switch = format!("/dashboard?{}", query_string(&q, other));
    let title = format!("{} — {} ({})", t("title", lang), data.info.name, data.info.store_id);
    page(lang, &title, &switch, &store_body(&data, lang, &q)).into_response()
}

fn store_body(d: &StoreData, lang: Lang, q: &BTreeMap<String, String>) -> String {
    let e = &d.explanation;
    let s = &e.score;
    let mut h = String::new();
    // Score, star, status.
    let status = if s.status == "scored" {
        format!(
            "<span class=\"{}\" id=\"pass\">{}</span>",
            if s.passes { "ok" } else { "bad" },
            if s.passes { t("passes", lang) } else { t("fails", lang) }
        )
    } else {
        format!("<span class=\"ok\" id=\"pass\">{}</span>: {}", t("default_pass", lang), reason_words(&s.reason, lang))
    };
    let _ = write!(
        h,
        "<section class=\"cards\"><div class=\"card\"><div class=\"muted\" id=\"score-label\">{}</div><div class=\"big\" id=\"score\">{}</div><div>{} {}</div></div>\
         <div class=\"card\"><div class=\"muted\">{}</div><div class=\"big\" id=\"star\">{}</div></div>\
         <div class=\"card\"><div>{}: {}</div><div>{}: <b>{}</b> · {}: {}</div><div>{}: {} · {}: <span title=\"sha256 {}\">{}</span></div></div></section>",
        t("score", lang),
        text(&s.score),
        t("threshold", lang),
        s.threshold.as_deref().unwrap_or("—"),
        t("star", lang),
        s.star.as_deref().map_or("—".to_string(), |x| format!("{x} ★")),
        t("status", lang),
        status,
        t("category", lang),
        text(&s.category),
        t("as_of", lang),
        s.date,
        t("store", lang),
        text(&d.info.store_id),
        t("rule_version", lang),
        text(&e.rules_sha256),
        text(&s.rule_version),
    );

    // Dimensions.
    let _ = write!(
        h,
        "<section><h2>{}</h2><table id=\"dimensions\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("dimensions", lang),
        t("dimension", lang),
        t("dim_score", lang),
        t("weight", lang),
        t("contribution", lang)
    );
    for dv in &s.dimensions {
        let label = if lang.zh() { &dv.label_zh } else { &dv.label_en };
        let contribution = dv.contribution.as_deref().and_then(|c| c.parse::<f64>().ok());
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} <span class=\"bar\" style=\"width:{}px\"></span></td></tr>",
            text(label),
            dv.score.as_deref().map_or(t("no_data", lang).to_string(), short),
            dv.weight.as_deref().unwrap_or("—"),
            contribution.map_or("—".into(), |c| format!("{c:.3}")),
            contribution.map_or(0.0, |c| c * 40.0).round()
        );
    }
    h.push_str("</table></section>");

    // Trend.
    let _ = write!(h, "<section><h2>{}</h2>{}</section>", t("trend", lang), trend_svg(&d.history, lang));

    // What to fix first.
    let _ = write!(h, "<section><h2>{}</h2>", t("fix_first", lang));
    if d.fix.is_empty() {
        let _ = write!(h, "<p class=\"muted\">{}</p>", t("fix_none", lang));
    } else {
        h.push_str("<ol id=\"fix-first\">");
        for f in &d.fix {
            let _ = write!(h, "<li>{}</li>", text(if lang.zh() { &f.text_zh } else { &f.text_en }));
        }
        h.push_str("</ol>");
    }
    h.push_str("</section>");

    // Indicators.
    let _ = write!(
        h,
        "<section><h2>{}</h2><table id=\"indicators\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("indicators", lang),
        t("indicator", lang),
        t("value", lang),
        t("counts", lang),
        t("window", lang),
        t("curve_score", lang),
        t("curve_pos", lang),
        t("peer_avg", lang),
        t("peer_excellent", lang)
    );
    for i in &e.indicators {
        let ind = Indicator::from_name(&i.name).unwrap_or(Indicator::DsrItem);
        let label = if lang.zh() { &i.label_zh } else { &i.label_en };
        let fmt = |v: Option<f64>| v.map_or("—".to_string(), |v| views::value_text(ind, v, lang.zh()));
        let curve: Vec<String> =
            i.curve.iter().map(|[v, sc]| format!("{}→{}", views::value_text(ind, *v, lang.zh()), trim(*sc))).collect();
        let _ = write!(
            h,
            "<tr><td>{}<div class=\"muted\">{}</div></td><td>{}</td><td>{} / {}</td><td>{} – {}<div class=\"muted\">{} {}</div></td><td>{}</td><td>{}<div class=\"muted\">{}</div></td><td>{}</td><td>{}</td></tr>",
            text(label),
            text(&i.name),
            if i.value.is_some() { fmt(i.value) } else { t("no_data", lang).to_string() },
            i.numerator,
            i.denominator,
            i.window_from,
            i.window_to,
            i.window_days,
            t("days", lang),
            i.score.as_deref().map_or("—".to_string(), short),
            text(i.segment.as_deref().unwrap_or("—")),
            text(&curve.join("  ")),
            fmt(i.peer_average),
            fmt(i.peer_excellent),
        );
    }
    h.push_str("</table></section>");

    // What-if form.
    let _ = write!(
        h,
        "<section><h2>{}</h2><p class=\"muted\">{}</p><form method=\"get\" action=\"/dashboard\" id=\"what-if\"><input type=\"hidden\" name=\"lang\" value=\"{}\"><input type=\"hidden\" name=\"store\" value=\"{}\"><input type=\"hidden\" name=\"date\" value=\"{}\"><table><tr>",
        t("what_if", lang),
        t("what_if_hint", lang),
        lang.code(),
        attr(&d.info.store_id),
        s.date
    );
    for i in &e.indicators {
        let label = if lang.zh() { &i.label_zh } else { &i.label_en };
        let key = format!("v_{}", i.name);
        let current = q.get(&key).cloned().or_else(|| i.value.map(trim)).unwrap_or_default();
        let _ = write!(
            h,
            "<td><label>{}<br><input type=\"text\" name=\"{}\" value=\"{}\"></label></td>",
            text(label),
            attr(&key),
            attr(&current)
        );
    }
    let _ = write!(h, "</tr></table><button>{}</button></form>", t("compute", lang));
    match &d.what_if {
        None => {}
        Some(Err(err)) => {
            let _ = write!(h, "<p class=\"bad\" id=\"what-if-error\">{}</p>", text(&err.message));
        }
        Some(Ok(w)) => {
            let _ = write!(
                h,
                "<table id=\"what-if-result\"><tr><th></th><th>{}</th><th>{}</th></tr><tr><td>{}</td><td>{}</td><td id=\"what-if-score\">{}</td></tr><tr><td>{}</td><td>{}</td><td>{}</td></tr><tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                t("before", lang),
                t("after", lang),
                t("score", lang),
                w.before.score,
                w.after.score,
                t("star", lang),
                w.before.star.as_deref().unwrap_or("—"),
                w.after.star.as_deref().unwrap_or("—"),
                t("status", lang),
                if w.before.passes { t("passes", lang) } else { t("fails", lang) },
                if w.after.passes { t("passes", lang) } else { t("fails", lang) },
            );
            for (b, a) in w.before.dimensions.iter().zip(&w.after.dimensions) {
                let label = if lang.zh() { &b.label_zh } else { &b.label_en };
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    text(label),
                    b.score.as_deref().map_or("—".to_string(), short),
                    a.score.as_deref().map_or("—".to_string(), short)
                );
            }
            h.push_str("</table>");
        }
    }
    h.push_str("</section>");

    // Months and the year.
    let _ = write!(
        h,
        "<section class=\"cards\"><div class=\"card\"><h2>{}</h2><table id=\"months\"><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("months", lang),
        t("month", lang),
        t("score", lang),
        t("compliant", lang)
    );
    for m in &d.months {
        let _ = write!(
            h,
            "<tr><td>{}{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            m.month,
            if m.provisional { t("provisional", lang) } else { "" },
            m.score,
            if m.compliant { "ok" } else { "bad" },
            if m.compliant { "✓" } else { "✗" }
        );
    }
    h.push_str("</table></div><div class=\"card\">");
    match &d.settlement {
        None => {
            let _ = write!(h, "<h2>{}</h2><p class=\"muted\">{}</p>", t("year", lang), t("none", lang));
        }
        Some(st) => {
            let heading = if st.kind == "settled" { t("year_settled", lang) } else { t("year_so_far", lang) };
            let _ = write!(
                h,
                "<h2>{} {}</h2><table id=\"year\"><tr><td>{}</td><td>{}</td></tr><tr><td>{}</td><td>¥{}</td></tr><tr><td>{}</td><td>{}%</td></tr><tr><td>{}</td><td>¥{}</td></tr><tr><td>{}</td><td>{} ({} / {})</td></tr></table><p class=\"muted\">{}</p>",
                heading,
                st.year,
                t("annual_avg", lang),
                st.annual_score,
                t("fee_due", lang),
                st.fee_due,
                t("refund_ratio", lang),
                st.refund_ratio,
                t("refund", lang),
                st.refund_amount,
                t("renewal", lang),
                st.renewal,
                st.noncompliant_months,
                t("months", lang),
                text(&st.note),
            );
        }
    }
    h.push_str("</div></section>");

    // Items.
    if !d.items.is_empty() {
        let _ = write!(
            h,
            "<section><h2>{}</h2><table id=\"items\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            t("items", lang),
            t("item", lang),
            t("bad_review_rate", lang),
            t("quality_refund_rate", lang),
            t("curve_score", lang),
            t("level", lang)
        );
        for i in &d.items {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{:.2}%</td><td>{}</td><td>{}</td></tr>",
                text(&i.item_id),
                i.bad_review_rate.map_or("—".into(), |r| format!("{:.2}%", r * 100.0)),
                i.quality_refund_rate * 100.0,
                i.score,
                text(&i.level)
            );
        }
        h.push_str("</table></section>");
    }
    h
}

fn short(x: &str) -> String {
    x.parse::<f64>().map_or(x.to_string(), |v| format!("{v:.2}"))
}

fn trim(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The 90-day trend as an SVG line with the threshold dashed; default-pass days
/// are marked along the top instead of being drawn at 99.
fn trend_svg(history: &History, lang: Lang) -> String {
    let (w, h, left, top, bottom) = (760.0, 200.0, 34.0, 10.0, 24.0);
    let plot_h = h - top - bottom;
    let n = history.points.len().max(2) as f64;
    let x = |i: usize| left + (w - left - 10.0) * i as f64 / (n - 1.0);
    let y = |score: f64| top + plot_h * (1.0 - score / 5.0);
    let mut svg = format!(
        "<svg id=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{}\">",
        t("trend", lang)
    );
    for s in 0..=5 {
        let yy = y(f64::from(s));
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{yy}\" y2=\"{yy}\" stroke=\"#e6ebf0\"/><text x=\"4\" y=\"{}\" font-size=\"11\" fill=\"#7a8694\">{s}</text>",
            w - 10.0,
            yy + 4.0
        );
    }
    if let Some(th) = history.threshold.as_deref().and_then(|t| t.parse::<f64>().ok()) {
        let yy = y(th);
        let _ = write!(
            svg,
            "<line id=\"threshold-line\" x1=\"{left}\" x2=\"{}\" y1=\"{yy}\" y2=\"{yy}\" stroke=\"#c62828\" stroke-dasharray=\"5 4\"/><text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#c62828\" text-anchor=\"end\">{} {th:.2}</text>",
            w - 10.0,
            w - 12.0,
            yy - 4.0,
            t("threshold", lang)
        );
    }
    let mut segment: Vec<String> = Vec::new();
    let mut paths = Vec::new();
    for (i, p) in history.points.iter().enumerate() {
        if p.status == "scored" {
            let v: f64 = p.score.parse().unwrap_or(0.0);
            segment.push(format!("{:.1},{:.1}", x(i), y(v)));
        } else {
            if !segment.is_empty() {
                paths.push(std::mem::take(&mut segment));
            }
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{}\" width=\"3\" height=\"4\" fill=\"#9bb\"><title>{} 99</title></rect>",
                x(i) - 1.5,
                top - 8.0,
                p.date
            );
        }
    }
    if !segment.is_empty() {
        paths.push(segment);
    }
    for p in paths {
        let _ =
            write!(svg, "<polyline fill=\"none\" stroke=\"#1f6fb5\" stroke-width=\"2\" points=\"{}\"/>", p.join(" "));
    }
    if let (Some(first), Some(last)) = (history.points.first(), history.points.last()) {
        let _ = write!(
            svg,
            "<text x=\"{left}\" y=\"{}\" font-size=\"11\" fill=\"#7a8694\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#7a8694\" text-anchor=\"end\">{}</text>",
            h - 6.0,
            first.date,
            w - 10.0,
            h - 6.0,
            last.date
        );
    }
    svg.push_str("</svg>");
    svg
}

async fn store_picker(state: &AppState, lang: Lang) -> Response {
    let db = state.db.clone();
    let stores = tokio::task::spawn_blocking(move || db.read(|r| r.stores())).await;
    let Ok(Ok(stores)) = stores else { return error_page(lang, &ApiError::internal("reading stores")) };
    let mut h = format!(
        "<section><h2>{}</h2><p><a href=\"/operator?lang={}\">{}</a></p><ul>",
        t("pick_store", lang),
        lang.code(),
        t("operator_title", lang)
    );
    for s in &stores {
        let _ = write!(
            h,
            "<li><a href=\"/dashboard?store={}&lang={}\">{} — {}</a> <span class=\"muted\">{}</span></li>",
            attr(&s.id),
            lang.code(),
            text(&s.id),
            text(&s.name),
            text(&s.main_category)
        );
    }
    h.push_str("</ul></section>");
    let other = if lang.zh() { Lang::En } else { Lang::Zh };
    page(lang, t("title", lang), &format!("/dashboard?lang={}", other.code()), &h).into_response()
}

async fn operator(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::of(&q);
    let who = match page_auth(&state, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Err(e) = who.require_operator() {
        return error_page(lang, &e);
    }
    let data = tokio::task::spawn_blocking(move || -> ApiResult<Overview> {
        let book = state.db.rule_book()?;
        state.db.read(|r| views::overview(r, &book, &r.require_run()?))
    })
    .await;
    let o = match data {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return error_page(lang, &e),
        Err(e) => return error_page(lang, &ApiError::internal(e.to_string())),
    };
    let mut h = format!(
        "<section><h2>{} ({} {})</h2><table id=\"distribution\"><tr><th>{}</th><th>{}</th><th>n</th><th>99</th><th>{}</th><th>0 ─ 0.5 ─ 1 ─ … ─ 5</th></tr>",
        t("distribution", lang),
        t("as_of", lang),
        o.date,
        t("category", lang),
        t("threshold", lang),
        t("fails", lang)
    );
    for c in &o.categories {
        let max = c.buckets.iter().copied().max().unwrap_or(1).max(1) as f64;
        let mut bars = String::from("<svg width=\"260\" height=\"40\" xmlns=\"http://www.w3.org/2000/svg\">");
        for (i, b) in c.buckets.iter().enumerate() {
            let bh = 36.0 * *b as f64 / max;
            let _ = write!(
                bars,
                "<rect x=\"{}\" y=\"{:.1}\" width=\"22\" height=\"{bh:.1}\" fill=\"#4a90d9\"><title>{:.1}–{:.1}: {b}</title></rect>",
                i * 26,
                38.0 - bh,
                i as f64 * 0.5,
                i as f64 * 0.5 + 0.5
            );
        }
        bars.push_str("</svg>");
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{bars}</td></tr>",
            text(&c.category),
            c.threshold.as_deref().unwrap_or("—"),
            c.scored,
            c.default_pass,
            c.failing
        );
    }
    h.push_str("</table></section>");
    for (key, list, id) in
        [("failing_month", &o.failing_this_month, "failing"), ("renewal_risk", &o.renewal_risk, "risk")]
    {
        let _ = write!(
            h,
            "<section><h2>{} ({})</h2><table id=\"{id}\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            t(key, lang),
            list.len(),
            t("stores", lang),
            t("category", lang),
            t("score", lang),
            t("noncompliant", lang)
        );
        for s in list {
            let _ = write!(
                h,
                "<tr><td><a href=\"/dashboard?store={}&lang={}\">{}</a></td><td>{}</td><td>{}</td><td>{} / {}</td></tr>",
                attr(&s.store_id),
                lang.code(),
                text(&s.store_id),
                text(&s.category),
                s.score,
                s.noncompliant_months,
                s.max_noncompliant_months.map_or("—".into(), |m| m.to_string())
            );
        }
        h.push_str("</table></section>");
    }
    let other = if lang.zh() { Lang::En } else { Lang::Zh };
    page(lang, t("operator_title", lang), &format!("/operator?lang={}", other.code()), &h).into_response()
}
