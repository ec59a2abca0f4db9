"""lakepipe benchmarks, side by side with their peers in the same run.

    bench/run.py [--quick] [--records N] [--reps R]

Case "singer-ingest": one recorded Singer tap output (bench/singer_records.py, fixed seed,
12 columns with strings, ints, floats, timestamps and a nested object) replayed by
bench/replay_tap.sh into zstd Parquet on a local bucket, by lakepipe and by DataSpoc Pipe
(pinned, in its own venv under .deps/bench). Runs alternate, after one warm-up each; the
table reports median/min/max wall time, records/s, the ratio of medians and peak RSS, and
every run's output is checked with pyarrow (row count) before its time counts.
Results go to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DEPS = ROOT / ".deps"
PEER_VENV = DEPS / "bench" / "dataspoc-pipe"
PEER = "dataspoc-pipe==0.2.0"


def ensure_peer() -> Path:
    exe = PEER_VENV / "bin" / "dataspoc-pipe"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", PEER], check=True)
    return exe


def measured(argv, env=None, cwd=None):
    """Wall seconds and peak RSS (MiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv[0]} failed: {err[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def count_rows(folder: Path) -> int:
    import pyarrow.dataset as ds
    return ds.dataset(str(folder), format="parquet").count_rows()


def singer_ingest(records: int, reps: int, work: Path, lakepipe: Path) -> dict:
    data = work / f"records-{records}.jsonl"
    subprocess.run([sys.executable, str(BENCH / "singer_records.py"), "--records", str(records),
                    "--out", str(data), "--timestamps", "naive"], check=True)
    config = work / "replay.json"
    config.write_text(json.dumps({"path": str(data)}))
    tap = str(BENCH / "replay_tap.sh")

    # lakepipe: its own home with one pipeline file.
    home = work / "lakepipe-home"
    (home / "pipelines").mkdir(parents=True, exist_ok=True)
    lake = work / "lakepipe-lake"
    (home / "pipelines" / "bench.yaml").write_text(
        f"source: {{tap: {tap}, config: {config}}}\n"
        f"destination: {{bucket: {lake}, compression: zstd}}\n")
    # DataSpoc Pipe: the same pipeline in its home (~/.dataspoc-pipe under a fake HOME).
    peer = ensure_peer()
    peer_home = work / "peer-home"
    (peer_home / ".dataspoc-pipe" / "pipelines").mkdir(parents=True, exist_ok=True)
    peer_lake = work / "peer-lake"
    (peer_home / ".dataspoc-pipe" / "pipelines" / "bench.yaml").write_text(
        f"source:\n  tap: {tap}\n  config: {config}\n"
        f"destination:\n  bucket: file://{peer_lake}\n  path: raw\n  compression: zstd\n")

    def run_lakepipe():
        shutil.rmtree(lake, ignore_errors=True)
        result = measured([str(lakepipe), "--home", str(home), "run", "bench"])
        assert count_rows(lake / "raw") == records
        return result

    def run_peer():
        shutil.rmtree(peer_lake, ignore_errors=True)
        result = measured([str(peer), "run", "bench"], env={**os.environ, "HOME": str(peer_home)})
        assert count_rows(peer_lake / "raw") == records
        return result

    runs = {"lakepipe": [], "dataspoc-pipe": []}
    run_lakepipe(), run_peer()  # warm-up: page cache, Python imports
    for _ in range(reps):
        runs["lakepipe"].append(run_lakepipe())
        runs["dataspoc-pipe"].append(run_peer())
    return {"case": f"Singer JSON → zstd Parquet, {records:,} records, local bucket",
            "records": records, "runs": runs, "input_bytes": data.stat().st_size}


def summarize(result: dict) -> str:
    lines = [f"### {result['case']}", "",
             f"Input: {result['input_bytes'] / 2**20:.0f} MiB of Singer messages.", "",
             "| tool | median s | min s | max s | records/s (median) | peak RSS MiB (max) |",
             "|---|---|---|---|---|---|"]
    medians = {}
    for tool, runs in result["runs"].items():
        seconds = [r[0] for r in runs]
        rss = max(r[1] for r in runs)
        medians[tool] = statistics.median(seconds)
        lines.append(f"| {tool} | {medians[tool]:.2f} | {min(seconds):.2f} | {max(seconds):.2f} | "
                     f"{result['records'] / medians[tool]:,.0f} | {rss:.0f} |")
    ratio = medians["dataspoc-pipe"] / medians["lakepipe"]
    lines += ["", f"lakepipe is **{ratio:.1f}×** DataSpoc Pipe's throughput (ratio of medians).", ""]
    return "\n".join(lines)


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lakepipe_version = subprocess.run([str(ROOT / "build" / "lakepipe"), "--version"],
                                      capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores, {mem:.0f} GiB, {platform.platform()}, "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; "
            f"{lakepipe_version}; peer {PEER}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small inputs, a few minutes")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    records = args.records or (200_000 if args.quick else 1_000_000)
    lakepipe = ROOT / "build" / "lakepipe"
    with tempfile.TemporaryDirectory(prefix="lakepipe-bench-") as tmp:
        result = singer_ingest(records, args.reps, Path(tmp), lakepipe)
    text = "\n".join(["# lakepipe benchmark results", "",
                      f"Machine: {machine()}.", "",
                      f"Command: `bench/run.py{' --quick' if args.quick else ''}` "
                      f"({args.reps} alternating repetitions after a warm-up).", "",
                      summarize(result)])
    (BENCH / "RESULTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
