"""DataSpoc Lens 0.2.0 reading a bucket the way its users do, for the end-to-end tests.

`LensCounter` runs a loop in Lens's own venv (scripts/install-deps puts it in .deps/lens):
Lens discovers the bucket's tables (manifest first), mounts its DuckDB views over
`<location>/**/*.parquet` with hive partitioning, and counts rows and distinct ids of each
table, over and over, until stopped. Every sample is kept, so a test can say what any
reader globbing the folders saw at every instant of a run.
"""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
from pathlib import Path

from services import DEPS

LENS_PYTHON = DEPS / "lens" / "bin" / "python"

LOOP = textwrap.dedent(r'''
    import json, os, sys, time
    import duckdb
    from dataspoc_lens.catalog import discover_tables, mount_views
    bucket, out_path, stop_path = sys.argv[1:4]
    with open(out_path, "a") as out:
        while not os.path.exists(stop_path):
            sample = {}
            try:
                conn = duckdb.connect()
                tables = discover_tables(bucket)
                mount_views(conn, tables)
                for t in tables:
                    view = t.table.replace("-", "_").replace(".", "_")
                    sample[t.table] = conn.execute(
                        f'SELECT count(*), count(DISTINCT id) FROM "{view}"').fetchone()
                conn.close()
            except Exception as e:  # a glob that found nothing yet, for example
                sample = {"error": str(e)}
            out.write(json.dumps(sample) + "\n")
            out.flush()
            time.sleep(0.01)
''')


class LensCounter:
    """Counts a table through Lens in the background while `with` lasts."""

    def __init__(self, bucket: str, folder: Path):
        self.bucket = bucket
        self.out = folder / f"lens-{time.monotonic_ns()}.jsonl"
        self.stop_file = self.out.with_suffix(".stop")

    def __enter__(self) -> "LensCounter":
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["HOME"] = str(self.out.parent)  # Lens keeps its config and cache under ~
        self.proc = subprocess.Popen([str(LENS_PYTHON), "-c", LOOP, self.bucket, str(self.out),
                                      str(self.stop_file)], env=env, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not self.samples() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        # One more full sample after whatever happened inside the block.
        seen = len(self.samples())
        deadline = time.monotonic() + 30
        while len(self.samples()) < seen + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.stop_file.write_text("")
        self.proc.wait(timeout=30)

    def samples(self) -> list[dict]:
        if not self.out.exists():
            return []
        lines = self.out.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def counts(self, table: str) -> list[tuple[int, int]]:
        """(rows, distinct ids) of `table` in every sample that saw it."""
        return [tuple(s[table]) for s in self.samples() if table in s]

    def last(self, table: str) -> tuple[int, int] | None:
        counts = self.counts(table)
        return counts[-1] if counts else None


CATALOG = textwrap.dedent(r'''
    import json, sys
    from dataspoc_lens.catalog import discover_tables
    print(json.dumps({t.table: t.row_count for t in discover_tables(sys.argv[1])}))
''')


def catalog_rows(bucket: str, folder: Path) -> dict[str, int]:
    """The row count `dataspoc-lens catalog` shows for each table (the manifest's stats)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["HOME"] = str(folder)
    out = subprocess.run([str(LENS_PYTHON), "-c", CATALOG, bucket], env=env, check=True,
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    return json.loads(out.stdout)
