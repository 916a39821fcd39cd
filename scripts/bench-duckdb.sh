#!/usr/bin/env bash
# dengta beside a DuckDB reference implementation of the same daily scores, on the
# same files, in the same run: full-year daily scores from CSV and from Parquet,
# one incremental day, peak memory, and a check that both agree on every column of
# every store-day (scripts/compare_daily.py).
#
#   scripts/bench-duckdb.sh ORDERS          e.g. 1000000, 10000000, 50000000
#
# Every timing is the median of three runs (the full-year ones: BENCH_RUNS, default 3
# below 50 M orders, 1 from 50 M on). BENCH_SKIP_FULL=1 times only the incremental
# day (the four full-year runs and the agreement check are skipped). Needs free disk of about three times the CSV size
# at 50 M orders (the data, its Parquet copy, then the month split and the store).
#
# The dataset: `dengta generate` over 365 days with about 12.3 orders per store and day on
# average (stores = ORDERS / 4496), with proportional reviews, chats, refunds,
# disputes and complaints. Installs Python's duckdb package (pip --user) when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${1:-1000000}
stores=$(( (orders + 4495) / 4496 ))
work=${BENCH_DIR:-/tmp/dengta-bench}
data="$work/year-$orders"
pq="$work/year-$orders-parquet"
mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --user --quiet duckdb
cargo build --release --bin dengta >&2
bin=$PWD/target/release/dengta
rules=$PWD/rules/default-1.toml

[ -d "$data" ] || "$bin" generate "$data" --stores "$stores" --days 365 --seed 42 >&2
skip_full=${BENCH_SKIP_FULL:-0}
if [ "$skip_full" != 1 ] && [ ! -d "$pq" ]; then
  mkdir -p "$pq"
  python3 - "$data" "$pq" <<'PY'
import duckdb, glob, os, sys
src, dst = sys.argv[1:]
for f in glob.glob(src + "/*.csv"):
    name = os.path.basename(f)[:-4]
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{f}', header=true, all_varchar=true)) TO '{dst}/{name}.parquet' (FORMAT parquet)")
PY
fi

# Wall time (s, to the millisecond) and peak RSS (KiB) of one command, spawned and
# reaped by scripts/measure.py: no shell, `date` or GNU time processes in the timed
# span (they added 4-6 ms to each run, a tenth of one day's ingest at 1 M orders).
measure() { python3 scripts/measure.py "$@"; }
row() { printf '| %s | %s | %.3f s | %d MiB |\n' "$1" "$2" "$3" "$(( $4 / 1024 ))"; }
echo "DuckDB $(python3 -c 'import duckdb; print(duckdb.__version__)'); dataset: $stores stores x 365 days, $(($(wc -l <"$data/orders.csv") - 1)) orders, $(du -sh "$data" | cut -f1) CSV$([ -d "$pq" ] && echo ", $(du -sh "$pq" | cut -f1) Parquet")"
echo "| run | input | wall | peak RSS |"
echo "|---|---|---|---|"
# Each full-year run is repeated BENCH_RUNS times (default 3, 1 from 50 M orders on)
# and the median counts, as for the incremental day: one run of a second or two moves
# by half its length with what else the shared machine does. Peak RSS is the largest.
runs_full=${BENCH_RUNS:-$([ "$orders" -ge 50000000 ] && echo 1 || echo 3)}
median() { # COMMAND...: prints "WALL PEAK LIST" (median wall, largest peak, every wall)
  local all=() i w m peak=0
  for ((i = 0; i < runs_full; i++)); do
    read -r w m <<<"$(measure "$@")"; all+=("$w"); [ "$m" -gt "$peak" ] && peak=$m
  done
  w=$(printf '%s\n' "${all[@]}" | sort -n | sed -n "$(( (runs_full + 1) / 2 ))p")
  echo "$w $peak $(IFS=,; echo "${all[*]}")"
}
label() { [ "$runs_full" -gt 1 ] && echo "$1 (median of ${2//,/ s, } s)" || echo "$1"; }
if [ "$skip_full" != 1 ]; then
read -r w m l <<<"$(median "$bin" score "$data" --from 2025-01-01 --to 2025-12-31 --out "$work/out-csv-$orders" --daily-only)"; d_csv=$w
row "$(label "dengta score --daily-only" "$l")" CSV "$w" "$m"
read -r w m l <<<"$(median python3 scripts/duckdb_reference.py "$data" 2025-01-01 2025-12-31 "$rules" "$work/duckdb-csv-$orders.csv")"; k_csv=$w
row "$(label "DuckDB reference" "$l")" CSV "$w" "$m"
read -r w m l <<<"$(median "$bin" score "$pq" --from 2025-01-01 --to 2025-12-31 --out "$work/out-pq-$orders" --daily-only)"; d_pq=$w
row "$(label "dengta score --daily-only" "$l")" Parquet "$w" "$m"
read -r w m l <<<"$(median python3 scripts/duckdb_reference.py "$pq" 2025-01-01 2025-12-31 "$rules" "$work/duckdb-pq-$orders.csv" --format parquet)"; k_pq=$w
row "$(label "DuckDB reference" "$l")" Parquet "$w" "$m"
python3 scripts/compare_daily.py "$work/out-csv-$orders/daily_scores.csv" "$work/duckdb-csv-$orders.csv" "$rules"
# The four outputs take 7 GB at 50 M orders: removed before the incremental store is
# built (which needs about as much again), unless BENCH_KEEP_OUTPUT=1.
[ "${BENCH_KEEP_OUTPUT:-0}" = 1 ] || rm -rf "$work/out-csv-$orders" "$work/out-pq-$orders" "$work"/duckdb-*-"$orders".*
fi
# One incremental day: everything created before Dec 31 ingested month by month (not
# timed; `dengta ingest` holds a batch in memory, and a batch is meant to be a day),
# then the Dec 31 batch (timed).
inc="$work/inc-$orders"
if [ ! -f "$inc/store/manifest.json" ]; then
  rm -rf "$inc"; mkdir -p "$inc/last"
  python3 - "$data" "$inc" <<'PY'
import duckdb, os, sys
src, inc = sys.argv[1:]
created = {"orders": "paid_at", "reviews": "created_at", "chats": "started_at", "refunds": "requested_at",
           "disputes": "opened_at", "complaints": "filed_at"}
day = "CAST(CASE WHEN regexp_full_match({c}, '-?[0-9]+') THEN to_timestamp(CAST({c} AS BIGINT) / 1000) ELSE CAST({c} AS TIMESTAMPTZ) END AT TIME ZONE 'Asia/Shanghai' AS DATE)"
duckdb.sql("SET TimeZone = 'UTC'")
import glob, shutil
# One pass over each file: month 1..12 (December without the 31st), 13 for Dec 31.
part = ("CASE WHEN {d} >= DATE '2025-12-31' THEN 13 WHEN {d} < DATE '2025-01-01' THEN 1 "
        "ELSE month({d}) END")
for m in range(12):
    os.makedirs(f"{inc}/m{m + 1:02d}", exist_ok=True)
for t, c in created.items():
    f = f"{src}/{t}.csv"
    if not os.path.exists(f):
        continue
    rel = f"read_csv('{f}', header=true, all_varchar=true)"
    d = day.format(c=c)
    tmp = f"{inc}/parts/{t}"
    os.makedirs(f"{inc}/parts", exist_ok=True)
    duckdb.sql(f"COPY (SELECT *, {part.format(d=d)} AS dengta_part FROM {rel}) TO '{tmp}' "
               "(FORMAT csv, HEADER, PARTITION_BY (dengta_part), WRITE_PARTITION_COLUMNS false)")
    for m in range(1, 14):
        files = glob.glob(f"{tmp}/dengta_part={m}/*.csv")
        target = f"{inc}/last/{t}.csv" if m == 13 else f"{inc}/m{m:02d}/{t}.csv"
        with open(target, "wb") as out:
            for i, name in enumerate(sorted(files)):
                with open(name, "rb") as part_file:
                    header = part_file.readline()
                    if i == 0:
                        out.write(header)
                    shutil.copyfileobj(part_file, out)
                os.remove(name)  # the split never holds the events twice
shutil.rmtree(f"{inc}/parts", ignore_errors=True)
for t in ("stores", "exemptions"):
    if os.path.exists(f"{src}/{t}.csv"):
        os.system(f"cp '{src}/{t}.csv' '{inc}/m01/{t}.csv'")
PY
  for m in 01 02 03 04 05 06 07 08 09 10 11 12; do
    last=$(python3 -c "import calendar; m=int('$m'); print(f'2025-{m:02d}-' + ('30' if m == 12 else str(calendar.monthrange(2025, m)[1])))")
    from=(); [ "$m" = 01 ] && from=(--from 2025-01-01)
    "$bin" ingest "$inc/m$m" --into "$inc/store" "${from[@]}" --day "$last" >&2
  done
fi
# A nightly batch follows one committed in the same boot of the system: the store
# is brought there first when it was committed in another (the first batch after a
# reboot looks through every folder; it is timed on its own below).
python3 scripts/commit-in-this-boot.py "$bin" "$inc/store"
# Times `dengta ingest BATCH --into COPY ARGS...` three times, each on a fresh copy
# of the store ($TIME_FROM when set), prints the median's row and leaves its wall time in $median. Each
# copy is written out (sync), left for 10 s, and the disk let settle
# (scripts/settle-disk.py) before timing: right after a copy of the store the
# batch's first fsync can wait up to 12 ms for the disk, which a store last written
# by yesterday's batch does not.
time_ingest() {
  local label=$1 batch=$2 runs=() i w m src=${TIME_FROM:-$inc/store}
  shift 2
  for i in 1 2 3; do
    rm -rf "$inc/run"; cp -r "$src" "$inc/run"; sync; sleep 10
    python3 scripts/settle-disk.py "$inc"
    read -r w m <<<"$(measure "$bin" ingest "$batch" --into "$inc/run" "$@")"
    runs+=("$w $m")
  done
  read -r w m <<<"$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)"; median=$w
  row "dengta ingest ($label; median of $(printf '%s s, ' "${runs[@]%% *}" | sed 's/, $//'))" CSV "$w" "$m"
}
time_ingest "one day, Dec 31" "$inc/last" --day 2025-12-31; d_inc=$median
# The same batch as the first after a reboot: the store committed in another boot.
rm -rf "$inc/rebooted"; cp -r "$inc/store" "$inc/rebooted"
python3 - "$inc/rebooted/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["boot_id"] = "a boot before this one"
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
TIME_FROM="$inc/rebooted" time_ingest "one day, Dec 31, the first batch after a reboot" "$inc/last" --day 2025-12-31
rm -rf "$inc/rebooted"
# A late batch: one order paid on Feb 15 and its review of Feb 20, for the first
# store, into the store holding Jan 1 to Dec 30 (its 90-day window: 95 days
# rescored for that store; the sums kept apart as corrections).
mkdir -p "$inc/late"
python3 - "$inc/m01/stores.csv" "$inc/late" <<'PY'
import csv, sys
stores, late = sys.argv[1:]
with open(stores, newline="", encoding="utf-8-sig") as f:
    store = next(csv.DictReader(f))
sid, cat = store["store_id"], store["main_category"]
with open(f"{late}/orders.csv", "w") as f:
    f.write("order_id,store_id,item_id,category,paid_at,amount,picked_up_at\n")
    f.write(f"O-LATE-1,{sid},{sid}-I1,{cat},2025-02-15T10:00:00+08:00,84.00,2025-02-16T09:00:00+08:00\n")
with open(f"{late}/reviews.csv", "w") as f:
    f.write("review_id,order_id,store_id,item_id,created_at,item_score,service_score,logistics_score\n")
    f.write(f"R-LATE-1,O-LATE-1,{sid},{sid}-I1,2025-02-20T10:00:00+08:00,2,3,4\n")
PY
time_ingest "one order and its review, 10 months late" "$inc/late"; d_late=$median
[ "$skip_full" = 1 ] && exit 0
python3 - "$d_csv" "$k_csv" "$d_pq" "$k_pq" "$d_inc" "$d_late" <<'PY'
import sys
d_csv, k_csv, d_pq, k_pq, d_inc, d_late = map(float, sys.argv[1:])
print(f"\nratio dengta/DuckDB: CSV {d_csv / k_csv:.2f}, Parquet {d_pq / k_pq:.2f}; incremental day / full year (CSV): {100 * d_inc / d_csv:.2f} %; late order / full year: {100 * d_late / d_csv:.2f} %")
PY
