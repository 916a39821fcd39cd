#!/usr/bin/env python3
"""Runs a command and prints its wall time in seconds and its peak RSS in KiB.

    scripts/measure.py CMD [ARG...]      ->  "1.234 56789"

The command's output is discarded; a failing command's stderr is shown and the exit
status passed on. The clock starts just before the process is spawned and stops
when it has been reaped (`wait4`, which also gives the peak RSS), so what is timed
is the command alone: no shell, `date` or GNU time processes around it (those added
4-6 ms to every run, measured on `/bin/true`, which matters for a 30 ms ingest).
The peak RSS is the kernel's for the child, which keeps the spawning Python's own
high-water mark across the exec: no figure reads below some 13 MiB (`/bin/true`
reads 13 MiB); every dengta run is far above it.
"""

import os
import sys
import tempfile
import time

if len(sys.argv) < 2:
    sys.exit(__doc__)
argv = sys.argv[1:]
with open(os.devnull, "wb") as null, tempfile.TemporaryFile() as err:
    actions = [
        (os.POSIX_SPAWN_DUP2, null.fileno(), 1),
        (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
    ]
    t0 = time.perf_counter()
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    except OSError as e:
        sys.exit(f"measure.py: cannot run {argv[0]}: {e}")
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        err.seek(0)
        sys.stderr.write(err.read().decode(errors="replace"))
        sys.exit(code if code > 0 else 1)
print(f"{wall:.3f} {usage.ru_maxrss}")
