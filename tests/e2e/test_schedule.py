"""`lakepipe schedule install` writes crontab lines that /bin/sh runs as meant, whatever
the home folder's path holds (spaces, quotes, %), and `remove` takes only its own lines."""
from __future__ import annotations

import subprocess

import pytest

from backends import make_backend
from ingest_support import Lake


def crontab() -> str:
    return subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout


def cron_command(line: str) -> str:
    """What cron hands to /bin/sh: the line after its five time fields, with cron's own
    rule for % applied (an escaped \\% is a %, none is left unescaped)."""
    command = line.split(None, 5)[5]
    assert "%" not in command.replace("\\%", ""), command
    return command.replace("\\%", "%")


@pytest.fixture
def own_crontab(tmp_path):
    """Lines this test left in root's crontab (its homes are under tmp_path) are removed
    after it; other lines are left alone (other tests may be installing theirs)."""
    yield
    mine = tmp_path.as_posix().replace("%", "\\%")
    current = crontab()
    kept = "".join(f"{line}\n" for line in current.splitlines() if mine not in line)
    if kept != current:
        subprocess.run(["crontab", "-"], input=kept, text=True, check=True)


@pytest.mark.parametrize("folder", ["my home", "it's 100% ours"])
def test_installed_line_runs_under_sh_with_odd_home_paths(own_crontab, run_lakepipe, tmp_path,
                                                          folder):
    home = tmp_path / folder / ".lakepipe"
    backend = make_backend("file", None, tmp_path / "lake")
    lake = Lake(backend, run_lakepipe, home)
    lake.pipeline("orders", {"reader": "demo", "options": {"rows": "10"}},
                  schedule={"cron": "0 3 * * *"})
    lake.lakepipe("schedule", "install")
    lines = [line for line in crontab().splitlines() if line.endswith(
        "# lakepipe:" + str(home).replace("%", "\\%"))]
    assert len(lines) == 1, crontab()
    assert lines[0].startswith("0 3 * * * flock -n ")
    # Before, the unquoted path split into words: the run never happened.
    proc = subprocess.run(["sh", "-c", cron_command(lines[0])], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, (proc.stdout, proc.stderr, lines[0])
    assert "orders: 10 records" in (home / "locks" / "orders.cron.log").read_text()
    assert lake.data_files() == ["raw/demo/orders/orders_0000.parquet"]
    lake.lakepipe("schedule", "remove")
    assert str(home) not in crontab()


def test_a_cron_expression_with_a_line_break_is_refused(own_crontab, local_lake):
    local_lake.pipeline("orders", {"reader": "demo"},
                        schedule={"cron": "0 3 * * *\n* * * * * touch /tmp/injected"})
    proc = local_lake.lakepipe("schedule", "install", check=False)
    assert proc.returncode == 1
    assert proc.stderr == ("lakepipe: error: pipeline 'orders': schedule.cron has a line break, "
                           "which a crontab line cannot hold\n")
    assert "injected" not in crontab()
