"""A run that fails anywhere (recovering dead runs, starting or committing its journal,
reading state, access denied by the store) says `pipeline '<name>': ...` in its one error
line and leaves a failure log whenever the bucket takes a write, so `lakepipe status`
shows the failure instead of the last success. A journal lakepipe cannot read stops the
pipeline with a message naming it and saying what to do."""
from __future__ import annotations

import json
import re

import pytest

from flow_support import CountingProxy
from ingest_support import Committed

P = "pipeline 'orders'"


@pytest.fixture
def committed(local_lake, tmp_path):
    return Committed(local_lake, tmp_path)


def error_line(proc) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("lakepipe: error: ") and proc.stderr.count("\n") == 1, \
        proc.stderr
    return proc.stderr[len("lakepipe: error: "):-1]


def status_of(lake, name: str = "orders") -> dict:
    rows = json.loads(lake.lakepipe("--output", "json", "status").stdout)
    return next(row for row in rows if row["pipeline"] == name)


def assert_failure_logged(lake, message: str) -> None:
    last = lake.logs("orders")[-1]
    assert (last["status"], last["error"]) == ("failure", message)
    row = status_of(lake)
    assert (row["status"], row["error"]) == ("failure", message)


# --- the journal folder cannot be written (local bucket) ----------------------------------

def test_a_file_where_the_journal_folder_should_be(committed):
    lake = committed.lake
    journal_dir = lake.local_root / ".dataspoc/journal/orders"
    journal_dir.rmdir()  # empty after the committed run
    journal_dir.write_text("not a folder")
    message = error_line(lake.run("orders", check=False))
    assert message.startswith(f"{P}: creating folder for 'file://{journal_dir}/"), message
    # Before, no log was written and status still showed the last success.
    assert_failure_logged(lake, message)
    journal_dir.unlink()
    lake.run("orders")
    assert status_of(lake)["status"] == "success"


# --- journals lakepipe cannot use -----------------------------------------------------------

BAD_JOURNALS = {
    "a-list": ("[]", "it is not a JSON object"),
    "unknown-status": ('{"status": "finishing", "written": []}',
                       'its status "finishing" is not "running", "prepared" or "committed"'),
    "wrong-type": ('{"status": "running", "written": {"a": 1}}', "'written' is not a list"),
    "truncated": ('{"status": "running", "wri', None),
}


@pytest.mark.parametrize("case", list(BAD_JOURNALS))
def test_a_journal_lakepipe_cannot_use_stops_the_pipeline_clearly(committed, case):
    lake = committed.lake
    text, why = BAD_JOURNALS[case]
    journal = lake.local_root / ".dataspoc/journal/orders/20261201T000000Z-0badf00d.json"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(text)
    before = lake.snapshot()
    message = error_line(lake.run("orders", check=False))
    prefix = f"{P}: run journal 'file://{journal}' cannot be used: "
    advice = (". It should say what a run that died wrote, so lakepipe stops rather than "
              "guess: look at it, delete the data files it lists that the manifest does not "
              "(if any), then delete the journal and run again")
    if why is None:
        assert re.fullmatch(re.escape(prefix) + r"it is not valid JSON \(.*parse error.*\)" +
                            re.escape(advice), message), message
    else:
        assert message == prefix + why + advice
    # Nothing touched but the failure log; status shows the failure.
    after = {k: v for k, v in lake.snapshot().items() if not k.startswith(".dataspoc/logs/")}
    assert after == {k: v for k, v in before.items() if not k.startswith(".dataspoc/logs/")}
    assert_failure_logged(lake, message)
    # Doing what the message says lets the pipeline run again.
    journal.unlink()
    lake.run("orders")
    assert status_of(lake)["status"] == "success"


def test_a_hand_edited_run_log_is_reported_not_a_crash(committed):
    lake = committed.lake
    logs = sorted((lake.local_root / ".dataspoc/logs/orders").glob("*.json"))
    logs[-1].write_text("[]")
    row = status_of(lake)
    assert row["status"] == "unknown"
    assert row["error"].startswith(f"'file://{logs[-1]}' is not a run log"), row


# --- S3 answering 403 AccessDenied --------------------------------------------------------

@pytest.fixture
def s3_committed(make_lake, tmp_path):
    return Committed(make_lake("s3"), tmp_path)


def denied(lake, deny):
    """Runs the pipeline through a proxy that answers 403 where `deny(method, path)`."""
    port = int(lake.backend.env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1])
    proxy = CountingProxy(port, lambda method, path: 403 if deny(method, path) else None).start()
    try:
        return lake.run("orders", check=False, env={"AWS_ENDPOINT_URL": proxy.endpoint})
    finally:
        proxy.stop()


def test_s3_access_denied_reading_state_names_the_pipeline(s3_committed):
    lake = s3_committed.lake
    state = f"/{lake.bucket[len('s3://'):]}/.dataspoc/state/orders/state.json"
    # S3 needs s3:GetObject for both HEAD and GET, so a policy refuses them together.
    message = error_line(denied(lake, lambda method, path: method in ("HEAD", "GET") and
                                path.startswith(state)))
    assert message.startswith(f"{P}: "), message
    assert f"'{lake.bucket}/.dataspoc/state/orders/state.json'" in message, message
    assert "ACCESS_DENIED" in message or "AccessDenied" in message, message
    assert_failure_logged(lake, message)


def test_s3_access_denied_committing_the_journal_names_the_pipeline(s3_committed):
    """The journal's first writes pass, its commit is refused: nothing is committed, a
    failure log says so, and the next run cleans up after it."""
    lake = s3_committed.lake
    journal = f"/{lake.bucket[len('s3://'):]}/.dataspoc/journal/orders/"
    completed = []

    def deny(method, path):
        # Each journal write is one upload, completed by a POST ?uploadId=: the run's first
        # two (Begin, then the data file it records) pass, the third (the commit) does not.
        if method == "POST" and path.startswith(journal) and "uploadId=" in path:
            completed.append(path)
            return len(completed) > 2
        return False

    message = error_line(denied(lake, deny))
    assert message.startswith(f"{P}: completing '{lake.bucket}/.dataspoc/journal/orders/"), \
        message
    assert "ACCESS_DENIED" in message, message
    assert_failure_logged(lake, message)
    assert lake.entry("replay/things")["stats"]["extractions"] == 1
    lake.run("orders")
    assert lake.journal("orders") == []
    assert status_of(lake)["status"] == "success"
