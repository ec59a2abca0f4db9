"""Team mode: two "machines" (two flow folders with their own catalog files) share one
PostgreSQL metadata store and one bucket. Their runs are serialized by advisory locks and
`flow sync` gives the second machine the first one's tables."""
import json
import subprocess

import pytest

from flow_support import MORE_ORDERS, background, expected_tables, flow_on, metadata_only, wait_for


@pytest.fixture
def machines(tmp_path, store_backend, run_lakepipe, metadata_url):
    """Machine A and machine B: same flow, same bucket, one PostgreSQL."""
    a = flow_on(store_backend, run_lakepipe, tmp_path / "a")
    b = flow_on(store_backend, run_lakepipe, tmp_path / "b")
    for machine in (a, b):
        machine.put_data()
        machine.write(metadata=metadata_url)
    return a, b


def advisory_waiters(postgres) -> int:
    return int(postgres.psql(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").strip())


def test_sync_gives_the_second_machine_the_first_ones_tables(machines, metadata_url, postgres):
    a, b = machines
    summary = a.run()
    assert metadata_only(summary) == {"raw": False, "model": False, "report": False}
    assert not b.catalog.exists()
    sync = json.loads(b.lakepipe("flow", "sync", b.file).stdout)
    assert sync == {"catalog": str(b.catalog)}
    assert b.catalog_tables() == a.catalog_tables() == expected_tables()
    # Both machines see one history in PostgreSQL.
    status = json.loads(b.lakepipe("flow", "status", b.file).stdout)
    assert status["metadata"].startswith("postgresql://lakepipe@127.0.0.1:")
    assert [r["status"] for r in status["runs"]] == ["succeeded"]
    stages = subprocess.run([postgres._bin("psql"), metadata_url, "-Atc",
                             "SELECT instance, stage FROM lakepipe_meta.stages ORDER BY stage"],
                            check=True, capture_output=True, text=True).stdout.split()
    assert stages == ["shop/dev|model", "shop/dev|raw", "shop/dev|report"]


def test_runs_on_two_machines_are_serialized(machines, postgres, lakepipe_bin, clean_env):
    a, b = machines
    a.run()
    # A runs with new orders and blocks inside its last stage, holding its locks.
    for machine in (a, b):
        machine.put_orders(MORE_ORDERS)
    (a.folder / "hold").write_text("")
    env = {**clean_env, **a.env}
    with background(a.argv(lakepipe_bin, "flow", "run", a.file), env) as first:
        wait_for(lambda: (a.folder / "waiting").exists(), "machine A's held task", proc=first)
        with background(b.argv(lakepipe_bin, "flow", "run", b.file), env) as second:
            # B waits on an advisory lock that A holds, in PostgreSQL itself.
            wait_for(lambda: advisory_waiters(postgres) >= 1, "machine B waiting on A's lock",
                     proc=second)
            assert first.poll() is None and second.poll() is None
            (a.folder / "release").write_text("")
            out1, err1 = first.communicate(timeout=120)
            out2, err2 = second.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    # B started after A committed: it found A's tables and cached model and report (its
    # raw tasks name its own input files when they are local, so those ran again).
    assert metadata_only(json.loads(out1)) == {"raw": False, "model": False, "report": False}
    b_stages = metadata_only(json.loads(out2))
    assert b_stages["model"] and b_stages["report"]
    assert b_stages["raw"] == (b.backend.name == "s3")
    assert a.catalog_tables() == b.catalog_tables() == expected_tables(orders=MORE_ORDERS)
    assert advisory_waiters(postgres) == 0
