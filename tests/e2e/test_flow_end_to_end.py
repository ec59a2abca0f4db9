"""A three-stage flow (CSV readers -> join/aggregate SQL -> exec programs) on a local folder
and on the S3 emulator, read back with independent readers: Python DuckDB through the
catalog file, and pyarrow over the Parquet files that lakepipe.tables lists."""
import json
import subprocess

import pyarrow as pa

from flow_support import (COLUMNS, CUSTOMERS, ORDERS, PYTHON, by_task, cache_hits, data_file,
                          data_files_match, expected_tables, location, metadata_only)
from ingest_support import rows_of

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
            # The metadata key is <flow>/<instance>: flows sharing a database never mix.
            ("shop/dev", "model", "odd"), ("shop/dev", "raw", "odd"),
            ("shop/dev", "report", "odd")]
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
        assert data_files_match(paths, [f"{flow.dir}/{stage}__odd/{table}"]), paths
        listed += paths
        data = pa.concat_tables([flow.read_file(p) for p in paths])
        assert data.column_names == COLUMNS[(stage, table)]
        assert rows_of(data, sort_by=None) == expected[(stage, table)]
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
    assert data_files_match(paths, [f"{flow.dir}/model__odd/by_region/region={r}"
                                    for r in regions]), paths
    assert sorted(flow.files()) == sorted(
        [p for p in flow.files() if not p.startswith(f"{flow.dir}/model__")] + paths)
    # Each file holds its partition's rows, without the partition column.
    for r, path in zip(regions, paths):
        data = flow.read_file(path)
        assert data.column_names == ["id", "amount"]
        assert rows_of(data, sort_by=None) == sorted((i, a) for i, a, reg in expected if reg == r)
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


def test_multi_file_table(flow):
    """A table larger than file_size_mb rolls over several files; the catalog reads them all."""
    flow.write([{"name": "big", "tasks": [{
        "name": "many", "sql": "SELECT i, md5(CAST(i AS VARCHAR)) AS h FROM range(60000) AS t(i)",
        "file_size_mb": 1, "row_group_rows": 10000, "sort_by": ["i"]}]}])
    summary = flow.run()
    assert by_task(summary)["big.many"]["rows"] == 60000
    entry = flow.committed()[("big", "many")]
    paths = [f["path"] for f in entry["files_json"]]
    assert len(paths) >= 2 and by_task(summary)["big.many"]["files"] == len(paths)
    assert all(data_file(f"{flow.dir}/big__odd/many", i).fullmatch(p)
               for i, p in enumerate(paths)), paths
    assert flow.query("SELECT count(*), count(DISTINCT i), sum(i), min(i), max(i) "
                      "FROM big.many") == [(60000, 60000, sum(range(60000)), 0, 59999)]
    data = pa.concat_tables([flow.read_file(p) for p in paths])
    assert data.column("i").to_pylist() == list(range(60000))
    assert [f["rows"] for f in entry["files_json"]] == [flow.read_file(p).num_rows
                                                        for p in paths]


def test_column_types_round_trip(local_flow):
    """Decimals, timestamps with time zone, lists, structs, dates and binary keep their
    types, from an exec program (Arrow IPC) and from SQL."""
    import datetime
    import decimal
    flow = local_flow
    flow.write([{"name": "typed", "tasks": [
        {"name": "from_exec", "exec": [PYTHON, "tasks.py", "types"]},
        {"name": "from_sql", "sql": "SELECT * FROM typed.from_exec"},
    ]}])
    flow.run()
    utc = datetime.timezone.utc
    want = pa.schema([("d", pa.decimal128(12, 3)), ("ts", pa.timestamp("us", tz="UTC")),
                      ("l", pa.list_(pa.int64())),
                      ("s", pa.struct([("a", pa.int64()), ("b", pa.string())])),
                      ("dt", pa.date32()), ("b", pa.binary())])
    committed = flow.committed()
    for table in ("from_exec", "from_sql"):
        data = flow.read_file(committed[("typed", table)]["files_json"][0]["path"])
        # (Parquet names a list's child "element"; DuckDB may name UTC "Etc/UTC".)
        got = [(f.name, str(f.type).replace("element:", "item:").replace("Etc/UTC", "UTC"))
               for f in data.schema]
        assert got == [(f.name, str(f.type)) for f in want], data.schema
        assert data.to_pylist() == [
            {"d": decimal.Decimal("12.345"),
             "ts": datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=utc),
             "l": [1, 2, 3], "s": {"a": 1, "b": "x"}, "dt": datetime.date(2024, 5, 6),
             "b": b"\x00\xff"},
            {"d": None, "ts": None, "l": [], "s": {"a": None, "b": "y"}, "dt": None, "b": None}]
        assert flow.query(
            "SELECT typeof(d), typeof(ts), typeof(l), typeof(s), typeof(dt), typeof(b) "
            f"FROM typed.{table} LIMIT 1") == [
            ("DECIMAL(12,3)", "TIMESTAMP WITH TIME ZONE", "BIGINT[]",
             "STRUCT(a BIGINT, b VARCHAR)", "DATE", "BLOB")]
        assert flow.query(f"SELECT d, l, s, dt, b FROM typed.{table} ORDER BY s.b") == [
            (decimal.Decimal("12.345"), [1, 2, 3], {"a": 1, "b": "x"},
             datetime.date(2024, 5, 6), b"\x00\xff"),
            (None, [], {"a": None, "b": "y"}, None, None)]


def test_sql_command_prints_every_type(local_flow):
    """`lakepipe sql` prints timestamps with time zone, lists and structs (not blanks)."""
    flow = local_flow
    flow.write([{"name": "typed", "tasks": [
        {"name": "from_exec", "exec": [PYTHON, "tasks.py", "types"]}]}])
    flow.run()
    query = "SELECT d, ts, l, s, dt FROM typed.from_exec WHERE d IS NOT NULL"
    text = flow.lakepipe("sql", flow.file, query, output_json=False).stdout.splitlines()
    assert text[0] == "d\tts\tl\ts\tdt"
    assert text[1] == "12.345\t2024-01-02 03:04:05.123456+00\t[1, 2, 3]\t{'a': 1, 'b': x}\t2024-05-06"
    rows = json.loads(flow.lakepipe("sql", flow.file, query).stdout)
    assert all(value not in ("", None) for value in rows[0].values()), rows


def test_stage_and_instance_options(local_flow):
    flow = local_flow
    flow.put_data()
    flow.write()
    # Only model, in a new instance: raw is not committed there.
    proc = flow.lakepipe("flow", "run", flow.file, "--stage", "model", "--instance", "ci",
                         check=False)
    assert proc.returncode == 1
    # Found before anything runs (test_flow_selection.py has more).
    assert proc.stderr == (
        "lakepipe: error: flow 'shop': the selected tasks read tables that were never committed: "
        "'raw.customers' (read by model.totals), 'raw.orders' (read by model.totals); run with "
        "--with-upstream to build them too\n")
    raw = flow.run("--stage", "raw", "--instance", "ci")
    assert [s["stage"] for s in raw["stages"]] == ["raw"]
    assert raw["instance"] == "ci" and raw["catalog"] == str(flow.folder / "shop_ci.duckdb")
    assert [s["stage"] for s in flow.run("--stage", "model", "--instance", "ci")["stages"]] == [
        "model"]
    assert sorted({p.split("/")[0] for p in flow.files()}) == ["ci"]
    assert not flow.catalog.exists()
    ci = flow.other_instance("ci")
    tables = ci.catalog_tables()
    assert set(tables) == {("raw", "customers"), ("raw", "orders"), ("model", "totals"),
                           ("model", "names")}
    assert tables[("model", "totals")] == expected_tables()[("model", "totals")]

    # The file's own instance is separate.
    flow.run()
    assert sorted({p.split("/")[0] for p in flow.files()}) == ["ci", "dev"]
    assert flow.catalog_tables() == expected_tables()
    assert ci.slots() == {"raw": "odd", "model": "odd"}

    proc = flow.lakepipe("flow", "run", flow.file, "--stage", "nope", check=False)
    assert (proc.returncode, proc.stderr) == (
        1, f"lakepipe: error: flow 'shop' ({flow.file}) has no stage 'nope' (its stages: raw, "
        "model, report)\n")
