"""Exit 0 (and print the pids) if a Snakemake process other than this one's ancestors works in DIR, else 1.

    python tools/snakemake_running.py DIR

`make reproduce` asks this before it removes Snakemake's lock: a plain `snakemake` started in the same directory
(not through make, so not covered by make's flock) still holds that lock legitimately. A Snakemake process is one
whose program or first argument is named `snakemake` (`snakemake ...` or `python .../snakemake ...`); its working
directory is read from /proc (Linux).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def snakemake_pids(directory: str) -> list[int]:
    target = os.path.realpath(directory)
    mine = {os.getpid(), os.getppid()}
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in mine:
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.path.realpath(os.readlink(proc / "cwd"))
        except OSError:  # gone, or not ours to read
            continue
        if cwd == target and any(os.path.basename(a.decode(errors="replace")) == "snakemake" for a in argv[:2]):
            found.append(int(proc.name))
    return found


if __name__ == "__main__":
    pids = snakemake_pids(sys.argv[1] if len(sys.argv) > 1 else ".")
    if pids:
        print(" ".join(map(str, pids)))
    sys.exit(0 if pids else 1)
