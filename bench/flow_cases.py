"""Flow benchmark cases for bench/run.py (see bench/README.md).

- "flow-sql": one SQL task → Parquet table. The same join + GROUP BY (bench/flow_sql.py)
  as a one-task lakepipe flow (`lakepipe flow run --force`, reading the input with
  read_parquet('/abs/path') inside the task, so no read stage is timed) and as DuckDB's
  `COPY (SELECT …) TO 'out.parquet' (FORMAT parquet, COMPRESSION zstd)` in Python.
- "flow": a 3-stage, 10-task flow (2 reads, 4 + 4 SQL tasks) in lakepipe and in
  pydiverse.pipedag with its ParquetTableStore, cold (store deleted) and cached (an
  unchanged second run).

Both run each tool as its own process, alternating, after a warm-up, and check every
run's output (row counts, cache hits, untouched files on cached runs) before its time counts.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import flow_data  # noqa: E402
import flow_sql  # noqa: E402
from measure import run_measured  # noqa: E402

ROOT = BENCH.parent
PIPEDAG_VENV = ROOT / ".deps" / "bench" / "pipedag"
# pydiverse-pipedag pinned, with what its FileLockManager needs (filelock) and two pins of
# its dependencies: SQLAlchemy 2.0.45+ breaks duckdb_engine 0.15's table reflection
# ("Type with name REGCLASS does not exist", duckdb_engine issues 1379/1388), and DuckDB is
# the version lakepipe embeds, so both tools run the same engine.
PIPEDAG_PINS = ["pydiverse-pipedag==0.12.15", "filelock==4.2.11", "sqlalchemy==2.0.44",
                "duckdb==1.5.5"]
PIPEDAG = PIPEDAG_PINS[0]


def timed(argv, cwd=None, env=None):
    """(seconds, peak RSS MiB, stdout) of one process (bench/measure.py)."""
    return run_measured(argv, env=env, cwd=cwd)


def catalog_counts(catalog: Path, tables) -> dict:
    con = duckdb.connect(str(catalog), read_only=True)
    try:
        return {f"{s}.{t}": con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0]
                for s, t in tables}
    finally:
        con.close()


def parquet_state(folder: Path) -> dict:
    return {p: os.stat(p).st_mtime_ns
            for p in glob.glob(str(folder / "**" / "*.parquet"), recursive=True)}


def stats(runs):
    seconds = [r[0] for r in runs]
    return statistics.median(seconds), min(seconds), max(seconds), max(r[1] for r in runs)


def row(tool, runs, records):
    med, lo, hi, rss = stats(runs)
    return f"| {tool} | {med:.2f} | {lo:.2f} | {hi:.2f} | {records / med:,.0f} | {rss:.0f} |"


HEADER = ["| tool | median s | min s | max s | records/s (median) | peak RSS MiB (max) |",
          "|---|---|---|---|---|---|"]


# ---------------------------------------------------------------- case "flow-sql"

DUCKDB_SCRIPT = """
import sys, time, duckdb
sql, out = sys.argv[1], sys.argv[2]
duckdb.sql("SET enable_progress_bar = false")
start = time.perf_counter()
duckdb.sql(f"COPY ({sql}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
print(time.perf_counter() - start)
"""


def flow_sql_case(rows: int, reps: int, work: Path, lakepipe: Path, seed: int = 42) -> dict:
    inputs = work / "flow-sql-input"
    flow_data.generate(rows, inputs, seed)
    sql = flow_sql.SQL_TASK.format(orders=inputs / "orders.parquet",
                                   customers=inputs / "customers.parquet").strip()
    store = work / "flow-sql-store"
    flow = work / "flow-sql.yaml"
    flow.write_text(yaml.safe_dump({
        "name": "flowsql", "instance": "bench",
        "table_store": {"base": str(store / "lake"), "catalog": str(store / "catalog.duckdb"),
                        "compression": "zstd"},
        "stages": [{"name": "model", "tasks": [{"name": "customer_stats", "sql": sql + "\n"}]}],
    }, sort_keys=False))
    out = work / "duckdb-out.parquet"
    expected = duckdb.sql(f"SELECT count(*) FROM ({sql})").fetchone()[0]
    copy_seconds = []

    def run_lakepipe():
        result = timed([str(lakepipe), "flow", "run", "--force", str(flow)])
        assert "0 cache hits" in result[2], result[2]
        counted = catalog_counts(store / "catalog.duckdb", [("model", "customer_stats")])
        assert counted["model.customer_stats"] == expected, (counted, expected)
        return result[:2]

    def run_duckdb():
        out.unlink(missing_ok=True)
        result = timed([sys.executable, "-c", DUCKDB_SCRIPT, sql, str(out)])
        assert duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchone()[0] == expected
        copy_seconds.append(float(result[2].split()[-1]))
        return result[:2]

    runs = {"lakepipe": [], "duckdb": []}
    run_lakepipe(), run_duckdb()  # warm-up: page cache, first catalog, Python imports
    copy_seconds.clear()
    for _ in range(reps):
        runs["lakepipe"].append(run_lakepipe())
        runs["duckdb"].append(run_duckdb())
    return {"key": "flow-sql", "rows": rows, "output_rows": expected, "runs": runs,
            "copy_seconds": copy_seconds, "sql": sql,
            "input_bytes": sum(f.stat().st_size for f in inputs.glob("*.parquet")),
            "case": f"SQL task → zstd Parquet table, {rows:,}-row input"}


def summarize_flow_sql(result: dict) -> str:
    lp, dd = stats(result["runs"]["lakepipe"]), stats(result["runs"]["duckdb"])
    copy = statistics.median(result["copy_seconds"])
    lines = [f"### {result['case']}", "",
             f"Input: orders.parquet ({result['rows']:,} rows) joined with customers.parquet, "
             f"{result['input_bytes'] / 2**20:.0f} MiB of zstd Parquet; output "
             f"{result['output_rows']:,} rows. lakepipe: one-task flow, `flow run --force`; "
             "DuckDB (Python, same DuckDB version): `COPY (SELECT …) TO 'out.parquet' "
             "(FORMAT parquet, COMPRESSION zstd)`. Records/s counts input rows.", "",
             *HEADER,
             row("lakepipe", result["runs"]["lakepipe"], result["rows"]),
             row("duckdb", result["runs"]["duckdb"], result["rows"]),
             "",
             f"lakepipe / DuckDB = **{lp[0] / dd[0]:.2f}×** (ratio of medians; target ≤ 1.2×). "
             f"DuckDB's COPY alone, without Python's start and `import duckdb`: median "
             f"{copy:.2f} s, so lakepipe / COPY alone = {lp[0] / copy:.2f}×.", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- case "flow"

def pipedag_python():
    """A Python pipedag 0.12.15 accepts (>=3.11.14,<3.15), or None and why not."""
    candidates = [sys.executable, shutil.which("python3.13"), shutil.which("python3.12"),
                  shutil.which("python3")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(str(pyenv_root / "versions" / "3.1[1234]*" / "bin" / "python3")),
                         reverse=True)
    seen = []
    for exe in filter(None, candidates):
        try:
            version = subprocess.run([exe, "-c", "import sys; print(*sys.version_info[:3])"],
                                     capture_output=True, text=True, check=True).stdout.split()
        except (OSError, subprocess.CalledProcessError):
            continue
        v = tuple(map(int, version))
        seen.append(".".join(version))
        if (3, 11, 14) <= v < (3, 15):
            return exe, None
    return None, (f"{PIPEDAG} needs Python >=3.11.14,<3.15 (its dependency pydiverse-common "
                  f"0.4.4+ does); found only {', '.join(sorted(set(seen))) or 'none'}")


def ensure_pipedag():
    """The pipedag venv's python (installed pinned on first use), or None and why not."""
    python = PIPEDAG_VENV / "bin" / "python"
    marker = PIPEDAG_VENV / "pins.txt"
    if python.exists() and marker.exists() and marker.read_text().split() == PIPEDAG_PINS:
        return python, None
    base, why = pipedag_python()
    if base is None:
        return None, why
    shutil.rmtree(PIPEDAG_VENV, ignore_errors=True)
    subprocess.run([base, "-m", "venv", str(PIPEDAG_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PIPEDAG_PINS], check=True)
    marker.write_text("\n".join(PIPEDAG_PINS) + "\n")
    return python, None


def lakepipe_flow_yaml(inputs: Path, store: Path) -> dict:
    stages = [{"name": "raw", "tasks": [{"name": t, "read": {"uri": str(inputs / f)}}
                                        for t, f in flow_sql.READS]}]
    for stage in flow_sql.STAGES[1:]:
        stages.append({"name": stage, "tasks": [
            {"name": t, "sql": sql.strip() + "\n"}
            for s, t, _, sql in flow_sql.SQL_TASKS if s == stage]})
    # snappy: the codec pipedag's ParquetTableStore writes (DuckDB's COPY default; 0.12.15
    # has no codec option), so both tools write the same kind of files.
    return {"name": "flowbench", "instance": "bench",
            "table_store": {"base": str(store / "lake"), "catalog": str(store / "catalog.duckdb"),
                            "compression": "snappy"},
            "stages": stages}


def flow_case(rows: int, reps: int, work: Path, lakepipe: Path, seed: int = 42) -> dict:
    inputs = work / "flow-input"
    sizes = flow_data.generate(rows, inputs, seed)
    lp_store = work / "flow-lakepipe"
    flow = work / "flow.yaml"
    flow.write_text(yaml.safe_dump(lakepipe_flow_yaml(inputs, lp_store), sort_keys=False,
                                   width=1000))
    pd_store = work / "flow-pipedag"
    pd_python, pd_missing = ensure_pipedag()
    counts = {}

    def check(tool, catalog, folder, cached, before):
        got = catalog_counts(catalog, flow_sql.TABLES)
        assert counts.setdefault(tool, got) == got, (tool, got, counts[tool])
        if cached:  # a cached re-run reads nothing and writes no Parquet file
            assert parquet_state(folder) == before, f"{tool}: cached run rewrote files"

    def run_lakepipe(cached):
        if not cached:
            shutil.rmtree(lp_store, ignore_errors=True)
        before = parquet_state(lp_store)
        seconds, rss, out = timed([str(lakepipe), "flow", "run", str(flow)])
        hits = sum(int(n) for n in re.findall(r"(\d+) cache hits", out))
        assert hits == (len(flow_sql.TABLES) if cached else 0), out
        check("lakepipe", lp_store / "catalog.duckdb", lp_store, cached, before)
        return seconds, rss

    def run_pipedag(cached):
        if not cached:
            shutil.rmtree(pd_store, ignore_errors=True)
        before = parquet_state(pd_store)
        result = timed([str(pd_python), str(BENCH / "flow_pipedag.py"),
                        "--store", str(pd_store), "--inputs", str(inputs)])
        check("pipedag", pd_store / "catalog.duckdb", pd_store, cached, before)
        return result[:2]

    tools = [("lakepipe", run_lakepipe)] + ([("pipedag", run_pipedag)] if pd_python else [])
    runs = {f"{t}, {m}": [] for m in ("cold", "cached") for t, _ in tools}
    for _, fn in tools:  # warm-up: page cache, Python imports, first venv use
        fn(False), fn(True)
    for _ in range(reps):
        for name, fn in tools:
            runs[f"{name}, cold"].append(fn(False))
            runs[f"{name}, cached"].append(fn(True))
    if pd_python:
        assert counts["lakepipe"] == counts["pipedag"], counts
    return {"key": "flow", "rows": rows, "customers": sizes["customers"], "runs": runs,
            "counts": counts["lakepipe"], "pipedag_missing": pd_missing,
            "case": f"3-stage, 10-task flow, cold and cached, {rows:,}-row input"}


def summarize_flow(result: dict) -> str:
    runs, rows = result["runs"], result["rows"]
    out_rows = sum(result["counts"].values())
    lines = [f"### {result['case']}", "",
             f"Inputs: orders.parquet ({rows:,} rows) and customers.csv "
             f"({result['customers']:,} rows); stage raw reads both, stage model has 4 SQL "
             f"tasks (joins, aggregates, a {rows:,}-row fact table), stage report 4 more "
             f"({out_rows:,} rows written in all, snappy Parquet). pydiverse-pipedag: "
             "ParquetTableStore, metadata in its DuckDB file, file locks, SequentialEngine. "
             "Cold: store, catalog and metadata deleted first; cached: the unchanged second "
             "run (checked: all 10 tasks cache hits, no Parquet file rewritten). Records/s "
             "counts orders rows.", "",
             *HEADER]
    lines += [row(tool, r, rows) for tool, r in runs.items()]
    lines.append("")
    lp_cold, lp_cached = stats(runs["lakepipe, cold"])[0], stats(runs["lakepipe, cached"])[0]
    if "pipedag, cold" in runs:
        pd_cold, pd_cached = stats(runs["pipedag, cold"])[0], stats(runs["pipedag, cached"])[0]
        lines.append(f"Cold: pipedag / lakepipe = **{pd_cold / lp_cold:.1f}×** (target ≥ 10×). "
                     f"Cached: lakepipe **{lp_cached:.2f} s** (target ≤ 1 s), pipedag / "
                     f"lakepipe = {pd_cached / lp_cached:.1f}×.")
    else:
        lines.append(f"pydiverse-pipedag not run: {result['pipedag_missing']}. "
                     f"Cached: lakepipe **{lp_cached:.2f} s** (target ≤ 1 s).")
    lines.append("")
    return "\n".join(lines)
