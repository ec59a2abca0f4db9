"""pydiverse.pipedag's layout, re-expressed as lakepipe flows: several flows under one table
store base and one instance, with the same stage names (raw, model, report), on a local
folder and on the S3 emulator, with embedded metadata or one PostgreSQL database for all.
Each flow keeps its own folder <instance>/<flow>/, its own records and locks; `flow gc` of
one flow never looks at another's files, and a gc started during a flow's first run waits
for the run instead of deleting what it is writing."""
import json
import subprocess
import time


from flow_support import MORE_ORDERS, ORDERS, background, expected_tables, flow_on, wait_for


def two_flows(store_backend, run_lakepipe, tmp_path, metadata):
    fx = flow_on(store_backend, run_lakepipe, tmp_path / "fx", name="fx")
    fy = flow_on(store_backend, run_lakepipe, tmp_path / "fy", name="fy")
    for f in (fx, fy):
        f.write(metadata=metadata)
    return fx, fy


def files_of(flow) -> dict[str, str]:
    """Digests of the files under the flow's own folder."""
    return {p: d for p, d in flow.digests().items() if p.startswith(flow.dir + "/")}


def test_two_flows_on_one_base_and_instance_keep_their_own_tables(
        store_backend, run_lakepipe, tmp_path, metadata, lakepipe_bin, clean_env):
    fx, fy = two_flows(store_backend, run_lakepipe, tmp_path, metadata)
    fx.put_data()
    fx.run()
    fx_files = files_of(fx)
    assert fx_files and all(p.startswith("dev/fx/") for p in fx_files)
    assert fx.catalog_tables() == expected_tables()

    # fy's inputs differ.
    fy.put_data(orders=MORE_ORDERS)
    # fy's first run blocks in its report stage, holding the locks of all its stages; gc of
    # both flows starts meanwhile.
    (fy.folder / "hold").write_text("")
    env = {**clean_env, **fy.env}
    with background(fy.argv(lakepipe_bin, "flow", "run", fy.file), env, cwd=fy.folder) as run:
        wait_for(lambda: (fy.folder / "waiting").exists(), "fy's held task", proc=run)
        gc_fx = subprocess.run(fx.argv(lakepipe_bin, "flow", "gc", fx.file), env=env,
                               capture_output=True, text=True, timeout=120)
        assert gc_fx.returncode == 0, gc_fx.stderr
        # fx's gc finished at once and removed nothing: fy's files are not fx's business.
        assert json.loads(gc_fx.stdout) == {"removed": [], "dry_run": False}
        with background(fy.argv(lakepipe_bin, "flow", "gc", fy.file), env) as gc_fy:
            # fy's gc waits for the run (whose stages have never committed) to end.
            time.sleep(1.5)
            assert gc_fy.poll() is None, gc_fy.communicate()
            written = files_of(fy)
            assert any("/raw__odd/" in p for p in written), written
            (fy.folder / "release").write_text("")
            out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
            gc_out, gc_err = gc_fy.communicate(timeout=120)
            assert gc_fy.returncode == 0, gc_err
    # Nothing the run committed was removed, and fx's files are untouched.
    assert json.loads(gc_out)["removed"] == []
    assert fy.catalog_tables() == expected_tables(orders=MORE_ORDERS)
    assert files_of(fx) == fx_files
    assert fx.catalog_tables() == expected_tables()
    count = fx.lakepipe("sql", fx.file, "SELECT count(*) AS n FROM raw.orders").stdout
    assert json.loads(count) == [{"n": str(len(ORDERS))}]
    count = fy.lakepipe("sql", fy.file, "SELECT count(*) AS n FROM raw.orders").stdout
    assert json.loads(count) == [{"n": str(len(MORE_ORDERS))}]
    # A forced rerun of fy rewrites fy's slots only.
    fy.run("--force")
    assert fy.catalog_tables() == expected_tables(orders=MORE_ORDERS)
    assert files_of(fx) == fx_files


def test_gc_removes_only_its_own_flows_leftovers(store_backend, run_lakepipe, tmp_path):
    fx, fy = two_flows(store_backend, run_lakepipe, tmp_path, "embedded")
    for f in (fx, fy):
        f.put_data()
        f.run()
    # Leftovers in each flow's folder, and a file of nobody's beside them.
    fx.write_store_file("dev/fx/model__even/totals/part-00000000-0000.parquet", b"x")
    fy.write_store_file("dev/fy/model__even/totals/part-00000000-0000.parquet", b"y")
    fx.write_store_file("dev/notes.txt", b"someone else's")
    dry = json.loads(fx.lakepipe("flow", "gc", fx.file, "--dry-run").stdout)
    assert dry == {"removed": ["dev/fx/model__even/totals/part-00000000-0000.parquet"],
                   "dry_run": True}
    fx.lakepipe("flow", "gc", fx.file)
    left = fx.files()
    assert "dev/fy/model__even/totals/part-00000000-0000.parquet" in left
    assert "dev/notes.txt" in left
    assert "dev/fx/model__even/totals/part-00000000-0000.parquet" not in left
    assert fx.catalog_tables() == fy.catalog_tables() == expected_tables()
