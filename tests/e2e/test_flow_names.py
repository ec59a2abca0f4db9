"""Names cannot wedge a stage: names the catalog cannot hold are refused before anything
runs, names that only need quoting (pipedag's `1_raw_input`) work end to end, versions are
text, and `flow repair` recovers an instance an older lakepipe left with a stage whose
catalog build fails, in embedded and in team (PostgreSQL) mode."""
import json
import sqlite3
import subprocess

import pytest

from flow_support import metadata_only, unseal_catalog


def error_line(proc) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("lakepipe: error: "), proc.stderr
    return proc.stderr[len("lakepipe: error: "):].strip()


def hits(summary: dict) -> dict[str, bool]:
    return {f"{s['stage']}.{t['task']}": t["cache_hit"]
            for s in summary["stages"] for t in s["tasks"]}


def two_stages(flow, raw: str = "raw", names_version=1) -> list[dict]:
    """The standard raw and model stages with the raw stage named `raw`."""
    stages = flow.standard_stages(report=False, names_version=names_version)
    stages[0]["name"] = raw
    for task in stages[1]["tasks"]:
        task["sql"] = task["sql"].replace("raw.", '"' + raw.replace('"', '""') + '".')
    return stages


# --- names refused up front ----------------------------------------------------------------

@pytest.mark.parametrize("stage, reason", [
    ("information_schema", "is a schema name DuckDB or the catalog keeps"),
    ("pg_catalog", "is a schema name DuckDB or the catalog keeps"),
    ("temp", "is a schema name DuckDB or the catalog keeps"),
    ("system", "is a schema name DuckDB or the catalog keeps"),
    ("memory", "is a schema name DuckDB or the catalog keeps"),
    ("Main", "is a schema name DuckDB or the catalog keeps"),
    ("LAKEPIPE", "is a schema name DuckDB or the catalog keeps"),
    ("a__b", "holds '__', which the catalog keeps for the slot schemas"),
    ("Shop", "is the catalog file's database name"),
    ("a.b", "holds a '.'"),
])
def test_a_stage_name_the_catalog_cannot_hold_is_refused_before_anything_runs(
        local_flow, stage, reason):
    flow = local_flow
    flow.put_data()
    flow.write(two_stages(flow, raw=stage))
    message = error_line(flow.lakepipe("flow", "run", flow.file, check=False))
    assert message.startswith(f"{flow.file}:11: 'stages[0].name': stage name '{stage}' "), message
    assert reason in message, message
    assert flow.metadata_files() == [] and not flow.catalog.exists()


def test_names_differing_only_in_case_are_refused(local_flow):
    flow = local_flow
    flow.put_data()
    stages = two_stages(flow)
    stages[1]["tasks"][1]["name"] = "Totals"
    flow.write(stages)
    message = error_line(flow.lakepipe("flow", "run", flow.file, check=False))
    assert message == (f"{flow.file}:42: 'stages[1].tasks[1].name': task 'Totals' appears twice "
                       "in stage 'model' (as 'totals'; case does not matter)")
    stages = two_stages(flow) + [{"name": "RAW", "tasks": [{"name": "x", "sql": "SELECT 1"}]}]
    flow.write(stages)
    message = error_line(flow.lakepipe("flow", "run", flow.file, check=False))
    assert message.endswith("'stages[2].name': stage 'RAW' appears twice (as 'raw'; case does "
                            "not matter)"), message
    assert flow.metadata_files() == []


# --- names that need quoting -------------------------------------------------------------

def sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.mark.parametrize("raw", ["1_raw_input", 'raw "data" Ü'])
def test_a_stage_named_1_raw_input_runs_and_its_catalog_is_queryable(local_flow, run_lakepipe,
                                                                     raw):
    flow = local_flow
    flow.put_data()
    flow.write(two_stages(flow, raw=raw))
    summary = flow.run()
    assert metadata_only(summary) == {raw: False, "model": False}
    assert set(hits(summary)) == {f"{raw}.customers", f"{raw}.orders", "model.totals",
                                  "model.names"}
    # Python's duckdb over the catalog file.
    assert flow.query(f"SELECT count(*) FROM {sql_name(raw)}.orders") == [(40,)]
    assert flow.query("SELECT count(*) FROM model.totals") == [(4,)]
    # lakepipe sql over the same catalog.
    out = run_lakepipe("--output", "json", "sql", flow.file,
                       f"SELECT count(*) AS n FROM {sql_name(raw)}.customers").stdout
    assert json.loads(out) == [{"n": "5"}], out
    # And a second run is all cache hits.
    assert set(hits(flow.run()).values()) == {True}


# --- versions ------------------------------------------------------------------------------

def test_a_string_version_change_invalidates_exactly_that_task(local_flow):
    flow = local_flow
    flow.put_data()
    flow.write(two_stages(flow, names_version="1.0.0"))
    first = flow.run()
    assert set(hits(first).values()) == {False}
    assert flow.query("SELECT task, version FROM lakepipe.tasks WHERE stage = 'model' "
                      "ORDER BY task") == [("names", "1.0.0"), ("totals", "0")]
    assert set(hits(flow.run()).values()) == {True}
    flow.write(two_stages(flow, names_version="1.0.1"))
    changed = hits(flow.run())
    assert changed == {"raw.customers": True, "raw.orders": True, "model.totals": True,
                       "model.names": False}
    status = json.loads(flow.lakepipe("flow", "status", flow.file).stdout)
    names = [t for s in status["stages"] if s["stage"] == "model" for t in s["tables"]
             if t["table"] == "names"]
    assert names[0]["version"] == "1.0.1"
    text = flow.lakepipe("flow", "status", flow.file, output_json=False).stdout
    assert "  names: 5 rows, 1 files, " in text and ", version 1.0.1" in text, text


def downgrade_sqlite_to_schema_1(path) -> None:
    """The embedded store as lakepipe with schema version 1 wrote it: integer versions."""
    con = sqlite3.connect(path)
    con.executescript("""
        ALTER TABLE tasks RENAME TO tasks_new;
        CREATE TABLE tasks (instance TEXT, stage TEXT, task TEXT, cache_key TEXT,
          version INTEGER, run_id TEXT, output_json TEXT, slot TEXT,
          PRIMARY KEY (instance, stage, slot, task));
        INSERT INTO tasks SELECT instance, stage, task, cache_key, CAST(version AS INTEGER),
          run_id, output_json, slot FROM tasks_new;
        DROP TABLE tasks_new;
        DELETE FROM schema_version WHERE version > 1;
    """)
    con.commit()
    con.close()


def downgrade_catalog_versions(flow) -> None:
    import duckdb
    unseal_catalog(flow.catalog)  # as an older lakepipe left it
    con = duckdb.connect(str(flow.catalog))
    con.execute("ALTER TABLE lakepipe.tasks ALTER COLUMN version SET DATA TYPE BIGINT")
    con.close()


def test_an_integer_version_store_keeps_its_cache_hits_after_the_upgrade(local_flow):
    flow = local_flow
    flow.put_data()
    flow.write(two_stages(flow, names_version=2))
    flow.run()
    meta = flow.folder / "shop.meta.sqlite"
    downgrade_sqlite_to_schema_1(meta)
    downgrade_catalog_versions(flow)
    con = sqlite3.connect(meta)
    assert con.execute("SELECT typeof(version) FROM tasks WHERE task = 'names'").fetchall() == \
        [("integer",)]
    con.close()
    summary = flow.run()
    assert set(hits(summary).values()) == {True}
    con = sqlite3.connect(meta)
    assert con.execute("SELECT max(version) FROM schema_version").fetchall() == [(2,)]
    assert con.execute("SELECT typeof(version), version FROM tasks WHERE task = 'names' "
                       "AND slot = (SELECT committed_slot FROM stages WHERE stage = 'model')"
                       ).fetchall() == [("text", "2")]
    con.close()
    assert flow.query("SELECT data_type FROM information_schema.columns WHERE table_schema = "
                      "'lakepipe' AND table_name = 'tasks' AND column_name = 'version'") == \
        [("VARCHAR",)]
    assert flow.query("SELECT DISTINCT version FROM lakepipe.tasks WHERE task = 'names'") == \
        [("2",)]


# --- the wedge and the repair -------------------------------------------------------------

def wedge_rows_sql(schema: str, bad: str) -> str:
    """The rows an older lakepipe committed for stage `bad` (a copy of stage raw's): a stage
    whose catalog build then failed on every later command."""
    return f"""
        INSERT INTO {schema}stages SELECT instance, '{bad}', committed_slot, run_id, committed_at
          FROM {schema}stages WHERE stage = 'raw';
        INSERT INTO {schema}tasks SELECT instance, '{bad}', task, cache_key, version, run_id,
          output_json, slot FROM {schema}tasks WHERE stage = 'raw';
        INSERT INTO {schema}tables SELECT instance, '{bad}', slot, "table", files_json, rows,
          bytes, schema_json, content_hash, partition_by FROM {schema}tables WHERE stage = 'raw';
    """


def assert_wedged_then_repaired(flow, bad: str) -> None:
    # Every command that builds the catalog fails the same way.
    for args in (("flow", "run", flow.file), ("flow", "run", flow.file, "--force"),
                 ("flow", "run", flow.file, "--stage", "model"), ("flow", "sync", flow.file)):
        message = error_line(flow.lakepipe(*args, check=False))
        assert message.startswith(f"building catalog '{flow.catalog}': "), (args, message)
    repaired = flow.lakepipe("flow", "repair", flow.file, "--drop-stage", bad, output_json=False)
    assert repaired.stdout.splitlines() == [
        f"dropped stage '{bad}' of instance 'dev': 1 stage, 2 task and 2 table records (its "
        "files are left for `lakepipe flow gc`)",
        f"catalog {flow.catalog} rebuilt from " + repaired.stdout.split(" rebuilt from ")[1].strip(),
    ], repaired.stdout
    summary = flow.run()
    assert set(hits(summary).values()) == {True}
    assert flow.query("SELECT DISTINCT stage FROM lakepipe.stages ORDER BY stage") == \
        [("model",), ("raw",)]
    assert flow.query("SELECT count(*) FROM raw.orders") == [(40,)]
    # Dropping it again: it has no records left.
    message = error_line(flow.lakepipe("flow", "repair", flow.file, "--drop-stage", bad,
                                       check=False))
    assert message == (f"flow 'shop', instance 'dev': stage '{bad}' has no records to drop "
                       "(stages recorded: 'model', 'raw')")


@pytest.mark.parametrize("bad", ["temp", "information_schema", "Raw"])
def test_repair_drops_a_stage_that_wedged_an_embedded_instance(local_flow, bad):
    flow = local_flow
    flow.put_data()
    flow.write(two_stages(flow))
    flow.run()
    con = sqlite3.connect(flow.folder / "shop.meta.sqlite")
    con.executescript(wedge_rows_sql("", bad))
    con.commit()
    con.close()
    assert_wedged_then_repaired(flow, bad)


def test_repair_without_stages_rebuilds_a_lost_catalog(local_flow):
    flow = local_flow
    flow.put_data()
    flow.write(two_stages(flow))
    flow.run()
    flow.catalog.unlink()
    out = json.loads(flow.lakepipe("flow", "repair", flow.file).stdout)
    assert out == {"flow": "shop", "instance": "dev", "dropped": [],
                   "catalog": str(flow.catalog)}
    assert flow.query("SELECT count(*) FROM model.names") == [(5,)]


def psql(postgres, url: str, sql: str) -> str:
    return subprocess.run([postgres._bin("psql"), url, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def test_repair_drops_a_stage_that_wedged_a_team_instance(local_flow, postgres, metadata_url):
    flow = local_flow
    flow.put_data()
    flow.write(two_stages(flow), metadata=metadata_url)
    flow.run()
    psql(postgres, metadata_url, "BEGIN;" + wedge_rows_sql("lakepipe_meta.", "temp") + "COMMIT;")
    assert_wedged_then_repaired(flow, "temp")
    assert psql(postgres, metadata_url,
                "SELECT count(*) FROM lakepipe_meta.tasks WHERE stage = 'temp'") == "0"


def test_a_team_store_with_integer_versions_keeps_its_cache_hits_after_the_upgrade(
        local_flow, postgres, metadata_url):
    flow = local_flow
    flow.put_data()
    flow.write(two_stages(flow, names_version=2), metadata=metadata_url)
    flow.run()
    # As lakepipe with schema version 1 left it.
    psql(postgres, metadata_url,
         "BEGIN; ALTER TABLE lakepipe_meta.tasks ALTER COLUMN version TYPE bigint "
         "USING version::bigint; DELETE FROM lakepipe_meta.schema_version WHERE version > 1; "
         "COMMIT;")
    downgrade_catalog_versions(flow)
    assert set(hits(flow.run()).values()) == {True}
    assert psql(postgres, metadata_url,
                "SELECT string_agg(version::text, ',' ORDER BY version) "
                "FROM lakepipe_meta.schema_version") == "1,2"
    assert psql(postgres, metadata_url,
                "SELECT DISTINCT pg_typeof(version)::text || ' ' || version FROM "
                "lakepipe_meta.tasks WHERE task = 'names'") == "text 2"


def test_a_dropped_stages_files_are_garbage_for_gc(local_flow):
    flow = local_flow
    flow.put_data()
    stages = two_stages(flow)
    flow.write(stages + [{"name": "old", "tasks": [{"name": "x", "sql": "SELECT 1 AS v"}]}])
    flow.run()
    old_files = [f for f in flow.files() if "/old__" in f]
    assert old_files
    flow.write(stages)  # the stage leaves the flow file; its records and files stay
    assert flow.query("SELECT count(*) FROM old.x") == [(1,)]
    out = json.loads(flow.lakepipe("flow", "repair", flow.file, "--drop-stage", "old").stdout)
    assert out["dropped"] == [{"stage": "old", "stages": 1, "tasks": 1, "tables": 1}]
    assert flow.query("SELECT count(*) FROM information_schema.schemata "
                      "WHERE schema_name LIKE 'old%'") == [(0,)]
    removed = json.loads(flow.lakepipe("flow", "gc", flow.file).stdout)["removed"]
    assert sorted(removed) == sorted(old_files)
    assert not any("/old__" in f for f in flow.files())


def test_a_flow_name_with_path_characters_stays_inside_its_folders(local_flow, tmp_path):
    """The flow's name is one encoded segment of its data folder and of its lock folder:
    `../../escape` writes nothing outside the store's base and the catalog's folder."""
    flow = local_flow
    flow.name = "../../escape"
    flow.dir = "dev/~2E.~2F..~2Fescape"
    flow.put_data()
    flow.write(flow.standard_stages(report=False))
    before = {p for p in tmp_path.rglob("*")}
    flow.run()
    new = sorted(str(p.relative_to(tmp_path)) for p in set(tmp_path.rglob("*")) - before)
    assert any(p.startswith("store/") and "/dev/~2E.~2F..~2Fescape/raw__odd/" in p
               for p in new), new
    assert all(p.startswith(("store/", "flow/")) for p in new), new
    assert sorted(flow.catalog_tables()) == [("model", "names"), ("model", "totals"),
                                             ("raw", "customers"), ("raw", "orders")]
