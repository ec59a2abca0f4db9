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
    assert summary["killed-at-point"] + summary["killed-after-delay"] >= 16
    assert sum(v for k, v in summary.items() if k.startswith("scenario:")) == 16
