"""Bad input and failing taps: one clear error line, exit 1, nothing committed (manifest,
state and data files unchanged, nothing left behind), a failure log written."""
import os
import signal
import subprocess
import time

import pyarrow as pa
import pytest

from ingest_support import (Committed, ReplayTap, record_msg,
                            schema_msg, singer_lines)

PROPS = {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}}


@pytest.fixture
def committed(local_lake, tmp_path):
    return Committed(local_lake, tmp_path)


def test_type_mismatch_names_pipeline_stream_line_and_field(committed):
    v2 = {**PROPS, "extra": {"type": ["null", "boolean"]}}
    message = committed.fail(singer_lines(
        schema_msg("things", PROPS),
        *[record_msg("things", {"id": i, "name": "x"}) for i in range(4, 600)],
        schema_msg("things", v2),  # finishes a first file of this run before the error
        *[record_msg("things", {"id": i, "name": "y", "extra": True}) for i in range(600, 700)],
        record_msg("things", {"id": "seven hundred", "name": "bad"}),  # line 699
        record_msg("things", {"id": 701, "name": "z"}),
    ), batch={"rows": 100})
    assert message == ("pipeline 'orders': stream 'things', line 699: field 'id': expected "
                       "integer, got string \"seven hundred\"")
    committed.assert_nothing_committed(message)


def test_type_mismatch_in_a_nested_field_names_its_path(committed):
    props = {"id": {"type": "integer"},
             "address": {"type": "object", "properties": {"zip": {"type": "integer"}}}}
    message = committed.fail(singer_lines(
        schema_msg("things", props),
        record_msg("things", {"id": 1, "address": {"zip": 1000}}),
        record_msg("things", {"id": 2, "address": {"zip": 12.5}}),
    ))
    assert message == ("pipeline 'orders': stream 'things', line 3: field 'address.zip': "
                       "expected integer, got number 12.5")
    committed.assert_nothing_committed(message)


def test_record_before_schema_is_an_error(committed):
    message = committed.fail(singer_lines(
        record_msg("things", {"id": 9, "name": "early"}),
        schema_msg("things", PROPS),
    ))
    assert message == ("pipeline 'orders': stream 'things', line 1: RECORD before the "
                       "stream's SCHEMA")
    committed.assert_nothing_committed(message)


def test_truncated_json_line_is_an_error_naming_the_line(committed):
    text = singer_lines(schema_msg("things", PROPS),
                        *[record_msg("things", {"id": i, "name": "x"}) for i in (4, 5)])
    message = committed.fail(text + '{"type": "RECORD", "stream": "things", "record": {"id": 6, "na')
    assert message.startswith("pipeline 'orders': line 4: invalid JSON: "), message
    committed.assert_nothing_committed(message)


def test_tap_exiting_1_reports_the_tail_of_its_stderr(committed):
    committed.tap.set_output(singer_lines(schema_msg("things", PROPS),
                                          record_msg("things", {"id": 4, "name": "x"})))
    stderr = ("connecting\n" * 50 + "Traceback (most recent call last):\n"
              "  File \"tap.py\", line 3, in <module>\n"
              "ValueError: credentials rejected by the server\n")
    message = committed.fail(tap_config={"exit_code": 1, "stderr_text": stderr})
    assert message == ("pipeline 'orders': tap 'tap-replay.py' exited with status 1: "
                       "connecting|connecting|Traceback (most recent call last):|"
                       "  File \"tap.py\", line 3, in <module>|"
                       "ValueError: credentials rejected by the server")
    committed.assert_nothing_committed(message)
    # The failure log keeps the tap's stderr for whoever investigates later.
    source = committed.lake.logs("orders")[-1]["source"]
    assert source["tap"] == "tap-replay.py"
    assert source["stderr_lines"] == 53
    assert source["stderr_tail"].endswith("ValueError: credentials rejected by the server\n")


def test_tap_not_found_names_the_command(committed):
    committed.lake.pipeline("orders", {"tap": "tap-does-not-exist-e2e", "config": {"a": 1}},
                            incremental={"enabled": True})
    message = committed.fail()
    assert message == ("pipeline 'orders': starting tap 'tap-does-not-exist-e2e': No such "
                       "file or directory (is it installed and on PATH?)")
    committed.assert_nothing_committed(message)


def test_unknown_yaml_key_names_the_key_and_the_file(local_lake, tmp_path):
    lake = local_lake
    path = lake.home / "pipelines" / "orders.yaml"
    path.write_text(f"source:\n  tap: tap-x\ndestination:\n  bucket: {lake.bucket}\n"
                    "  compresion: zstd\n")
    proc = lake.run("orders", check=False)
    assert proc.returncode == 1
    assert proc.stderr == f"lakepipe: error: {path}:5: unknown key 'destination.compresion'\n"
    path.write_text(f"source:\n  tap: tap-x\ndestination:\n  bucket: {lake.bucket}\n"
                    "incremetal:\n  enabled: true\n")
    proc = lake.run("orders", check=False)
    assert proc.returncode == 1
    assert proc.stderr == f"lakepipe: error: {path}:5: unknown key 'incremetal'\n"
    assert lake.files() == {}  # nothing written to the bucket, not even a log


def test_missing_pipeline_names_the_file_it_looked_for(local_lake):
    proc = local_lake.run("nope", check=False)
    assert proc.returncode == 1
    assert proc.stderr == (f"lakepipe: error: pipeline 'nope' not found: no "
                           f"'{local_lake.home}/pipelines/nope.yaml'\n")
    assert local_lake.files() == {}


def test_tap_flooding_stderr_with_100k_lines_still_succeeds(local_lake, tmp_path):
    lake = local_lake
    tap = ReplayTap(tmp_path / "tap")
    tap.set_output(singer_lines(schema_msg("things", PROPS),
                                *[record_msg("things", {"id": i, "name": f"n{i}"})
                                  for i in range(1, 2001)]))
    lake.pipeline("orders", tap.source(stderr_lines=100_000))
    start = time.monotonic()
    proc = lake.run("orders", timeout=60)
    assert time.monotonic() - start < 30
    assert proc.stderr == ""  # the tap's logs are not echoed as lakepipe's errors
    assert lake.entry("replay/things")["stats"]["total_rows"] == 2000
    source = lake.logs("orders")[-1]["source"]  # counted, and only a tail is kept
    assert source["stderr_lines"] == 100_000
    assert 0 < len(source["stderr_tail"]) <= 16 * 1024
    assert sorted(lake.read_table("replay/things").column("id").to_pylist()) == list(
        range(1, 2001))


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_timeout_seconds_stops_a_hanging_tap_and_its_children(committed, tmp_path):
    pid_file = tmp_path / "tap.pid"
    committed.tap.set_output(singer_lines(schema_msg("things", PROPS),
                                          record_msg("things", {"id": 4, "name": "x"})))
    start = time.monotonic()
    message = committed.fail(timeout_seconds=2,
                             tap_config={"sleep": 600, "pid_file": str(pid_file), "child": True})
    elapsed = time.monotonic() - start
    assert message == "pipeline 'orders': tap 'tap-replay.py' timed out and was stopped"
    assert 1.5 < elapsed < 15
    pids = [int(p) for p in pid_file.read_text().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in pids if pid_alive(p)], "the tap or its child outlived the timeout"
    committed.assert_nothing_committed(message)


def test_on_type_error_null_stores_null_and_keeps_the_row(local_lake, tmp_path):
    lake = local_lake
    tap = ReplayTap(tmp_path / "tap")
    props = {"id": {"type": "integer"}, "amount": {"type": ["null", "number"]},
             "at": {"type": ["null", "string"], "format": "date-time"}}
    tap.set_output(singer_lines(
        schema_msg("things", props),
        record_msg("things", {"id": 1, "amount": "abc", "at": "2024-01-01T00:00:00Z"}),
        record_msg("things", {"id": 2, "amount": 2.5, "at": "not a time"}),
        record_msg("things", {"id": 3, "amount": 3, "at": None}),
    ))
    lake.pipeline("orders", tap.source(), on_type_error="null")
    lake.run("orders")
    table = lake.read_table("replay/things")
    rows = sorted(table.to_pylist(), key=lambda r: r["id"])
    assert [(r["id"], r["amount"]) for r in rows] == [(1, None), (2, 2.5), (3, 3.0)]
    assert rows[0]["at"] is not None and rows[1]["at"] is None
    assert lake.entry("replay/things")["stats"]["total_rows"] == 3


def test_on_type_error_string_turns_the_column_to_text_in_a_new_file(local_lake, tmp_path):
    lake = local_lake
    tap = ReplayTap(tmp_path / "tap")
    props = {"id": {"type": "integer"}, "amount": {"type": ["null", "number"]}}
    tap.set_output(singer_lines(
        schema_msg("things", props),
        record_msg("things", {"id": 1, "amount": 1.5}),
        record_msg("things", {"id": 2, "amount": 2}),
        record_msg("things", {"id": 3, "amount": 3}),
        record_msg("things", {"id": 4, "amount": "12,50"}),
        record_msg("things", {"id": 5, "amount": {"v": 1}}),
    ))
    # Batches of 2: rows 1-2 are flushed as numbers before row 4 turns the column to text,
    # row 3 (not flushed yet) is re-read as text.
    lake.pipeline("orders", tap.source(), on_type_error="string", batch={"rows": 2})
    result = lake.run("orders")
    assert ("stream 'things', line 5: field 'amount': expected number, got string \"12,50\"; "
            "the column is stored as text from here on") in result.stderr
    entry = lake.entry("replay/things")
    assert entry["stats"]["total_rows"] == 5
    first, second = (lake.read_parquet(f["path"]) for f in entry["files"])
    assert first.schema.field("amount").type == pa.float64()
    assert first.to_pylist() == [{"id": 1, "amount": 1.5}, {"id": 2, "amount": 2.0}]
    assert second.schema.field("amount").type == pa.string()
    assert second.to_pylist() == [{"id": 3, "amount": "3"}, {"id": 4, "amount": "12,50"},
                                  {"id": 5, "amount": '{"v": 1}'}]
    amount = next(c for c in entry["columns"] if c["name"] == "amount")
    assert amount["type"] == "string"


def test_sigterm_during_a_quiet_tap_cancels_the_run_with_exit_130(committed, tmp_path,
                                                                 lakepipe_bin, clean_env):
    pid_file = tmp_path / "tap.pid"
    committed.tap.set_output(singer_lines(schema_msg("things", PROPS),
                                          record_msg("things", {"id": 4, "name": "x"})))
    committed.write(tap_config={"sleep": 120, "pid_file": str(pid_file)})
    proc = subprocess.Popen(committed.lake.argv(lakepipe_bin, "run", "orders"),
                            env={**clean_env, **committed.lake.backend.env}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not pid_file.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "the tap never started"
            time.sleep(0.05)
        time.sleep(0.5)  # the tap has written its records and is now quiet
        proc.send_signal(signal.SIGTERM)
        try:
            _, stderr = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            raise AssertionError("lakepipe still running 15 s after SIGTERM (the tap is quiet)")
        assert proc.returncode == 130, stderr
        assert stderr == "lakepipe: error: pipeline 'orders': run cancelled\n"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if pid_file.exists():
            for pid in pid_file.read_text().split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
    assert committed.lake.snapshot() == committed.before
    assert committed.lake.journal("orders") == []
