"""A DataSpoc bucket continues in place (issue 14 §8).

The real DataSpoc Pipe 0.2.0 (scripts/install-deps puts it in .deps/dataspoc-pipe) and
lakepipe take turns on one bucket and one pipeline. After every lakepipe run the manifest
says what the table's folder holds: every file (DataSpoc's too) with its footer's row count,
`total_rows` their sum, `extractions` both writers' runs; DuckDB and DataSpoc Lens count the
same rows. DataSpoc numbers each run's files from 0000 again, so its later runs overwrite
files: lakepipe reads such a file's footer again. DataSpoc runs here on local buckets (its
cloud filesystems are not installed); the bucket it leaves is adopted on every backend.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from ingest_support import SampleTap, sample_rows
from lens_reader import LensCounter, catalog_rows
from services import DEPS

DATASPOC_PIPE = DEPS / "dataspoc-pipe" / "bin" / "dataspoc-pipe"
KEY = "sample/things"
LOCATION = "raw/sample/things"


class DataSpoc:
    """DataSpoc Pipe with its own home (~/.dataspoc-pipe under a private HOME)."""

    def __init__(self, folder: Path, name: str, source: dict, bucket: str, incremental: bool):
        self.home = folder
        self.name = name
        pipelines = folder / ".dataspoc-pipe" / "pipelines"
        pipelines.mkdir(parents=True, exist_ok=True)
        # DataSpoc's pipeline file (config.py's PipelineConfig); JSON is YAML.
        doc = {"source": {"tap": source["tap"], "config": source["config"]},
               "destination": {"bucket": f"file://{bucket}", "path": "raw"},
               "incremental": {"enabled": incremental}}
        (pipelines / f"{name}.yaml").write_text(json.dumps(doc, indent=2))

    def run(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["HOME"] = str(self.home)
        proc = subprocess.run([str(DATASPOC_PIPE), "run", self.name], env=env,
                              capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"dataspoc-pipe run: {proc.stdout}\n{proc.stderr}"


def footer_rows(lake, path: str) -> int:
    return pq.read_metadata(str(lake.local_root / path)).num_rows


def folder_rows(lake) -> dict[str, int]:
    """Every data file of the table's folder with its footer's row count."""
    return {p: footer_rows(lake, p) for p in lake.data_files(LOCATION)}


def lens_count(lake, tmp_path) -> tuple[int, int]:
    with LensCounter(lake.bucket, tmp_path) as lens:
        pass
    return lens.last("things")


def assert_manifest_is_the_folder(lake, tmp_path, extractions: int) -> int:
    """The manifest entry lists exactly the folder's files with their footers' rows."""
    entry = lake.entry(KEY)
    on_disk = folder_rows(lake)
    listed = {f["path"]: f["rows"] for f in entry["files"]}
    assert listed == on_disk
    for f in entry["files"]:
        assert f["bytes"] == (lake.local_root / f["path"]).stat().st_size
        # A file's columns (its own, or the table's when it lists none) are its footer's.
        schema = pq.read_schema(str(lake.local_root / f["path"]))
        assert f.get("columns", entry["columns"]) == [
            {"name": c.name, "type": str(c.type), "nullable": c.nullable} for c in schema]
    rows = sum(on_disk.values())
    assert entry["stats"]["total_rows"] == rows
    assert entry["stats"]["extractions"] == extractions
    assert entry["location"] == LOCATION
    glob = f"{lake.local_root}/{LOCATION}/**/*.parquet"
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()[0] == rows
    assert lens_count(lake, tmp_path) == (rows, rows)
    assert catalog_rows(lake.bucket, tmp_path)["things"] == rows  # `dataspoc-lens catalog`
    # Numbers are never reused: the next one is past every file DataSpoc or lakepipe wrote.
    numbers = [int(Path(p).stem.rsplit("_", 1)[1]) for p in on_disk]
    assert entry["next_file_number"] == max(numbers) + 1
    return rows


def test_lakepipe_and_dataspoc_take_turns_on_an_incremental_table(local_lake, tmp_path):
    lake = local_lake
    tap = SampleTap(tmp_path / "tap")
    source = tap.source()
    dataspoc = DataSpoc(tmp_path / "dataspoc", "things", source, str(lake.local_root),
                        incremental=True)
    lake.pipeline("things", source, incremental={"enabled": True})

    # 1. DataSpoc writes 15,000 rows: two files (it flushes every 10,000 records).
    tap.set_rows(sample_rows(1, 15_000))
    dataspoc.run()
    first = lake.entry(KEY)
    assert "files" not in first and first["stats"]["extractions"] == 1
    assert sum(folder_rows(lake).values()) == 15_000
    before = set(lake.data_files(LOCATION))
    assert len(before) == 2

    # 2. lakepipe continues in place: DataSpoc's entry, files and numbering are adopted.
    tap.add_rows(sample_rows(15_001, 19_000))
    lake.run("things")
    rows = assert_manifest_is_the_folder(lake, tmp_path, extractions=2)
    assert rows == 19_000
    [ours] = set(lake.data_files(LOCATION)) - before
    assert ours.endswith("things_0002.parquet")
    assert lake.entry(KEY)["stats"]["last_extraction_rows"] == 4_000

    # 3. DataSpoc again: it counts its run in manifest.json and writes from 0000 again,
    # overwriting its own first file when the day is the same.
    tap.add_rows(sample_rows(19_001, 22_000))
    dataspoc.run()
    assert lake.entry(KEY)["stats"]["extractions"] == 3
    changed = sum(folder_rows(lake).values())
    if len(lake.data_files(LOCATION)) == 3:  # same day: things_0000 now holds 3,000 rows
        assert changed == 3_000 + 5_000 + 4_000
    # Another pipeline of ours publishing the manifest keeps DataSpoc's count of the table.
    other = SampleTap(tmp_path / "other", streams=("others",), script="tap-other.py")
    other.set_rows(sample_rows(1, 10), stream="others")
    lake.pipeline("others", other.source())
    lake.run("others")
    assert lake.entry(KEY)["stats"]["extractions"] == 3
    assert lake.entry("other/others")["stats"]["total_rows"] == 10
    assert lens_count(lake, tmp_path) == (changed, changed)

    # 4. lakepipe again: DataSpoc's new (or rewritten) file is counted from its footer, its
    # run counts as an extraction, and lakepipe's file takes the next free number.
    tap.add_rows(sample_rows(22_001, 24_000))
    lake.run("things")
    rows = assert_manifest_is_the_folder(lake, tmp_path, extractions=4)
    assert rows == changed + 2_000
    assert any(p.endswith("things_0003.parquet") for p in lake.data_files(LOCATION))
    assert lake.entry(KEY)["stats"]["last_extraction_rows"] == 2_000


def test_a_full_refresh_table_of_dataspoc_is_replaced_in_place(local_lake, tmp_path):
    lake = local_lake
    tap = SampleTap(tmp_path / "tap")
    source = tap.source()
    dataspoc = DataSpoc(tmp_path / "dataspoc", "things", source, str(lake.local_root),
                        incremental=False)
    lake.pipeline("things", source)

    tap.set_rows(sample_rows(1, 500))
    dataspoc.run()
    assert lake.data_files(LOCATION) == [f"{LOCATION}/things_0000.parquet"]

    # lakepipe's full refresh replaces DataSpoc's file after its own is committed, and
    # counts DataSpoc's run.
    tap.set_rows(sample_rows(1, 700))
    lake.run("things")
    assert lake.data_files(LOCATION) == [f"{LOCATION}/things_0001.parquet"]
    assert assert_manifest_is_the_folder(lake, tmp_path, extractions=2) == 700

    # DataSpoc's next full run writes things_0000 again beside lakepipe's file (it never
    # removes files); lakepipe's next run replaces both.
    tap.set_rows(sample_rows(1, 800))
    dataspoc.run()
    assert len(lake.data_files(LOCATION)) == 2
    lake.run("things")
    assert lake.data_files(LOCATION) == [f"{LOCATION}/things_0002.parquet"]
    assert assert_manifest_is_the_folder(lake, tmp_path, extractions=4) == 800


def test_a_dataspoc_table_is_adopted_on_every_backend(lake, tmp_path):
    """The bucket as DataSpoc Pipe leaves it (written here with pyarrow, as DataSpoc does),
    on local, S3, GCS and Azure: lakepipe reads the footers through its own storage."""
    import pyarrow as pa

    dt = f"{LOCATION}/dt=2026-11-30"
    for folder in (dt, ".dataspoc"):
        lake.backend.fs.create_dir(lake.backend.fs_path(folder), recursive=True)
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), ("name", pa.string()),
                        ("amount", pa.float64())])
    for number, (first, last) in enumerate([(1, 300), (301, 500)]):
        table = pa.Table.from_pylist(sample_rows(first, last), schema=schema)
        with lake.backend.fs.open_output_stream(
                lake.backend.fs_path(f"{dt}/things_{number:04d}.parquet")) as out:
            pq.write_table(table, out, compression="zstd")
    manifest = {"version": "1.0", "updated_at": "2026-11-30T10:00:00+00:00", "tables": {KEY: {
        "source": "sample", "table": "things",
        "stats": {"total_rows": 500, "extractions": 2,
                  "last_extraction": "2026-11-30T10:00:00+00:00", "last_extraction_rows": 200},
        "columns": [{"name": c.name, "type": str(c.type), "nullable": c.nullable}
                    for c in schema]}}}
    with lake.backend.fs.open_output_stream(
            lake.backend.fs_path(".dataspoc/manifest.json")) as out:
        out.write(json.dumps(manifest).encode())

    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(501, 600))
    lake.pipeline("things", tap.source(), incremental={"enabled": True})
    lake.run("things")
    entry = lake.entry(KEY)
    files = {f["path"]: f["rows"] for f in entry["files"]}
    assert files.pop(f"{dt}/things_0000.parquet") == 300
    assert files.pop(f"{dt}/things_0001.parquet") == 200
    [(ours, rows)] = files.items()
    assert ours.endswith("things_0002.parquet") and rows == 100
    assert entry["stats"]["total_rows"] == 600 == lake.read_table(KEY).num_rows
    assert entry["stats"]["extractions"] == 3
    assert entry["next_file_number"] == 3
