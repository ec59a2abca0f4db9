"""`flow gc` removes exactly the files no committed slot references; --dry-run lists them
and removes nothing."""
import json

from flow_support import expected_tables, flow, store_backend  # noqa: F401

LEAKED = ["dev/model__even/totals/part-0099.parquet", "dev/stray.txt"]


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
    assert sorted(flow.files()) == sorted(committed + LEAKED)

    dry = flow.lakepipe("flow", "gc", flow.file, "--dry-run")
    assert json.loads(dry.stdout) == {"removed": LEAKED, "dry_run": True}
    assert sorted(flow.files()) == sorted(committed + LEAKED)
    text = flow.lakepipe("flow", "gc", flow.file, "--dry-run", output_json=False)
    assert text.stdout == "".join(f"would remove {p}\n" for p in LEAKED) + "2 files to remove\n"

    done = flow.lakepipe("flow", "gc", flow.file)
    assert json.loads(done.stdout) == {"removed": LEAKED, "dry_run": False}
    assert flow.digests() == digests
    assert flow.catalog_tables() == expected_tables(report=False)

    again = flow.lakepipe("flow", "gc", flow.file, output_json=False)
    assert again.stdout == "0 files removed\n"
    assert flow.digests() == digests
