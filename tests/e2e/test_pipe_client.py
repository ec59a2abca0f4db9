"""lakepipe.PipeClient against the real dataspoc_pipe.PipeClient 0.2.0 (issue 17 §2).

Both clients work on one home (DataSpoc's ~/.dataspoc-pipe, which is a lakepipe home as it
is) and one bucket, with a Singer tap both can run (an executable on no PATH, named by its
path: DataSpoc checks the whole `tap` string with `which`). DataSpoc's client runs in its own
venv's Python; ours in this process, from the source tree's python/ with LAKEPIPE_BIN. Every
method must return the same keys with values of the same types, and the same values where
both read the same files.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest_support import SAMPLE_TAP, SampleTap, sample_rows, to_yaml
from services import DEPS, ROOT

DATASPOC_PYTHON = DEPS / "dataspoc-pipe" / "bin" / "python"
TAP_PASSWORD = "pc-tap-password-Wq73"

# Calls methods of DataSpoc's client in order; a raised exception is a result too.
DATASPOC_CALLS = r'''
import json, sys
from dataspoc_pipe import PipeClient
client = PipeClient()
out = []
for method, args in json.loads(sys.argv[1]):
    try:
        out.append({"value": getattr(client, method)(*args)})
    except Exception as error:
        out.append({"raised": type(error).__name__, "message": str(error)})
print(json.dumps(out))
'''


def shape(value):
    """The keys and value types of a JSON value, nested (a list by its items' shapes)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def hide(value):
    """`value` with every leaf replaced by "***", as lakepipe shows a tap's config."""
    if isinstance(value, dict):
        return {key: hide(item) for key, item in value.items()}
    if isinstance(value, list):
        return [hide(item) for item in value]
    return "***"


class Home:
    """A user's HOME with DataSpoc's ~/.dataspoc-pipe, and a local bucket as file://."""

    def __init__(self, tmp_path: Path):
        self.user = tmp_path / "user"
        self.home = self.user / ".dataspoc-pipe"
        (self.home / "pipelines").mkdir(parents=True)
        self.bucket_dir = tmp_path / "bucket"
        self.bucket_dir.mkdir()
        self.bucket = f"file://{self.bucket_dir}"

    def pipeline(self, name: str, source: dict, **top) -> None:
        doc = {"source": source, "destination": {"bucket": self.bucket, "path": "raw"}, **top}
        (self.home / "pipelines" / f"{name}.yaml").write_text(to_yaml(doc))

    def dataspoc(self, *calls) -> list[dict]:
        """Results of DataSpoc's client for `calls` ((method, *args), ...)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["HOME"] = str(self.user)
        proc = subprocess.run(
            [str(DATASPOC_PYTHON), "-c", DATASPOC_CALLS,
             json.dumps([[c[0], list(c[1:])] for c in calls])],
            env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def lakepipe_module(lakepipe_bin, monkeypatch):
    """The package of the source tree, running this build's binary."""
    monkeypatch.setenv("LAKEPIPE_BIN", str(lakepipe_bin))
    monkeypatch.syspath_prepend(str(ROOT / "python"))
    for name in [m for m in sys.modules if m == "lakepipe" or m.startswith("lakepipe.")]:
        monkeypatch.delitem(sys.modules, name)
    import lakepipe
    return lakepipe


def executable_tap(folder: Path) -> str:
    """SAMPLE_TAP as an executable `tap-sample`; returns its path."""
    path = folder / "tap-sample"
    path.write_text(f"#!{sys.executable}\n{SAMPLE_TAP}")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def home(tmp_path) -> Home:
    home = Home(tmp_path)
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 5))
    command = executable_tap(tap.folder)
    # The sample tap ignores keys it does not know: the password stands for a tap's secret.
    home.pipeline("things", {"tap": command, "config": {**tap.config, "password": TAP_PASSWORD}})
    home.pipeline("never", {"tap": command, "config": tap.config},
                  schedule={"cron": "0 3 * * *"})
    home.pipeline("notap", {"tap": "tap-not-installed-pc", "config": {}})
    return home


def test_every_method_answers_as_dataspoc_pipe_does(home, lakepipe_module, run_lakepipe):
    ours = lakepipe_module.PipeClient(home=home.home)

    # --- before any run -----------------------------------------------------------------
    before = [("pipelines",), ("config", "things"), ("config", "never"), ("status",),
              ("logs", "things"), ("manifest", home.bucket), ("validate", "things"),
              ("validate", "notap")]
    theirs = [r["value"] for r in home.dataspoc(*before)]
    answers = [getattr(ours, c[0])(*c[1:]) for c in before]
    pipelines, things, never, status, logs, manifest, valid, notap = zip(theirs, answers)

    assert sorted(pipelines[0]) == pipelines[1] == ["never", "notap", "things"]

    # config: DataSpoc's model_dump, the tap config's values hidden.
    for theirs_config, our_config in (things, never):
        assert shape(our_config) == shape(theirs_config)
        hidden = hide(theirs_config["source"]["config"])
        assert our_config == {**theirs_config,
                              "source": {**theirs_config["source"], "config": hidden}}
    assert TAP_PASSWORD in json.dumps(things[0]) and TAP_PASSWORD not in json.dumps(things[1])
    assert never[1]["schedule"] == {"cron": "0 3 * * *"}

    # status: a row per pipeline; none has run.
    assert sorted(status[0], key=lambda r: r["name"]) == status[1] == [
        {"name": name, "last_run": None, "status": "no runs", "duration": None, "records": None}
        for name in ("never", "notap", "things")]
    assert logs == (None, None)
    assert manifest[1] == manifest[0] == {"version": "1.0", "updated_at": None, "tables": {}}

    # validate: the same checks, each with its own words.
    assert valid == ({"bucket_ok": True, "tap_ok": True, "errors": []},) * 2
    assert shape(notap[1]) == shape(notap[0])
    assert notap[1] == {"bucket_ok": True, "tap_ok": False, "errors": [
        "pipeline 'notap': tap 'tap-not-installed-pc' not found on PATH"]}

    # --- runs: DataSpoc's, then ours a second later (log names sort by the second) ------
    [their_run, their_failure] = [r["value"] for r in
                                  home.dataspoc(("run", "things"), ("run", "notap"))]
    time.sleep(1.1)
    our_run = ours.run("things")
    assert our_run == their_run == {"success": True, "streams": {"things": 5}, "error": None}
    our_failure = ours.run("notap")
    assert shape(our_failure) == shape(their_failure)
    assert (our_failure["success"], our_failure["streams"]) == (False, {})
    failed = run_lakepipe("--home", home.home, "run", "notap", check=False)
    assert our_failure["error"] == failed.stderr.removeprefix("lakepipe: error: ").rstrip("\n")
    full = ours.run("things", full=True)
    assert full == our_run

    # --- after the runs: both read the same logs and manifest ---------------------------
    after = [("status",), ("logs", "things"), ("manifest", home.bucket)]
    status, logs, manifest = zip([r["value"] for r in home.dataspoc(*after)],
                                 [getattr(ours, c[0])(*c[1:]) for c in after])
    assert sorted(status[0], key=lambda r: r["name"]) == status[1]
    rows = {r["name"]: r for r in status[1]}
    assert rows["never"]["status"] == "no runs"
    assert rows["notap"]["status"] == "failure"
    assert rows["things"]["status"] == "success" and rows["things"]["records"] == 5
    assert isinstance(rows["things"]["last_run"], str)
    assert isinstance(rows["things"]["duration"], float)
    assert logs[1] == logs[0] and logs[1]["total_records"] == 5
    assert manifest[1] == manifest[0] and list(manifest[1]["tables"]) == ["sample/things"]


def test_an_unknown_pipeline_raises_lakepipe_error_with_the_cli_message(
        home, lakepipe_module, run_lakepipe):
    ours = lakepipe_module.PipeClient(home=home.home)
    # DataSpoc raises too (FileNotFoundError) for each of these.
    theirs = home.dataspoc(("config", "nope"), ("run", "nope"), ("logs", "nope"),
                           ("validate", "nope"))
    assert [r.get("raised") for r in theirs] == ["FileNotFoundError"] * 4
    cli = run_lakepipe("--home", home.home, "run", "nope", check=False)
    assert cli.returncode == 1
    message = cli.stderr.removeprefix("lakepipe: error: ").rstrip("\n")
    assert "'nope'" in message
    for method in ("config", "run", "logs", "validate"):
        with pytest.raises(lakepipe_module.LakepipeError) as raised:
            getattr(ours, method)("nope")
        assert str(raised.value) == message, method
        assert raised.value.exit_code == 1


def test_the_home_comes_from_lakepipe_home_when_not_given(home, lakepipe_module, monkeypatch):
    monkeypatch.setenv("LAKEPIPE_HOME", str(home.home))
    assert lakepipe_module.PipeClient().pipelines() == ["never", "notap", "things"]
    assert lakepipe_module.PipeClient(home=home.user).pipelines() == []
