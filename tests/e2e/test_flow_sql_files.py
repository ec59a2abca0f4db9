"""A SQL task that reads files itself (read_csv('…'), read_parquet([…]), FROM 'x.csv') has
those files in its cache key, listed as a read task's (name, size, time): a changed file
re-runs it, an unchanged one is a cache hit. Relative paths name files beside the flow
file, wherever lakepipe is started, as read.uri does; a missing file is an error naming
the task."""
import os

from backends import make_backend
from flow_support import cache_hits, csv_text, flow_on


def sql_flow(flow, sql: str):
    flow.write([{"name": "model", "tasks": [{"name": "people", "sql": sql}]}])


def run_elsewhere(flow, tmp_path, lakepipe_bin, clean_env, *args):
    """`flow run` started from a folder that is not the flow's."""
    import json
    import subprocess
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    proc = subprocess.run([str(lakepipe_bin.resolve()), "--output", "json", "flow", "run",
                           str(flow.file), *args], cwd=elsewhere,
                          env={**clean_env, **flow.env}, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_local_file_read_by_sql_is_fingerprinted(local_flow, tmp_path, lakepipe_bin, clean_env):
    flow = local_flow
    (flow.folder / "people.csv").write_text(csv_text(["id", "name"], [(1, "ada"), (2, "bob")]))
    (flow.folder / "extra").mkdir()
    (flow.folder / "extra" / "more.csv").write_text(csv_text(["id", "name"], [(3, "cy")]))
    sql_flow(flow, "SELECT * FROM read_csv(['people.csv', 'extra/more.csv'], header = true) "
                   "UNION ALL SELECT id + 100, name FROM 'extra/more.csv'")
    first = run_elsewhere(flow, tmp_path, lakepipe_bin, clean_env)
    assert cache_hits(first) == {"model.people": False}
    assert sorted(flow.query("SELECT * FROM model.people")) == [
        (1, "ada"), (2, "bob"), (3, "cy"), (103, "cy")]

    assert cache_hits(run_elsewhere(flow, tmp_path, lakepipe_bin, clean_env)) == {
        "model.people": True}

    # One of the files changes: the task runs again and reads the new content.
    (flow.folder / "extra" / "more.csv").write_text(
        csv_text(["id", "name"], [(3, "cy"), (4, "dee")]))
    third = run_elsewhere(flow, tmp_path, lakepipe_bin, clean_env)
    assert cache_hits(third) == {"model.people": False}
    assert sorted(flow.query("SELECT * FROM model.people")) == [
        (1, "ada"), (2, "bob"), (3, "cy"), (4, "dee"), (103, "cy"), (104, "dee")]
    assert cache_hits(run_elsewhere(flow, tmp_path, lakepipe_bin, clean_env)) == {
        "model.people": True}

    # Same size, new time stamp: changed too.
    path = flow.folder / "people.csv"
    path.write_text(csv_text(["id", "name"], [(1, "ada"), (2, "bea")]))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert cache_hits(run_elsewhere(flow, tmp_path, lakepipe_bin, clean_env)) == {
        "model.people": False}
    assert (2, "bea") in flow.query("SELECT * FROM model.people")


def test_s3_file_read_by_sql_is_fingerprinted(moto, run_lakepipe, request, tmp_path):
    flow = flow_on(make_backend("s3", request, tmp_path / "store"), run_lakepipe,
                   tmp_path / "flow")
    uri = flow.put_input("people.csv", csv_text(["id", "name"], [(1, "ada"), (2, "bob")]))
    assert uri.startswith("s3://")
    sql_flow(flow, f"SELECT * FROM read_csv('{uri}', header = true)")
    assert cache_hits(flow.run()) == {"model.people": False}
    assert cache_hits(flow.run()) == {"model.people": True}
    flow.put_input("people.csv", csv_text(["id", "name"], [(1, "ada"), (2, "bob"), (3, "cy")]))
    assert cache_hits(flow.run()) == {"model.people": False}
    assert sorted(flow.query("SELECT * FROM model.people")) == [(1, "ada"), (2, "bob"),
                                                                 (3, "cy")]
    assert cache_hits(flow.run()) == {"model.people": True}


def test_missing_file_read_by_sql_names_the_task(local_flow):
    flow = local_flow
    sql_flow(flow, "SELECT * FROM read_parquet('missing.parquet')")
    proc = flow.run_fails()
    missing = flow.folder / "missing.parquet"
    assert proc.stderr == (
        f"lakepipe: error: flow 'shop', stage 'model', task 'people': the SQL reads "
        f"'missing.parquet': no files match 'file://{missing}'\n"), proc.stderr
