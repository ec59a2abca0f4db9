"""A flow's `ingest:` task runs a lakepipe ingest pipeline (a real Singer tap here), then
takes the stream's table from the pipeline's bucket into its stage. Unchanged source data
is a cache hit; new rows flow through to the stages that read the table."""
import json

import duckdb

from ingest_support import SampleTap, sample_rows


def write_flow(folder, lake):
    folder.mkdir(parents=True, exist_ok=True)
    flow = {
        "name": "shop", "instance": "dev",
        "table_store": {"base": "./store", "catalog": "./shop.duckdb"},
        "stages": [
            {"name": "raw", "tasks": [
                {"name": "things", "ingest": {"pipeline": "orders", "stream": "things"}}]},
            {"name": "model", "tasks": [
                {"name": "summary",
                 "sql": "SELECT count(*) AS n, sum(amount) AS total FROM raw.things"}]},
        ],
    }
    path = folder / "flow.yaml"
    path.write_text(json.dumps(flow, indent=2))
    return path


def catalog(folder, sql):
    with duckdb.connect(str(folder / "shop.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_ingest_task_lands_the_pipeline_then_caches_unchanged_data(local_lake, tmp_path):
    lake = local_lake
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 50))
    lake.pipeline("orders", tap.source(), incremental={"enabled": True})
    flow_file = write_flow(tmp_path / "flow", lake)

    def run():
        out = lake.lakepipe("--output", "json", "flow", "run", flow_file).stdout
        return {s["stage"]: s for s in json.loads(out)["stages"]}

    first = run()
    assert not first["raw"]["metadata_only"] and not first["model"]["metadata_only"]
    assert catalog(flow_file.parent, "SELECT n, total FROM model.summary") == [
        (50, sum(i * 1.25 for i in range(1, 51)))]
    # The pipeline's own bucket got the run too (manifest, state).
    assert lake.entry("sample/things")["stats"]["total_rows"] == 50

    # No new source rows: the pipeline adds no file, so every task is a cache hit.
    second = run()
    assert second["raw"]["metadata_only"] and second["model"]["metadata_only"]

    # New rows: the ingest task and the SQL over it run again.
    tap.add_rows(sample_rows(51, 60))
    third = run()
    assert not third["raw"]["metadata_only"] and not third["model"]["metadata_only"]
    assert catalog(flow_file.parent, "SELECT n FROM model.summary") == [(60,)]
    assert sorted(r[0] for r in catalog(flow_file.parent, "SELECT id FROM raw.things")) == list(
        range(1, 61))


def test_ingest_task_of_a_failing_pipeline_names_flow_stage_and_task(local_lake, tmp_path):
    lake = local_lake
    flow_file = write_flow(tmp_path / "flow", lake)
    proc = lake.lakepipe("flow", "run", flow_file, check=False)
    assert proc.returncode == 1
    # The pipeline is loaded as `lakepipe run` loads it (pipeline/pipeline_run.h).
    assert proc.stderr == ("lakepipe: error: flow 'shop', stage 'raw', task 'things': pipeline "
                           f"'orders' not found: no '{lake.home}/pipelines/orders.yaml'\n")
    assert not (flow_file.parent / "shop.duckdb").exists() or catalog(
        flow_file.parent, "SELECT count(*) FROM lakepipe.tables") == [(0,)]
