"""The C++ storage conformance suite, run on S3, GCS and Azure emulators (ctest runs it on
local folders)."""
import subprocess
from pathlib import Path

import pytest


@pytest.mark.parametrize("backend", ["s3", "gcs", "azure"], indirect=True)
def test_storage_conformance_suite(backend, lakepipe_bin, clean_env):
    unit_tests = Path(lakepipe_bin).parent / "lakepipe_unit_tests"
    # Every case of the suite must run and pass on this provider, however many it has.
    listing = subprocess.run([str(unit_tests), "--gtest_filter=StorageConformanceTest.*",
                              "--gtest_list_tests"], capture_output=True, text=True, check=True)
    cases = [line for line in listing.stdout.splitlines() if line.startswith("  ")]
    assert len(cases) >= 14, listing.stdout  # the suite cannot shrink unnoticed
    proc = subprocess.run(
        [str(unit_tests), "--gtest_filter=StorageConformanceTest.*", "--gtest_brief=1"],
        env={**clean_env, **backend.env, "LAKEPIPE_TEST_STORAGE_ROOT": backend.root},
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert f"[  PASSED  ] {len(cases)} tests." in proc.stdout, proc.stdout[-2000:]
