"""The child processes of a run (Singer taps, the Python transform worker): they die with
lakepipe, their temp folders do not outlive a killed run, a timeout bounds the whole tap,
a transform may print, and what a tap warns about reaches the console."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest_support import (TAP_JSONL, ReplayTap, record_msg, rows_of, sample_rows, SampleTap,
                            schema_msg, singer_lines, write_tap)

PROPS = {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}}
PYTHON = {"LAKEPIPE_PYTHON": sys.executable}  # the test venv has pyarrow and pandas
PASSWORD = "lp-tap-temp-password-Qw71"

# Forks a grandchild in its own session (setsid: out of the tap's process group) that
# keeps the tap's stdout and stderr open and sleeps; the tap itself exits at once.
SETSID_TAP = r'''
import json, os, subprocess, sys
c = json.load(open(sys.argv[sys.argv.index("--config") + 1]))
print(json.dumps({"type": "SCHEMA", "stream": "things", "key_properties": ["id"],
                  "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}))
print(json.dumps({"type": "RECORD", "stream": "things", "record": {"id": 1}}), flush=True)
child = subprocess.Popen(["sleep", "300"], start_new_session=True)
open(c["pid_file"], "w").write(str(child.pid))
'''


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[-1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_until(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def kill_all(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def slow_tap(lake, tmp_path, name="slow", **top):
    """A pipeline whose tap writes one record, then sleeps 120 s (pid in tap.pid)."""
    tap = ReplayTap(tmp_path / f"tap-{name}")
    tap.set_output(singer_lines(schema_msg("things", PROPS),
                                record_msg("things", {"id": 1, "name": "x"})))
    pid_file = tmp_path / f"{name}.pid"
    lake.pipeline(name, tap.source(sleep=120, pid_file=str(pid_file), password=PASSWORD),
                  **top)
    return pid_file


def start_run(lake, lakepipe_bin, clean_env, name, env=None, **popen):
    return subprocess.Popen(lake.argv(lakepipe_bin, "run", name),
                            env={**clean_env, **lake.backend.env, **(env or {})}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


# --- temp folders ----------------------------------------------------------------------

def test_tap_temp_folder_is_under_tmpdir_and_a_killed_runs_folder_is_swept(
        local_lake, tmp_path, lakepipe_bin, clean_env):
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"TMPDIR": str(temp)}
    pid_file = slow_tap(local_lake, tmp_path)
    proc = start_run(local_lake, lakepipe_bin, clean_env, "slow", env)
    try:
        wait_until(pid_file.exists, 20, "the tap never started")
        folders = list(temp.glob("lakepipe-tap-*"))
        assert len(folders) == 1, folders
        assert PASSWORD in (folders[0] / "config.json").read_text()
        assert folders[0].name.startswith(f"lakepipe-tap-{proc.pid}-")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        kill_all(int(p) for p in pid_file.read_text().split())
    assert folders[0].exists()  # SIGKILL: nobody could remove it

    # A live run's folder is never swept: start one, then a quick run beside it.
    live_pid_file = slow_tap(local_lake, tmp_path, name="live")
    live = start_run(local_lake, lakepipe_bin, clean_env, "live", env)
    try:
        wait_until(live_pid_file.exists, 20, "the live tap never started")
        tap = SampleTap(tmp_path / "quick")
        tap.set_rows(sample_rows(1, 3))
        local_lake.pipeline("quick", tap.source())
        local_lake.run("quick", env=env)
        assert not folders[0].exists(), "the dead run's folder (with a password) is still there"
        left = list(temp.glob("lakepipe-tap-*"))
        assert [f.name.startswith(f"lakepipe-tap-{live.pid}-") for f in left] == [True]
    finally:
        live.kill()
        live.wait(10)
        kill_all(int(p) for p in live_pid_file.read_text().split())


# --- children die with lakepipe --------------------------------------------------------

@pytest.mark.parametrize("kill", ["process", "process-group"])
def test_sigkill_of_lakepipe_kills_the_tap_and_the_transform_worker(
        local_lake, tmp_path, lakepipe_bin, clean_env, kill):
    (local_lake.home / "transforms").mkdir()
    (local_lake.home / "transforms" / "slow.py").write_text("def transform(df):\n    return df\n")
    pid_file = slow_tap(local_lake, tmp_path)
    proc = start_run(local_lake, lakepipe_bin, clean_env, "slow", PYTHON,
                     start_new_session=True)
    children = []
    try:
        wait_until(pid_file.exists, 30, "the tap never started")
        children = children_of(proc.pid)
        tap_pid = int(pid_file.read_text().split()[0])
        assert tap_pid in children and len(children) == 2, children  # tap + worker
        if kill == "process":
            os.kill(proc.pid, signal.SIGKILL)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        wait_until(lambda: not any(alive(p) for p in children), 5,
                   f"children outlived lakepipe: {[p for p in children if alive(p)]}")
    finally:
        if proc.poll() is None:
            proc.kill()
        kill_all(children)


# --- timeouts --------------------------------------------------------------------------

def test_timeout_stops_a_tap_whose_setsid_grandchild_holds_stdout(local_lake, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    tap = write_tap(tmp_path, "tap-setsid.py", SETSID_TAP)
    local_lake.pipeline("held", {"tap": tap, "config": {"pid_file": str(pid_file)}},
                        timeout_seconds=2)
    start = time.monotonic()
    try:
        proc = local_lake.run("held", check=False, timeout=60)
        elapsed = time.monotonic() - start
        assert proc.returncode == 1, proc
        assert proc.stderr == ("lakepipe: error: pipeline 'held': tap 'tap-setsid.py' timed out "
                               "and was stopped\n")
        assert elapsed < 20
        grandchild = int(pid_file.read_text())
        wait_until(lambda: not alive(grandchild), 5, "the setsid grandchild outlived the run")
        assert local_lake.data_files() == []
    finally:
        if pid_file.exists():
            kill_all([int(pid_file.read_text())])


# --- the Python transform may print ----------------------------------------------------

def test_python_transform_that_prints_each_call_completes_with_the_right_rows(
        local_lake, tmp_path):
    (local_lake.home / "transforms").mkdir()
    (local_lake.home / "transforms" / "chatty.py").write_text(
        "calls = 0\n\n"
        "def transform(df):\n"
        "    global calls\n"
        "    calls += 1\n"
        "    print(f'transform call {calls}: {len(df)} rows')\n"
        "    df['id'] = df['id'] * 10\n"
        "    return df\n")
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 10))
    local_lake.pipeline("chatty", tap.source(), batch={"rows": 3})
    proc = local_lake.run("chatty", env=PYTHON, timeout=60)
    assert rows_of(local_lake.read_table("sample/things"), "id") == [
        (i * 10,) for i in range(1, 11)]
    assert "transform call 1: 3 rows" in proc.stderr
    assert "transform call 4: 1 rows" in proc.stderr
    assert "transform call" not in proc.stdout


# --- tap warnings reach the console ----------------------------------------------------

def test_real_tap_warning_about_a_missing_file_is_shown_and_the_empty_run_flagged(
        local_lake, tmp_path):
    missing = tmp_path / "missing.jsonl"
    local_lake.pipeline("nofile", {"tap": str(TAP_JSONL),
                                   "config": {"path": str(missing), "stream_name": "things"}})
    proc = local_lake.run("nofile")
    assert "things: 0 records" in proc.stdout
    lines = proc.stderr.splitlines()
    assert any(line.startswith("lakepipe: warning: tap 'tap-jsonl': ") and "WARNING" in line
               and f"No files found for {missing}" in line for line in lines), proc.stderr
    assert any("tap 'tap-jsonl' wrote no records and 1 warning line(s) on stderr" in line
               for line in lines), proc.stderr
    assert not any("INFO" in line for line in lines)  # only warnings and errors are shown
    assert local_lake.logs("nofile")[-1]["source"]["warning_lines"] == 1


def test_tap_warnings_shown_on_the_console_are_bounded(local_lake, tmp_path):
    tap = ReplayTap(tmp_path / "tap")
    tap.set_output(singer_lines(schema_msg("things", PROPS),
                                record_msg("things", {"id": 1, "name": "x"})))
    warnings = "".join(f"WARNING retrying request {i}\n" for i in range(500))
    local_lake.pipeline("noisy", tap.source(stderr_text=warnings))
    proc = local_lake.run("noisy")
    shown = [line for line in proc.stderr.splitlines() if "retrying request" in line]
    assert len(shown) == 20
    assert "more warnings not shown" in proc.stderr
    assert "wrote no records" not in proc.stderr  # it wrote one
    assert local_lake.logs("noisy")[-1]["source"]["warning_lines"] == 500
