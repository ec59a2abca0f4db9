"""Object-store upload benchmark case for bench/run.py (see bench/README.md): "s3-upload".

One file of reproducible incompressible bytes (a fixed-seed generator) uploaded to a moto S3
server on loopback by `lakepipe cp FILE s3://bench/…` and by `pyarrow.fs.copy_files` of the
same file to the same server, in a Python process. Both alternate after a warm-up; every
upload's object size is checked, and the first one's bytes by sha256.
"""
from __future__ import annotations

import hashlib
import os
import random
import sys
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests" / "e2e"))
from flow_cases import HEADER, stats  # noqa: E402
from measure import run_measured  # noqa: E402
from services import MotoS3  # noqa: E402

PYARROW_SCRIPT = """
import sys, pyarrow.fs as fs
src, dst, port = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = fs.S3FileSystem(endpoint_override=f"127.0.0.1:{port}", scheme="http", region="us-east-1",
                     access_key="lakepipe-test-key", secret_key="lakepipe-test-secret-s3")
fs.copy_files(src, dst, source_filesystem=fs.LocalFileSystem(), destination_filesystem=s3)
"""


def incompressible_file(path: Path, mib: int, seed: int = 42) -> Path:
    rng = random.Random(seed)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(rng.randbytes(1 << 20))
    return path


def s3_upload_case(mib: int, reps: int, work: Path, lakepipe: Path) -> dict:
    source = incompressible_file(work / f"upload-{mib}.bin", mib)
    size = source.stat().st_size
    moto = MotoS3(work / "moto").start()
    try:
        s3 = moto.filesystem()
        s3.create_dir("bench")
        env = {**os.environ, **moto.env}

        def object_size(key):
            return s3.get_file_info(f"bench/{key}").size

        def run_lakepipe():
            seconds, rss, _ = run_measured([lakepipe, "cp", source, "s3://bench/lakepipe.bin"],
                                           env=env)
            assert object_size("lakepipe.bin") == size
            s3.delete_file("bench/lakepipe.bin")
            return seconds, rss

        def run_pyarrow():
            seconds, rss, _ = run_measured(
                [sys.executable, "-c", PYARROW_SCRIPT, source, "bench/pyarrow.bin", moto.port],
                env=env)
            assert object_size("pyarrow.bin") == size
            s3.delete_file("bench/pyarrow.bin")
            return seconds, rss

        # Warm-up, and the bytes of each tool's upload checked once.
        want = hashlib.sha256(source.read_bytes()).hexdigest()
        for name, argv in [
                ("lakepipe.bin", [lakepipe, "cp", source, "s3://bench/lakepipe.bin"]),
                ("pyarrow.bin", [sys.executable, "-c", PYARROW_SCRIPT, source,
                                 "bench/pyarrow.bin", moto.port])]:
            run_measured(argv, env=env)
            # One plain GET (moto serves anonymous reads): pyarrow's ranged reads make moto
            # copy the whole object for every range.
            with urllib.request.urlopen(f"{moto.endpoint}/bench/{name}") as response:
                digest = hashlib.sha256()
                while chunk := response.read(1 << 20):
                    digest.update(chunk)
            assert digest.hexdigest() == want, name
            s3.delete_file(f"bench/{name}")
        runs = {"lakepipe": [], "pyarrow": []}
        for _ in range(reps):
            runs["lakepipe"].append(run_lakepipe())
            runs["pyarrow"].append(run_pyarrow())
    finally:
        moto.stop()
        source.unlink()
    return {"mib": mib, "runs": runs}


def summarize_s3_upload(result: dict) -> str:
    mib = result["mib"]
    lp, pa = stats(result["runs"]["lakepipe"]), stats(result["runs"]["pyarrow"])
    rows = []
    for tool, (med, lo, hi, rss) in [("lakepipe", lp), ("pyarrow", pa)]:
        rows.append(f"| {tool} | {med:.2f} | {lo:.2f} | {hi:.2f} | {mib / med:,.0f} MiB/s | "
                    f"{rss:.0f} |")
    return "\n".join([
        f"### Upload {mib:,} MiB to the S3 emulator", "",
        f"Input: {mib:,} MiB of incompressible bytes (fixed seed) in a local file; moto "
        "S3 server on loopback (the tests' emulator). lakepipe: `lakepipe cp FILE "
        "s3://bench/lakepipe.bin`; peer: `pyarrow.fs.copy_files` to the same server in a Python "
        "process (Python start and `import pyarrow` included). Both uploads' bytes checked by "
        "sha256 once, sizes every run. moto (a Python server) bounds both rates.", "",
        HEADER[0].replace("records/s (median)", "rate (median)"), HEADER[1], *rows, "",
        f"lakepipe / pyarrow = **{lp[0] / pa[0]:.2f}×** (ratio of medians; target ≤ 1.3×).", ""])
