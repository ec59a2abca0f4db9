"""The C++ storage conformance suite, run on S3, GCS and Azure emulators (ctest runs it on
local folders)."""
import os
import subprocess
from pathlib import Path

import pytest


@pytest.mark.parametrize("backend", ["s3", "gcs", "azure"], indirect=True)
def test_storage_conformance_suite(backend, lakepipe_bin, clean_env):
    unit_tests = Path(lakepipe_bin).parent / "lakepipe_unit_tests"
    listed = subprocess.run(
        [str(unit_tests), "--gtest_filter=StorageConformanceTest.*", "--gtest_list_tests"],
        capture_output=True, text=True, timeout=60, check=True).stdout
    count = sum(1 for line in listed.splitlines() if line.startswith("  "))
    assert count >= 14, listed
    proc = subprocess.run(
        [str(unit_tests), "--gtest_filter=StorageConformanceTest.*", "--gtest_brief=1"],
        env={**clean_env, **backend.env, "LAKEPIPE_TEST_STORAGE_ROOT": backend.root},
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert f"[  PASSED  ] {count} tests." in proc.stdout, proc.stdout[-2000:]
