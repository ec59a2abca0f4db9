"""Runs at the same time: eight pipelines on one bucket keep every manifest entry; two runs
of one pipeline are refused by its lock."""
import pytest

from ingest_support import ReplayTap, SampleTap, record_msg, run_all, sample_rows, schema_msg
from ingest_support import singer_lines

PIPELINES = 8


@pytest.mark.parametrize("store", ["file", "s3"])
def test_eight_pipelines_at_once_on_one_bucket_all_reach_the_manifest(
        make_lake, tmp_path, store, lakepipe_bin, clean_env):
    lake = make_lake(store)
    expected = {}
    taps = []
    for n in range(PIPELINES):
        stream = f"stream{n}"
        tap = SampleTap(tmp_path / f"tap{n}", streams=(stream,))
        tap.set_rows(sample_rows(1, 10 + n), stream)
        taps.append(tap)
        # Half incremental, half full refresh.
        lake.pipeline(f"p{n}", tap.source(), incremental={"enabled": n % 2 == 0})
        expected[f"sample/{stream}"] = 10 + n + 2

    # Two rounds: the tables are created at once, then updated at once.
    for round_ in range(2):
        if round_:
            for n, tap in enumerate(taps):
                tap.add_rows(sample_rows(11 + n, 12 + n), f"stream{n}")
        procs = run_all([lake.argv(lakepipe_bin, "run", f"p{n}") for n in range(PIPELINES)],
                        {**clean_env, **lake.backend.env})
        for proc in procs:
            assert proc.returncode == 0, (proc.args, proc.stderr)

    tables = lake.manifest()["tables"]
    assert {key: t["stats"]["total_rows"] for key, t in tables.items()} == expected
    for key, rows in expected.items():
        assert lake.read_json(f".dataspoc/tables/{key}.json") == tables[key]
        assert sorted(lake.read_table(key).column("id").to_pylist()) == list(range(1, rows + 1))
    for n in range(PIPELINES):
        assert lake.journal(f"p{n}") == []
        assert [log["status"] for log in lake.logs(f"p{n}")] == ["success"] * 2


def test_two_runs_of_one_pipeline_at_once_one_is_refused(local_lake, tmp_path, lakepipe_bin,
                                                        clean_env):
    lake = local_lake
    tap = ReplayTap(tmp_path / "tap")
    tap.set_output(singer_lines(
        schema_msg("things", {"id": {"type": "integer"}}),
        *[record_msg("things", {"id": i}) for i in range(1, 11)],
        {"type": "STATE", "value": {"bookmarks": {"things": {"id": 10}}}}))
    # The tap takes a while, so the second run starts while the first one holds the lock.
    lake.pipeline("orders", tap.source(sleep_before=2), incremental={"enabled": True})
    first, second = run_all([lake.argv(lakepipe_bin, "run", "orders")] * 2,
                            {**clean_env, **lake.backend.env})
    ok, refused = sorted([first, second], key=lambda p: p.returncode)
    outcome = [(p.returncode, p.stdout, p.stderr) for p in (first, second)]
    assert (ok.returncode, refused.returncode) == (0, 1), outcome
    assert refused.stderr == (
        f"lakepipe: error: pipeline 'orders' is already running (another process holds "
        f"'{lake.home}/locks/orders.lock')\n")
    entry = lake.entry("replay/things")
    assert entry["stats"]["total_rows"] == 10 and entry["stats"]["extractions"] == 1
    assert sorted(lake.read_table("replay/things").column("id").to_pylist()) == list(
        range(1, 11))
    assert [log["status"] for log in lake.logs("orders")] == ["success"]
