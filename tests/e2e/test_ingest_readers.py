"""Built-in readers (csv, jsonl, parquet, demo) from a local folder or s3/gcs/azure URIs
into a bucket, and `lakepipe demo`."""
import datetime as dt
import gzip
import io
import json
from decimal import Decimal

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ingest_support import rows_of


def put(lake, relative: str, data: bytes) -> str:
    """Writes an input file into the lake's bucket with pyarrow; returns its URI."""
    fs_path = lake.backend.fs_path(relative)
    lake.backend.fs.create_dir(fs_path.rsplit("/", 1)[0], recursive=True)
    # compression=None: pyarrow would otherwise gzip a ".gz" name a second time.
    with lake.backend.fs.open_output_stream(fs_path, compression=None) as f:
        f.write(data)
    return lake.backend.uri(relative)


def sales(first, last):
    return [{"id": i, "name": f"item {i}", "amount": i * 2.5} for i in range(first, last + 1)]


def csv_bytes(rows) -> bytes:
    return ("id,name,amount\n" + "".join(f"{r['id']},{r['name']},{r['amount']}\n"
                                         for r in rows)).encode()


def jsonl_gz_bytes(rows) -> bytes:
    return gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode())


def assert_sales(lake, key, rows):
    entry = lake.entry(key)
    assert entry["stats"]["total_rows"] == len(rows)
    table = lake.read_table(key)
    assert rows_of(table, "id", "name", "amount") == [
        (r["id"], r["name"], r["amount"]) for r in rows]
    return table


def test_csv_reader_reads_a_glob_of_files_from_the_backend(lake):
    uri = None
    for n, (first, last) in enumerate([(1, 10), (11, 15), (16, 40)], start=1):
        uri = put(lake, f"input/sales/part_{n}.csv", csv_bytes(sales(first, last)))
    put(lake, "input/sales/other.txt", b"not,a,match\n")
    put(lake, "input/sales/deeper/part_9.csv", csv_bytes(sales(100, 101)))  # '*' stays in a folder
    lake.pipeline("sales", {"reader": "csv", "uri": uri.rsplit("/", 1)[0] + "/part_*.csv",
                            "stream": "sales"})
    assert "sales: 40 records" in lake.run("sales").stdout
    table = assert_sales(lake, "csv/sales", sales(1, 40))
    assert str(table.schema.field("id").type) == "int64"
    assert lake.entry("csv/sales")["location"] == "raw/csv/sales"
    assert lake.data_files("raw") == ["raw/csv/sales/sales_0000.parquet"]


def test_jsonl_reader_reads_gzipped_files_from_the_backend(lake):
    base = None
    for n, (first, last) in enumerate([(1, 20), (21, 33)], start=1):
        base = put(lake, f"input/events/day_{n}.jsonl.gz", jsonl_gz_bytes(sales(first, last)))
    lake.pipeline("events", {"reader": "jsonl", "uri": base.rsplit("/", 1)[0] + "/*.jsonl.gz",
                             "stream": "events"})
    lake.run("events")
    assert_sales(lake, "jsonl/events", sales(1, 33))


def test_parquet_reader_keeps_types_and_rows_from_the_backend(lake):
    utc = dt.timezone.utc
    source = pa.table({
        "id": pa.array([1, 2, 3], pa.int64()),
        "price": pa.array([Decimal("1.10"), None, Decimal("12345.67")], pa.decimal128(10, 2)),
        "at": pa.array([dt.datetime(2024, 1, 1, tzinfo=utc), None,
                        dt.datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=utc)],
                       pa.timestamp("us", tz="UTC")),
        "tags": pa.array([["a"], [], None], pa.list_(pa.string())),
        "flag": pa.array([True, False, None]),
    })
    buffer = io.BytesIO()
    pq.write_table(source, buffer)
    uri = put(lake, "input/items/items.parquet", buffer.getvalue())
    lake.pipeline("items", {"reader": "parquet", "uri": uri, "stream": "items"})
    lake.run("items")
    table = lake.read_table("parquet/items")
    assert table.schema.remove_metadata().equals(source.schema.remove_metadata())
    assert table.sort_by("id").to_pylist() == source.to_pylist()
    types = [c["type"] for c in lake.entry("parquet/items")["columns"]]
    assert types[:3] == ["int64", "decimal128(10, 2)", "timestamp[us, tz=UTC]"]
    assert types[3] in ("list<item: string>", "list<element: string>")
    assert types[4] == "bool"


def test_jsonl_reader_reads_plain_and_gzipped_local_files_together(local_lake, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in sales(1, 5)))
    (folder / "b.jsonl.gz").write_bytes(jsonl_gz_bytes(sales(6, 9)))
    local_lake.pipeline("events", {"reader": "jsonl", "uri": str(folder)})  # a folder: all files
    local_lake.run("events")
    assert_sales(local_lake, "jsonl/jsonl", sales(1, 9))  # stream defaults to the reader's name


def test_csv_reader_honours_the_delimiter_option(local_lake, tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("id;name;amount\n1;a b;1.5\n2;c, d;2.5\n")
    local_lake.pipeline("semi", {"reader": "csv", "uri": str(path), "stream": "semi",
                                 "options": {"delimiter": ";"}})
    local_lake.run("semi")
    bucket = local_lake.local_root
    frame = pl.read_parquet(f"{bucket}/raw/csv/semi/*.parquet").sort("id")
    assert frame.rows() == [(1, "a b", 1.5), (2, "c, d", 2.5)]


def test_csv_files_with_different_columns_fail_naming_the_file(local_lake, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("id,name\n1,x\n")
    (folder / "b.csv").write_text("id,other\n2,y\n")
    local_lake.pipeline("mixed", {"reader": "csv", "uri": f"{folder}/*.csv", "stream": "mixed"})
    proc = local_lake.run("mixed", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("lakepipe: error: pipeline 'mixed': stream 'mixed': '"), (
        proc.stderr)
    assert f"{folder}/b.csv' has columns" in proc.stderr
    assert proc.stderr.count("\n") == 1, f"not one line: {proc.stderr!r}"
    assert local_lake.data_files() == []
    assert [log["status"] for log in local_lake.logs("mixed")] == ["failure"]


def test_reader_with_no_matching_files_fails_naming_the_pattern(local_lake, tmp_path):
    local_lake.pipeline("none", {"reader": "csv", "uri": f"{tmp_path}/nothing/*.csv"})
    proc = local_lake.run("none", check=False)
    assert proc.returncode == 1
    assert "no files match" in proc.stderr and f"{tmp_path}/nothing/*.csv" in proc.stderr


def test_demo_reader_lands_the_requested_rows(lake):
    lake.pipeline("demo-orders", {"reader": "demo", "options": {"rows": 1234}})
    assert "orders: 1234 records" in lake.run("demo-orders").stdout
    entry = lake.entry("demo/orders")
    assert entry["stats"]["total_rows"] == 1234
    table = lake.read_table("demo/orders")
    assert sorted(table.column("id").to_pylist()) == list(range(1, 1235))


def test_demo_command_writes_to_an_s3_bucket_and_says_where(make_lake):
    lake = make_lake("s3")
    out = lake.lakepipe("demo", lake.bucket, "--rows", 500).stdout.splitlines()
    path = f"{lake.bucket}/raw/demo/orders/orders_0000.parquet"
    assert out[0] == f"wrote 500 rows to {path}"
    assert out[1] == f"manifest: {lake.bucket}/.dataspoc/manifest.json"
    assert out[2].startswith("query it:") and path in out[2]
    assert lake.read_parquet("raw/demo/orders/orders_0000.parquet").num_rows == 500
    assert lake.entry("demo/orders")["stats"]["total_rows"] == 500

    # Again, as JSON: a full refresh with a new file number; the old file is gone.
    doc = json.loads(lake.lakepipe("--output", "json", "demo", lake.bucket, "--rows", 70).stdout)
    assert doc == {"uri": f"{lake.bucket}/raw/demo/orders/orders_0001.parquet", "rows": 70}
    assert lake.data_files("raw") == ["raw/demo/orders/orders_0001.parquet"]
    entry = lake.entry("demo/orders")
    assert (entry["stats"]["total_rows"], entry["stats"]["extractions"]) == (70, 2)


def test_demo_command_output_is_queryable_locally(local_lake):
    bucket = local_lake.bucket
    out = local_lake.lakepipe("demo", bucket, "--rows", 321).stdout
    path = f"{bucket}/raw/demo/orders/orders_0000.parquet"
    assert f"wrote 321 rows to {path}\n" in out
    assert duckdb.sql(f"SELECT count(*), count(DISTINCT id) FROM read_parquet('{path}')"
                      ).fetchone() == (321, 321)


def test_storage_block_in_the_pipeline_reaches_the_bucket(make_lake, moto):
    lake = make_lake("s3")
    # Credentials from the environment, the endpoint only from the pipeline's storage block.
    env = {k: v for k, v in moto.env.items() if k != "AWS_ENDPOINT_URL"}
    lake.backend.env = env
    lake.pipeline("demo-orders", {"reader": "demo", "options": {"rows": 50}},
                  storage={"endpoint": moto.endpoint, "region": "us-east-1"})
    lake.run("demo-orders")
    assert lake.read_table("demo/orders").num_rows == 50
