"""Readers that glob the table folders see exactly the committed rows (issue 14 §6).

DataSpoc Lens 0.2.0 counts the table through its own discovery and views (every
`*.parquet` under the location, hive partitioning on) the whole time a run is killed at
each crash point, and while the next run recovers: it never sees a row that was not
committed, nor one twice.
"""
import pytest

from ingest_support import SampleTap, sample_rows
from lens_reader import LensCounter

ROWS = 1000
# Where each point leaves the run: before its commit, or committed with its files moved in.
BEFORE_PUBLISH = ["after-data-before-commit", "after-journal-commit"]
AFTER_PUBLISH = ["after-publish-before-manifest", "after-manifest-before-state",
                 "after-commit-before-cleanup"]


@pytest.fixture
def grown(local_lake, tmp_path):
    """An incremental pipeline 'things' with ROWS committed rows and a way to add more."""
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, ROWS))
    local_lake.pipeline("things", tap.source(), incremental={"enabled": True},
                        destination={"bucket": local_lake.bucket, "file_size_mb": 1})
    local_lake.run("things")
    return tap


@pytest.mark.parametrize("point", BEFORE_PUBLISH + AFTER_PUBLISH)
def test_lens_sees_only_committed_rows_while_a_run_is_killed_and_recovered(
        local_lake, grown, tmp_path, point):
    lake = local_lake
    grown.add_rows(sample_rows(ROWS + 1, 2 * ROWS))
    with LensCounter(lake.bucket, tmp_path) as lens:
        killed = lake.run("things", check=False, env={"LAKEPIPE_CRASH_AT": point})
        assert killed.returncode == -9, killed.stderr
    visible = ROWS if point in BEFORE_PUBLISH else 2 * ROWS
    assert set(lens.counts("things")) <= {(ROWS, ROWS), (2 * ROWS, 2 * ROWS)}
    assert lens.last("things") == (visible, visible)

    # The next run finishes or undoes the dead one and lands what is missing, once.
    grown.add_rows(sample_rows(2 * ROWS + 1, 3 * ROWS))
    with LensCounter(lake.bucket, tmp_path) as lens:
        lake.run("things")
    # Recovery first finishes a committed dead run (its rows appear), then lands the new ones.
    assert set(lens.counts("things")) <= {(visible, visible), (2 * ROWS, 2 * ROWS),
                                          (3 * ROWS, 3 * ROWS)}
    assert lens.last("things") == (3 * ROWS, 3 * ROWS)
    entry = lake.entry("sample/things")
    assert entry["stats"]["total_rows"] == 3 * ROWS
    assert not lake.files(".dataspoc/staging")  # nothing left behind


def test_lens_reads_a_full_refresh_of_an_incremental_table_whole(local_lake, grown, tmp_path):
    lake = local_lake
    grown.set_rows(sample_rows(1, 300))
    lake.run("things", "--full")
    with LensCounter(lake.bucket, tmp_path) as lens:
        pass
    # One layout (dt= folders) for every file: Lens neither misses rows nor loses `dt`.
    assert lens.last("things") == (300, 300)
    assert all(path.split("/")[-2].startswith("dt=") for path in lake.data_files("raw"))
