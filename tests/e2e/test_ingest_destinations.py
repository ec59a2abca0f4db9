"""Several destinations stay equal (issue 14 §7): one commit point for all of them (the
others' journals are prepared, the first's commits the run), so a crash or a failure between
them never leaves one destination a run behind for good."""
import pytest

from ingest_support import SampleTap, sample_rows

POINTS = ["after-data-before-commit", "after-prepare-before-commit", "after-journal-commit",
          "after-publish-before-manifest", "after-manifest-before-state",
          "after-commit-before-cleanup"]


def ids(lake, key):
    entry = lake.entry(key)
    return sorted(i for f in entry["files"] for i in lake.read_parquet(f["path"])["id"].to_pylist())


@pytest.mark.parametrize("store", ["file", "s3"])
@pytest.mark.parametrize("point", POINTS)
def test_two_destinations_hold_the_same_rows_after_a_crash_at_any_point(
        make_lake, tmp_path, point, store):
    first, second = make_lake("file"), make_lake(store)
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 50))
    first.pipeline("both", tap.source(), incremental={"enabled": True},
                   destinations=[{"bucket": first.bucket}, {"bucket": second.bucket}])
    env = second.backend.env
    first.run("both", env=env)
    tap.add_rows(sample_rows(51, 80))
    killed = first.run("both", check=False, env={**env, "LAKEPIPE_CRASH_AT": point})
    assert killed.returncode == -9, killed.stderr
    committed = point not in ("after-data-before-commit", "after-prepare-before-commit")
    tap.add_rows(sample_rows(81, 90))
    first.run("both", env=env)
    for lake in (first, second):
        assert ids(lake, "sample/things") == list(range(1, 91)), (lake.bucket, committed)
        assert lake.journal("both") == []
        assert not lake.files(".dataspoc/staging")
    assert second.state("both") == first.state("both")


def test_two_destinations_in_one_bucket_are_refused(local_lake, tmp_path):
    tap = SampleTap(tmp_path / "tap")
    local_lake.pipeline("same", tap.source(), destinations=[
        {"bucket": local_lake.bucket, "path": "a"}, {"bucket": local_lake.bucket + "/", "path": "b"}])
    proc = local_lake.run("same", check=False)
    assert proc.returncode == 1
    assert "destinations[1]: bucket" in proc.stderr and "use one destination per bucket" in proc.stderr
