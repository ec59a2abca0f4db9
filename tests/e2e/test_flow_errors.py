"""Errors of a flow run: one line on stderr naming flow, stage, task (and file:line for the
flow file's mistakes), exit status 1, and what was committed before stays as it was."""
import pytest

from flow_support import PYTHON

GOOD = """\
name: shop
instance: dev
table_store:
  base: {base}
  catalog: ./shop.duckdb
stages:
  - name: raw
    tasks:
      - name: customers
        read: {{uri: {folder}/customers.csv}}
      - name: scores
        read: {{uri: {folder}/scores.csv}}
  - name: model
    tasks:
      - name: good
        sql: SELECT id, name FROM raw.customers
"""

PREFIX = "lakepipe: error: flow 'shop', stage 'model'"

# id -> (tasks appended to stage model, expected stderr after "lakepipe: error: "; {file}
# is the flow file, {line} the line of the text marked "<<" in the tasks, "runtime": whether
# the run starts, and so records a failed run).
CASES = {
    "sql-syntax": ("""\
      - name: x  <<
        sql: |
          SELECT id,
                 name
          FROM raw.customers WHERE id = = 1
""", "flow 'shop', stage 'model', task 'x' ({file}:{line}): SQL: syntax error at or near \"=\" "
     "(SQL line 3, column 31)", False),
    "unknown-table": ("""\
      - name: x  <<
        sql: SELECT * FROM raw.nope
""", "flow 'shop', stage 'model', task 'x' ({file}:{line}): 'raw.nope' is not produced by any "
     "task", False),
    "cycle": ("""\
      - name: a
        sql: SELECT * FROM model.b
      - name: b
        sql: SELECT * FROM model.a
""", "flow 'shop', stage 'model': tasks a, b depend on each other in a cycle", False),
    "unknown-yaml-key": ("""\
      - name: x
        sqll: SELECT 1  <<
""", "{file}:{line}: unknown key 'stages[1].tasks[1].sqll'", False),
    "exec-exit-1": (f"""\
      - name: x
        exec: ["{PYTHON}", tasks.py, fail]
""", "flow 'shop', stage 'model', task 'x': program 'tasks.py' exited with "
     "status 1: starting up|boom: the model exploded", True),
    "exec-not-ipc": (f"""\
      - name: x
        exec: ["{PYTHON}", tasks.py, garbage]
""", "flow 'shop', stage 'model', task 'x': program 'tasks.py': its output is not an Arrow IPC "
     "stream: Expected "
     "to read 1936287860 metadata bytes, but only read 176", True),
    "not-null-sql": ("""\
      - name: x
        sql: SELECT id, score FROM raw.scores
        not_null: [score]
        sort_by: [id]
""", "flow 'shop', stage 'model', task 'x': column 'score' is not_null but row 2 is NULL", True),
    "not-null-exec": (f"""\
      - name: x
        exec: ["{PYTHON}", tasks.py, nulls]
        not_null: [k, v]
""", "flow 'shop', stage 'model', task 'x': column 'v' is not_null but row 3 is NULL", True),
}


def write_good(flow):
    flow.put_data()
    (flow.folder / "scores.csv").write_text("id,score\n1,10\n2,\n3,30\n")
    return GOOD.format(base=flow.base, folder=flow.folder)


@pytest.mark.parametrize("case", list(CASES))
def test_error_is_one_clear_line_and_keeps_committed_data(local_flow, case):
    flow = local_flow
    good = write_good(flow)
    flow.write_text(good)
    flow.run()
    before = flow.state()
    runs_before = flow.query("SELECT count(*) FROM lakepipe.runs")[0][0]

    tasks, message, runtime = CASES[case]
    text = good + tasks
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.endswith("  <<")) \
        if "<<" in tasks else 0
    flow.write_text(text.replace("  <<", ""))
    proc = flow.run_fails()
    expected = message.format(file=flow.file, line=line)
    assert proc.stderr == f"lakepipe: error: {expected}\n"

    assert flow.state() == before
    runs = flow.query("SELECT status, error FROM lakepipe.runs ORDER BY started_at, run_id")
    if runtime:
        assert len(runs) == runs_before + 1 and runs[-1] == ("failed", expected)
    else:
        assert len(runs) == runs_before

    # Fixed, the flow runs again.
    flow.write_text(good)
    flow.run()
    assert flow.state()["tables"] == before["tables"]


def test_sql_runtime_error_is_one_line_naming_the_task(local_flow):
    flow = local_flow
    good = write_good(flow)
    flow.write_text(good)
    flow.run()
    before = flow.state()
    flow.write_text(good + "      - name: x\n        sql: SELECT nope FROM raw.customers\n")
    proc = flow.run_fails()
    assert proc.stderr.startswith(
        f"{PREFIX}, task 'x': DuckDB: Binder Error: Referenced column \"nope\" not found in "
        "FROM clause!"), proc.stderr
    assert proc.stderr.count("\n") == 1, f"not one line: {proc.stderr!r}"
    assert flow.state() == before
