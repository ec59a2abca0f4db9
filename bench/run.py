"""lakepipe benchmarks, side by side with their peers in the same run.

    bench/run.py [--quick] [--records N] [--rows N] [--flow-rows N] [--reps R]
                 [--case singer-ingest|flow-sql|flow ...]

Case "singer-ingest": one recorded Singer tap output (bench/singer_records.py, fixed seed,
12 columns with strings, ints, floats, timestamps and a nested object) replayed by
bench/replay_tap.sh into zstd Parquet on a local bucket, by lakepipe and by DataSpoc Pipe
(pinned, in its own venv under .deps/bench). Runs alternate, after one warm-up each; the
table reports median/min/max wall time, records/s, the ratio of medians and peak RSS, and
every run's output is checked with pyarrow (row count) before its time counts.
Cases "flow-sql" (one SQL task vs DuckDB's COPY) and "flow" (3 stages, 10 tasks, cold and
cached, vs pydiverse.pipedag) live in bench/flow_cases.py.
Results go to bench/RESULTS.md; a run of some cases replaces only their sections.
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

import file_cases
import flow_cases
import postgres_cases
import upload_cases
from measure import run_measured

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DEPS = ROOT / ".deps"
PEER_VENV = DEPS / "bench" / "dataspoc-pipe"
PEER = "dataspoc-pipe==0.2.0"
LIMIT = ROOT / "build" / "lakepipe_parse_compress_limit"


def ensure_peer() -> Path:
    exe = PEER_VENV / "bin" / "dataspoc-pipe"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", PEER], check=True)
    return exe


def measured(argv, env=None, cwd=None):
    """Wall seconds and peak RSS (MiB) of one process (bench/measure.py)."""
    seconds, rss, _ = run_measured(argv, env=env, cwd=cwd)
    return seconds, rss


def count_rows(folder: Path) -> int:
    import pyarrow.dataset as ds
    return ds.dataset(str(folder), format="parquet").count_rows()


def singer_input(records: int, work: Path) -> Path:
    """The recorded tap output of `records` records (bench/singer_records.py), made once."""
    data = work / f"records-{records}.jsonl"
    if not data.exists():
        subprocess.run([sys.executable, str(BENCH / "singer_records.py"), "--records",
                        str(records), "--out", str(data), "--timestamps", "naive"], check=True)
    return data


def singer_ingest(records: int, reps: int, work: Path, lakepipe: Path) -> dict:
    data = singer_input(records, work)
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

    def run_limit():
        out = subprocess.run([str(LIMIT), str(data), "1"], check=True, capture_output=True,
                             text=True).stdout
        limit = json.loads(out)
        assert limit["records"] == records + 2  # the SCHEMA and STATE lines are parsed too
        return limit["parse_seconds"] + limit["compress_seconds"], limit

    runs = {"lakepipe": [], "dataspoc-pipe": []}
    limits = []
    run_lakepipe(), run_peer(), run_limit()  # warm-up: page cache, Python imports
    for _ in range(reps):
        runs["lakepipe"].append(run_lakepipe())
        runs["dataspoc-pipe"].append(run_peer())
        limits.append(run_limit())
    return {"case": f"Singer JSON → zstd Parquet, {records:,} records, local bucket",
            "records": records, "runs": runs, "input_bytes": data.stat().st_size,
            "limits": limits}


def replicated_tap_output(data: Path, times: int, out: Path) -> int:
    """`data` (one SCHEMA, RECORDs, a STATE) with its RECORD lines `times` times over: a
    10× input in seconds instead of generating it. Returns the number of RECORDs."""
    lines = data.read_bytes().split(b"\n")
    schema, body, state = lines[0], lines[1:-2], lines[-2]
    assert schema.startswith(b'{"type": "SCHEMA"') and state.startswith(b'{"type": "STATE"')
    chunk = b"\n".join(body) + b"\n"
    with open(out, "wb") as f:
        f.write(schema + b"\n")
        for _ in range(times):
            f.write(chunk)
        f.write(state + b"\n")
    return len(body) * times


def singer_memory(records: int, work: Path, lakepipe: Path) -> dict:
    """Peak RSS of one run at `records` and at 10× that, for lakepipe and DataSpoc Pipe, on
    the singer-ingest input (generated by singer_ingest() first)."""
    small = singer_input(records, work)
    big = work / f"records-{records}-x10.jsonl"
    big_records = replicated_tap_output(small, 10, big)
    peer = ensure_peer()
    rows = []
    for path, n in [(small, records), (big, big_records)]:
        config = work / f"memory-{n}.json"
        config.write_text(json.dumps({"path": str(path)}))
        tap = str(BENCH / "replay_tap.sh")
        home, lake = work / f"memory-home-{n}", work / f"memory-lake-{n}"
        (home / "pipelines").mkdir(parents=True, exist_ok=True)
        (home / "pipelines" / "bench.yaml").write_text(
            f"source: {{tap: {tap}, config: {config}}}\n"
            f"destination: {{bucket: {lake}, compression: zstd}}\n")
        seconds, rss = measured([str(lakepipe), "--home", str(home), "run", "bench"])
        assert count_rows(lake / "raw") == n
        shutil.rmtree(lake)
        rows.append(("lakepipe", n, path.stat().st_size, seconds, rss))
        peer_home, peer_lake = work / f"memory-peer-home-{n}", work / f"memory-peer-lake-{n}"
        (peer_home / ".dataspoc-pipe" / "pipelines").mkdir(parents=True, exist_ok=True)
        (peer_home / ".dataspoc-pipe" / "pipelines" / "bench.yaml").write_text(
            f"source:\n  tap: {tap}\n  config: {config}\n"
            f"destination:\n  bucket: file://{peer_lake}\n  path: raw\n  compression: zstd\n")
        seconds, rss = measured([str(peer), "run", "bench"],
                                env={**os.environ, "HOME": str(peer_home)})
        assert count_rows(peer_lake / "raw") == n
        shutil.rmtree(peer_lake)
        rows.append(("dataspoc-pipe", n, path.stat().st_size, seconds, rss))
    big.unlink()
    return {"rows": rows}


def summarize_memory(result: dict) -> str:
    lines = ["### Peak memory of Singer ingest, 1× and 10× the input", "",
             "The singer-ingest input, and its RECORD lines repeated 10 times (one SCHEMA, one "
             "STATE); one run each, peak RSS from GNU time.", "",
             "| tool | records | input MiB | s | peak RSS MiB |", "|---|---|---|---|---|"]
    for tool, n, size, seconds, rss in result["rows"]:
        lines.append(f"| {tool} | {n:,} | {size / 2**20:,.0f} | {seconds:.1f} | {rss:.0f} |")
    peak = {(tool, n): rss for tool, n, _, _, rss in result["rows"]}
    sizes = sorted({n for _, n, _, _, _ in result["rows"]})
    small, big = peak[("lakepipe", sizes[0])], peak[("lakepipe", sizes[-1])]
    lines += ["", f"lakepipe: {small:.0f} MiB at {sizes[0]:,} records, {big:.0f} MiB at "
              f"{sizes[-1]:,} ({big / small:.2f}× for 10× the input; target: flat, ≤ 256 MiB "
              f"— {'holds' if big <= 256 and big / small < 1.25 else 'does not hold'}).", ""]
    return "\n".join(lines)


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
    lines += ["", f"lakepipe is **{ratio:.1f}×** DataSpoc Pipe's throughput (ratio of medians; "
              "target ≥ 30×).", ""]
    if result.get("limits"):
        limit_seconds = statistics.median(s for s, _ in result["limits"])
        first = result["limits"][0][1]
        share = limit_seconds / medians["lakepipe"]
        lines += ["Parse + compress limit (`build/lakepipe_parse_compress_limit`, "
                  "bench/limit/parse_compress_limit.cc): one core parses every line with "
                  "simdjson On-Demand, visiting every value, then compresses the same bytes with "
                  f"zstd level 1 (lakepipe's Parquet level): median {limit_seconds:.2f} s "
                  f"(parse {first['parse_seconds']:.2f} s, compress "
                  f"{first['compress_seconds']:.2f} s in the first run), "
                  f"{result['records'] / limit_seconds:,.0f} records/s. lakepipe's whole run "
                  f"(process start to exit, tap included) reaches **{share:.0%}** of that "
                  "limit (target ≥ 40%).", ""]
    return "\n".join(lines)


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lakepipe_version = subprocess.run([str(ROOT / "build" / "lakepipe"), "--version"],
                                      capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores, {mem:.0f} GiB, {platform.platform()}, "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; "
            f"{lakepipe_version}; peers {PEER}, duckdb {duckdb_version()} (Python), "
            f"{flow_cases.PIPEDAG} (pins: {', '.join(flow_cases.PIPEDAG_PINS[1:])})")


def duckdb_version() -> str:
    import duckdb
    return duckdb.__version__


CASES = ["singer-ingest", "singer-memory", "csv-parquet", "postgres-ingest", "s3-upload", "flow-sql", "flow"]


def merge_results(sections: dict, header: str) -> str:
    """RESULTS.md with `sections` (case key → text) replacing those cases' old sections and
    the other cases' sections kept from the previous file."""
    old = {}
    path = BENCH / "RESULTS.md"
    previous = path.read_text() if path.exists() else ""
    if previous:
        for part in previous.split("\n<!-- case: ")[1:]:
            key, _, text = part.partition(" -->\n")
            old[key] = text.rstrip("\n") + "\n"
    old.update(sections)
    # "profile" is written by hand (profiles, fixes and before/after figures) and kept.
    body = [f"<!-- case: {key} -->\n{old[key]}" for key in [*CASES, "profile"] if key in old]
    return header + "\n" + "\n".join(body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small inputs, a few minutes")
    parser.add_argument("--records", type=int, default=None, help="singer-ingest records")
    parser.add_argument("--rows", type=int, default=None, help="flow-sql input rows")
    parser.add_argument("--flow-rows", type=int, default=None, help="flow input (orders) rows")
    parser.add_argument("--file-rows", type=int, default=None,
                        help="csv-parquet rows (full 90M: a 5 GB CSV)")
    parser.add_argument("--pg-rows", type=int, default=None, help="postgres-ingest rows (full 10M)")
    parser.add_argument("--upload-mb", type=int, default=None, help="s3-upload MiB (full 1024)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--case", action="append", choices=CASES,
                        help="run only this case (repeatable; default: all)")
    args = parser.parse_args()
    cases = args.case or CASES
    records = args.records or (200_000 if args.quick else 1_000_000)
    rows = args.rows or (2_000_000 if args.quick else 20_000_000)
    flow_rows = args.flow_rows or (2_000_000 if args.quick else 10_000_000)
    file_rows = args.file_rows or (4_000_000 if args.quick else 90_000_000)
    pg_rows = args.pg_rows or (1_000_000 if args.quick else 10_000_000)
    upload_mb = args.upload_mb or (256 if args.quick else 1024)
    lakepipe = ROOT / "build" / "lakepipe"
    command = " ".join(["bench/run.py", *sys.argv[1:]])
    stamp = f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}"
    load = os.getloadavg()[0]
    sections = {}
    with tempfile.TemporaryDirectory(prefix="lakepipe-bench-") as tmp:
        if "singer-ingest" in cases:
            result = singer_ingest(records, args.reps, Path(tmp), lakepipe)
            sections["singer-ingest"] = summarize(result)
        if "singer-memory" in cases:
            result = singer_memory(records, Path(tmp), lakepipe)
            sections["singer-memory"] = summarize_memory(result)
        if "csv-parquet" in cases:
            result = file_cases.csv_parquet_case(file_rows, args.reps, Path(tmp), lakepipe)
            sections["csv-parquet"] = file_cases.summarize_csv_parquet(result)
        if "postgres-ingest" in cases:
            tap_rows = 100_000 if args.quick else 1_000_000
            result = postgres_cases.postgres_case(pg_rows, tap_rows, args.reps, Path(tmp),
                                                  lakepipe, ensure_peer())
            sections["postgres-ingest"] = postgres_cases.summarize_postgres(result)
        if "s3-upload" in cases:
            result = upload_cases.s3_upload_case(upload_mb, args.reps, Path(tmp), lakepipe)
            sections["s3-upload"] = upload_cases.summarize_s3_upload(result)
        if "flow-sql" in cases:
            result = flow_cases.flow_sql_case(rows, args.reps, Path(tmp), lakepipe)
            sections["flow-sql"] = flow_cases.summarize_flow_sql(result)
        if "flow" in cases:
            result = flow_cases.flow_case(flow_rows, args.reps, Path(tmp), lakepipe)
            sections["flow"] = flow_cases.summarize_flow(result)
    run_line = (f"Command: `{command}` ({args.reps} alternating repetitions after a warm-up), "
                f"{stamp}; load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at "
                "the end (above ~0.5, other work shared the cores).")
    for key in sections:
        sections[key] = sections[key].replace("\n\n", f"\n\n{run_line}\n\n", 1)
    header = "\n".join(["# lakepipe benchmark results", "", f"Machine: {machine()}.", ""])
    text = merge_results(sections, header)
    (BENCH / "RESULTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
