"""A three-stage flow (CSV readers -> join/aggregate SQL -> exec programs) on a local folder
and on the S3 emulator, read back with independent readers: Python DuckDB through the
catalog file, and pyarrow over the Parquet files that lakepipe.tables lists."""
import json
import subprocess

import pyarrow as pa

from flow_support import (COLUMNS, CUSTOMERS, ORDERS, PREFIX, by_task, cache_hits,
                          csv_text, expected_tables, flow, local_flow, location,  # noqa: F401
                          metadata_only, rows_of, store_backend)

KINDS = {"raw.customers": "read", "raw.orders": "read", "model.totals": "sql",
         "model.names": "sql", "report.roster": "sql", "report.scored": "exec",
         "report.big": "exec"}


def test_three_stage_flow_reads_back_through_the_catalog(flow):
    flow.put_data()
    flow.write()
    summary = flow.run()
    expected = expected_tables()

    assert (summary["flow"], summary["instance"]) == ("shop", "dev")
    assert summary["catalog"] == str(flow.catalog)
    assert [s["stage"] for s in summary["stages"]] == ["raw", "model", "report"]
    assert metadata_only(summary) == {"raw": False, "model": False, "report": False}
    assert {s["stage"]: s["slot"] for s in summary["stages"]} == {
        "raw": "odd", "model": "odd", "report": "odd"}
    assert cache_hits(summary) == {key: False for key in KINDS}
    tasks = by_task(summary)
    assert {k: t["kind"] for k, t in tasks.items()} == KINDS
    assert {k: t["rows"] for k, t in tasks.items()} == {
        f"{s}.{t}": len(rows) for (s, t), rows in expected.items()}
    assert {k: t["files"] for k, t in tasks.items()} == {k: 1 for k in KINDS}

    # Every table of every stage through the catalog's stage schemas, and its slot schema.
    assert flow.catalog_tables() == expected
    con = flow.duck()
    try:
        for (stage, table), rows in expected.items():
            for schema in (stage, f"{stage}__odd"):
                cursor = con.execute(f'SELECT * FROM "{schema}"."{table}"')
                assert [d[0] for d in cursor.description] == COLUMNS[(stage, table)]
                assert sorted(cursor.fetchall()) == rows, (schema, table)
        assert sorted(con.execute(
            "SELECT instance, stage, committed_slot FROM lakepipe.stages").fetchall()) == [
            ("dev", "model", "odd"), ("dev", "raw", "odd"), ("dev", "report", "odd")]
        assert con.execute("SELECT status, error FROM lakepipe.runs "
                           "WHERE run_id = ?", [summary["run_id"]]).fetchall() == [
            ("succeeded", "")]
    finally:
        con.close()

    # pyarrow over the files lakepipe.tables lists; they are all the store holds.
    committed = flow.committed()
    assert set(committed) == set(expected)
    on_disk = flow.files()
    listed = []
    for (stage, table), entry in committed.items():
        paths = [f["path"] for f in entry["files_json"]]
        assert paths == [f"dev/{stage}__odd/{table}/part-0000.parquet"]
        listed += paths
        data = pa.concat_tables([flow.read_file(p) for p in paths])
        assert data.column_names == COLUMNS[(stage, table)]
        assert rows_of(data) == expected[(stage, table)]
        assert entry["rows"] == len(expected[(stage, table)])
        assert entry["rows"] == sum(f["rows"] for f in entry["files_json"])
        assert entry["bytes"] == sum(on_disk[p] for p in paths)
        assert [f["bytes"] for f in entry["files_json"]] == [on_disk[p] for p in paths]
    assert sorted(on_disk) == sorted(listed)

    # not_null columns are required fields in the Parquet schema (and in the metadata).
    totals = committed[("model", "totals")]
    schema = flow.read_schema(totals["files_json"][0]["path"])
    assert [(f.name, f.nullable) for f in schema] == [
        ("customer_id", False), ("name", False), ("region", True), ("orders", True),
        ("total", True)]
    assert [(c["name"], c["nullable"]) for c in totals["schema_json"]] == [
        (f.name, f.nullable) for f in schema]
    # sort_by: the file's rows are in name order.
    names = flow.read_file(totals["files_json"][0]["path"]).column("name").to_pylist()
    assert names == sorted(r[1] for r in expected[("model", "totals")])

    # The exec program got the input tables' files in LAKEPIPE_INPUTS.
    inputs = json.loads((flow.folder / "inputs-scored.json").read_text())
    assert inputs == {
        "model.totals": [location(flow, f["path"]) for f in totals["files_json"]],
        "report.roster": [location(flow, f["path"])
                          for f in committed[("report", "roster")]["files_json"]]}


def test_sql_task_with_literals(local_flow):
    """Constants in a task's SQL (a string, a number, NULL) are ordinary SQL."""
    flow = local_flow
    flow.put_data()
    flow.write([
        {"name": "raw", "tasks": [{"name": "customers", "read": {"uri": flow.input_uri("customers.csv")}}]},
        {"name": "model", "tasks": [{
            "name": "tiers",
            "sql": "SELECT id, name, 'vip' AS tier, 2 AS level, CAST(NULL AS VARCHAR) AS note "
                   "FROM raw.customers WHERE id <= 2"}]},
    ])
    proc = flow.lakepipe("flow", "run", flow.file, check=False)
    assert proc.returncode == 0, (proc.returncode, proc.stderr)
    assert flow.catalog_tables()[("model", "tiers")] == [
        (1, "ada", "vip", 2, None), (2, "bob", "vip", 2, None)]


def test_partitioned_table_reads_back_through_the_catalog(flow):
    flow.put_data()
    flow.write([
        {"name": "raw", "tasks": [
            {"name": "customers", "read": {"uri": flow.input_uri("customers.csv")}},
            {"name": "orders", "read": {"uri": flow.input_uri("orders.csv")}}]},
        {"name": "model", "tasks": [{
            "name": "by_region",
            "sql": "SELECT c.region, o.id, o.amount FROM raw.orders AS o "
                   "JOIN raw.customers AS c ON c.id = o.customer_id",
            "partition_by": ["region"], "not_null": ["id"]}]},
    ])
    flow.run()
    region = {c[0]: c[2] for c in CUSTOMERS}
    expected = sorted((o[0], o[2], region[o[1]]) for o in ORDERS)

    for schema in ("model", "model__odd"):
        assert sorted(flow.query(
            f"SELECT id, amount, region FROM {schema}.by_region")) == expected
    assert flow.query("SELECT typeof(region) FROM model.by_region LIMIT 1") == [("VARCHAR",)]

    entry = flow.committed()[("model", "by_region")]
    assert entry["partition_by"] == ["region"]
    paths = [f["path"] for f in entry["files_json"]]
    regions = sorted({r for _, _, r in expected})
    assert paths == [f"dev/model__odd/by_region/region={r}/part-0000.parquet" for r in regions]
    assert sorted(flow.files()) == sorted(
        [p for p in flow.files() if not p.startswith("dev/model__")] + paths)
    # Each file holds its partition's rows, without the partition column.
    for r, path in zip(regions, paths):
        data = flow.read_file(path)
        assert data.column_names == ["id", "amount"]
        assert rows_of(data) == sorted((i, a) for i, a, reg in expected if reg == r)
    assert entry["rows"] == len(expected)


def test_read_uri_relative_to_the_flow_file(local_flow, lakepipe_bin, clean_env, tmp_path):
    """Like table_store.base and catalog, a relative read.uri names a file beside the flow
    file, wherever lakepipe is started from."""
    flow = local_flow
    flow.put_data()
    flow.write([{"name": "raw", "tasks": [
        {"name": "customers", "read": {"uri": "customers.csv"}},
        {"name": "orders", "read": {"uri": "./orders.csv"}}]}])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run([str(lakepipe_bin.resolve()), "--output", "json", "flow", "run",
                           str(flow.file)], cwd=elsewhere, env=clean_env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    tables = flow.catalog_tables()
    assert tables[("raw", "customers")] == sorted(CUSTOMERS)
    assert tables[("raw", "orders")] == sorted(ORDERS)
