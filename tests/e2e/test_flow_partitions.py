"""A partitioned table reads back with exactly the columns, order and types of its recorded
schema, empty or not: through the catalog's views (Python DuckDB), as the input of a
downstream SQL task, and in its Parquet files (pyarrow)."""
import pyarrow.dataset as ds

from flow_support import by_task, cache_hits, csv_text, data_files_match

ROWS_SQL = ("SELECT * FROM (VALUES (1, '007', 2.5), (2, '010', 3.5), (3, '007', 4.5)) "
            "AS t(id, grp, amount)")


def columns(flow, relation: str) -> list[tuple[str, str]]:
    """(name, type) of a catalog relation, in order, as DuckDB describes it."""
    return [(r[0], r[1]) for r in flow.query(f"DESCRIBE {relation}")]


def partitioned_flow(flow, source_sql: str):
    # raw.other reads a file of the flow folder: changing it re-runs raw while raw.sales
    # is a cache hit, copied into the new slot.
    (flow.folder / "other.csv").write_text(csv_text(["id"], [(1,)]))
    flow.write([
        {"name": "raw", "tasks": [
            {"name": "sales", "sql": source_sql, "partition_by": ["grp"]},
            {"name": "other", "sql": "SELECT * FROM read_csv('other.csv')"}]},
        {"name": "model", "tasks": [
            {"name": "by_grp", "sql": "SELECT grp, count(*) AS n, sum(amount) AS total "
                                      "FROM raw.sales GROUP BY grp"},
            {"name": "copy", "sql": "SELECT * FROM raw.sales"}]},
    ])


def rerun_with_sales_copied(flow) -> None:
    (flow.folder / "other.csv").write_text(csv_text(["id"], [(1,), (2,)]))
    hits = cache_hits(flow.run())
    assert hits["raw.sales"] and not hits["raw.other"], hits
    assert flow.slots()["raw"] == "even"


def test_empty_partitioned_table_keeps_its_partition_column(flow):
    partitioned_flow(flow, ROWS_SQL + " WHERE false")
    summary = flow.run()
    tasks = by_task(summary)
    assert tasks["raw.sales"]["rows"] == 0
    assert tasks["model.by_grp"]["rows"] == 0

    expected = [("id", "INTEGER"), ("grp", "VARCHAR"), ("amount", "DECIMAL(2,1)")]
    for relation in ("raw.sales", "raw__odd.sales", "model.copy"):
        assert columns(flow, relation) == expected, relation
    entry = flow.committed()[("raw", "sales")]
    assert [c["name"] for c in entry["schema_json"]] == ["id", "grp", "amount"]
    assert entry["partition_by"] == ["grp"]

    # The one file of the empty table, at the table's root, holds every column, partition
    # column in place, so a reader of the files alone (pyarrow, hive partitioning) sees the
    # same table; a cache hit copies it to the same place in the new slot.
    for slot in ("odd", "even"):
        if slot == "even":
            rerun_with_sales_copied(flow)
            for relation in ("raw.sales", "raw__even.sales", "model.copy"):
                assert columns(flow, relation) == expected, relation
        entry = flow.committed()[("raw", "sales")]
        paths = [f["path"] for f in entry["files_json"]]
        assert data_files_match(paths, [f"{flow.dir}/raw__{slot}/sales"]), paths
        assert flow.read_schema(paths[0]).names == ["id", "grp", "amount"]
        fs = flow.backend.fs
        files = [flow.backend.fs_path(flow.store_path(p)) for p in paths]
        table = ds.dataset(files, filesystem=fs, format="parquet",
                           partitioning="hive").to_table()
        assert table.num_rows == 0 and table.column_names == ["id", "grp", "amount"]


def test_non_empty_partitioned_table_keeps_column_order_and_types(flow):
    partitioned_flow(flow, ROWS_SQL)
    flow.run()
    expected = [("id", "INTEGER"), ("grp", "VARCHAR"), ("amount", "DECIMAL(2,1)")]
    for relation in ("raw.sales", "raw__odd.sales", "model.copy"):
        assert columns(flow, relation) == expected, relation
    # '007' is text: the folder name is not read back as the number 7.
    assert sorted(flow.query("SELECT * FROM raw.sales")) == [
        (1, "007", 2.5), (2, "010", 3.5), (3, "007", 4.5)]
    assert sorted(flow.query("SELECT grp, n, CAST(total AS DOUBLE) FROM model.by_grp")) == [
        ("007", 2, 7.0), ("010", 1, 3.5)]
    copy = flow.committed()[("model", "copy")]
    assert [c["name"] for c in copy["schema_json"]] == ["id", "grp", "amount"]
    data = flow.read_file(copy["files_json"][0]["path"])
    assert data.column_names == ["id", "grp", "amount"]
    # A cache hit copies the partition folders as they are.
    rerun_with_sales_copied(flow)
    for relation in ("raw.sales", "raw__even.sales"):
        assert columns(flow, relation) == expected, relation
    assert sorted(flow.query("SELECT * FROM raw.sales")) == [
        (1, "007", 2.5), (2, "010", 3.5), (3, "007", 4.5)]


# DuckDB hands results over in chunks of 2048 rows, and every chunk of this query holds
# rows of every partition: with 4 files open at a time, each chunk closes and reopens
# them, so each partition gets several files.
MANY_PARTITIONS_SQL = "SELECT i AS id, i % 30 AS grp, 'row ' || i AS label FROM range(5000) t(i)"


def test_more_partitions_than_open_files_keeps_every_row(flow):
    flow.write([{"name": "raw", "tasks": [
        {"name": "sales", "sql": MANY_PARTITIONS_SQL, "partition_by": ["grp"],
         "max_open_files": 4}]}])
    assert by_task(flow.run())["raw.sales"]["rows"] == 5000
    entry = flow.committed()[("raw", "sales")]
    paths = [f["path"] for f in entry["files_json"]]
    folders = [p.split("/")[-2] for p in paths]
    assert set(folders) == {f"grp={g}" for g in range(30)}
    assert len(paths) > 30 and max(folders.count(f) for f in folders) > 1, paths
    # Every row, once, in the folder of its partition (pyarrow alone, hive partitioning).
    files = [flow.backend.fs_path(flow.store_path(p)) for p in paths]
    table = ds.dataset(files, filesystem=flow.backend.fs, format="parquet",
                       partitioning="hive").to_table()
    rows = sorted(zip(table.column("id").to_pylist(), table.column("grp").to_pylist(),
                      table.column("label").to_pylist()))
    assert rows == [(i, i % 30, f"row {i}") for i in range(5000)]
    assert flow.query("SELECT count(*), count(DISTINCT id), sum(grp) FROM raw.sales") == [
        (5000, 5000, sum(i % 30 for i in range(5000)))]


def test_more_partitions_than_the_cap_fails_saying_how_to_raise_it(flow):
    flow.write([{"name": "raw", "tasks": [
        {"name": "sales", "sql": MANY_PARTITIONS_SQL, "partition_by": ["grp"],
         "max_partitions": 10}]}])
    proc = flow.run_fails()
    assert "task 'sales'" in proc.stderr, proc.stderr
    assert "table 'sales' would have more than 10 partitions (partition_by: grp)" in proc.stderr
    assert "max_partitions:" in proc.stderr
    assert not flow.catalog.exists() or ("raw", "sales") not in flow.committed()
