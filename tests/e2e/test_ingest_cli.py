"""The ingest commands of the CLI: init, add, validate, run (--all, --output json), status,
logs, manifest."""
import json

import pyarrow.parquet as pq
import yaml

from ingest_support import SampleTap, sample_rows


def test_init_creates_the_home_folders_and_is_idempotent(local_lake, tmp_path):
    home = tmp_path / "fresh-home"
    out = local_lake._run("--home", home, "init").stdout
    assert out.splitlines()[0] == f"lakepipe home: {home}"
    for folder in ("pipelines", "sources", "transforms"):
        assert (home / folder).is_dir()
        assert f"  created {home}/{folder}" in out
    again = local_lake._run("--home", home, "init").stdout
    assert "created" not in again


def test_add_with_tap_flags_writes_a_pipeline_that_validates_and_runs(local_lake, tmp_path):
    lake = local_lake
    tap = SampleTap(tmp_path / "tap", streams=("things", "others"))
    tap.set_rows(sample_rows(1, 6), "things")
    tap.set_rows(sample_rows(1, 2), "others")
    (lake.home / "sources").mkdir()
    (lake.home / "sources" / "sample.json").write_text(json.dumps(tap.config))
    out = lake.lakepipe("add", "things", "--tap", tap.command, "--config", "sources/sample.json",
                        "--streams", "things", "--bucket", lake.bucket, "--incremental",
                        "--cron", "0 * * * *").stdout
    path = lake.home / "pipelines" / "things.yaml"
    assert out == f"wrote {path}\nrun it:  lakepipe run things\n"
    doc = yaml.safe_load(path.read_text())
    assert doc == {
        "source": {"tap": tap.command, "config": "sources/sample.json", "streams": ["things"]},
        "destination": {"bucket": lake.bucket, "path": "raw", "compression": "zstd"},
        "incremental": {"enabled": True},
        "schedule": {"cron": "0 * * * *"},
    }
    assert lake.lakepipe("validate", "things").stdout == "things: ok\n"
    lake.run("things")  # the config path is relative to the home folder
    assert sorted(lake.manifest()["tables"]) == ["sample/things"]
    assert lake.state("things") == {"bookmarks": {"things": {"id": 6}}}


def test_add_with_reader_flags_sets_path_and_compression(local_lake, tmp_path):
    lake = local_lake
    (tmp_path / "a.csv").write_text("id,v\n1,x\n2,y\n")
    lake.lakepipe("add", "sales", "--reader", "csv", "--uri", f"{tmp_path}/*.csv", "--stream",
                  "sales", "--bucket", lake.bucket, "--path", "landing", "--compression",
                  "snappy")
    lake.run("sales")
    path = "landing/csv/sales/sales_0000.parquet"
    assert lake.data_files() == [path]
    meta = pq.ParquetFile(lake.local_root / path).metadata
    assert meta.num_rows == 2
    assert meta.row_group(0).column(0).compression == "SNAPPY"
    assert lake.entry("csv/sales")["location"] == "landing/csv/sales"


def test_add_refuses_to_replace_a_pipeline_without_force(local_lake):
    lake = local_lake
    lake.lakepipe("add", "p", "--reader", "demo", "--bucket", lake.bucket)
    proc = lake.lakepipe("add", "p", "--reader", "demo", "--bucket", "/elsewhere", check=False)
    path = lake.home / "pipelines" / "p.yaml"
    assert proc.returncode == 1
    assert proc.stderr == (f"lakepipe: error: pipeline 'p' exists ('{path}'); use --force to "
                           "replace it\n")
    assert yaml.safe_load(path.read_text())["destination"]["bucket"] == lake.bucket
    lake.lakepipe("add", "p", "--reader", "demo", "--bucket", "/elsewhere", "--force")
    assert yaml.safe_load(path.read_text())["destination"]["bucket"] == "/elsewhere"


def test_add_without_required_flags_fails_when_not_interactive(local_lake):
    lake = local_lake
    for args, message in [
        (["--reader", "demo"], "add: give --bucket"),
        (["--bucket", lake.bucket], "add: give --tap or --reader"),
        (["--reader", "csv", "--bucket", lake.bucket], "add: reader needs --uri"),
    ]:
        proc = lake.lakepipe("add", "p", *args, check=False)
        assert (proc.returncode, proc.stderr) == (1, f"lakepipe: error: {message}\n")
    assert not (lake.home / "pipelines" / "p.yaml").exists()


def test_validate_of_a_missing_tap_names_the_pipeline_and_the_tap(local_lake):
    lake = local_lake
    lake.pipeline("notap", {"tap": "tap-not-installed-e2e --x"})
    proc = lake.lakepipe("validate", "notap", check=False)
    assert (proc.returncode, proc.stderr) == (
        1, "lakepipe: error: pipeline 'notap': tap 'tap-not-installed-e2e' not found on PATH\n")


def test_an_unreadable_tap_config_names_the_pipeline_in_validate_and_run(local_lake, tmp_path):
    lake = local_lake
    missing = tmp_path / "no-such-config.json"
    lake.pipeline("badconfig", {"tap": "true", "config": str(missing)})
    expected = f"lakepipe: error: pipeline 'badconfig': cannot read tap config '{missing}'\n"
    for command in (["validate", "badconfig"], ["run", "badconfig"]):
        proc = lake.lakepipe(*command, check=False)
        assert (proc.returncode, proc.stderr) == (1, expected), command


def test_validate_of_a_reader_without_input_names_the_pipeline_and_the_pattern(
        local_lake, tmp_path):
    lake = local_lake
    lake.pipeline("nofiles", {"reader": "csv", "uri": f"{tmp_path}/none/*.csv"})
    proc = lake.lakepipe("validate", "nofiles", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("lakepipe: error: pipeline 'nofiles': "), proc.stderr
    assert f"{tmp_path}/none/*.csv" in proc.stderr


def test_validate_of_an_unwritable_bucket_names_the_pipeline_and_the_bucket(
        local_lake, make_lake):
    lake = local_lake
    s3 = make_lake("s3")
    lake.pipeline("nobucket", {"reader": "demo"},
                  destination={"bucket": "s3://no-such-bucket-lakepipe-e2e"})
    proc = lake.lakepipe("validate", "nobucket", check=False, env=s3.backend.env)
    assert proc.returncode == 1
    assert proc.stderr.startswith("lakepipe: error: pipeline 'nobucket': bucket not writable: ")
    assert "no-such-bucket-lakepipe-e2e" in proc.stderr
    assert "lakepipe-test-secret-s3" not in proc.stderr


def test_validate_all_reports_each_failing_pipeline_once(local_lake):
    lake = local_lake
    lake.pipeline("a-good", {"reader": "demo"})
    lake.pipeline("b-bad", {"tap": "tap-missing-b"})
    lake.pipeline("c-bad", {"tap": "tap-missing-c"})
    proc = lake.lakepipe("validate", check=False)
    assert proc.returncode == 1
    assert proc.stdout == "a-good: ok\n"
    lines = proc.stderr.splitlines()
    assert sorted(lines) == sorted(set(lines)), f"repeated error lines: {lines}"
    assert "lakepipe: error: pipeline 'b-bad': tap 'tap-missing-b' not found on PATH" in lines
    assert "lakepipe: error: pipeline 'c-bad': tap 'tap-missing-c' not found on PATH" in lines


def test_validate_output_json_reports_each_check_of_every_pipeline(local_lake, tmp_path):
    lake = local_lake
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    lake.pipeline("a-good", {"reader": "demo"})
    lake.pipeline("b-notap", {"tap": "tap-missing-json"})
    # Neither the tap nor the bucket (under a regular file): both checks fail, both said.
    lake.pipeline("c-both", {"tap": "tap-missing-both"},
                  destination={"bucket": str(blocker / "bucket")})
    (lake.home / "pipelines" / "d-invalid.yaml").write_text("source: {}\nnonsense: 1\n")
    proc = lake.lakepipe("--output", "json", "validate", check=False)
    assert proc.returncode == 1
    rows = json.loads(proc.stdout)
    assert [r["pipeline"] for r in rows] == ["a-good", "b-notap", "c-both", "d-invalid"]
    assert rows[0] == {"pipeline": "a-good", "config_ok": True, "source_ok": True,
                       "bucket_ok": True, "errors": []}
    assert rows[1] == {"pipeline": "b-notap", "config_ok": True, "source_ok": False,
                       "bucket_ok": True,
                       "errors": ["pipeline 'b-notap': tap 'tap-missing-json' not found on PATH"]}
    assert (rows[2]["config_ok"], rows[2]["source_ok"], rows[2]["bucket_ok"]) == (
        True, False, False)
    assert rows[2]["errors"][0] == "pipeline 'c-both': tap 'tap-missing-both' not found on PATH"
    assert rows[2]["errors"][1].startswith("pipeline 'c-both': bucket not writable: ")
    assert (rows[3]["config_ok"], rows[3]["source_ok"], rows[3]["bucket_ok"]) == (
        False, False, False)
    assert len(rows[3]["errors"]) == 1 and "unknown key 'nonsense'" in rows[3]["errors"][0]
    # The error lines are the text output's: the first error of each failing pipeline.
    text = lake.lakepipe("validate", check=False)
    assert proc.stderr == text.stderr
    assert proc.stderr.splitlines() == [
        *(f"lakepipe: error: {r['errors'][0]}" for r in rows[1:]),
        "lakepipe: error: 3 of 4 pipelines failed validation"]

    one = lake.lakepipe("--output", "json", "validate", "a-good")
    assert json.loads(one.stdout) == [rows[0]] and one.stderr == ""
    failed = lake.lakepipe("--output", "json", "validate", "b-notap", check=False)
    assert (failed.returncode, json.loads(failed.stdout)) == (1, [rows[1]])
    assert failed.stderr == f"lakepipe: error: {rows[1]['errors'][0]}\n"


def test_config_prints_a_pipeline_as_dataspoc_with_the_tap_config_hidden(local_lake, tmp_path):
    lake = local_lake
    lake.pipeline("inline", {"tap": "tap-x --flag", "streams": ["a", "b"],
                             "config": {"user": "ada", "password": "pw-config-e2e",
                                        "nested": {"token": "tok-e2e", "ports": [1, 2]}}},
                  incremental={"enabled": True}, schedule={"cron": "0 * * * *"})
    lake.pipeline("file", {"tap": "tap-y", "config": "sources/y.json"},
                  destination={"bucket": lake.bucket, "path": "landing",
                               "compression": "snappy"})
    lake.pipeline("reader", {"reader": "csv", "uri": f"{tmp_path}/*.csv", "stream": "sales"})
    inline = json.loads(lake.lakepipe("--output", "json", "config", "inline").stdout)
    assert inline == {
        "name": "inline",
        "source": {"tap": "tap-x --flag", "streams": ["a", "b"],
                   "config": {"user": "***", "password": "***",
                              "nested": {"token": "***", "ports": ["***", "***"]}}},
        "destination": {"bucket": lake.bucket, "path": "raw",
                        "partition_by": "_extraction_date", "compression": "zstd"},
        "incremental": {"enabled": True},
        "schedule": {"cron": "0 * * * *"},
    }
    text = lake.lakepipe("config", "inline").stdout
    assert json.loads(text) == inline and "pw-config-e2e" not in text and "tok-e2e" not in text

    file = json.loads(lake.lakepipe("--output", "json", "config", "file").stdout)
    assert file["source"] == {"tap": "tap-y", "config": f"{lake.home}/sources/y.json",
                              "streams": None}
    assert file["destination"]["path"] == "landing"
    assert file["destination"]["compression"] == "snappy"
    assert (file["incremental"], file["schedule"]) == ({"enabled": False}, {"cron": None})
    reader = json.loads(lake.lakepipe("--output", "json", "config", "reader").stdout)
    assert reader["source"] == {"tap": None, "config": None, "streams": None, "reader": "csv",
                                "uri": f"{tmp_path}/*.csv", "stream": "sales"}

    every = json.loads(lake.lakepipe("--output", "json", "config").stdout)
    assert every == [file, inline, reader]
    names = lake.lakepipe("--output", "json", "config", "--names").stdout
    assert json.loads(names) == ["file", "inline", "reader"]
    assert lake.lakepipe("config", "--names").stdout == "file\ninline\nreader\n"
    missing = lake.lakepipe("config", "nope", check=False)
    assert missing.returncode == 1
    assert missing.stderr.startswith("lakepipe: error: pipeline 'nope' not found")
    assert lake.lakepipe("config", "inline", "--names", check=False).returncode == 2


def test_status_shows_the_last_run_of_every_pipeline(local_lake, tmp_path):
    lake = local_lake
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 5))
    lake.pipeline("a-ok", tap.source())
    lake.pipeline("b-failed", {"tap": "tap-missing-e2e"})
    lake.pipeline("c-never", tap.source())
    (lake.home / "pipelines" / "d-invalid.yaml").write_text("source: {}\nnonsense: 1\n")
    lake.run("a-ok")
    failed = lake.run("b-failed", check=False)
    assert failed.returncode == 1

    rows = json.loads(lake.lakepipe("--output", "json", "status").stdout)
    assert [r["pipeline"] for r in rows] == ["a-ok", "b-failed", "c-never", "d-invalid"]
    assert rows[0]["status"] == "success" and rows[0]["total_records"] == 5
    last = lake.logs("a-ok")[-1]
    for key in ("started_at", "finished_at", "duration_seconds"):
        assert rows[0][key] == last[key], key
    assert rows[1]["status"] == "failure"
    assert rows[1]["error"] == failed.stderr[len("lakepipe: error: "):].rstrip("\n")
    assert rows[2] == {"pipeline": "c-never", "status": "never run"}
    assert rows[3]["status"] == "invalid" and "unknown key 'nonsense'" in rows[3]["error"]

    text = lake.lakepipe("status").stdout.splitlines()
    assert len(text) == 4
    assert text[0].split()[:2] == ["a-ok", "success"] and text[0].endswith("5 records")
    assert text[1].split()[:2] == ["b-failed", "failure"]
    assert text[2].split() == ["c-never", "never", "run"]


def test_logs_last_n_shows_the_newest_runs_oldest_first(local_lake, tmp_path):
    lake = local_lake
    tap = SampleTap(tmp_path / "tap")
    lake.pipeline("things", tap.source(), incremental={"enabled": True})
    for first, last in [(1, 5), (6, 7), (8, 8)]:
        tap.add_rows(sample_rows(first, last))
        lake.run("things")
    logs = json.loads(lake.lakepipe("--output", "json", "logs", "things", "--last", 2).stdout)
    assert [log["total_records"] for log in logs] == [2, 1]
    assert logs == lake.logs("things")[-2:]
    text = lake.lakepipe("logs", "things", "--last", 2).stdout.splitlines()
    assert len(text) == 2
    assert "success" in text[0] and "2 records" in text[0]
    assert "success" in text[1] and "1 records" in text[1]
    assert len(json.loads(lake.lakepipe("--output", "json", "logs", "things").stdout)) == 3


def test_manifest_command_lists_the_tables_of_an_s3_bucket(make_lake, tmp_path):
    lake = make_lake("s3")
    tap = SampleTap(tmp_path / "tap", streams=("things", "others"))
    tap.set_rows(sample_rows(1, 5), "things")
    tap.set_rows(sample_rows(1, 3), "others")
    lake.pipeline("things", tap.source())
    lake.run("things")
    lake.run("things")
    doc = json.loads(lake.lakepipe("--output", "json", "manifest", lake.bucket).stdout)
    assert doc == lake.manifest()
    lines = lake.lakepipe("manifest", lake.bucket).stdout.splitlines()
    assert [line.split() for line in lines] == [
        ["sample/others", "3", "rows", "2", "extractions", "raw/sample/others"],
        ["sample/things", "5", "rows", "2", "extractions", "raw/sample/things"],
    ]


def test_run_all_runs_every_pipeline_and_reports_each_failure(local_lake, tmp_path):
    lake = local_lake
    for name in ("a", "c"):
        tap = SampleTap(tmp_path / f"tap-{name}", streams=(f"{name}_rows",))
        tap.set_rows(sample_rows(1, 3), f"{name}_rows")
        lake.pipeline(name, tap.source())
    lake.pipeline("b", {"tap": "tap-missing-e2e"})
    proc = lake.lakepipe("--output", "json", "run", "--all", check=False)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "lakepipe: error: pipeline 'b': starting tap 'tap-missing-e2e': No such file or "
        "directory (is it installed and on PATH?)",
        "lakepipe: error: 1 of 3 pipelines failed"]
    results = json.loads(proc.stdout)
    assert [r["pipeline"] for r in results] == ["a", "c"]
    assert all(r["status"] == "success" and r["total_records"] == 3 for r in results)
    assert sorted(lake.manifest()["tables"]) == ["sample/a_rows", "sample/c_rows"]


def test_run_output_json_is_the_run_log(local_lake, tmp_path):
    lake = local_lake
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 4))
    lake.pipeline("things", tap.source())
    [result] = json.loads(lake.lakepipe("--output", "json", "run", "things").stdout)
    assert result == lake.logs("things")[-1]
    assert result["status"] == "success"
    assert result["streams"]["things"]["records"] == 4


def test_run_usage_errors_exit_2(local_lake):
    lake = local_lake
    lake.pipeline("p", {"reader": "demo", "options": {"rows": 10}})
    assert lake.lakepipe("run", "p", "--bogus", check=False).returncode == 2
    assert lake.lakepipe("run", check=False).returncode == 2  # neither a name nor --all
    assert lake.lakepipe("run", "p", "--all", check=False).returncode == 2
    assert lake.files() == {}
