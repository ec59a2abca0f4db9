"""`lakepipe demo` writes a Parquet table that independent readers read back."""
import json

import pyarrow.parquet as pq
import polars as pl


def test_demo_table_reads_back_with_pyarrow_and_polars(run_lakepipe, tmp_path):
    out = run_lakepipe("demo", tmp_path / "lake", "--rows", "12345").stdout
    path = tmp_path / "lake" / "raw" / "demo" / "orders" / "orders_0000.parquet"
    assert f"wrote 12345 rows to {path}" in out
    assert "query it:" in out
    table = pq.read_table(path)
    assert table.num_rows == 12345
    assert table.column("id").to_pylist()[:3] == [1, 2, 3]
    assert str(table.schema.field("amount").type) == "decimal128(12, 2)"
    assert str(table.schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    assert pl.read_parquet(path).height == 12345
    # zstd, as the default codec promises.
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_demo_with_no_rows_commits_an_empty_table_and_says_so(run_lakepipe, tmp_path):
    # There is no data file to point a query at: it says so instead of crashing.
    out = run_lakepipe("demo", tmp_path / "lake", "--rows", "0").stdout
    assert out == "wrote 0 rows\n"
    assert not list((tmp_path / "lake").rglob("*.parquet"))
    manifest = json.loads((tmp_path / "lake" / ".dataspoc" / "manifest.json").read_text())
    entry = manifest["tables"]["demo/orders"]
    assert entry["files"] == [] and entry["stats"]["total_rows"] == 0
    out = run_lakepipe("--output", "json", "demo", tmp_path / "lake2", "--rows", "0").stdout
    assert json.loads(out) == {"uri": None, "rows": 0}
