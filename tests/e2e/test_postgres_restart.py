"""PostgreSQL restarts in the middle of a run: a flow whose team metadata (and locks) live
there, and an ingest reading a table from it. The run stops with one clear error, what
was committed stays as it was, and the next run succeeds."""
import json
import tempfile
import uuid
from pathlib import Path

import pytest

from flow_support import MORE_ORDERS, background, expected_tables, flow_on, wait_for
from services import Postgres


@pytest.fixture
def restartable_postgres():
    """A server of this test's own: restarting the shared one would disturb other tests."""
    server = Postgres(Path(tempfile.mkdtemp(prefix="lakepipe-pg-restart-"))).start()
    yield server
    server.stop()


def test_flow_survives_a_metadata_restart_mid_run(restartable_postgres, run_lakepipe, tmp_path,
                                                  lakepipe_bin, clean_env, local_lake):
    pg = restartable_postgres
    database = f"team_{uuid.uuid4().hex[:8]}"
    pg.psql(f"CREATE DATABASE {database}")
    metadata = pg.url.rsplit("/", 1)[0] + "/" + database
    flow = flow_on(local_lake.backend, run_lakepipe, tmp_path / "flow")
    flow.put_data()
    flow.write(metadata=metadata)
    flow.run()
    before = flow.catalog_tables()
    assert before == expected_tables()

    # The next run blocks in its last stage (an exec task waits for `release`) while
    # PostgreSQL restarts under it: its session and advisory locks are gone.
    flow.put_orders(MORE_ORDERS)
    (flow.folder / "hold").write_text("")
    with background(flow.argv(lakepipe_bin, "flow", "run", flow.file),
                    {**clean_env, **flow.env}) as proc:
        wait_for(lambda: (flow.folder / "waiting").exists(), "the held task", proc=proc)
        pg.restart()
        (flow.folder / "release").write_text("")
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lakepipe: error: flow 'shop', stage "
                                                   "'report'"), err
    # Its locks went with the session: it stops rather than commit unprotected.
    assert ("lost the PostgreSQL connection holding the locks of instance 'shop/dev' "
            f"({metadata}: FATAL: terminating connection due to administrator command") in lines[0]
    # The stages committed before the restart are there; the catalog still reads.
    after = flow.catalog_tables()
    assert {k: v for k, v in after.items() if k[0] == "report"} == \
        {k: v for k, v in before.items() if k[0] == "report"}

    (flow.folder / "hold").unlink()
    summary = flow.run()
    assert summary["run_id"]
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS)
    status = json.loads(flow.lakepipe("flow", "status", flow.file).stdout)
    assert status["runs"][0]["status"] == "succeeded"


def test_ingest_from_postgres_survives_a_restart_mid_run(restartable_postgres, local_lake,
                                                        lakepipe_bin, clean_env):
    pg = restartable_postgres
    lake = local_lake
    pg.psql("CREATE TABLE items AS SELECT i AS id, repeat('x', 200) AS pad "
            "FROM generate_series(1, 300000) AS i")
    lake.pipeline("items", {"reader": "postgres", "uri": pg.url, "stream": "items",
                            "options": {"table": "public.items"}},
                  incremental={"enabled": True, "replication_key": "id"})
    with background(lake.argv(lakepipe_bin, "run", "items"),
                    {**clean_env, **lake.backend.env}) as proc:
        # Restart once the reader's query is running.
        wait_for(lambda: pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                                 "'%FROM \"public\".\"items\"%' AND state = 'active' "
                                 "AND pid <> pg_backend_pid()")
                 != "0", "the reader's query", proc=proc)
        pg.restart()
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, (out, err)
    # libpq says it one way or the other, depending on where the COPY was.
    assert err.count("\n") == 1 and err.startswith(
        "lakepipe: error: pipeline 'items': stream 'items': DuckDB: IO Error: "), err
    assert ("FATAL:  terminating connection due to administrator command" in err
            or "server closed the connection unexpectedly" in err), err
    assert not lake.exists(".dataspoc/manifest.json")
    assert lake.journal("items") == []
    lake.run("items")
    table = lake.read_table("postgres/items")
    assert sorted(table.column("id").to_pylist()) == list(range(1, 300001))
