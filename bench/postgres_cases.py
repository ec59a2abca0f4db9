"""PostgreSQL → Parquet benchmark case for bench/run.py (see bench/README.md):
"postgres-ingest".

A private PostgreSQL 15 (tests/e2e/services.py) holds one generated table (fixed hash of the
row number; ints, numeric, float, text, a timestamp as text, a bool). It becomes zstd Parquet on a
local bucket three ways, alternating after a warm-up, every output's row count checked:
- lakepipe: an ingest pipeline with `reader: postgres`;
- the Singer path: `meltanolabs-tap-postgres` run by `dataspoc-pipe==0.2.0`;
- DuckDB (Python, same version as lakepipe's) with its postgres extension:
  `COPY (FROM postgres_scan(…)) TO … (FORMAT parquet, COMPRESSION zstd)`.
The Singer path is slow (≈ 7k records/s), so it reads a smaller copy of the table (`tap_rows`:
quick 100k, full 1M); ratios against it compare records/s.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from flow_cases import HEADER, row, stats  # noqa: E402
from measure import run_measured  # noqa: E402
from services import Postgres  # noqa: E402

TAP_POSTGRES = ROOT / ".deps" / "taps" / "meltanolabs-tap-postgres" / "bin" / "tap-postgres"
POSTGRES_EXTENSION = ROOT / ".deps" / "duckdb" / "extensions" / "postgres_scanner.duckdb_extension"

DUCKDB_SCRIPT = """
import sys, duckdb
url, table, out, extension = sys.argv[1:5]
con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute("SET enable_progress_bar = false")
con.execute(f"LOAD '{extension}'")
con.execute(f"COPY (FROM postgres_scan('{url}', 'public', '{table}')) TO '{out}' "
            "(FORMAT parquet, COMPRESSION zstd)")
"""


def create_table(pg: Postgres, name: str, rows: int, seed: int = 42) -> None:
    h = lambda k: f"abs(hashint8(g * 31 + {seed * 101 + k}))"  # noqa: E731
    pg.psql(f"""
        DROP TABLE IF EXISTS {name};
        CREATE TABLE {name} AS SELECT
          g::bigint AS id,
          ({h(1)} % 100000)::integer AS customer_id,
          ({h(2)} % 5000)::integer AS product_id,
          (ARRAY['new','paid','shipped','delivered','returned'])[1 + {h(3)} % 5] AS status,
          (1 + {h(4)} % 20)::smallint AS qty,
          (({h(5)} % 500000) / 100.0)::numeric(12,2) AS amount,
          ({h(6)} % 1000000) / 997.0::double precision AS score,
          'customer-' || ({h(7)} % 100000) || '@example.com' AS email,
          to_char(timestamp '2025-01-01 00:00:00' + ({h(8)} % 31536000) * interval '1 second',
                  'YYYY-MM-DD HH24:MI:SS') AS created_at,
          ({h(9)} % 2 = 0) AS is_gift
        FROM generate_series(1, {rows}) g;
        ALTER TABLE {name} ADD PRIMARY KEY (id);
        ANALYZE {name};""")


def selected_catalog(config: Path, out: Path) -> Path:
    """tap-postgres --discover, with every stream marked selected."""
    found = subprocess.run([TAP_POSTGRES, "--config", config, "--discover"], check=True,
                           capture_output=True, text=True).stdout
    catalog = json.loads(found)
    for stream in catalog["streams"]:
        for entry in stream.get("metadata", []):
            if entry.get("breadcrumb") == []:
                entry["metadata"]["selected"] = True
    out.write_text(json.dumps(catalog))
    return out


def postgres_case(rows: int, tap_rows: int, reps: int, work: Path, lakepipe: Path,
                  dataspoc: Path) -> dict:
    work.chmod(0o755)  # as root, PostgreSQL runs as 'postgres', which must reach its folder
    pg = Postgres(work / "pg").start()
    try:
        tap_rows = min(rows, tap_rows)
        create_table(pg, "orders", rows)
        # The tap syncs every table it discovers in its schema: only its copy lives there.
        pg.psql("CREATE SCHEMA tapbench")
        create_table(pg, "tapbench.orders", tap_rows)
        url = pg.url
        home = work / "pg-home"
        (home / "pipelines").mkdir(parents=True, exist_ok=True)
        lake = work / "pg-lake"
        (home / "pipelines" / "pg.yaml").write_text(
            f"source: {{reader: postgres, uri: '{url}', stream: orders, "
            "options: {table: public.orders}}\n"
            f"destination: {{bucket: {lake}, compression: zstd}}\n")
        peer_home, peer_lake = work / "pg-peer-home", work / "pg-peer-lake"
        (peer_home / ".dataspoc-pipe" / "pipelines").mkdir(parents=True, exist_ok=True)
        tap_config = work / "tap-postgres.json"
        tap_config.write_text(json.dumps({
            "host": "127.0.0.1", "port": pg.port, "user": "lakepipe",
            "password": "unused-with-trust-auth", "database": "postgres",
            "filter_schemas": ["tapbench"]}))
        catalog = selected_catalog(tap_config, work / "tap-postgres-catalog.json")
        # DataSpoc Pipe passes no catalog and the tap then selects nothing, so its command
        # carries the discovered catalog with every stream selected (DataSpoc runs a tap
        # command with spaces through the shell and appends --config).
        (peer_home / ".dataspoc-pipe" / "pipelines" / "pg.yaml").write_text(
            f"source:\n  tap: {TAP_POSTGRES} --catalog {catalog}\n  config: {tap_config}\n"
            f"destination:\n  bucket: file://{peer_lake}\n  path: raw\n  compression: zstd\n")
        out = work / "pg-duckdb.parquet"

        def count(glob):
            return duckdb.sql(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()[0]

        def run_lakepipe():
            shutil.rmtree(lake, ignore_errors=True)
            seconds, rss, _ = run_measured([lakepipe, "--home", home, "run", "pg"])
            assert count(f"{lake}/**/*.parquet") == rows
            return seconds, rss

        def run_tap():
            shutil.rmtree(peer_lake, ignore_errors=True)
            seconds, rss, _ = run_measured([dataspoc, "run", "pg"],
                                           env={**os.environ, "HOME": str(peer_home)})
            assert count(f"{peer_lake}/**/*.parquet") == tap_rows
            return seconds, rss

        def run_duckdb():
            out.unlink(missing_ok=True)
            seconds, rss, _ = run_measured([sys.executable, "-c", DUCKDB_SCRIPT, url, "orders",
                                            out, POSTGRES_EXTENSION])
            assert count(out) == rows
            return seconds, rss

        runs = {"lakepipe": [], "tap-postgres + dataspoc-pipe": [], "duckdb": []}
        run_lakepipe(), run_tap(), run_duckdb()  # warm-up: PostgreSQL's cache, imports
        for _ in range(reps):
            runs["lakepipe"].append(run_lakepipe())
            runs["tap-postgres + dataspoc-pipe"].append(run_tap())
            runs["duckdb"].append(run_duckdb())
    finally:
        pg.stop()
    return {"rows": rows, "tap_rows": tap_rows, "runs": runs}


def summarize_postgres(result: dict) -> str:
    rows, tap_rows, runs = result["rows"], result["tap_rows"], result["runs"]
    lp, tap, dd = (stats(runs[k]) for k in runs)
    lp_rate, tap_rate = rows / lp[0], tap_rows / tap[0]
    note = ("" if tap_rows == rows else
            f" The Singer path reads a {tap_rows:,}-row copy of the table (same generator), so "
            "its ratio compares records/s.")
    return "\n".join([
        f"### PostgreSQL table → zstd Parquet, {rows:,} rows, local bucket", "",
        "Input: a generated table in a private PostgreSQL 15 on loopback (10 columns: bigint, "
        "ints, a status string, numeric(12,2), double, an email string, a timestamp as text — tap-postgres writes timestamps with an offset, which DataSpoc Pipe 0.2.0 rejects —, bool). "
        "lakepipe: an ingest pipeline with `reader: postgres`; Singer: meltanolabs-tap-postgres "
        "run by dataspoc-pipe 0.2.0; DuckDB (Python, same DuckDB version, postgres extension): "
        "`COPY (FROM postgres_scan(…)) TO 'out.parquet' (FORMAT parquet, COMPRESSION zstd)`."
        + note, "",
        *HEADER,
        row("lakepipe", runs["lakepipe"], rows),
        row("tap-postgres + dataspoc-pipe", runs["tap-postgres + dataspoc-pipe"], tap_rows),
        row("duckdb", runs["duckdb"], rows), "",
        f"lakepipe is **{lp_rate / tap_rate:.0f}×** the Singer path's records/s (target ≥ 10×); "
        f"lakepipe / DuckDB = **{lp[0] / dd[0]:.2f}×** (ratio of medians; target ≤ 1.5×).", ""])
