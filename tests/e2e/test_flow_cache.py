"""The cache: an unchanged re-run commits metadata only; a changed input re-runs exactly the
tasks that read it (and what reads them); a version bump invalidates one task; --force
re-runs everything. On S3, the all-hit run touches no object under the table folders."""
from backends import make_backend
from flow_support import (MORE_ORDERS, PREFIX, CountingProxy, cache_hits, expected_tables, flow_on,
                          metadata_only)

ALL = ["raw.customers", "raw.orders", "model.totals", "model.names", "report.roster",
       "report.scored", "report.big"]


def hits(*keys) -> dict[str, bool]:
    return {key: key in keys for key in ALL}


def test_cache_hits_misses_versions_and_force(local_flow):
    flow = local_flow
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
    before = flow.committed()
    third = flow.run()
    after = flow.committed()
    assert cache_hits(third) == hits("raw.customers", "model.names", "report.roster")
    # A hit carries the committed table's content into the new slot; a miss writes new.
    for key in [("raw", "customers"), ("model", "names"), ("report", "roster")]:
        assert after[key]["content_hash"] == before[key]["content_hash"], key
    assert after[("raw", "orders")]["content_hash"] != before[("raw", "orders")]["content_hash"]
    assert metadata_only(third) == {"raw": False, "model": False, "report": False}
    assert flow.slots() == {"raw": "even", "model": "even", "report": "even"}
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS)

    # A version bump re-runs that task only: its output is the same, so its readers hit.
    flow.write(flow.standard_stages(names_version=2))
    fourth = flow.run()
    assert cache_hits(fourth) == hits(*[k for k in ALL if k != "model.names"])
    assert metadata_only(fourth) == {"raw": True, "model": False, "report": True}
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS)

    # The exec tasks' script changes: both exec tasks re-run (their output is the same).
    with open(flow.folder / "tasks.py", "a") as f:
        f.write("# edited\n")
    edited = flow.run()
    assert cache_hits(edited) == hits(*[k for k in ALL if k not in ("report.scored",
                                                                     "report.big")])
    assert metadata_only(edited) == {"raw": True, "model": True, "report": False}

    # --force: every task runs, no stage is metadata only.
    fifth = flow.run("--force")
    assert cache_hits(fifth) == hits()
    assert metadata_only(fifth) == {"raw": False, "model": False, "report": False}
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS)
    # And then everything is a hit again.
    assert cache_hits(flow.run()) == hits(*ALL)


def test_cache_hit_run_touches_no_table_object_on_s3(moto, run_lakepipe, request, tmp_path):
    """Counted by a proxy between lakepipe and the emulator: an all-hit run reads and writes
    no table object; a hit in a stage that re-runs is a server-side copy (no download)."""
    backend = make_backend("s3", request, tmp_path / "store")
    proxy = CountingProxy(moto.port).start()
    request.addfinalizer(proxy.stop)
    # lakepipe reaches the emulator through the proxy (the storage block wins over
    # AWS_ENDPOINT_URL, which the exec programs use).
    flow = flow_on(backend, run_lakepipe, tmp_path / "flow",
                   storage={"endpoint": proxy.endpoint, "region": "us-east-1",
                            "url_style": "path"})
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    tables = f"/{backend.fs_root}/{PREFIX}/"

    def under(requests, folder=""):
        return [(m, p, c) for m, p, c in requests if p.split("?")[0].startswith(tables + folder)]

    first = proxy.take()
    assert any(m == "PUT" for m, _, _ in under(first)), (
        "the proxy saw none of the first run's writes: lakepipe bypassed it")

    second = flow.run()
    assert metadata_only(second) == {"raw": True, "model": True}
    seen = proxy.take()
    touching = [r for r in under(seen) if r[0] in ("GET", "PUT", "POST", "DELETE")]
    assert touching == [], f"an all-hit run read or wrote table objects: {touching}"

    # orders changes: customers and model.names are hits in stages that re-run, so their
    # files are copied server-side from the odd slot to the even slot.
    flow.put_orders(MORE_ORDERS)
    before = flow.committed()
    third = flow.run()
    after = flow.committed()
    assert cache_hits(third) == {"raw.customers": True, "raw.orders": False,
                                 "model.totals": False, "model.names": True}
    seen = proxy.take()
    for stage, table in (("raw", "customers"), ("model", "names")):
        [source] = [f["path"] for f in before[(stage, table)]["files_json"]]
        [target] = [f["path"] for f in after[(stage, table)]["files_json"]]
        assert source.startswith(f"{flow.dir}/{stage}__odd/") and target.startswith(
            f"{flow.dir}/{stage}__even/"), (source, target)
        assert [m for m, _, _ in under(seen, source) if m == "GET"] == [], (
            f"{source} was downloaded for a cache hit: {under(seen, source)}")
        puts = [(m, c) for m, p, c in under(seen, target) if m == "PUT"]
        assert puts and all(c is not None and c.split("?")[0].lstrip("/").endswith(
            f"{backend.fs_root}/{PREFIX}/{source}") for _, c in puts), puts
    assert flow.catalog_tables() == expected_tables(orders=MORE_ORDERS, report=False)
