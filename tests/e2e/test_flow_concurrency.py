"""A reader with the catalog open is never blocked and never blocks a run; a run killed
(SIGKILL) in the middle of a stage leaves the committed data intact and readable, and the
next run succeeds. Synchronization is by marker files: the exec task `report.scored` writes
`waiting` and blocks while a file `hold` exists, until `release` exists."""
import json
import os
import re
import signal
import subprocess

import pytest

from flow_support import (MORE_ORDERS, CatalogReader, background, data_file, data_files_match,
                          expected_tables, metadata_only, wait_for)

QUERIES = {
    "orders": "SELECT count(*), sum(amount) FROM raw.orders",
    "totals": "SELECT sum(total), sum(orders) FROM model.totals",
    "scored": "SELECT sum(doubled), max(rank) FROM report.scored",
}


def observed(tables: dict) -> dict:
    """What QUERIES return for the given expected tables."""
    orders = tables[("raw", "orders")]
    totals = tables[("model", "totals")]
    scored = tables[("report", "scored")]
    return {"orders": [[len(orders), sum(o[2] for o in orders)]],
            "totals": [[sum(t[4] for t in totals), sum(t[3] for t in totals)]],
            "scored": [[sum(s[3] for s in scored), len(scored)]]}


@pytest.mark.parametrize("read_only", [True, False], ids=["read-only", "read-write"])
def test_reader_is_never_blocked_by_a_run(local_flow, lakepipe_bin, clean_env, tmp_path,
                                          read_only):
    """A reader keeps the catalog open across a run (read-only, or read-write as the duckdb
    CLI opens it); it sees the data of when it opened it, and the run is never blocked."""
    flow = local_flow
    flow.put_data()
    flow.write()
    flow.run()
    old = observed(expected_tables())
    new = observed(expected_tables(orders=MORE_ORDERS))
    assert old != new and old["scored"] != new["scored"]

    reader = CatalogReader(tmp_path / "reader", flow, QUERIES, read_only=read_only)
    try:
        before = reader.wait_rounds(generation=0, count=3)
        assert all(r["results"] == old for r in before)

        # A run with changed input, held inside the last stage.
        flow.put_orders(MORE_ORDERS)
        (flow.folder / "hold").write_text("")
        with background(flow.argv(lakepipe_bin, "flow", "run", flow.file),
                        {**clean_env, **flow.env}) as run:
            wait_for(lambda: (flow.folder / "waiting").exists(), "the held exec task", proc=run)
            # raw and model are committed and the catalog republished; the reader's open
            # connection keeps answering, with the old data.
            last = reader.rounds()[-1]["round"]
            during = reader.wait_rounds(generation=0, count=5, after=last)
            assert all(r["results"] == old for r in during)

            # Reopening mid-run is not blocked either: committed stages are new, the stage
            # being written is still the old one.
            reader.reopen()
            mid = reader.wait_rounds(generation=1, count=3)
            assert all(r["results"] == {**new, "scored": old["scored"]} for r in mid)

            (flow.folder / "release").write_text("")
            out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err

        # Still open: the connection of generation 1 sees what it saw; after reopening,
        # everything is new.
        last = reader.rounds()[-1]["round"]
        late = reader.wait_rounds(generation=1, count=3, after=last)
        assert all(r["results"] == {**new, "scored": old["scored"]} for r in late)
        reader.reopen()
        after = reader.wait_rounds(generation=2, count=3)
        assert all(r["results"] == new for r in after)
    finally:
        reader.stop()
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS)


def test_run_killed_mid_stage_keeps_committed_data(flow, lakepipe_bin, clean_env):
    flow.put_data()
    flow.write()
    flow.run()
    before = flow.state()
    assert before["slots"] == {"raw": "odd", "model": "odd", "report": "odd"}

    flow.put_orders(MORE_ORDERS)
    (flow.folder / "hold").write_text("")
    run = subprocess.Popen(flow.argv(lakepipe_bin, "flow", "run", flow.file),
                           env={**clean_env, **flow.env}, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, start_new_session=True)
    program = None
    try:
        pid_text = wait_for(lambda: (flow.folder / "waiting").exists()
                            and (flow.folder / "waiting").read_text(), "the held exec task",
                            proc=run)
        program = int(pid_text)
        os.killpg(run.pid, signal.SIGKILL)
        run.communicate(timeout=30)
        assert run.returncode == -signal.SIGKILL
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate()
        if program is not None:
            # The exec program has its own process group; the kill did not reach it.
            try:
                os.killpg(program, signal.SIGKILL)
            except ProcessLookupError:
                pass
    (flow.folder / "hold").unlink()

    # raw and model had committed before the kill; report is exactly as before.
    after = flow.state()
    assert after["slots"] == {"raw": "even", "model": "even", "report": "odd"}
    changed = expected_tables(orders=MORE_ORDERS)
    assert after["tables"] == {**before["tables"],
                               **{k: v for k, v in changed.items() if k[0] != "report"}}
    report_files = {p: d for p, d in before["files"].items()
                    if p.startswith(f"{flow.dir}/report__")}
    assert {p: after["files"][p] for p in report_files} == report_files
    assert all(digest is not None for digest in after["files"].values()), after["files"]
    # The killed stage had written roster into its uncommitted slot.
    assert any(data_file(f"{flow.dir}/report__even/roster").fullmatch(p) for p in flow.files())

    # The next run succeeds and publishes the new data everywhere.
    (flow.folder / "waiting").unlink()
    flow.run()
    assert flow.slots() == {"raw": "even", "model": "even", "report": "even"}
    assert flow.catalog_tables() == changed
    assert data_files_match(sorted(p for p in flow.files()
                                   if p.startswith(f"{flow.dir}/report__even/")),
                            [f"{flow.dir}/report__even/{t}" for t in ("big", "roster", "scored")])
    # The killed run is not left "running" forever: the next run recorded how it ended.
    assert flow.query("SELECT status, error FROM lakepipe.runs ORDER BY started_at") == [
        ("succeeded", ""),
        ("abandoned", "the process running it stopped before the run finished (killed or "
                      "crashed)"),
        ("succeeded", "")]


def test_second_run_waits_for_the_first_and_status_does_not(local_flow, lakepipe_bin,
                                                            clean_env):
    """Two runs of one flow at once are serialized by the stage locks: the second starts
    after the first committed, so it finds everything cached. `flow status` and
    `lakepipe sql` answer while a run holds the locks."""
    flow = local_flow
    flow.put_data()
    flow.write()
    flow.run()
    flow.put_orders(MORE_ORDERS)
    (flow.folder / "hold").write_text("")
    env = {**clean_env, **flow.env}
    with background(flow.argv(lakepipe_bin, "flow", "run", flow.file), env) as first:
        wait_for(lambda: (flow.folder / "waiting").exists(), "the held exec task", proc=first)
        (flow.folder / "hold").unlink()  # the second run's exec task must not block
        with background(flow.argv(lakepipe_bin, "flow", "run", flow.file), env) as second:
            # While the first run holds its locks (it cannot finish before `release`):
            status = json.loads(flow.lakepipe("flow", "status", flow.file, timeout=60).stdout)
            assert {s["stage"]: s["committed_slot"] for s in status["stages"]} == {
                "raw": "even", "model": "even", "report": "odd"}
            assert [(r["status"], r["finished_at"]) for r in status["runs"]][-1] == ("running", "")
            rows = json.loads(flow.lakepipe("sql", flow.file,
                                            "SELECT count(*) AS n FROM raw.orders").stdout)
            assert rows == [{"n": str(len(MORE_ORDERS))}]
            assert first.poll() is None
            (flow.folder / "release").write_text("")
            out1, err1 = first.communicate(timeout=120)
            out2, err2 = second.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert metadata_only(json.loads(out1)) == {"raw": False, "model": False, "report": False}
    assert metadata_only(json.loads(out2)) == {"raw": True, "model": True, "report": True}
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS)


def test_run_killed_while_publishing_the_catalog(local_flow):
    """Killed after building the new catalog copy, before renaming it over the catalog:
    readers keep the old catalog, and the next run sweeps the copy away."""
    flow = local_flow
    flow.put_data()
    flow.write()
    flow.run()
    flow.put_orders(MORE_ORDERS)
    proc = flow.lakepipe("flow", "run", flow.file, check=False,
                         env={"LAKEPIPE_CRASH_AT": "catalog-built-before-publish"})
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr)

    temps = sorted(p.name for p in flow.folder.glob("shop.duckdb.tmp-*"))
    assert temps and all(re.fullmatch(r"shop\.duckdb\.tmp-\d+-[0-9a-f]+(\.wal)?", t)
                         for t in temps), temps
    # The stage that committed before the kill is in the metadata store only: the
    # published catalog is still the last run's.
    assert flow.catalog_tables() == expected_tables()

    flow.run()
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS)
    assert list(flow.folder.glob("shop.duckdb.tmp-*")) == []
