"""What real taps send that JSON Schema does not quite say (issue 14 §3): Python's NaN and
Infinity, extra fields, values nulled by `on_type_error: null`, NULL array elements,
out-of-range decimals, local and recursive `$ref`s, absurdly deep schemas."""
import json
import math

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ingest_support import ReplayTap, record_msg, schema_msg, singer_lines


def land(lake, tmp_path, lines, name="values", check=True, **top):
    tap = ReplayTap(tmp_path / f"tap-{name}")
    tap.set_output(lines)
    lake.pipeline(name, tap.source(), **top)
    return lake.run(name, check=check)


def test_python_nan_and_infinity_load_as_ieee_values(local_lake, tmp_path):
    # Exactly what a Python tap prints: json.dumps keeps allow_nan=True.
    records = [{"id": 1, "x": float("nan")}, {"id": 2, "x": float("inf")},
               {"id": 3, "x": float("-inf")}, {"id": 4, "x": 1.5, "note": "NaN Infinity"}]
    lines = json.dumps({"type": "SCHEMA", "stream": "m", "key_properties": ["id"], "schema": {
        "type": "object", "properties": {"id": {"type": "integer"}, "x": {"type": "number"},
                                         "note": {"type": ["null", "string"]}}}}) + "\n"
    lines += "".join(json.dumps({"type": "RECORD", "stream": "m", "record": r}) + "\n"
                     for r in records)
    assert "NaN" in lines and "-Infinity" in lines
    land(local_lake, tmp_path, lines)
    table = local_lake.read_table("replay/m")
    x = table.column("x").to_pylist()
    assert math.isnan(x[0]) and x[1:] == [math.inf, -math.inf, 1.5]
    assert table.column("note").to_pylist() == [None, None, None, "NaN Infinity"]
    path = local_lake.local_root / local_lake.entry("replay/m")["files"][0]["path"]
    assert duckdb.sql(f"SELECT count(*) FILTER (WHERE isnan(x)), count(*) FILTER "
                      f"(WHERE isinf(x)) FROM '{path}'").fetchone() == (1, 2)


def test_fields_the_schema_lacks_are_warned_once_and_counted_in_the_run_log(local_lake, tmp_path):
    schema = {"id": {"type": "integer"},
              "meta": {"type": "object", "additionalProperties": True,
                       "properties": {"a": {"type": "integer"}}}}
    lines = singer_lines(schema_msg("s", schema), *[
        record_msg("s", {"id": i, "extra": i, "meta": {"a": i, "b": "kept?"}}) for i in range(5)])
    proc = land(local_lake, tmp_path, lines)
    warnings = [line for line in proc.stderr.splitlines() if "not in the stream's schema" in line]
    assert warnings == [
        "lakepipe: warning: stream 's', line 2: field 'extra' is not in the stream's schema and "
        "is not stored (counted in the run log)",
        "lakepipe: warning: stream 's', line 2: field 'meta.b' is not in the stream's schema and "
        "is not stored (counted in the run log)"]
    log = local_lake.logs("values")[-1]
    assert log["source"]["dropped_fields"] == {"s": {"extra": 5, "meta.b": 5}}


def test_values_nulled_by_the_null_policy_are_warned_once_per_column_and_counted(
        local_lake, tmp_path):
    lines = singer_lines(schema_msg("s", {"id": {"type": "integer"},
                                          "n": {"type": ["null", "integer"]}}),
                         *[record_msg("s", {"id": i, "n": "bad" if i % 2 else i})
                           for i in range(6)])
    proc = land(local_lake, tmp_path, lines, on_type_error="null")
    warnings = [line for line in proc.stderr.splitlines() if "stored as NULL" in line]
    assert warnings == [
        "lakepipe: warning: stream 's', line 3: field 'n': expected integer, got string \"bad\"; "
        "stored as NULL (on_type_error: null; counted in the run log)"]
    assert local_lake.logs("values")[-1]["source"]["nulled_values"] == {"s": {"n": 3}}
    assert local_lake.read_table("replay/s").column("n").to_pylist() == [0, None, 2, None, 4, None]


def test_null_array_elements_load_under_every_policy(local_lake, tmp_path):
    # meltanolabs-tap-postgres describes int[] as items {"type": ["integer"]} and sends NULLs.
    schema = {"id": {"type": "integer"},
              "ids": {"type": ["array", "null"], "items": {"type": ["integer"]}}}
    lines = singer_lines(schema_msg("s", schema), record_msg("s", {"id": 1, "ids": [1, None, 3]}))
    # Three pipelines, one table: declared shared (a table has one owner otherwise).
    shared = {"bucket": local_lake.bucket, "share_tables": True}
    for policy in ("fail", "null", "string"):
        land(local_lake, tmp_path, lines, name=f"arr-{policy}", on_type_error=policy,
             destination=shared)
    for entry in local_lake.manifest()["tables"].values():
        assert entry["columns"][1] == {"name": "ids", "type": "list<element: int64>",
                                       "nullable": True}
    table = local_lake.read_table("replay/s")
    assert table.column("ids").to_pylist() == [[1, None, 3]]


def test_a_decimal_out_of_range_is_a_type_error_not_a_wrap(local_lake, tmp_path):
    schema = {"id": {"type": "integer"},
              "d": {"type": ["null", "number"], "multipleOf": 0.01, "maximum": 1e30}}
    big = str(2 ** 128 + 12345)
    lines = singer_lines(schema_msg("s", schema), record_msg("s", {"id": 1, "d": 1.25}),
                         '{"type": "RECORD", "stream": "s", "record": {"id": 2, "d": ' + big + "}}")
    proc = land(local_lake, tmp_path, lines, check=False)
    assert proc.returncode == 1
    assert proc.stderr == (f"lakepipe: error: pipeline 'values': stream 's', line 3: field 'd': "
                           f"expected decimal(33, 2), got number {big}\n")
    land(local_lake, tmp_path, lines, name="values-null", on_type_error="null")
    assert [str(v) if v is not None else None for v in
            local_lake.read_table("replay/s").column("d").to_pylist()] == ["1.25", None]


def test_local_and_recursive_refs_load_as_pipelinewise_describes_arrays(local_lake, tmp_path):
    schema = {"type": "object",
              "definitions": {"sdc_recursive_integer_array": {
                  "type": ["null", "integer", "array"],
                  "items": {"$ref": "#/definitions/sdc_recursive_integer_array"}}},
              "properties": {"id": {"type": "integer"},
                             "ids": {"type": ["null", "array"],
                                     "items": {"$ref": "#/definitions/sdc_recursive_integer_array"}}}}
    lines = singer_lines({"type": "SCHEMA", "stream": "s", "schema": schema, "key_properties": []},
                         record_msg("s", {"id": 1, "ids": [1, 2, None]}),
                         record_msg("s", {"id": 2, "ids": [[3], 4]}))
    land(local_lake, tmp_path, lines)
    table = local_lake.read_table("replay/s")
    assert table.column("ids").to_pylist() == [["1", "2", None], ["[3]", "4"]]


def test_a_schema_nested_thousands_of_levels_fails_clearly(local_lake, tmp_path):
    # Written out by hand: Python's own json module cannot nest this deep either.
    nested = '{"type": "array", "items": ' * 4000 + '{"type": "integer"}' + "}" * 4000
    lines = ('{"type": "SCHEMA", "stream": "s", "key_properties": [], "schema": {"type": '
             '"object", "properties": {"id": {"type": "integer"}, "deep": ' + nested + "}}}\n")
    proc = land(local_lake, tmp_path, lines, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("lakepipe: error: pipeline 'values': stream 's', line 1: "
                                  "property 'deep")
    assert "schema nested deeper than 64 levels" in proc.stderr


def test_an_evolved_table_is_read_whole_by_duckdb_polars_and_pyarrow(local_lake, tmp_path):
    v1 = {"id": {"type": "integer"}, "tags": {"type": ["null", "array"],
                                              "items": {"type": "string"}}}
    v2 = {**v1, "amount": {"type": ["null", "number"]}}
    lines = singer_lines(schema_msg("s", v1), record_msg("s", {"id": 1, "tags": ["a"]}),
                         schema_msg("s", v2), record_msg("s", {"id": 2, "tags": None, "amount": 2.5}))
    land(local_lake, tmp_path, lines)
    entry = local_lake.entry("replay/s")
    assert len(entry["files"]) == 2
    # The manifest describes every column of every file, as the files spell the types.
    assert entry["columns"] == [
        {"name": "id", "type": "int64", "nullable": True},
        {"name": "tags", "type": "list<element: string>", "nullable": True},
        {"name": "amount", "type": "double", "nullable": True}]
    for f in entry["files"]:
        schema = pq.read_schema(local_lake.local_root / f["path"])
        for field in schema:
            column = next(c for c in entry["columns"] if c["name"] == field.name)
            assert str(field.type) == column["type"]
    paths = [str(local_lake.local_root / f["path"]) for f in entry["files"]]
    glob = f"{local_lake.local_root}/{entry['location']}/*.parquet"
    # docs/FORMATS.md "Reading a table whose schema evolved" says how each reader does it.
    assert duckdb.sql(f"SELECT id, amount FROM read_parquet('{glob}', union_by_name=true) "
                      "ORDER BY id").fetchall() == [(1, None), (2, 2.5)]
    frame = pl.concat([pl.scan_parquet(p) for p in paths], how="diagonal_relaxed").sort(
        "id").collect()
    assert frame["amount"].to_list() == [None, 2.5]
    schema = pa.unify_schemas([pq.read_schema(p) for p in paths], promote_options="permissive")
    unified = ds.dataset(paths, schema=schema).to_table()
    assert sorted(unified.column("id").to_pylist()) == [1, 2]


def test_validate_discovers_and_maps_the_selected_streams_schemas(local_lake, tmp_path):
    from ingest_support import SampleTap
    bad = {"type": "object", "properties": {"id": {"type": "integer"},
                                            "pair": {"type": "array", "items": [{"type": "integer"}]}}}
    tap = SampleTap(tmp_path / "tap", streams=("good", "bad"), schemas={"bad": bad})
    local_lake.pipeline("goodonly", tap.source(streams=["good"]))
    assert local_lake.lakepipe("validate", "goodonly").stdout == "goodonly: ok\n"
    local_lake.pipeline("withbad", tap.source())
    proc = local_lake.lakepipe("validate", "withbad", check=False)
    assert proc.returncode == 1
    assert proc.stderr == ("lakepipe: error: pipeline 'withbad': stream 'bad': property 'pair': "
                           "tuple \"items\" (an array of schemas) are not supported\n")
