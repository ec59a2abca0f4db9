"""File → Parquet benchmark case for bench/run.py (see bench/README.md): "csv-parquet".

One orders table (bench/flow_data.py's orders_query, fixed seed) written once as CSV and once
as zstd Parquet; each becomes zstd Parquet on a local bucket, by a lakepipe ingest pipeline
with a built-in reader (`reader: csv` / `reader: parquet`) and by DuckDB's
`COPY (FROM read_csv(…)) TO … (FORMAT parquet, COMPRESSION zstd)` in Python (the same DuckDB
version lakepipe embeds). Both alternate after a warm-up; every output's row count is checked.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import flow_data  # noqa: E402
from flow_cases import DUCKDB_SCRIPT, HEADER, row, stats  # noqa: E402
from measure import run_measured  # noqa: E402

FORMATS = {"csv": "read_csv", "parquet": "read_parquet"}


def generate(rows: int, work: Path, seed: int = 42) -> dict:
    """orders.csv and orders.parquet of `rows` rows under work/file-input."""
    folder = work / "file-input"
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    query = flow_data.orders_query(rows, seed)
    paths = {"csv": folder / "orders.csv", "parquet": folder / "orders.parquet"}
    con.execute(f"COPY ({query}) TO '{paths['csv']}' (FORMAT csv, HEADER)")
    con.execute(f"COPY ({query}) TO '{paths['parquet']}' (FORMAT parquet, COMPRESSION zstd)")
    return paths


def csv_parquet_case(rows: int, reps: int, work: Path, lakepipe: Path) -> dict:
    inputs = generate(rows, work)
    home = work / "file-home"
    (home / "pipelines").mkdir(parents=True, exist_ok=True)
    results = {}
    for fmt, path in inputs.items():
        lake = work / f"file-lake-{fmt}"
        (home / "pipelines" / f"{fmt}.yaml").write_text(
            f"source: {{reader: {fmt}, uri: {path}, stream: orders}}\n"
            f"destination: {{bucket: {lake}, compression: zstd}}\n")
        out = work / f"file-duckdb-{fmt}.parquet"

        def run_lakepipe():
            shutil.rmtree(lake, ignore_errors=True)
            seconds, rss, _ = run_measured([lakepipe, "--home", home, "run", fmt])
            counted = duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake}/**/*.parquet')")
            assert counted.fetchone()[0] == rows
            return seconds, rss

        def run_duckdb():
            out.unlink(missing_ok=True)
            sql = f"FROM {FORMATS[fmt]}('{path}')"
            seconds, rss, _ = run_measured([sys.executable, "-c", DUCKDB_SCRIPT, sql, out])
            assert duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchone()[0] == rows
            return seconds, rss

        runs = {"lakepipe": [], "duckdb": []}
        run_lakepipe(), run_duckdb()  # warm-up: page cache, Python imports
        for _ in range(reps):
            runs["lakepipe"].append(run_lakepipe())
            runs["duckdb"].append(run_duckdb())
        results[fmt] = {"runs": runs, "input_bytes": path.stat().st_size}
        shutil.rmtree(lake, ignore_errors=True)
        out.unlink(missing_ok=True)
    return {"rows": rows, "formats": results}


def summarize_csv_parquet(result: dict) -> str:
    rows = result["rows"]
    lines = [f"### CSV and Parquet → zstd Parquet, {rows:,} rows, local bucket", "",
             "Input: the orders table of the flow cases (7 columns: ints, a status string, a "
             "decimal, a timestamp), as CSV with a header and as zstd Parquet. lakepipe: an "
             "ingest pipeline with `reader: csv` / `reader: parquet` (`lakepipe run`, manifest, "
             "state and log included); DuckDB (Python, same DuckDB version): "
             "`COPY (FROM read_csv('orders.csv')) TO 'out.parquet' (FORMAT parquet, COMPRESSION "
             "zstd)` and the same with `read_parquet`. Records/s counts input rows.", ""]
    for fmt, data in result["formats"].items():
        lp, dd = stats(data["runs"]["lakepipe"]), stats(data["runs"]["duckdb"])
        lines += [f"{fmt.upper()} input, {data['input_bytes'] / 2**20:,.0f} MiB:", "", *HEADER,
                  row("lakepipe", data["runs"]["lakepipe"], rows),
                  row("duckdb", data["runs"]["duckdb"], rows), "",
                  f"{fmt.upper()}: lakepipe / DuckDB = **{lp[0] / dd[0]:.2f}×** (ratio of "
                  "medians; target ≤ 1.3×).", ""]
    return "\n".join(lines)
