"""The crash loop (tests/reliability/crash_loop.py) in short: every scenario killed at a
random delay or a named commit point, checked after each kill and each recovery. The full
loop (200+ iterations) runs on demand; RELIABILITY.md has its last figures."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))

from crash_loop import run_loop  # noqa: E402


def test_short_crash_loop_loses_and_duplicates_nothing(lakepipe_bin, tmp_path):
    summary = run_loop(lakepipe_bin, tmp_path, iterations=16, seed=20261130)
    assert summary["failures"] == 0
    # Every iteration makes one or two attempts. A delayed kill can come after the run has
    # finished (more often on a fast machine), so the count of kills depends on timing;
    # half the attempts pick a crash point, which always kills, so both kinds happen.
    kills = summary["killed-at-point"] + summary["killed-after-delay"]
    assert kills + summary.get("finished", 0) >= 16
    assert kills >= 8 and summary["killed-at-point"] >= 1 and summary["killed-after-delay"] >= 1
    assert sum(v for k, v in summary.items() if k.startswith("scenario:")) == 16
