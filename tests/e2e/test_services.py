"""The harness starts PostgreSQL 15 for the metadata-store tests."""


def test_postgres_is_version_15_and_accepts_sql(postgres):
    assert postgres.psql("SHOW server_version").startswith("15.")
    assert postgres.psql("SELECT 6 * 7") == "42"
