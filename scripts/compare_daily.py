#!/usr/bin/env python3
"""Compares two `daily_scores.csv` files (dengta's and the DuckDB reference's) column
by column, store-day by store-day, and prints how many cells differ in each column.

    python3 scripts/compare_daily.py DENGTA.csv REFERENCE.csv [RULES.toml]

Text columns (rule version, category, status, reason) and denominators must be
equal; numbers may differ by 1e-9 (relative, at least 1e-9 absolute): dengta writes
dimension and indicator scores with ten decimals and computes in exact rationals,
the reference in DOUBLE. A score or star that differs is a tie at the third decimal
that DOUBLE rounds the other way (SPEC §5 rounds the exact value half away from zero).
Given the rule file, each differing score is checked to be such a tie: the weighted
mean of dengta's dimension scores (re-normalised over those with data, in exact
fractions) lies within 1e-7 of a half-fen boundary and dengta's score is its rounding
half away from zero. Exits 1 when a store-day is on one side only, a text or
denominator cell differs, or a differing score is not such a tie.
"""
import sys
import tomllib
from fractions import Fraction

import duckdb

INDICATORS = ["dsr_item", "pickup_24h_rate", "refund_only_hours", "return_refund_hours",
              "dispute_refund_rate", "complaint_upheld_rate", "im_reply_rate", "im_first_reply_secs"]
TEXT = ["rule_version", "category", "status", "reason"]
COUNTS = [f"{i}_n" for i in INDICATORS]
DIMENSIONS = ["product", "logistics", "after_sales", "disputes", "consultation"]
NUMBERS = (["score", "star"] + [f"dim_{d}" for d in DIMENSIONS]
           + [c for i in INDICATORS for c in (i, f"{i}_score")])


def num(col, t):
    return f"TRY_CAST(nullif({t}.{col}, '') AS DOUBLE)"


def differs(col):
    """Whether a numeric cell differs (beyond 1e-9 relative, at least 1e-9 absolute)."""
    a, b = num(col, "a"), num(col, "b")
    return f"NOT coalesce(abs({a} - {b}) <= 1e-9 * greatest(1, abs({a})), {a} IS NULL AND {b} IS NULL)"


def main():
    a, b = sys.argv[1:3]
    con = duckdb.connect()
    for name, path in (("a", a), ("b", b)):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv('{path}', header=true, all_varchar=true)")
    rows_a, rows_b = (con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("a", "b"))
    one_side = con.execute(
        "SELECT count(*) FROM a FULL JOIN b USING (store_id, date) WHERE a.store_id IS NULL OR b.store_id IS NULL"
    ).fetchone()[0]

    checks = [f"count_if(a.{c} IS DISTINCT FROM b.{c}) AS {c}" for c in TEXT]
    checks += [f"count_if({num(c, 'a')} IS DISTINCT FROM {num(c, 'b')}) AS {c}" for c in COUNTS]
    checks += [f"count_if({differs(c)}) AS {c}" for c in NUMBERS]
    row = con.execute(f"SELECT {', '.join(checks)} FROM a JOIN b USING (store_id, date)").fetchone()
    columns = TEXT + COUNTS + NUMBERS
    differ = {c: n for c, n in zip(columns, row) if n}
    exact_columns = set(TEXT + COUNTS)
    print(
        f"agreement: {rows_a} dengta rows, {rows_b} reference rows, {one_side} only in one; "
        f"{len(columns)} columns compared; cells that differ: "
        + (", ".join(f"{c} {n}" for c, n in differ.items()) if differ else "none")
    )
    if differ.get("score"):
        example = con.execute(
            f"SELECT store_id, date, a.score, b.score, a.star, b.star FROM a JOIN b USING (store_id, date) "
            f"WHERE {differs('score')} LIMIT 1"
        ).fetchone()
        print(f"  e.g. {example[0]} {example[1]}: dengta score {example[2]} star {example[4]}, "
              f"reference score {example[3]} star {example[5]}")
    not_ties = check_ties(con, sys.argv[3]) if len(sys.argv) > 3 and differ.get("score") else 0
    if one_side or exact_columns & differ.keys() or not_ties:
        sys.exit(1)


def check_ties(con, rules_path):
    """Prints how many differing scores are ties that dengta rounds half away from
    zero, and returns how many are not."""
    with open(rules_path, "rb") as f:
        categories = tomllib.load(f).get("categories", {})
    weights = {name: {d: Fraction(str(w)) for d, w in c["weights"].items()}
               for name, c in categories.items() if c.get("assessed", True) and "weights" in c}
    dims = ", ".join(f"a.dim_{d}" for d in DIMENSIONS)
    rows = con.execute(
        f"SELECT store_id, date, a.category, a.score, {dims} FROM a JOIN b USING (store_id, date) "
        f"WHERE {differs('score')}"
    ).fetchall()
    ties, others = 0, []
    for store, date, category, score, *values in rows:
        w = weights.get(category, {})
        terms = [(Fraction(v), w.get(d, Fraction(0))) for d, v in zip(DIMENSIONS, values) if v not in (None, "")]
        total = sum(wt for _, wt in terms)
        if not total:
            others.append((store, date, score, "no weights with data"))
            continue
        value = sum(v * wt for v, wt in terms) / total
        cents = value * 100
        tie = abs(cents - int(cents) - Fraction(1, 2)) < Fraction(1, 10**5)
        rounded = Fraction(int(cents) + 1, 100)  # half away from zero: scores are never negative
        if tie and Fraction(score) == rounded:
            ties += 1
        else:
            others.append((store, date, score, f"weighted mean {float(value):.9f}"))
    print(f"  score: {ties} ties at the half fen, rounded half away from zero by dengta; {len(others)} other")
    for store, date, score, why in others[:5]:
        print(f"  NOT A TIE: {store} {date}: dengta score {score}, {why}")
    return len(others)


if __name__ == "__main__":
    main()
