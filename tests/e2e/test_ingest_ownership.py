"""One writer per table (issue 14 §5): two pipelines whose sources share a name (both
PostgreSQL taps are `tap-postgres`) do not silently take one table over."""
from ingest_support import SampleTap, sample_rows


def test_a_second_pipeline_writing_the_same_table_is_refused_naming_both(local_lake, tmp_path):
    lake = local_lake
    first, second = SampleTap(tmp_path / "a"), SampleTap(tmp_path / "b")
    first.set_rows(sample_rows(1, 3))
    second.set_rows(sample_rows(10, 11))
    lake.pipeline("crm", first.source())
    lake.pipeline("erp", second.source())
    lake.run("crm")
    before = lake.snapshot()
    proc = lake.run("erp", check=False)
    assert proc.returncode == 1
    assert proc.stderr == (
        f"lakepipe: error: pipeline 'erp': table 'sample/things' in '{lake.bucket}' belongs to "
        "pipeline 'crm'; pipeline 'erp' would take it over (give one of them another "
        "source.name, or set share_tables: true on both destinations)\n")
    assert {k: v for k, v in lake.snapshot().items() if "/logs/" not in k} == before
    assert lake.entry("sample/things")["pipeline"] == "crm"

    # Renamed, it lands beside; declared shared on both, it may write the table.
    lake.pipeline("erp", second.source(name="erp-sample"))
    lake.run("erp")
    assert lake.entry("erp-sample/things")["stats"]["total_rows"] == 2
    shared = {"bucket": lake.bucket, "share_tables": True}
    lake.pipeline("crm", first.source(), destination=shared)
    lake.pipeline("erp", second.source(), destination=shared)
    lake.run("erp")
    lake.run("crm")
    assert lake.entry("sample/things")["pipeline"] == "crm"


def test_the_same_pipeline_from_a_second_home_folder_does_not_touch_a_live_run(
        local_lake, tmp_path, run_lakepipe, lakepipe_bin):
    import shutil
    import subprocess
    import time
    from ingest_support import Lake, ReplayTap, record_msg, schema_msg, singer_lines
    lake = local_lake
    tap = ReplayTap(tmp_path / "tap")
    tap.set_output(singer_lines(schema_msg("t", {"id": {"type": "integer"}}),
                                *[record_msg("t", {"id": i}) for i in range(5)]))
    lake.pipeline("slow", tap.source(sleep_before=3))
    other = Lake(lake.backend, run_lakepipe, tmp_path / "other-home")
    shutil.copy(lake.home / "pipelines" / "slow.yaml", other.home / "pipelines" / "slow.yaml")
    first = subprocess.Popen(lake.argv(lakepipe_bin, "run", "slow"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not lake.journal("slow") and time.monotonic() < deadline:
        time.sleep(0.05)
    second = other.run("slow", check=False)
    assert second.returncode == 1
    assert "of this pipeline is still running (pid " in second.stderr
    assert "two runs of one pipeline at once are refused" in second.stderr
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    entry = lake.entry("replay/t")
    assert entry["stats"]["total_rows"] == 5 and len(entry["files"]) == 1
    assert lake.data_files("raw") == [entry["files"][0]["path"]]


def test_two_pipelines_writing_one_new_table_at_once_never_share_a_file(
        local_lake, tmp_path, lakepipe_bin):
    """Neither has an entry yet, so ownership cannot tell them apart: the table's lock in the
    (local) bucket lets one write; the other fails clearly and nothing is overwritten."""
    import subprocess
    from ingest_support import ReplayTap, record_msg, schema_msg, singer_lines
    lake = local_lake
    for name, first in (("one", 0), ("two", 100)):
        tap = ReplayTap(tmp_path / f"tap-{name}")
        tap.set_output(singer_lines(schema_msg("t", {"id": {"type": "integer"}}),
                                    *[record_msg("t", {"id": first + i}) for i in range(3)]))
        lake.pipeline(name, {**tap.source(sleep_before=2), "name": "shared"},
                      destination={"bucket": lake.bucket, "share_tables": True})
    procs = [subprocess.Popen(lake.argv(lakepipe_bin, "run", n), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
             for n in ("one", "two")]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    failed = next(err for code, err in results if code == 1)
    assert "table 'shared/t' is being written by another run (another process holds" in failed
    entry = lake.entry("shared/t")
    ids = [i for f in entry["files"] for i in lake.read_parquet(f["path"])["id"].to_pylist()]
    assert sorted(ids) in ([0, 1, 2], [100, 101, 102])
    assert lake.data_files("raw") == [f["path"] for f in entry["files"]]
