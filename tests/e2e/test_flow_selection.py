"""Safe subsets of a flow run: `--stage` (repeatable), `--task stage.task`, the stale-upstream
warning and `--with-upstream`, and `--keep-going`. Results are read back with the duckdb
Python package over the catalog."""
import json

from flow_support import MORE_ORDERS, PYTHON, expected_tables


def sql_task(name: str, sql: str, **extra) -> dict:
    return {"name": name, "sql": sql, **extra}


def fail_task(name: str) -> dict:
    return {"name": name, "exec": [PYTHON, "tasks.py", "fail"]}


def values(flow, table: str) -> list:
    return [row[0] for row in flow.query(f"SELECT * FROM {table} ORDER BY 1")]


def warnings_of(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("lakepipe: warning: ")]


def error_of(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.startswith("lakepipe: error: ")]
    assert len(lines) == 1, proc.stderr
    return lines[0][len("lakepipe: error: "):]


def chain(a_rows: int) -> list[dict]:
    """s1.a (a_rows rows) <- s2.b."""
    return [
        {"name": "s1", "tasks": [sql_task("a", f"SELECT range AS v FROM range({a_rows})")]},
        {"name": "s2", "tasks": [sql_task("b", "SELECT v * 10 AS w FROM s1.a")]},
    ]


def test_stage_after_an_upstream_edit_warns_naming_the_stale_table(local_flow):
    flow = local_flow
    flow.write(chain(3))
    flow.run()
    flow.write(chain(5))  # s1.a edited, not rerun

    proc = flow.lakepipe("flow", "run", flow.file, "--stage", "s2", "--force")
    expected = ("flow 'shop': 's1.a' (read by s2.b) is stale: its SQL or table options changed "
                "since it was committed; this run reads its committed table (--with-upstream "
                "rebuilds it)")
    assert warnings_of(proc) == [f"lakepipe: warning: {expected}"]
    summary = json.loads(proc.stdout)
    assert summary["warnings"] == [expected]
    assert [s["stage"] for s in summary["stages"]] == ["s2"]
    # As the warning says: s2 was built on the committed (old) s1.a.
    assert values(flow, "s2.b") == [0, 10, 20]

    # A version bump is named as such.
    stages = chain(3)
    stages[0]["tasks"][0]["version"] = 4
    flow.write(stages)
    proc = flow.lakepipe("flow", "run", flow.file, "--stage", "s2")
    assert warnings_of(proc) == [
        "lakepipe: warning: flow 'shop': 's1.a' (read by s2.b) is stale: its version changed "
        "(0 when committed, now 4); this run reads its committed table (--with-upstream "
        "rebuilds it)"]

    # Current upstream: no warning.
    flow.write(chain(3))
    assert warnings_of(flow.lakepipe("flow", "run", flow.file, "--stage", "s2")) == []


def test_a_changed_source_file_makes_its_reader_stale(local_flow):
    flow = local_flow
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    flow.put_orders(MORE_ORDERS)  # customers.csv unchanged
    proc = flow.lakepipe("flow", "run", flow.file, "--stage", "model")
    assert warnings_of(proc) == [
        "lakepipe: warning: flow 'shop': 'raw.orders' (read by model.totals) is stale: its "
        "source files or reader options changed since it was committed; this run reads its "
        "committed table (--with-upstream rebuilds it)"]
    assert flow.catalog_tables()[("model", "totals")] == expected_tables()[("model", "totals")]
    flow.run("--stage", "model", "--with-upstream")
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS, report=False)


def test_with_upstream_reruns_the_stages_the_selection_reads(local_flow):
    flow = local_flow
    flow.write(chain(3))
    flow.run()
    slots = flow.slots()
    flow.write(chain(5))

    proc = flow.lakepipe("flow", "run", flow.file, "--stage", "s2", "--with-upstream")
    assert warnings_of(proc) == []
    summary = json.loads(proc.stdout)
    assert [s["stage"] for s in summary["stages"]] == ["s1", "s2"]
    assert values(flow, "s1.a") == [0, 1, 2, 3, 4]
    assert values(flow, "s2.b") == [0, 10, 20, 30, 40]
    assert flow.slots() == {stage: "even" for stage in slots}


def test_a_selection_reading_a_never_committed_table_is_an_error(local_flow):
    flow = local_flow
    flow.write(chain(3))
    proc = flow.run_fails("--stage", "s2")
    assert error_of(proc) == (
        "flow 'shop': the selected tasks read tables that were never committed: 's1.a' (read by "
        "s2.b); run with --with-upstream to build them too")
    # Said before anything ran: no run recorded, no stage committed.
    assert flow.query("SELECT count(*) FROM lakepipe.runs") == [(0,)]
    assert flow.slots() == {}

    summary = flow.run("--stage", "s2", "--with-upstream")
    assert [s["stage"] for s in summary["stages"]] == ["s1", "s2"]
    assert values(flow, "s2.b") == [0, 10, 20]


def three_stages(version: int) -> list[dict]:
    """s1.a <- s2.b, s1.a <- s3.c; every table's values carry `version`."""
    return [
        {"name": "s1", "tasks": [sql_task("a", f"SELECT {version} AS v")]},
        {"name": "s2", "tasks": [sql_task("b", f"SELECT v + {version} AS v FROM s1.a")]},
        {"name": "s3", "tasks": [sql_task("c", f"SELECT v * {version} AS v FROM s1.a")]},
    ]


def test_several_stage_flags_run_exactly_those_stages(local_flow):
    flow = local_flow
    flow.write(three_stages(1))
    flow.run()
    flow.write(three_stages(5))

    proc = flow.lakepipe("flow", "run", flow.file, "--stage", "s3", "--stage", "s1")
    assert warnings_of(proc) == []  # s3 reads s1, which runs first
    assert [s["stage"] for s in json.loads(proc.stdout)["stages"]] == ["s1", "s3"]
    assert values(flow, "s1.a") == [5]
    assert values(flow, "s2.b") == [2]   # untouched: 1 + 1
    assert values(flow, "s3.c") == [25]
    assert flow.slots() == {"s1": "even", "s2": "odd", "s3": "even"}

    proc = flow.run_fails("--stage", "s1", "--stage", "zz")
    assert error_of(proc) == f"flow 'shop' ({flow.file}) has no stage 'zz' (its stages: s1, s2, s3)"


def one_stage(version: int) -> list[dict]:
    """s1: a and b independent, x reads a; s2.y reads s1.b."""
    return [
        {"name": "s1", "tasks": [
            sql_task("a", f"SELECT {version} AS v"),
            sql_task("b", f"SELECT {version} * 100 AS v"),
            sql_task("x", "SELECT v + 1 AS v FROM s1.a"),
        ]},
        {"name": "s2", "tasks": [sql_task("y", "SELECT v + 2 AS v FROM s1.b")]},
    ]


def test_task_runs_only_that_task_and_the_commit_still_serves_the_others(flow):
    flow.write(one_stage(1))
    flow.run()
    before = flow.committed()
    flow.write(one_stage(2))  # a and b edited

    summary = flow.run("--task", "s1.b")
    tasks = {t["task"]: t for s in summary["stages"] for t in s["tasks"]}
    assert [s["stage"] for s in summary["stages"]] == ["s1"]
    assert {name: t["carried"] for name, t in tasks.items()} == {"a": True, "b": False,
                                                                 "x": True}
    assert not tasks["b"]["cache_hit"]
    # The new slot holds every table: b rebuilt, a and x as they were committed.
    assert flow.slots() == {"s1": "even", "s2": "odd"}
    con = flow.duck()
    try:
        assert con.execute("SELECT v FROM s1.b").fetchall() == [(200,)]
        assert con.execute("SELECT v FROM s1.a").fetchall() == [(1,)]
        assert con.execute("SELECT v FROM s1.x").fetchall() == [(2,)]
        assert con.execute("SELECT v FROM s2.y").fetchall() == [(102,)]
        assert sorted(con.execute(
            "SELECT \"table\" FROM lakepipe.tables WHERE stage = 's1' AND slot = 'even'"
        ).fetchall()) == [("a",), ("b",), ("x",)]
    finally:
        con.close()
    after = flow.committed()
    digests = flow.digests()
    for table in ("a", "x"):  # copies of the committed files in the new slot, same bytes
        old, new = before[("s1", table)], after[("s1", table)]
        assert new["content_hash"] == old["content_hash"]
        assert all("/s1__even/" in f["path"] for f in new["files_json"]), new
        assert [digests[f["path"]] for f in new["files_json"]] == [
            digests[f["path"]] for f in old["files_json"]]

    # A selected task whose same-stage input is not selected reads its committed table,
    # and is told it is stale.
    proc = flow.lakepipe("flow", "run", flow.file, "--task", "s1.x", "--task", "s2.y")
    assert warnings_of(proc) == [
        "lakepipe: warning: flow 'shop': 's1.a' (read by s1.x) is stale: its SQL or table "
        "options changed since it was committed; this run reads its committed table "
        "(--with-upstream rebuilds it)"]
    assert values(flow, "s2.y") == [202]
    # The cache still holds for the carried tasks: a full run rebuilds only a and x.
    hits = {f"{t['stage']}.{t['task']}": t["cache_hit"]
            for s in flow.run()["stages"] for t in s["tasks"]}
    assert hits == {"s1.a": False, "s1.b": True, "s1.x": False, "s2.y": True}
    assert values(flow, "s1.x") == [3]

    proc = flow.run_fails("--task", "s1.nope")
    assert error_of(proc) == (f"flow 'shop' ({flow.file}): stage 's1' has no task 'nope' (its "
                              "tasks: a, b, x)")
    proc = flow.run_fails("--task", "zz.a")
    assert error_of(proc) == f"flow 'shop' ({flow.file}) has no stage 'zz' (its stages: s1, s2)"


def test_task_with_upstream_adds_the_same_stage_tasks_it_reads(local_flow):
    flow = local_flow
    flow.write(one_stage(1))
    flow.run()
    flow.write(one_stage(3))
    summary = flow.run("--task", "s1.x", "--with-upstream")
    tasks = {t["task"]: t["carried"] for s in summary["stages"] for t in s["tasks"]}
    assert tasks == {"a": False, "b": True, "x": False}
    assert values(flow, "s1.x") == [4] and values(flow, "s1.b") == [100]


def keep_going_stages(s1_tasks: list[dict], alone: int) -> list[dict]:
    return [
        {"name": "s1", "tasks": s1_tasks},
        {"name": "s2", "tasks": [sql_task("uses", "SELECT v FROM s1.good")]},
        {"name": "s3", "tasks": [sql_task("alone", f"SELECT {alone} AS v")]},
    ]


GOOD_S1 = [sql_task("bad", "SELECT 0 AS v"), sql_task("good", "SELECT 1 AS v"),
           sql_task("after_bad", "SELECT v FROM s1.bad")]
FAILED = ("flow 'shop', stage 's1', task '{}': program 'tasks.py' exited with status 1: "
          "starting up|boom: the model exploded")


def test_keep_going_runs_independent_work_and_reports_the_failure(local_flow):
    flow = local_flow
    flow.write(keep_going_stages(GOOD_S1, 42))
    flow.run()
    before = flow.state()
    failing = [fail_task("bad"), sql_task("good", "SELECT 2 AS v"),
               sql_task("after_bad", "SELECT v FROM s1.bad")]
    flow.write(keep_going_stages(failing, 43))

    # Without --keep-going: the first failure stops the run (s3 is not rebuilt).
    proc = flow.run_fails()
    assert error_of(proc) == FAILED.format("bad")
    assert flow.state() == before

    proc = flow.lakepipe("flow", "run", flow.file, "--keep-going", output_json=False,
                         check=False)
    assert proc.returncode == 1, proc.stderr
    message = ("flow 'shop': 1 failure (--keep-going); not committed: s1 (their committed slots "
               "stay live); not run: task 's1.after_bad' (it reads 's1.bad'), stage 's2' (it "
               "reads stage 's1'); committed: s3; (1) " + FAILED.format("bad"))
    assert error_of(proc) == message
    # The independent task ran (its progress line), the independent stage committed.
    assert "  s1.good: 1 rows" in proc.stderr
    assert "s1.after_bad:" not in proc.stderr and "s2.uses:" not in proc.stderr
    assert values(flow, "s3.alone") == [43]
    # s1 did not commit: its committed slot stays live, and s2 with it.
    assert flow.slots() == {"s1": "odd", "s2": "odd", "s3": "even"}
    assert values(flow, "s1.good") == [1] and values(flow, "s1.bad") == [0]
    assert values(flow, "s2.uses") == [1]
    runs = flow.query("SELECT status, error FROM lakepipe.runs ORDER BY started_at, run_id")
    assert runs[-1] == ("failed", message)


def test_keep_going_reports_every_failure(local_flow):
    flow = local_flow
    flow.write(keep_going_stages(GOOD_S1, 42))
    flow.run()
    failing = [fail_task("bad"), sql_task("good", "SELECT 2 AS v"), fail_task("after_bad")]
    flow.write(keep_going_stages(failing, 43))
    proc = flow.run_fails("--keep-going")
    message = ("flow 'shop': 2 failures (--keep-going); not committed: s1 (their committed slots "
               "stay live); not run: stage 's2' (it reads stage 's1'); committed: s3; (1) "
               + FAILED.format("bad") + "; (2) " + FAILED.format("after_bad"))
    assert error_of(proc) == message
    assert values(flow, "s3.alone") == [43]
    assert flow.query("SELECT status, error FROM lakepipe.runs ORDER BY started_at, run_id")[-1] \
        == ("failed", message)


def test_keep_going_a_failing_program_does_not_stop_concurrent_ones(local_flow):
    """Programs started while another task's program runs used to inherit its output pipe,
    so stopping the failed one (whoever holds its pipe) killed them with SIGTERM."""
    flow = local_flow
    slow = ("import runpy, sys, time; time.sleep(1); sys.argv = ['tasks.py', 'nulls']; "
            "runpy.run_path('tasks.py', run_name='__main__')")
    tasks = [fail_task("bad")] + [{"name": f"slow{i}", "exec": [PYTHON, "-c", slow]}
                                  for i in range(3)]
    flow.write([{"name": "s1", "tasks": tasks}, {"name": "s2", "tasks": [
        sql_task("alone", "SELECT 1 AS v")]}])
    proc = flow.lakepipe("flow", "run", flow.file, "--keep-going", output_json=False,
                         check=False)
    assert proc.returncode == 1
    assert error_of(proc) == (
        "flow 'shop': 1 failure (--keep-going); not committed: s1 (their committed slots stay "
        "live); committed: s2; (1) " + FAILED.format("bad"))
    for i in range(3):
        assert f"  s1.slow{i}: 4 rows" in proc.stderr, proc.stderr
    assert flow.slots() == {"s2": "odd"}
