"""`lakepipe sql` queries the catalog (text and JSON), and no credential is ever written
into the catalog file, the metadata store or the lake."""
import json

from backends import make_backend
from flow_support import PREFIX, expected_tables, flow_on

QUERY = "SELECT customer_id, name, orders, total FROM model.totals ORDER BY customer_id"


def test_sql_returns_rows_as_text_and_json(local_flow):
    flow = local_flow
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    rows = [(r[0], r[1], r[3], r[4]) for r in expected_tables()[("model", "totals")]]

    text = flow.lakepipe("sql", flow.file, QUERY, output_json=False)
    assert text.stdout.splitlines() == ["customer_id\tname\torders\ttotal"] + [
        f"{c}\t{n}\t{o}\t{t}" for c, n, o, t in rows]
    as_json = flow.lakepipe("sql", flow.file, QUERY)
    assert json.loads(as_json.stdout) == [
        {"customer_id": str(c), "name": n, "orders": str(o), "total": str(t)}
        for c, n, o, t in rows]
    # The metadata copies are there too.
    stages = flow.lakepipe("sql", flow.file,
                           "SELECT stage, committed_slot FROM lakepipe.stages ORDER BY stage")
    assert json.loads(stages.stdout) == [
        {"stage": s, "committed_slot": "odd"} for s in ("model", "raw")]


def test_sync_rebuilds_a_lost_catalog(local_flow):
    flow = local_flow
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    before = flow.state()
    flow.catalog.unlink()
    proc = flow.lakepipe("flow", "sync", flow.file)
    assert json.loads(proc.stdout) == {"catalog": str(flow.catalog)}
    assert flow.state() == before
    assert flow.state()["tables"] == expected_tables(report=False)


def test_sql_before_any_run_says_so(local_flow):
    flow = local_flow
    flow.write()
    proc = flow.lakepipe("sql", flow.file, "SELECT 1", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        f"lakepipe: error: flow 'shop': cannot open catalog '{flow.catalog}' (has the flow "
        "run?): "), proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr


def test_no_credential_in_catalog_metadata_or_lake(moto, run_lakepipe, request, tmp_path):
    backend = make_backend("s3", request, tmp_path / "store")
    key_id, secret = "AKIAFLOWCANARY7Q3XZ", "flow-canary-secret-9d1c0b7e5a"
    backend.env = {**backend.env, "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret}
    flow = flow_on(backend, run_lakepipe, tmp_path / "flow")
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    flow.lakepipe("flow", "sync", flow.file)
    # The query reads Parquet on S3: lakepipe made the secret in its own session.
    proc = flow.lakepipe("sql", flow.file, "SELECT count(*) AS n, sum(total) AS t "
                                           "FROM model.totals")
    totals = expected_tables()[("model", "totals")]
    assert json.loads(proc.stdout) == [{"n": str(len(totals)),
                                        "t": str(sum(r[4] for r in totals))}]

    # Everything in the flow's folder: catalog, metadata store, locks, the test's own files.
    written = sorted(p for p in flow.folder.rglob("*") if p.is_file())
    assert flow.catalog in written and flow.metadata_files(), written
    for path in written:
        data = path.read_bytes()
        for canary in (key_id, secret):
            assert canary.encode() not in data, f"{canary} is in {path}"
    for relative in flow.files():
        data = backend.read_bytes(f"{PREFIX}/{relative}")
        for canary in (key_id, secret):
            assert canary.encode() not in data, f"{canary} is in {relative}"


def sql_error(flow, query: str) -> str:
    proc = flow.lakepipe("sql", flow.file, query, check=False)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("lakepipe: error: ") and proc.stderr.count("\n") == 1, \
        proc.stderr
    return proc.stderr[len("lakepipe: error: "):-1]


def test_sql_is_read_only_beyond_the_catalog_file(flow, tmp_path):
    """Views still read the flow's Parquet (local or S3); writing anywhere (COPY, ATTACH,
    INSTALL, EXPLAIN ANALYZE of a COPY), reading outside the table base and undoing the
    restriction with SET are refused."""
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    flow.run()
    rows = json.loads(flow.lakepipe("sql", flow.file, "SELECT count(*) AS n FROM model.totals")
                      .stdout)
    assert rows == [{"n": str(len(expected_tables()[("model", "totals")]))}]

    # Inside the table base, where DuckDB's own file restriction would let it write.
    target = (flow.backend.fs_path(f"{PREFIX}/exported.csv") if flow.backend.name == "file"
              else flow.backend.uri(f"{PREFIX}/exported.csv"))
    outside = tmp_path / "outside.txt"
    outside.write_text("private")
    refused = {
        f"COPY (SELECT 1) TO '{target}'": "COPY",
        f"ATTACH '{tmp_path / 'other.duckdb'}' AS other": "ATTACH",
        "INSTALL httpfs": "INSTALL or LOAD",
        "SET enable_external_access = true": "SET",
        f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{target}'": "EXPLAIN",
        "CREATE TABLE t AS SELECT 1": "CREATE",
    }
    for query, kind in refused.items():
        assert sql_error(flow, query) == (
            f"flow 'shop': this command is read-only: it runs a single SELECT, not a {kind} "
            "statement"), query
    assert not flow.backend.exists(f"{PREFIX}/exported.csv")
    assert not (tmp_path / "other.duckdb").exists()
    message = sql_error(flow, f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'")
    assert "Permission Error" in message or "read-only" in message, message
    for reader in ("read_text", "read_csv"):
        message = sql_error(flow, f"SELECT * FROM {reader}('{outside}')")
        assert message.startswith(
            f"flow 'shop': DuckDB: Permission Error: Cannot access file \"{outside}\""), message
    message = sql_error(flow, "SELECT * FROM read_text('/etc/passwd')")
    assert "Permission Error" in message, message
    assert sql_error(flow, "SELECT 1; SELECT 2") == (
        "flow 'shop': this command runs one SELECT at a time; got 2 statements")
