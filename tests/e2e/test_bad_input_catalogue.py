"""The bad-input catalogue: one case per kind of bad input, each with its exact message.

Every case exits 1 with one line `lakepipe: error: <message>` that names where the input
went wrong (pipeline, stream, line, task, file:line, URI), and leaves what was committed
before as it was. Cases that other files check in depth are listed in RELIABILITY.md
beside these (type mismatches, a RECORD before its SCHEMA, truncated JSON, a failing or
hanging tap, unknown YAML keys, SQL errors, cycles, an exec task writing garbage, a
missing bucket, a wrong key).
"""
from __future__ import annotations

import contextlib
import json
import re
import resource
import subprocess
from pathlib import Path

import pytest

from ingest_support import Committed, record_msg, schema_msg, singer_lines

PROPS = {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}}
SCHEMA = json.dumps(schema_msg("things", PROPS))
P = "pipeline 'orders'"


def one_error_line(proc) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("lakepipe: error: ") and proc.stderr.count("\n") == 1, \
        proc.stderr
    return proc.stderr[len("lakepipe: error: "):-1]


@pytest.fixture
def committed(local_lake, tmp_path):
    return Committed(local_lake, tmp_path)


# --- what a tap prints ---------------------------------------------------------------
# id -> (tap output as bytes, expected message). Each runs after a committed run of the
# same pipeline, which must stay exactly as it was.
TAP_OUTPUT = {
    "invalid-utf8-in-a-string": (
        f'{SCHEMA}\n{{"type": "RECORD", "stream": "things", "record": {{"id": 4, "name": "caf\xe9"}}}}\n'
        .encode("latin-1"),
        f"{P}: line 2: invalid JSON: UTF8_ERROR: The input is not valid UTF-8"),
    "garbage-line-of-100mb": (
        f"{SCHEMA}\n".encode() + b"x" * (100 << 20) + b"\n",
        f"{P}: line 2: not a JSON object"),
    "line-is-a-json-array": (
        f"{SCHEMA}\n[1, 2, 3]\n".encode(),
        f"{P}: line 2: not a JSON object"),
    "message-without-type": (
        f'{SCHEMA}\n{{"stream": "things", "record": {{"id": 4}}}}\n'.encode(),
        f"{P}: line 2: message has no \"type\""),
    "record-without-record": (
        f'{SCHEMA}\n{{"type": "RECORD", "stream": "things"}}\n'.encode(),
        f"{P}: stream 'things', line 2: RECORD has no \"record\""),
    "record-is-not-an-object": (
        f'{SCHEMA}\n{{"type": "RECORD", "stream": "things", "record": [4]}}\n'.encode(),
        f"{P}: stream 'things', line 2: record is not a JSON object"),
    "record-for-another-stream-without-schema": (
        f'{SCHEMA}\n{json.dumps(record_msg("others", {"id": 1}))}\n'.encode(),
        f"{P}: stream 'others', line 2: RECORD before the stream's SCHEMA"),
    "schema-without-stream": (
        b'{"type": "SCHEMA", "schema": {"type": "object", "properties": {}}}\n',
        f"{P}: stream '', line 1: SCHEMA message has no \"stream\""),
    "schema-not-an-object": (
        b'{"type": "SCHEMA", "stream": "things", "schema": "id int", "key_properties": []}\n',
        f"{P}: stream 'things', line 1: stream schema must be an object, got \"id int\""),
    "schema-unknown-type": (
        json.dumps(schema_msg("things", {"id": {"type": "banana"}})).encode() + b"\n",
        f"{P}: stream 'things', line 1: property 'id': unknown type \"banana\""),
    "integer-out-of-range": (
        f'{SCHEMA}\n{{"type": "RECORD", "stream": "things", "record": {{"id": 123456789012345678901234567890}}}}\n'
        .encode(),
        f"{P}: stream 'things', line 2: field 'id': expected integer within int64 range, "
        "got number "
        "123456789012345678901234567890"),
    "bad-date-time": (
        json.dumps(schema_msg("things", {"id": {"type": "integer"},
                                         "at": {"type": "string", "format": "date-time"}}))
        .encode() + b"\n" +
        json.dumps(record_msg("things", {"id": 4, "at": "yesterday at noon"})).encode() + b"\n",
        f"{P}: stream 'things', line 2: field 'at': expected date-time string, got string "
        "\"yesterday at noon\""),
    "state-not-json": (
        f'{SCHEMA}\n{{"type": "STATE", "value": {{"bookmarks": }}}}\n'.encode(),
        f"{P}: line 2: invalid JSON key"),
    "no-trailing-newline-truncated": (
        f'{SCHEMA}\n{{"type": "RECORD", "stream": "things", "record": {{"id": 4, "na'.encode(),
        f"{P}: line 2: invalid JSON: UNCLOSED_STRING: A string is opened, but never closed."),
}


@pytest.mark.parametrize("case", list(TAP_OUTPUT))
def test_bad_tap_output(committed, case):
    output, expected = TAP_OUTPUT[case]
    committed.tap.output.write_bytes(output)
    message = committed.fail()
    assert message == expected
    committed.assert_nothing_committed(message)


def test_tap_killed_by_a_signal(committed):
    committed.tap.set_output(singer_lines(schema_msg("things", PROPS)))
    committed.write(tap_config={"self_kill": 9})
    message = committed.fail()
    assert message == f"{P}: tap 'tap-replay.py' was killed by signal 9"
    committed.assert_nothing_committed(message)


def test_tap_flooding_stderr_then_failing_reports_only_the_tail(committed):
    committed.tap.set_output("")
    committed.write(tap_config={"stderr_lines": 200_000, "stderr_text": "fatal: gave up\n",
                                "exit_code": 3})
    message = committed.fail()
    # The last lines of its stderr, joined by '|'.
    tail = "|".join(f"tap log line {i} of 200000: lorem ipsum dolor sit amet"
                    for i in range(199996, 200000))
    assert message == f"{P}: tap 'tap-replay.py' exited with status 3: {tail}|fatal: gave up"
    committed.assert_nothing_committed(message)


def test_a_100mb_record_line_is_stored_whole(local_lake, tmp_path):
    """Not an error: a long line within the 1 GiB line limit is a record like any other."""
    committed = Committed(local_lake, tmp_path)
    big = "y" * (100 << 20)
    committed.tap.set_output(singer_lines(schema_msg("things", PROPS),
                                          record_msg("things", {"id": 4, "name": big})))
    local_lake.run("orders")
    table = local_lake.read_table("replay/things")
    names = dict(zip(table.column("id").to_pylist(), table.column("name").to_pylist()))
    assert len(names[4]) == len(big) and names[4] == big


# --- pipeline files --------------------------------------------------------------------
# id -> (pipeline file text ({bucket} is the lake's folder), expected message with {file}).
PIPELINE_FILES = {
    "not-a-mapping": ("- source\n- destination\n",
                      "{file}: not a YAML map"),
    "yaml-syntax": ("source:\n  reader: demo\n destination: {{bucket: {bucket}}}\n",
                    "{file}:3: end of map not found"),
    "no-source-kind": ("source: {{stream: x}}\ndestination: {{bucket: {bucket}}}\n",
                       "{file}:1: 'source' needs exactly one of 'tap' (a Singer tap) or 'reader' "
                       "(csv, jsonl, parquet, postgres, demo)"),
    "unknown-reader": ("source: {{reader: xml, uri: /x}}\ndestination: {{bucket: {bucket}}}\n",
                       "{file}:1: unknown reader 'xml' (use csv, jsonl, parquet, postgres or demo)"),
    "batch-rows-not-a-number": (
        "source: {{reader: demo}}\ndestination: {{bucket: {bucket}}}\nbatch: {{rows: lots}}\n",
        "{file}:3: 'batch.rows' must be a non-negative integer"),
    "no-destination": ("source: {{reader: demo}}\n",
                       "{file}:1: 'destination' (or 'destinations') is required"),
    "bucket-scheme": ("source: {{reader: demo}}\ndestination: {{bucket: 'ftp://host/x'}}\n",
                      "{file}:2: 'destination.bucket': invalid URI 'ftp://host/x': unknown scheme "
                      "'ftp' (use a path, file://, s3://, gs://, az:// or abfs://)"),
    "bucket-with-query": ("source: {{reader: demo}}\ndestination: {{bucket: 's3://b/x?sig=abc'}}\n",
                          "{file}:2: 'destination.bucket': invalid URI 's3://b/x': query strings "
                          "and fragments are not accepted; put settings in the storage block"),
    "empty-value": ("source:\n  reader: csv\n  uri: /x.csv\n  options:\n    delimiter:\n"
                    "destination: {{bucket: {bucket}}}\n",
                    "{file}:5: 'source.options.delimiter' is empty: give it a value (\"\" for "
                    "empty text)"),
    "compression": ("source: {{reader: demo}}\ndestination: {{bucket: {bucket}, compression: lz5}}\n",
                    "{file}:2: 'destination': unknown compression 'lz5' (use zstd, snappy, gzip, "
                    "lz4, brotli or none)"),
}


@pytest.mark.parametrize("case", list(PIPELINE_FILES))
def test_bad_pipeline_file(local_lake, case):
    text, expected = PIPELINE_FILES[case]
    path = local_lake.home / "pipelines" / "orders.yaml"
    path.write_text(text.format(bucket=local_lake.bucket))
    message = one_error_line(local_lake.run("orders", check=False))
    assert message == expected.format(file=path)
    assert local_lake.files() == {}


def billion_laughs_pipeline(bucket: str) -> str:
    """An inline tap config of nine levels of ten aliases: 10^9 strings once expanded."""
    rows = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    rows += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    return ("source:\n  tap: tap-x\n  config:\n" + "".join(f"    {r}\n" for r in rows) +
            f"destination: {{bucket: {bucket}}}\n")


def test_yaml_alias_bomb_in_an_inline_tap_config(local_lake, lakepipe_bin, clean_env):
    """Refused while converting, naming the file; before, the conversion ate all memory
    and std::bad_alloc aborted the process. Memory is capped so a regression fails
    fast instead of swapping the machine."""
    path = local_lake.home / "pipelines" / "orders.yaml"
    path.write_text(billion_laughs_pipeline(local_lake.bucket))

    def cap_memory():
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    proc = subprocess.run(local_lake.argv(lakepipe_bin, "run", "orders"), env=clean_env,
                          capture_output=True, text=True, timeout=120, preexec_fn=cap_memory)
    assert one_error_line(proc) == (
        f"{path}:4: 'source.config' expands to more than 100000 values (YAML aliases repeat "
        "what they name); make it smaller or use a config file")
    assert local_lake.files() == {}


# --- built-in readers ------------------------------------------------------------------

def reader_case(lake, tmp_path, reader: str, name: str, data: bytes):
    (tmp_path / "in").mkdir(exist_ok=True)
    path = tmp_path / "in" / name
    path.write_bytes(data)
    lake.pipeline("orders", {"reader": reader, "uri": str(path), "stream": "things"})
    return path, one_error_line(lake.run("orders", check=False))


def test_csv_with_a_ragged_row(local_lake, tmp_path):
    path, message = reader_case(local_lake, tmp_path, "csv", "x.csv",
                                b"id,name\n1,a\n2,b,extra\n3,c\n")
    assert message == (f"{P}: reading 'file://{path}': CSV parse error: Expected 2 columns, "
                       "got 3: 2,b,extra")


def test_jsonl_with_a_broken_line(local_lake, tmp_path):
    path, message = reader_case(local_lake, tmp_path, "jsonl", "x.jsonl",
                                b'{"id": 1}\n{"id": 2\n{"id": 3}\n')
    # Arrow counts rows from 0: "row 1" is the second line.
    assert message == (f"{P}: reading 'file://{path}': JSON parse error: Missing a comma or '}}' "
                       "after an object member. in row 1")


def test_parquet_reader_on_a_file_that_is_not_parquet(local_lake, tmp_path):
    path, message = reader_case(local_lake, tmp_path, "parquet", "x.parquet", b"not parquet")
    assert message == (f"{P}: reading 'file://{path}': Parquet magic bytes not found in footer. "
                       "Either the file is corrupted or this is not a parquet file.")


def test_reader_glob_matching_nothing(local_lake, tmp_path):
    local_lake.pipeline("orders", {"reader": "csv", "uri": f"{tmp_path}/nothing/*.csv",
                                   "stream": "things"})
    message = one_error_line(local_lake.run("orders", check=False))
    assert message == f"{P}: no files match 'file://{tmp_path}/nothing/*.csv'"


# --- the destination ---------------------------------------------------------------------

@contextlib.contextmanager
def tmpfs(path: Path, options: str):
    """A small or read-only filesystem of its own at `path` (the tests run as root)."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_full_disk_fails_clearly_and_the_next_run_succeeds(local_lake, tmp_path, run_lakepipe):
    """A 2 MB tmpfs as the bucket: the demo reader's 200k rows do not fit."""
    with tmpfs(tmp_path / "small-disk", "size=2m") as bucket:
        local_lake.pipeline("orders", {"reader": "demo", "options": {"rows": "200000"}},
                            destination={"bucket": str(bucket)})
        message = one_error_line(local_lake.run("orders", check=False))
        # Data files are written in the run's staging folder until the commit.
        assert re.fullmatch(
            re.escape(f"{P}: writing 'file://{bucket}/.dataspoc/staging/orders/") + r"[^/]+" +
            re.escape("/raw/demo/orders/orders_0000.parquet.staged': Error writing bytes to file "
                      "([errno 28] No space left on device)"), message), message
        # Nothing committed, nothing left but the failure log.
        leftovers = sorted(str(p.relative_to(bucket)) for p in bucket.rglob("*") if p.is_file())
        assert [p for p in leftovers
                if not p.startswith((".dataspoc/logs/", ".dataspoc/locks/"))] == []
        # With room again (a small table), the next run succeeds.
        local_lake.pipeline("orders", {"reader": "demo", "options": {"rows": "1000"}},
                            destination={"bucket": str(bucket)})
        local_lake.run("orders")


def test_read_only_destination(local_lake, tmp_path):
    with tmpfs(tmp_path / "read-only", "size=8m,ro") as bucket:
        local_lake.pipeline("orders", {"reader": "demo", "options": {"rows": "10"}},
                            destination={"bucket": str(bucket)})
        message = one_error_line(local_lake.run("orders", check=False))
        assert message.startswith(f"{P}: creating folder for 'file://{bucket}/.dataspoc/journal/"
                                  "orders/"), message
        assert message.endswith(f".json': Cannot create directory '{bucket}/.dataspoc' "
                                "([errno 30] Read-only file system)"), message


# --- commands ------------------------------------------------------------------------------

def test_cp_from_a_missing_file(run_lakepipe, tmp_path):
    message = one_error_line(run_lakepipe("cp", tmp_path / "nope.bin", tmp_path / "x.bin",
                                          check=False))
    assert message == f"'file://{tmp_path}/nope.bin' does not exist"


def test_an_exception_ends_in_one_error_line(run_lakepipe, tmp_path):
    """The last resort in main(): any exception (here a test hook's std::bad_alloc) ends
    the command with one line and exit code 1, not an abort."""
    proc = run_lakepipe("--home", tmp_path, "status", env={"LAKEPIPE_THROW_AT": "before-command"},
                        check=False)
    assert one_error_line(proc) == "'status' ran out of memory (std::bad_alloc)"


def test_query_with_a_syntax_error(run_lakepipe):
    message = one_error_line(run_lakepipe("query", "SELEC 1", check=False))
    assert message == 'DuckDB: Parser Error: syntax error at or near "SELEC" LINE 1: SELEC 1'


# --- flows -------------------------------------------------------------------------------------

def flow_error(flow, text: str, *args) -> str:
    flow.write_text(text)
    proc = flow.lakepipe("flow", "run", flow.file, *args, check=False)
    return one_error_line(proc)


def test_flow_task_reading_a_missing_file(local_flow):
    flow = local_flow
    flow.write(stages=[{"name": "raw", "tasks": [
        {"name": "x", "read": {"uri": str(flow.folder / "missing.csv")}}]}])
    message = one_error_line(flow.lakepipe("flow", "run", flow.file, check=False))
    assert message == (f"flow 'shop', stage 'raw', task 'x': no files match "
                       f"'file://{flow.folder}/missing.csv'")


def test_flow_with_two_tasks_of_one_name(local_flow):
    flow = local_flow
    flow.write(stages=[{"name": "raw", "tasks": [{"name": "x", "sql": "SELECT 1 AS a"},
                                                 {"name": "x", "sql": "SELECT 2 AS a"}]}])
    message = one_error_line(flow.lakepipe("flow", "run", flow.file, check=False))
    assert message == (f"{flow.file}:18: 'stages[0].tasks[1].name': task 'x' appears twice in "
                       "stage 'raw'")


def test_flow_sql_reading_a_later_stage(local_flow):
    flow = local_flow
    flow.write(stages=[{"name": "a", "tasks": [{"name": "x", "sql": "SELECT * FROM b.y"}]},
                       {"name": "b", "tasks": [{"name": "y", "sql": "SELECT 1 AS v"}]}])
    message = one_error_line(flow.lakepipe("flow", "run", flow.file, check=False))
    assert message == (f"flow 'shop', stage 'a', task 'x' ({flow.file}:13): 'b.y' is in a "
                       "later stage")


def test_flow_run_of_an_unknown_stage(local_flow):
    flow = local_flow
    flow.write(stages=[{"name": "a", "tasks": [{"name": "x", "sql": "SELECT 1 AS v"}]}])
    message = one_error_line(flow.lakepipe("flow", "run", flow.file, "--stage", "zz",
                                           check=False))
    assert message == f"flow 'shop' ({flow.file}) has no stage 'zz' (its stages: a)"


def test_flow_file_that_is_not_yaml(local_flow):
    flow = local_flow
    flow.write_text("name: shop\nstages: [\n")
    message = one_error_line(flow.lakepipe("flow", "run", flow.file, check=False))
    assert message == f"{flow.file}:3: end of sequence flow not found"


def test_exec_task_program_not_found(local_flow):
    flow = local_flow
    flow.write(stages=[{"name": "a", "tasks": [{"name": "x", "exec": ["no-such-program-e2e"]}]}])
    message = one_error_line(flow.lakepipe("flow", "run", flow.file, check=False))
    assert message == ("flow 'shop', stage 'a', task 'x': starting program 'no-such-program-e2e': "
                       "No such file or directory (is it installed and on PATH?)")
