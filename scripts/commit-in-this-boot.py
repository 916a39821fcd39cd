#!/usr/bin/env python3
"""Commits a dengta store in this boot of the system, when it was last committed in
another (the nightly steady state the benchmarks time).

    scripts/commit-in-this-boot.py DENGTA_BINARY STORE_DIR

A store's manifest records the boot that committed it (`boot_id`), and the first
batch after a reboot looks through every folder of the store for leftovers of a
power cut (crates/engine/src/incremental.rs). A nightly batch follows one committed
in the same boot, so before timing one the store is brought there by an empty batch,
which changes nothing else. Does nothing when the manifest already names this boot,
or when the system names no boots.
"""

import json
import os
import subprocess
import sys


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    binary, store = sys.argv[1:]
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        return
    with open(os.path.join(store, "manifest.json")) as f:
        if json.load(f).get("boot_id") == boot:
            return
    empty = os.path.join(os.path.dirname(os.path.abspath(store)), "empty")
    os.makedirs(empty, exist_ok=True)
    subprocess.run([binary, "ingest", empty, "--into", store], check=True, stdout=sys.stderr)


if __name__ == "__main__":
    main()
