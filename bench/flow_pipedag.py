"""The 3-stage, 10-task benchmark flow (bench/flow_sql.py) as a pydiverse.pipedag flow on
its ParquetTableStore: Parquet files under STORE/parquet, the DuckDB file of views at
STORE/catalog.duckdb, metadata in that same DuckDB file (no metadata_table_store, so no
PostgreSQL), file locks under STORE/locks, the SequentialEngine. Runs in the pipedag venv
(.deps/bench/pipedag, made by bench/run.py).

    flow_pipedag.py --store DIR --inputs DIR
"""
import argparse
import logging
import os
import re
import sys
from pathlib import Path

import sqlalchemy as sa
from pydiverse.pipedag import Flow, Stage, Table, materialize
from pydiverse.pipedag.core.config import PipedagConfig
from pydiverse.common.util.structlog import setup_logging

sys.path.insert(0, str(Path(__file__).resolve().parent))
import flow_sql  # noqa: E402


def config(store: Path) -> PipedagConfig:
    return PipedagConfig(dict(
        name="flowbench",
        strict_instance_lookup=False,
        instances=dict(__any__=dict(
            instance_id="bench",
            network_interface="127.0.0.1",
            disable_kroki=True,
            fail_fast=True,
            auto_table=["sqlalchemy.sql.expression.TextClause",
                        "sqlalchemy.sql.expression.Selectable"],
            # DuckDB cannot rename schemas: the ParquetTableStore docs make this mandatory.
            stage_commit_technique="read_views",
            table_store={
                "class": "pydiverse.pipedag.backend.table.ParquetTableStore",
                "args": {"url": f"duckdb:///{store}/catalog.duckdb",
                         "parquet_base_path": str(store / "parquet") + "/",
                         "create_database_if_not_exists": True},
            },
            blob_store={"class": "pydiverse.pipedag.backend.blob.NoBlobStore"},
            lock_manager={"class": "pydiverse.pipedag.backend.lock.FileLockManager",
                          "args": {"base_path": str(store / "locks")}},
            orchestration={"class": "pydiverse.pipedag.engine.SequentialEngine"},
        )),
    ))


def read_task(table: str, path: Path):
    reader = "read_csv" if path.suffix == ".csv" else "read_parquet"
    stat = path.stat()

    # cache=: a changed input file invalidates the task (lakepipe hashes its inputs too).
    @materialize(name=table, lazy=True, cache=lambda: [stat.st_size, stat.st_mtime_ns])
    def task():
        return Table(sa.text(f"SELECT * FROM {reader}('{path}')"), name=table)
    return task


def sql_task(table: str, inputs: list, sql: str):
    @materialize(name=table, lazy=True, input_type=sa.Table)
    def task(*tables):
        query = sql
        for ref, alias in zip(inputs, tables):
            t = alias.element  # the store hands an alias of the reflected view
            query = re.sub(rf"\b{re.escape(ref)}\b", f'"{t.schema}"."{t.name}"', query)
        return Table(sa.text(query), name=table)
    return task


def build(inputs: Path) -> Flow:
    with Flow("flowbench") as flow:
        out = {}
        with Stage("raw"):
            for table, file in flow_sql.READS:
                out[f"raw.{table}"] = read_task(table, inputs / file)()
        for stage in flow_sql.STAGES[1:]:
            with Stage(stage):
                for s, table, refs, sql in flow_sql.SQL_TASKS:
                    if s == stage:
                        out[f"{s}.{table}"] = sql_task(table, refs, sql)(*[out[r] for r in refs])
    return flow


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--inputs", required=True)
    args = parser.parse_args()
    store, inputs = Path(args.store).resolve(), Path(args.inputs).resolve()
    setup_logging(log_level=logging.WARNING)  # quiet, like lakepipe without -v
    store.mkdir(parents=True, exist_ok=True)
    os.chdir(store)
    with config(store).get("bench"):
        result = build(inputs).run()
    if not result.successful:
        sys.exit("pipedag flow failed")


if __name__ == "__main__":
    main()
