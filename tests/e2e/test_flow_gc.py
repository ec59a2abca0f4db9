"""`flow gc` removes exactly the files no committed slot references; --dry-run lists them
and removes nothing."""
import hashlib
import json

from flow_support import ORDERS, expected_tables

LEAKED = ["dev/shop/model__even/totals/part-0099.parquet", "dev/shop/stray.txt"]
# Under the instance but outside the flow's folder: another flow's business, never gc's.
FOREIGN = "dev/stray.txt"


def test_gc_removes_exactly_the_leaked_files(flow):
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    committed = sorted(f["path"] for entry in flow.committed().values()
                       for f in entry["files_json"])
    assert sorted(flow.files()) == committed
    digests = flow.digests()

    # A Parquet file in the uncommitted slot (as a crashed run leaves) and a stray file.
    flow.write_store_file(LEAKED[0], flow.backend.read_bytes(
        flow.store_path(committed[0])))
    flow.write_store_file(LEAKED[1], b"left behind\n")
    flow.write_store_file(FOREIGN, b"not the flow's\n")
    digests[FOREIGN] = hashlib.sha256(b"not the flow's\n").hexdigest()
    assert sorted(flow.files()) == sorted(committed + LEAKED + [FOREIGN])

    dry = flow.lakepipe("flow", "gc", flow.file, "--dry-run")
    assert json.loads(dry.stdout) == {"removed": LEAKED, "dry_run": True}
    assert sorted(flow.files()) == sorted(committed + LEAKED + [FOREIGN])
    text = flow.lakepipe("flow", "gc", flow.file, "--dry-run", output_json=False)
    assert text.stdout == "".join(f"would remove {p}\n" for p in LEAKED) + "2 files to remove\n"

    done = flow.lakepipe("flow", "gc", flow.file)
    assert json.loads(done.stdout) == {"removed": LEAKED, "dry_run": False}
    assert flow.digests() == digests
    assert flow.catalog_tables() == expected_tables(report=False)

    again = flow.lakepipe("flow", "gc", flow.file, output_json=False)
    assert again.stdout == "0 files removed\n"
    assert flow.digests() == digests


def test_replaced_files_stay_for_the_grace_period(flow):
    """A connection opened before a publish keeps reading the generation it opened: the
    files a commit replaced stay until keep_replaced_seconds have passed since, even when
    the slot is reused (a marker in the slot says what stays and since when)."""
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    first = flow.committed()
    reader = flow.duck()  # holds the first generation's catalog
    try:
        for orders in (ORDERS[:-1], ORDERS):  # two more generations: odd is reused
            flow.put_orders(orders)
            flow.run()
        # The first generation's files are all still there, and the old connection reads.
        files = flow.files()
        assert all(f["path"] in files for entry in first.values() for f in entry["files_json"])
        assert sorted(reader.execute("SELECT * FROM raw.orders").fetchall()) == sorted(ORDERS)
    finally:
        # (Closed before the next catalog query: DuckDB shares one open file per process.)
        reader.close()
    assert flow.slots() == {"raw": "odd", "model": "odd"}
    markers = [p for p in flow.files() if "/_replaced-" in p]
    assert sorted(p.split("/")[2] for p in markers) == ["model__odd", "raw__odd"]
    assert json.loads(flow.lakepipe("flow", "gc", flow.file).stdout)["removed"] == []

    # Without a grace period, gc removes the replaced generations and their markers.
    flow.write(flow.standard_stages(report=False),
               table_store={"base": flow.base, "catalog": "./shop.duckdb",
                            "keep_replaced_seconds": 0})
    removed = json.loads(flow.lakepipe("flow", "gc", flow.file).stdout)["removed"]
    assert set(markers) <= set(removed)
    committed = sorted(f["path"] for entry in flow.committed().values()
                       for f in entry["files_json"])
    assert sorted(flow.files()) == committed
    assert flow.catalog_tables() == expected_tables(report=False)
