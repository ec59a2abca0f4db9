"""The cache: an unchanged re-run commits metadata only; a changed input re-runs exactly the
tasks that read it (and what reads them); a version bump invalidates one task; --force
re-runs everything. On S3, the all-hit run touches no object under the table folders."""
import pytest

from flow_support import (MORE_ORDERS, PREFIX, CountingProxy, Flow, cache_hits,
                          expected_tables, flow, flow_on, metadata_only,  # noqa: F401
                          store_backend)

ALL = ["raw.customers", "raw.orders", "model.totals", "model.names", "report.roster",
       "report.scored", "report.big"]


def hits(*keys) -> dict[str, bool]:
    return {key: key in keys for key in ALL}


def test_cache_hits_misses_versions_and_force(flow):
    flow.put_data()
    flow.write()
    first = flow.run()
    assert cache_hits(first) == hits()
    keys = {k: t["cache_key"] for k, t in
            ((f"{t['stage']}.{t['task']}", t) for s in first["stages"] for t in s["tasks"])}

    # Unchanged: every task a hit, every stage metadata only, nothing rewritten.
    files_before = flow.digests()
    second = flow.run()
    assert cache_hits(second) == hits(*ALL)
    assert metadata_only(second) == {"raw": True, "model": True, "report": True}
    assert {s["stage"]: s["slot"] for s in second["stages"]} == {
        "raw": "odd", "model": "odd", "report": "odd"}
    assert {f"{t['stage']}.{t['task']}": t["cache_key"]
            for s in second["stages"] for t in s["tasks"]} == keys
    assert flow.digests() == files_before
    assert flow.catalog_tables() == expected_tables()

    # orders.csv changes: raw.orders and what depends on it re-run; the rest are hits.
    flow.put_orders(MORE_ORDERS)
    third = flow.run()
    assert cache_hits(third) == hits("raw.customers", "model.names", "report.roster")
    assert metadata_only(third) == {"raw": False, "model": False, "report": False}
    assert flow.slots() == {"raw": "even", "model": "even", "report": "even"}
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS)

    # A version bump re-runs that task only: its output is the same, so its readers hit.
    flow.write(flow.standard_stages(names_version=2))
    fourth = flow.run()
    assert cache_hits(fourth) == hits(*[k for k in ALL if k != "model.names"])
    assert metadata_only(fourth) == {"raw": True, "model": False, "report": True}
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS)

    # --force: every task runs, no stage is metadata only.
    fifth = flow.run("--force")
    assert cache_hits(fifth) == hits()
    assert metadata_only(fifth) == {"raw": False, "model": False, "report": False}
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS)
    # And then everything is a hit again.
    assert cache_hits(flow.run()) == hits(*ALL)


def test_cache_hit_run_touches_no_table_object_on_s3(moto, run_lakepipe, request, tmp_path):
    from conftest import make_backend
    backend = make_backend("s3", request, tmp_path / "store")
    proxy = CountingProxy(moto.port).start()
    request.addfinalizer(proxy.stop)
    # lakepipe reaches the emulator through the proxy (the storage block wins over
    # AWS_ENDPOINT_URL, which the exec programs use).
    flow = flow_on(backend, run_lakepipe, tmp_path / "flow",
                   storage={"endpoint": proxy.endpoint, "region": "us-east-1",
                            "url_style": "path"})
    flow.put_data()
    flow.write()
    flow.run()
    first = proxy.take()
    tables = f"/{backend.fs_root}/{PREFIX}/"
    assert any(path.startswith(tables) and method == "PUT" for method, path in first), (
        "the proxy saw none of the first run's writes: lakepipe bypassed it")

    second = flow.run()
    assert metadata_only(second) == {"raw": True, "model": True, "report": True}
    seen = proxy.take()
    print("SECOND RUN REQUESTS", seen)
    touching = [(m, p) for m, p in seen if p.split("?")[0].startswith(tables)
                and m in ("GET", "PUT", "POST", "DELETE")]
    assert touching == [], f"an all-hit run read or wrote table objects: {touching}"
