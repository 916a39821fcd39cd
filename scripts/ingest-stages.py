#!/usr/bin/env python3
"""Where one nightly `dengta ingest` spends its time, stage by stage.

    scripts/ingest-stages.py [--orders 1000000] [--runs 8] [--wait 3] [--binary PATH[=STORE]]...

Needs the store that `scripts/bench-duckdb.sh ORDERS` builds
(`$BENCH_DIR/inc-ORDERS/store`, by default under /tmp/dengta-bench). Each run
copies that store (`cp -a`), syncs, waits `--wait` seconds, then ingests the
Dec 31 batch into the copy with `DENGTA_LOG=info` and takes the stage times from
the log's `seconds=` fields (time since the ingest started); first, when the store
was last committed in another boot of the system, an empty batch commits it in
this one (scripts/commit-in-this-boot.py, as in the bench). `outside` is the wall
time minus the last of them: process start, printing, shutdown. With several
`--binary`, runs alternate between them (same machine, same minutes); `PATH=STORE`
times PATH on copies of STORE (a store in that binary's format). Prints one
row per run, in ms, and the median of each column per binary.

With `--marks`, the runs log at debug level (`DENGTA_LOG=dengta_engine=debug`) and
what is printed is, per binary, the median time from each log line to the next
(from the lines' timestamps; the first from the spawn, the last to the exit):
the stages split further.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import datetime

STAGES = ["read", "ids", "aggregate", "write", "load", "score", "commit"]


def log_marks(stderr, spawned, ended):
    """`(message, ms since the previous line)` of each log line, then the exit."""
    marks, last = [], spawned
    for line in re.sub(r"\x1b\[[0-9;]*m", "", stderr).splitlines():
        m = re.match(r"(\S+)Z\s+(?:INFO|DEBUG)\s+\S+:\s+(.*?)(?:\s+\w+=\S+)*$", line)
        if m:
            at = datetime.fromisoformat(m.group(1) + "+00:00").timestamp()
            marks.append((m.group(2), (at - last) * 1000))
            last = at
    return marks + [("(printing and exit)", (ended - last) * 1000)]


def one_run(binary, store, base, copy, wait, marks=False):
    shutil.rmtree(copy, ignore_errors=True)
    subprocess.run(["cp", "-a", store, copy], check=True)
    subprocess.run(["sync"], check=True)
    time.sleep(wait)
    settle = os.path.join(os.path.dirname(os.path.abspath(__file__)), "settle-disk.py")
    subprocess.run(["python3", settle, os.path.dirname(os.path.abspath(copy))], check=True)
    env = dict(os.environ, DENGTA_LOG="dengta_engine=debug" if marks else "info", NO_COLOR="1")
    cmd = [binary, "ingest", os.path.join(base, "last"), "--into", copy, "--day", "2025-12-31"]
    spawned = time.time()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = (time.perf_counter() - t0) * 1000
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    if marks:
        return log_marks(p.stderr, spawned, spawned + wall / 1000)
    log = re.sub(r"\x1b\[[0-9;]*m", "", p.stderr)
    marks = [float(x) * 1000 for x in re.findall(r"seconds=([0-9.]+)", log)]
    if len(marks) != len(STAGES):
        raise SystemExit(f"expected {len(STAGES)} stage lines in the log, found {len(marks)}:\n{log}")
    stages = [marks[0]] + [b - a for a, b in zip(marks, marks[1:])]
    return [wall] + stages + [wall - marks[-1]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", default="1000000")
    ap.add_argument("--runs", type=int, default=8, help="runs per binary")
    ap.add_argument("--wait", type=float, default=3.0, help="seconds between the copy's sync and the ingest")
    ap.add_argument(
        "--binary",
        action="append",
        help="default: target/release/dengta; PATH=STORE times PATH on copies of STORE instead of the bench's store "
        "(for binaries whose store formats differ)",
    )
    ap.add_argument("--marks", action="store_true", help="median time between debug log lines instead")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binaries = a.binary or [os.path.join(root, "target", "release", "dengta")]
    base = os.path.join(os.environ.get("BENCH_DIR", "/tmp/dengta-bench"), f"inc-{a.orders}")
    if not os.path.exists(os.path.join(base, "store", "manifest.json")):
        raise SystemExit(f"no store at {base}/store: run scripts/bench-duckdb.sh {a.orders} first")
    stores = {b: b.split("=", 1)[1] if "=" in b else os.path.join(base, "store") for b in binaries}
    # A nightly batch follows one committed in the same boot (as in the bench).
    here = os.path.dirname(os.path.abspath(__file__))
    for store in sorted(set(stores.values())):
        committer = next(b for b in binaries if stores[b] == store).split("=", 1)[0]
        subprocess.run(["python3", os.path.join(here, "commit-in-this-boot.py"), committer, store], check=True)
    header = ["wall"] + STAGES + ["outside"]
    rows = {b: [] for b in binaries}
    with tempfile.TemporaryDirectory(dir=os.path.dirname(base)) as tmp:
        copy = os.path.join(tmp, "store")
        for _ in range(a.runs):
            for b in binaries:
                rows[b].append(one_run(b.split("=", 1)[0], stores[b], base, copy, a.wait, a.marks))
    if a.marks:
        for b in binaries:
            print(b)
            by_name = {}
            for run in rows[b]:
                for name, ms in run:
                    by_name.setdefault(name, []).append(ms)
            for name, values in by_name.items():
                print(f"{statistics.median(values):9.2f}  {name}")
        return
    for b in binaries:
        print(b)
        print(" ".join(f"{h:>9}" for h in header))
        for r in rows[b]:
            print(" ".join(f"{x:9.1f}" for x in r))
        print(" ".join(f"{statistics.median(c):9.1f}" for c in zip(*rows[b])) + "  median")


if __name__ == "__main__":
    main()
