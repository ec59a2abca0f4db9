"""One process, timed and measured: wall seconds, peak RSS and its stdout.

Peak RSS comes from GNU time (`/usr/bin/time -f %M`), not from wait4() in this process: a
child forked from a large Python process (pyarrow loaded, inputs in memory) inherits the
parent's resident pages until it execs, and Linux keeps that high-water mark in the child's
ru_maxrss, so wait4() reported this script's size for every tool. GNU time is a small
process, so the peak it reports belongs to the measured program (and its children).
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import time

GNU_TIME = "/usr/bin/time"


def run_measured(argv, env=None, cwd=None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stdout) of `argv`; RuntimeError with stderr's tail if it
    fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        proc = subprocess.run([GNU_TIME, "-f", "%M", "-o", peak.name, *map(str, argv)],
                              cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        out.seek(0), err.seek(0)
        text, error = out.read().decode(), err.read().decode()
        report = peak.read().split()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv[:4]))} failed ({proc.returncode}): "
                           f"{error[-3000:]}{text[-2000:]}")
    return seconds, int(report[-1]) / 1024, text
