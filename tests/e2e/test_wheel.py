"""The wheel, installed as a user installs it (wheel_support.WheelVenv): the CLI, `import
lakepipe`, and flows run from Python with their tables read as Arrow streams, with no file of
the source tree or of .deps/ loaded."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pyarrow.parquet as pq

from flow_support import PYTHON, expected_tables, flow_on
from services import ROOT
from wheel_support import wheel_file

# An exec task that takes 3 s to write its one-row table.
SLOW_TABLE = ("import sys, time, pyarrow as pa, pyarrow.ipc as ipc; time.sleep(3); "
              "t = pa.table({'x': [1]}); w = ipc.new_stream(sys.stdout.buffer, t.schema); "
              "w.write_table(t); w.close()")

# Every file the process has mapped, and where its libarrow came from.
MAPS = """
def mapped_files():
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and fields[5].startswith("/"):
                paths.add(fields[5])
    return sorted(paths)
"""


def site_packages(venv) -> str:
    return subprocess.run([str(venv.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()


def libraries_resolved(venv, binary: Path) -> dict[str, str]:
    """ldd's answer for one of the wheel's binaries: library name -> resolved path."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True,
                         env=venv.env()).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (\S+)", line)
        if m:
            found[m.group(1)] = os.path.realpath(m.group(2)) if m.group(2).startswith("/") else m.group(2)
    return found


def test_the_wheel_is_a_manylinux_wheel_of_this_version():
    name = wheel_file().name
    assert re.fullmatch(r"lakepipe-\d+\.\d+\.\d+-cp3\d+-cp3\d+-manylinux_2_\d+_x86_64\.whl", name), name


def test_the_installed_cli_runs_with_nothing_of_the_source_tree(wheel_venv, tmp_path):
    version = wheel_venv.cli("--version", cwd=tmp_path).stdout
    assert re.fullmatch(r"lakepipe \d+\.\d+\.\d+ \(Arrow 26\.0\.1, DuckDB v1\.5\.5\)\n", version)

    demo = json.loads(wheel_venv.cli("--output", "json", "demo", "./lake", "--rows", "1000",
                                     cwd=tmp_path).stdout)
    assert demo["rows"] == 1000
    files = sorted((tmp_path / "lake").rglob("*.parquet"))
    assert files and sum(pq.read_metadata(f).num_rows for f in files) == 1000

    site = Path(site_packages(wheel_venv))
    binaries = [site / "lakepipe" / "bin" / "lakepipe", *(site / "lakepipe").glob("_engine*.so")]
    assert len(binaries) == 2, binaries
    for binary in binaries:
        resolved = libraries_resolved(wheel_venv, binary)
        assert resolved["libarrow.so.2600"] == str(site / "pyarrow" / "libarrow.so.2600")
        assert "not found" not in resolved.values(), resolved
        assert not [p for p in resolved.values() if p.startswith(str(ROOT))], resolved


def test_a_flow_runs_from_python_and_its_tables_cross_as_arrow_streams(
        wheel_venv, store_backend, run_lakepipe, tmp_path):
    flow = flow_on(store_backend, run_lakepipe, tmp_path / "flow")
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    code = MAPS + """
import json
import os
import duckdb, polars as pl, pyarrow as pa
import lakepipe

flow = lakepipe.Flow("flow.yaml")
first = flow.run()
before = pa.total_allocated_bytes()
totals = flow.table("model.totals").to_arrow()
grew = pa.total_allocated_bytes() - before
try:
    flow.sql("DROP TABLE model.names")
    sql_error = None
except lakepipe.LakepipeError as error:
    sql_error = str(error)
try:
    flow.table("model.nothing").to_arrow()
    missing_error = None
except lakepipe.LakepipeError as error:
    missing_error = str(error)
print(json.dumps({
    "first": first,
    "second": flow.run(),
    "status": flow.status(),
    "tables": {
        "model.totals": totals.to_pylist(),
        "model.names": pl.DataFrame(flow.table("model.names")).to_dicts(),
        "raw.orders": flow.table("raw.orders").to_pandas().to_dict("records"),
        "raw.customers": [dict(zip(["id", "name", "region"], row))
                          for row in flow.table("raw.customers").to_duckdb().fetchall()],
    },
    "sql": flow.sql("SELECT count(*) AS n FROM model.names").to_pylist(),
    # A consumer that asks for its own schema gets the stream cast to it.
    "cast": str(pa.RecordBatchReader.from_stream(
        flow.table("model.names"),
        schema=pa.schema([("id", pa.int32()), ("name", pa.large_string())])).read_all().schema),
    "sql_error": sql_error,
    "missing_error": missing_error,
    "grew": grew,
    "nbytes": totals.nbytes,
    "maps": mapped_files(),
}))
"""
    out = wheel_venv.python_json(code, cwd=flow.folder, env=flow.env)
    expected = expected_tables(report=False)

    # Every reader got the rows the flow committed, which independent DuckDB reads too.
    for ref, rows in out["tables"].items():
        stage, table = ref.split(".")
        assert sorted(tuple(r.values()) for r in rows) == expected[(stage, table)], ref
    assert flow.catalog_tables() == expected
    assert out["sql"] == [{"n": len(expected[("model", "names")])}]

    ran = [t for s in out["first"]["stages"] for t in s["tasks"]]
    assert len(ran) == 4 and not any(t["cache_hit"] for t in ran)
    assert all(t["cache_hit"] for s in out["second"]["stages"] for t in s["tasks"])
    assert [s["stage"] for s in out["status"]["stages"]] == ["raw", "model"]
    assert out["cast"] == "id: int32\nname: large_string"

    # Python's run summary and status are the CLI's JSON, key for key.
    cli_run = flow.run()
    assert sorted(out["second"]) == sorted(cli_run)
    assert sorted(out["second"]["stages"][0]["tasks"][0]) == \
        sorted(cli_run["stages"][0]["tasks"][0])
    cli_status = json.loads(flow.lakepipe("flow", "status", flow.file).stdout)
    fixed = ("flow", "instance", "metadata", "catalog")
    assert sorted(out["status"]) == sorted(cli_status)
    assert [out["status"][k] for k in fixed] == [cli_status[k] for k in fixed]

    # The same errors, word for word, as the CLI's.
    cli = wheel_venv.cli("sql", "flow.yaml", "DROP TABLE model.names", cwd=flow.folder,
                         env=flow.env, check=False)
    assert cli.returncode == 1
    assert cli.stderr == f"lakepipe: error: {out['sql_error']}\n"
    assert "model.nothing" in out["missing_error"]

    # One libarrow in the process, pyarrow's: the engine's reads were allocated from the
    # memory pool pyarrow counts. No file of the source tree or .deps/ was mapped.
    assert out["grew"] >= out["nbytes"] > 0
    arrows = [p for p in out["maps"] if "/libarrow.so" in p]
    assert arrows == [f"{site_packages(wheel_venv)}/pyarrow/libarrow.so.2600"], arrows
    assert not [p for p in out["maps"] if p.startswith(str(ROOT))]


def test_ctrl_c_stops_a_python_run_with_nothing_committed_and_nothing_stuck(
        wheel_venv, local_flow):
    flow = local_flow
    flow.put_data()
    flow.write([{"name": "raw", "tasks": [
        {"name": "customers", "read": {"uri": flow.input_uri("customers.csv")}},
        # Still running when Ctrl-C comes; its output is never committed.
        {"name": "slow", "exec": [PYTHON, "-c", SLOW_TABLE]}]}])
    code = """
import json, os, signal, threading
import lakepipe

flow = lakepipe.Flow("flow.yaml")
threading.Timer(1, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    flow.run()
    outcome = "finished"
except KeyboardInterrupt:
    outcome = "interrupted"
print(json.dumps({"outcome": outcome, "status": flow.status()}))
"""
    out = wheel_venv.python_json(code, cwd=flow.folder)
    assert out["outcome"] == "interrupted"
    assert out["status"]["stages"][0]["committed_slot"] == ""
    assert out["status"]["runs"][-1]["status"] == "cancelled"
    # No lock or run record left behind: the CLI's next run goes through.
    assert sorted(t["task"] for s in flow.run()["stages"] for t in s["tasks"]) == \
        ["customers", "slow"]


def test_a_pipeline_runs_through_pipe_client_with_the_wheels_own_program(
        wheel_venv, local_lake, tmp_path):
    lake = local_lake
    lake.pipeline("demo", {"reader": "demo", "options": {"rows": 100}})
    code = f"""
import json
import lakepipe

client = lakepipe.PipeClient(home={str(lake.home)!r})
out = {{"pipelines": client.pipelines(), "validate": client.validate("demo"),
        "run": client.run("demo"), "status": client.status(), "logs": client.logs("demo"),
        "manifest": client.manifest({lake.bucket!r})}}
try:
    client.run("nope")
    out["error"] = None
except lakepipe.LakepipeError as error:
    out["error"] = [str(error), error.exit_code]
print(json.dumps(out))
"""
    out = wheel_venv.python_json(code, cwd=tmp_path)
    assert out["pipelines"] == ["demo"]
    assert out["validate"] == {"bucket_ok": True, "tap_ok": True, "errors": []}
    assert out["run"]["success"] is True and out["run"]["error"] is None
    assert sum(out["run"]["streams"].values()) == 100
    [log] = lake.logs("demo")
    assert out["logs"] == log
    assert out["status"] == [{"name": "demo", "last_run": log["started_at"], "status": "success",
                              "duration": log["duration_seconds"], "records": 100}]
    assert out["manifest"] == lake.manifest()
    path = lake.home / "pipelines" / "nope.yaml"
    assert out["error"] == [f"pipeline 'nope' not found: no '{path}'", 1]
