#!/usr/bin/env bash
# End-to-end benchmark of `dengta score`: generate STORES x DAYS, score it, report
# wall time, CPU time and peak memory, beside a reference run on the same machine in
# the same run (Python's csv module splitting every field of the same CSV files, the
# cost of merely parsing the input), so the ratio is comparable across noisy, shared
# machines.
#
#   scripts/bench-score.sh [STORES] [DAYS]      (default 1000 120)
set -euo pipefail
cd "$(dirname "$0")/.."
stores=${1:-1000}
days=${2:-120}
work=${BENCH_DIR:-/tmp/dengta-bench}
data="$work/data-${stores}x${days}"
out="$work/out-${stores}x${days}"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "needs python3 for the reference run" >&2; exit 1; }

cargo build --release --bin dengta >&2
bin=target/release/dengta
[ -d "$data" ] || "$bin" generate "$data" --stores "$stores" --days "$days" --seed 42 >&2
last=$(date -d "2025-01-01 + $((days - 1)) days" +%F)

measure() { /usr/bin/time -f "%e %U %S %M" "$@" 2>&1 >/dev/null | tail -1; }
ref=$(measure python3 -c 'import csv, glob, sys
print(sum(sum(len(r) for r in csv.reader(open(f, newline=""))) for f in glob.glob(sys.argv[1] + "/*.csv")))' "$data")
run=$(DENGTA_LOG=info measure "$bin" score "$data" --from 2025-01-01 --to "$last" --out "$out")
read -r ref_wall _ _ _ <<<"$ref"
read -r wall user sys rss <<<"$run"
echo "dataset: $stores stores x $days days, $(du -sh "$data" | cut -f1) of CSV, $(($(wc -l <"$data/orders.csv") - 1)) orders"
python3 - "$wall" "$user" "$sys" "$rss" "$ref_wall" <<'PY'
import sys
wall, user, sys_, rss, ref = map(float, sys.argv[1:])
print(f"dengta score: wall {wall:.2f}s, cpu {user + sys_:.2f}s, peak RSS {rss / 1024:.0f} MiB")
print(f"reference (Python csv parse of the same files): wall {ref:.2f}s")
print(f"ratio dengta / reference: {wall / ref:.2f}")
PY
