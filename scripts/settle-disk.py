#!/usr/bin/env python3
"""Waits until the disk under DIR flushes promptly again, before a timed run.

    scripts/settle-disk.py DIR [--max-seconds 20] [--below-ms 1.0]

Right after the benchmark copies a store (tens or hundreds of MB), and even after
`sync` and a 10 s pause, the next fsync on that file system on these virtual
machines still waits 2-12 ms now and then (measured: a probe file's fsync after
`cp -r STORE; sync; sleep 8` took 0.7-12 ms, versus 0.2-0.5 ms on a quiet disk).
A timed `dengta ingest` would pay that wait in its first fsync, for a copy the
harness made, which a store last written by yesterday's batch never does. So the
harness calls this first: it writes and fsyncs a probe file in DIR every 50 ms
until two fsyncs in a row take less than --below-ms, then deletes the probe. The
ingest's own fsyncs are all still timed.
"""

import argparse
import os
import sys
import time

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("dir")
ap.add_argument("--max-seconds", type=float, default=20.0)
ap.add_argument("--below-ms", type=float, default=1.0)
a = ap.parse_args()

probe = os.path.join(a.dir, f".settle-probe-{os.getpid()}")
deadline = time.monotonic() + a.max_seconds
quick, waits = 0, []
try:
    while quick < 2 and time.monotonic() < deadline:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, b"x" * 4096)
            t = time.perf_counter()
            os.fsync(fd)
            ms = (time.perf_counter() - t) * 1000
        finally:
            os.close(fd)
        waits.append(ms)
        quick = quick + 1 if ms < a.below_ms else 0
        time.sleep(0.05)
finally:
    if os.path.exists(probe):
        os.remove(probe)
if quick < 2:
    print(f"settle-disk: the disk under {a.dir} did not settle in {a.max_seconds} s "
          f"(fsync waits, ms: {', '.join(f'{w:.1f}' for w in waits[-5:])})", file=sys.stderr)
