"""DuckDB wiring: lakepipe's in-process DuckDB reads Parquet from every backend with
secrets made from the same storage config; independent readers agree."""
import io

import pyarrow.parquet as pq


def test_duckdb_reads_parquet_written_to_backend(backend, run_lakepipe):
    run_lakepipe("demo", backend.root, "--rows", "5000", env=backend.env)
    relative = "raw/demo/orders/orders_0000.parquet"
    # Independent reader first: pyarrow over its own filesystem client.
    table = pq.read_table(io.BytesIO(backend.read_bytes(relative)))
    assert table.num_rows == 5000
    # Then through lakepipe's DuckDB with secrets from the storage config.
    uri = backend.uri(relative)
    out = run_lakepipe("query", f"SELECT count(*) AS n, max(id) AS top FROM read_parquet('{uri}')",
                       env=backend.env).stdout
    assert out.splitlines() == ["n\ttop", "5000\t5000"]


def test_query_errors_carry_duckdb_message(run_lakepipe):
    proc = run_lakepipe("query", "SELEC 1", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("lakepipe: error: DuckDB: Parser Error: syntax error")


def test_query_reads_anything_but_writes_nothing(moto, run_lakepipe, tmp_path):
    """`lakepipe query` is the user's own shell: local files and any bucket its secrets
    reach are readable, but only one SELECT runs, so COPY, ATTACH, INSTALL, SET and
    EXPLAIN ANALYZE (which runs its statement) are refused."""
    mine = tmp_path / "mine.txt"
    mine.write_text("hello")
    out = run_lakepipe("query", f"SELECT content FROM read_text('{mine}')").stdout
    assert out.splitlines() == ["content", "hello"]
    moto.create_bucket("querywrites")
    for query, kind in {
            f"COPY (SELECT 1 AS a) TO '{tmp_path / 'x.csv'}'": "COPY",
            "COPY (SELECT 1 AS a) TO 's3://querywrites/x.parquet'": "COPY",
            f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{tmp_path / 'y.csv'}'": "EXPLAIN",
            f"ATTACH '{tmp_path / 'db.duckdb'}'": "ATTACH",
            "INSTALL spatial": "INSTALL or LOAD",
            "SET enable_external_access = false": "SET"}.items():
        proc = run_lakepipe("query", query, env=moto.env, check=False)
        assert proc.returncode == 1, query
        assert proc.stderr == ("lakepipe: error: this command is read-only: it runs a single "
                               f"SELECT, not a {kind} statement\n"), query
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
    assert moto.filesystem().get_file_info(
        __import__("pyarrow.fs").fs.FileSelector("querywrites", recursive=True)) == []


def test_duckdb_python_reads_what_we_wrote_to_s3(moto, run_lakepipe):
    import duckdb
    moto.create_bucket("duck")
    run_lakepipe("demo", "s3://duck", "--rows", "777", env=moto.env)
    con = duckdb.connect()
    con.execute(f"LOAD '{__import__('services').DEPS}/duckdb/extensions/httpfs.duckdb_extension'")
    con.execute(
        "CREATE SECRET (TYPE s3, KEY_ID 'lakepipe-test-key', SECRET 'lakepipe-test-secret-s3', "
        f"ENDPOINT '127.0.0.1:{moto.port}', USE_SSL false, URL_STYLE 'path', REGION 'us-east-1')")
    n, = con.execute(
        "SELECT count(*) FROM read_parquet('s3://duck/raw/demo/orders/orders_0000.parquet')"
    ).fetchone()
    assert n == 777
