#!/usr/bin/env python3
"""A reference implementation of dengta's daily scores (SPEC §4-§5) in DuckDB SQL.

Reads the same dataset folder (CSV or Parquet tables) and the same rule file, and
writes what `dengta score --daily-only` writes as `daily_scores`: one row per
operating store-day with every column of SPEC §11 (rule version, category, status,
reason, score, star, the five dimension scores, and each indicator's value,
denominator and score), as CSV (OUT.csv) and as Parquet (OUT.csv with `.parquet`).
Used by scripts/bench-duckdb.sh to time DuckDB beside dengta on the same files and
to check that both agree on every score.

    python3 scripts/duckdb_reference.py DATASET FROM TO RULES.toml OUT.csv [--format csv|parquet]

Scores are computed in DOUBLE (DuckDB has no exact rationals); the comparison
reports any difference, which can only come from a tie at the third decimal.
"""
import sys
import time
import tomllib

import duckdb

DAY_MS = 86_400_000


def table_sql(dataset, name, fmt):
    if fmt == "parquet":
        return f"read_parquet('{dataset}/{name}.parquet')"
    return f"read_csv('{dataset}/{name}.csv', header=true, all_varchar=true)"


def instant(col):
    """Epoch ms of an RFC 3339 text or an integer epoch-ms text."""
    return (
        f"(CASE WHEN {col} IS NULL OR {col} = '' THEN NULL "
        f"WHEN regexp_full_match({col}, '-?[0-9]+') THEN CAST({col} AS BIGINT) "
        f"ELSE CAST(epoch_ms(CAST({col} AS TIMESTAMPTZ)) AS BIGINT) END)"
    )


def curve_sql(x, points):
    """Piecewise-linear score of x, clamped outside the first and last point."""
    parts = [f"WHEN {x} <= {points[0][0]} THEN {float(points[0][1])}"]
    for (v0, s0), (v1, s1) in zip(points, points[1:]):
        parts.append(f"WHEN {x} < {v1} THEN {s0} + ({x} - {v0}) * ({s1} - {s0}) / ({v1} - {v0})")
    parts.append(f"ELSE {float(points[-1][1])}")
    return "(CASE " + " ".join(parts) + " END)"


def main():
    dataset, d_from, d_to, rules_path, out = sys.argv[1:6]
    fmt = sys.argv[7] if len(sys.argv) > 7 and sys.argv[6] == "--format" else "csv"
    rules = tomllib.loads(open(rules_path, encoding="utf-8").read())
    off_h, off_m = rules["business_utc_offset"][1:].split(":")
    sign = -1 if rules["business_utc_offset"][0] == "-" else 1
    offset_ms = sign * (int(off_h) * 3600 + int(off_m) * 60) * 1000
    pickup_ms = rules["deadlines"]["pickup_secs"] * 1000
    reply_ms = rules["deadlines"]["reply_secs"] * 1000

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    t0 = time.time()
    t = lambda n: table_sql(dataset, n, fmt)  # noqa: E731
    bday = lambda e: f"CAST(floor(({e} + {offset_ms}) / {DAY_MS}) AS INTEGER)"  # noqa: E731

    con.execute(f"CREATE TABLE stores AS SELECT * FROM {t('stores')}")
    con.execute(f"CREATE TABLE exemptions AS SELECT * FROM {t('exemptions')}")
    con.execute(
        f"""CREATE TABLE orders AS SELECT store_id, {instant('paid_at')} AS paid,
        {instant('picked_up_at')} AS picked FROM {t('orders')}"""
    )
    con.execute(
        f"CREATE TABLE reviews AS SELECT store_id, {instant('created_at')} AS created, "
        f"CAST(item_score AS BIGINT) AS item_score FROM {t('reviews')}"
    )
    con.execute(
        f"CREATE TABLE chats AS SELECT store_id, {instant('started_at')} AS started, "
        f"{instant('first_human_reply_at')} AS replied FROM {t('chats')}"
    )
    con.execute(
        f"CREATE TABLE refunds AS SELECT store_id, kind, {instant('requested_at')} AS requested, "
        f"{instant('completed_at')} AS completed FROM {t('refunds')}"
    )
    con.execute(
        f"CREATE TABLE disputes AS SELECT store_id, {instant('closed_at')} AS closed, "
        f"refunded = 'true' AS refunded, merchant_liable = 'true' AS liable FROM {t('disputes')}"
    )
    con.execute(
        f"CREATE TABLE complaints AS SELECT store_id, {instant('decided_at')} AS decided, "
        f"upheld = 'true' AS upheld FROM {t('complaints')}"
    )
    t_read = time.time() - t0

    # Per store and business day: (numerator, denominator) of every indicator.
    measures = {
        "dsr_item": f"SELECT store_id, {bday('created')} AS day, sum(item_score) AS n, count(*) AS d FROM reviews GROUP BY ALL",
        "pickup_24h_rate": f"SELECT store_id, {bday(f'paid + {pickup_ms}')} AS day, "
        f"sum(CASE WHEN picked IS NOT NULL AND picked <= paid + {pickup_ms} THEN 1 ELSE 0 END) AS n, count(*) AS d FROM orders GROUP BY ALL",
        "refund_only_hours": f"SELECT store_id, {bday('completed')} AS day, sum(completed - requested) AS n, count(*) AS d "
        "FROM refunds WHERE kind = 'refund_only' AND completed IS NOT NULL GROUP BY ALL",
        "return_refund_hours": f"SELECT store_id, {bday('completed')} AS day, sum(completed - requested) AS n, count(*) AS d "
        "FROM refunds WHERE kind = 'return_refund' AND completed IS NOT NULL GROUP BY ALL",
        "dispute_refund_rate": f"SELECT store_id, {bday('closed')} AS day, count(*) AS n, 0 AS d FROM disputes "
        "WHERE closed IS NOT NULL AND refunded AND liable GROUP BY ALL",
        "complaint_upheld_rate": f"SELECT store_id, {bday('decided')} AS day, count(*) AS n, 0 AS d FROM complaints "
        "WHERE decided IS NOT NULL AND upheld GROUP BY ALL",
        "orders_paid": f"SELECT store_id, {bday('paid')} AS day, 0 AS n, count(*) AS d FROM orders GROUP BY ALL",
        "im_reply_rate": f"SELECT store_id, {bday(f'started + {reply_ms}')} AS day, "
        f"sum(CASE WHEN replied IS NOT NULL AND replied <= started + {reply_ms} THEN 1 ELSE 0 END) AS n, count(*) AS d FROM chats GROUP BY ALL",
        "im_first_reply_secs": f"SELECT store_id, {bday('replied')} AS day, sum(replied - started) AS n, count(*) AS d "
        "FROM chats WHERE replied IS NOT NULL GROUP BY ALL",
    }
    union = " UNION ALL ".join(f"SELECT '{k}' AS m, * FROM ({q})" for k, q in measures.items())
    con.execute(f"CREATE TABLE partials AS {union}")

    lo = con.execute(f"SELECT CAST(DATE '{d_from}' - DATE '1970-01-01' AS INTEGER)").fetchone()[0]
    hi = con.execute(f"SELECT CAST(DATE '{d_to}' - DATE '1970-01-01' AS INTEGER)").fetchone()[0]
    ind = rules["indicators"]
    wmax = max(v["window_days"] for v in ind.values())
    # A dense grid of store × day (with the look-back) so window sums are ROWS frames.
    con.execute(
        f"""CREATE TABLE grid AS SELECT s.store_id, CAST(g.day AS INTEGER) AS day FROM stores s,
        range({lo - wmax + 1}, {hi + 1}) g(day)"""
    )
    cols = []
    for k in list(measures):
        cols.append(f"sum(CASE WHEN p.m = '{k}' THEN p.n END) AS {k}_n")
        cols.append(f"sum(CASE WHEN p.m = '{k}' THEN p.d END) AS {k}_d")
    con.execute(
        f"""CREATE TABLE daily_partials AS SELECT g.store_id, g.day, {', '.join(cols)}
        FROM grid g LEFT JOIN partials p ON p.store_id = g.store_id AND p.day = g.day GROUP BY ALL"""
    )

    def window(col, w):
        return f"coalesce(sum({col}) OVER (PARTITION BY store_id ORDER BY day ROWS BETWEEN {w - 1} PRECEDING AND CURRENT ROW), 0)"

    unit = {"refund_only_hours": 3_600_000, "return_refund_hours": 3_600_000, "im_first_reply_secs": 1000}
    denominators = {"dispute_refund_rate": "orders_paid_d", "complaint_upheld_rate": "orders_paid_d"}
    sel = []
    for k, v in ind.items():
        w = v["window_days"]
        num = window(f"{k}_n", w)
        den = window(denominators.get(k, f"{k}_d"), w)
        sel.append(f"{num} AS {k}_num, {den} AS {k}_den")
    con.execute(f"CREATE TABLE windows AS SELECT store_id, day, {', '.join(sel)} FROM daily_partials")

    # Indicator values and scores, dimension scores, total.
    iscore = []
    for k, v in ind.items():
        x = f"({k}_num / ({k}_den * {unit.get(k, 1)}.0))"
        ok = f"{k}_den >= {v.get('min_samples', 1)} AND {k}_den > 0"
        iscore.append(f"CASE WHEN {ok} THEN {x} END AS {k}_v, {k}_den AS {k}_n")
        iscore.append(f"CASE WHEN {ok} THEN {curve_sql(x, v['curve'])} END AS {k}_s")
    con.execute(f"CREATE TABLE iscores AS SELECT store_id, day, {', '.join(iscore)} FROM windows WHERE day >= {lo}")
    dims = ["product", "logistics", "after_sales", "disputes", "consultation"]
    dsel = []
    for d in dims:
        members = [(k, v["weight"]) for k, v in ind.items() if v["dimension"] == d]
        num = " + ".join(f"coalesce({k}_s * {w}, 0)" for k, w in members)
        den = " + ".join(f"CASE WHEN {k}_s IS NOT NULL THEN {w} ELSE 0 END" for k, w in members)
        dsel.append(f"CASE WHEN ({den}) > 0 THEN ({num}) / ({den}) END AS dim_{d}")
    con.execute(f"CREATE TABLE dscores AS SELECT *, {', '.join(dsel)} FROM iscores")

    cats = [(c, v) for c, v in rules["categories"].items() if v.get("assessed", True)]
    cat_rows = ", ".join(
        "(" + ", ".join([f"'{c}'"] + [str(v["weights"][d]) for d in dims]) + ")" for c, v in cats
    )
    con.execute(f"CREATE TABLE cat_weights(category VARCHAR, {', '.join(f'w_{d} DOUBLE' for d in dims)})")
    if cat_rows:
        con.execute(f"INSERT INTO cat_weights VALUES {cat_rows}")
    num = " + ".join(f"coalesce(dim_{d} * w_{d}, 0)" for d in dims)
    den = " + ".join(f"CASE WHEN dim_{d} IS NOT NULL THEN w_{d} ELSE 0 END" for d in dims)
    con.execute(
        f"""CREATE TABLE result AS
        SELECT x.*, s.main_category AS category, CAST(DATE '1970-01-01' + x.day AS DATE) AS date,
          CASE WHEN w.category IS NULL THEN 'category_not_assessed'
               WHEN ({den}) = 0 THEN 'no_data'
               WHEN EXISTS (SELECT 1 FROM exemptions e WHERE
                    CAST(e."from" AS DATE) <= DATE '1970-01-01' + x.day AND DATE '1970-01-01' + x.day <= CAST(e."to" AS DATE)
                    AND (e.scope = 'all' OR (e.scope = 'category' AND e.target = s.main_category)
                         OR (e.scope = 'store' AND e.target = s.store_id))) THEN 'exempted'
               ELSE '' END AS reason,
          CASE WHEN w.category IS NOT NULL AND ({den}) > 0 THEN ({num}) / ({den}) END AS raw
        FROM dscores x JOIN stores s ON s.store_id = x.store_id
        LEFT JOIN cat_weights w ON w.category = s.main_category
        WHERE s.onboarded = 'true' AND DATE '1970-01-01' + x.day >= CAST(s.opened_on AS DATE)
          AND (s.closed_on IS NULL OR s.closed_on = '' OR DATE '1970-01-01' + x.day <= CAST(s.closed_on AS DATE))"""
    )
    bands = sorted(rules["stars"]["bands"], key=lambda b: -b["min_score"])
    star = ("CASE " + " ".join(f"WHEN round(raw, 2) >= {b['min_score']} THEN {float(b['star'])}" for b in bands)
            + f" ELSE {float(rules['stars']['otherwise'])} END")
    columns = [f"'{rules['version']}' AS rule_version", "category",
               "CASE WHEN reason = '' THEN 'scored' ELSE 'default_pass' END AS status", "reason",
               "CASE WHEN reason = '' THEN round(raw, 2) ELSE 99 END AS score",
               f"CASE WHEN reason = '' THEN {star} END AS star"]
    columns += [f"dim_{d}" for d in dims]
    columns += [f"{k}_v AS {k}, {k}_n, {k}_s AS {k}_score" for k in ind]
    con.execute(f"CREATE TABLE daily_scores AS SELECT store_id, date, {', '.join(columns)} FROM result ORDER BY store_id, date")
    con.execute(f"COPY daily_scores TO '{out}' (HEADER, DELIMITER ',')")
    con.execute(f"COPY daily_scores TO '{out.removesuffix('.csv')}.parquet' (FORMAT parquet)")
    total = time.time() - t0
    print(f"duckdb: read {t_read:.2f}s, total {total:.2f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
