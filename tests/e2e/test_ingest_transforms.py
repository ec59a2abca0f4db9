"""Transforms applied to each batch before it is written: SQL run by DuckDB, and DataSpoc
Pipe's transforms/<pipeline>.py convention; plus a pipeline file as DataSpoc Pipe's own
documentation writes it, run unchanged."""
import sys
from pathlib import Path

from ingest_support import SampleTap, rows_of, sample_rows

PYTHON = {"LAKEPIPE_PYTHON": sys.executable}  # the test venv has pyarrow and pandas


def test_sql_transform_drops_a_column_and_filters_rows(local_lake, tmp_path):
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 10))
    local_lake.pipeline("sqlt", tap.source(), transform={
        "sql": "SELECT id, upper(name) AS name FROM batch WHERE id % 2 = 0"})
    local_lake.run("sqlt")
    table = local_lake.read_table("sample/things")
    assert table.column_names == ["id", "name"]
    assert rows_of(table) == [(i, f"NAME-{i}") for i in range(2, 11, 2)]
    assert local_lake.entry("sample/things")["stats"]["total_rows"] == 5


def test_sql_transform_error_names_stream_and_commits_nothing(local_lake, tmp_path):
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 3))
    local_lake.pipeline("badsql", tap.source(), transform={"sql": "SELECT nosuch FROM batch"})
    proc = local_lake.run("badsql", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        "lakepipe: error: pipeline 'badsql': transform of stream 'things': DuckDB: Binder Error: "
        "Referenced column \"nosuch\" not found"), proc.stderr
    assert local_lake.data_files() == []
    assert local_lake.logs("badsql")[-1]["status"] == "failure"


def test_dataspoc_transform_file_works_unchanged(local_lake, tmp_path):
    # The shape of DataSpoc Pipe's documented transform: pandas in, pandas out.
    (local_lake.home / "transforms").mkdir()
    (local_lake.home / "transforms" / "pyt.py").write_text(
        "import pandas as pd\n\n"
        "def transform(df: pd.DataFrame) -> pd.DataFrame:\n"
        "    df = df[df['amount'] > 5].copy()\n"
        "    df['amount_cents'] = (df['amount'] * 100).astype('int64')\n"
        "    return df\n")
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 8))
    local_lake.pipeline("pyt", tap.source())
    local_lake.run("pyt", env=PYTHON)
    table = local_lake.read_table("sample/things")
    assert rows_of(table, "id", "amount_cents") == [(i, int(i * 125)) for i in range(5, 9)]


def test_failing_python_transform_fails_the_run_with_its_error(local_lake, tmp_path):
    (local_lake.home / "transforms").mkdir()
    (local_lake.home / "transforms" / "boom.py").write_text(
        "def transform(df):\n    raise ValueError('bad amount in row 3')\n")
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 3))
    local_lake.pipeline("boom", tap.source())
    proc = local_lake.run("boom", check=False, env=PYTHON)
    assert proc.returncode == 1
    assert "pipeline 'boom': transform of stream 'things': python transform:" in proc.stderr
    assert "ValueError: bad amount in row 3" in proc.stderr
    assert local_lake.data_files() == []  # untransformed data is never written


def test_pipeline_file_from_dataspoc_docs_runs_unchanged(run_lakepipe, tmp_path):
    # DataSpoc Pipe's documented PipelineConfig: a config path under ~/.dataspoc-pipe,
    # streams, partition_by, incremental and schedule blocks, a file:// bucket.
    home = tmp_path / "user"
    sources = home / ".dataspoc-pipe" / "sources"
    tap = SampleTap(tmp_path / "tap", streams=("orders", "customers"))
    tap.set_rows(sample_rows(1, 4), "orders")
    tap.set_rows(sample_rows(1, 2), "customers")
    sources.mkdir(parents=True)
    (sources / "sales.json").write_text(__import__("json").dumps(tap.config))
    pipelines = home / ".dataspoc-pipe" / "pipelines"
    pipelines.mkdir()
    lake = tmp_path / "lake"
    (pipelines / "sales.yaml").write_text(
        "source:\n"
        f"  tap: {tap.command}          # Singer tap command\n"
        "  config: ~/.dataspoc-pipe/sources/sales.json  # Tap config path\n"
        "  streams: [orders, customers]  # Optional filter (null = all)\n"
        "\n"
        "destination:\n"
        f"  bucket: file://{lake}     # S3, GCS, Azure, or file://\n"
        "  path: raw                  # Base path in bucket\n"
        "  compression: zstd          # zstd, snappy, gzip, none\n"
        "  partition_by: _extraction_date\n"
        "\n"
        "incremental:\n"
        "  enabled: true              # Use Singer bookmarks\n"
        "\n"
        "schedule:\n"
        "  cron: \"0 */6 * * *\"       # Optional cron expression\n")
    run_lakepipe("--home", home / ".dataspoc-pipe", "run", "sales", env={"HOME": str(home)})
    import pyarrow.dataset as ds
    orders = ds.dataset(str(lake / "raw" / "sample" / "orders"), partitioning="hive").to_table()
    assert sorted(orders.column("id").to_pylist()) == [1, 2, 3, 4]
    assert Path(lake / ".dataspoc" / "manifest.json").exists()
