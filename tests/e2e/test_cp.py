"""`lakepipe cp` between backends: bytes identical, destination whole or absent."""
import hashlib
import json
import os
import signal
import subprocess
import tempfile
import time

import pytest


def random_file(path, size):
    # Incompressible and different per file; written in chunks to keep memory flat.
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 << 20))
            f.write(chunk)
            left -= len(chunk)
    return path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def test_cp_round_trip_through_backend(backend, run_lakepipe, tmp_path):
    source = random_file(tmp_path / "in.bin", 5 * 1024 * 1024 + 17)
    run_lakepipe("cp", source, backend.uri("in/copy.bin"), env=backend.env)
    assert backend.read_bytes("in/copy.bin") == source.read_bytes()  # independent reader
    listing = json.loads(run_lakepipe("--output", "json", "ls", "-r", backend.uri("in"),
                                      env=backend.env).stdout)
    assert [(e["uri"], e["size"]) for e in listing if not e["is_dir"]] == [
        (backend.uri("in/copy.bin") if backend.name != "file"
         else f"file://{backend.root}/in/copy.bin", source.stat().st_size)]
    back = tmp_path / "back.bin"
    run_lakepipe("cp", backend.uri("in/copy.bin"), back, env=backend.env)
    assert back.read_bytes() == source.read_bytes()


def test_cp_into_folder_keeps_the_name(backend, run_lakepipe, tmp_path):
    source = random_file(tmp_path / "keep.bin", 1000)
    run_lakepipe("cp", source, backend.uri("folder") + "/", env=backend.env)
    assert backend.read_bytes("folder/keep.bin") == source.read_bytes()


def run_measured(argv, env):
    """Runs argv and returns (stdout, peak RSS in MiB) of that one process. The peak comes
    from GNU time: wait4() here would report this pytest process's size, which a forked
    child keeps as its high-water mark until it execs."""
    with tempfile.NamedTemporaryFile("r") as peak:
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, *map(str, argv)],
                              env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"{argv} exited {proc.returncode}: {proc.stderr}"
        return proc.stdout, int(peak.read().split()[-1]) / 1024


def test_cp_200mb_local_s3_gcs_azure_local_is_identical_in_constant_memory(
        all_backends, lakepipe_bin, clean_env, tmp_path):
    size = 200 * 1024 * 1024
    source = random_file(tmp_path / "big.bin", size)
    small = random_file(tmp_path / "small.bin", size // 4)
    env = dict(clean_env)
    for b in all_backends.values():
        env.update(b.env)
    # Memory must not grow with the file: a copy 4x larger peaks within a few chunks of
    # the smaller one's peak (both include the same shared libraries).
    _, small_peak = run_measured([str(lakepipe_bin), "cp", str(small),
                                  all_backends["s3"].uri("small.bin")], env)
    hops = [str(source), all_backends["s3"].uri("big.bin"), all_backends["gcs"].uri("big.bin"),
            all_backends["azure"].uri("big.bin"), str(tmp_path / "big-back.bin")]
    for src, dst in zip(hops, hops[1:]):
        out, peak_mib = run_measured([str(lakepipe_bin), "--output", "json", "cp", src, dst], env)
        assert json.loads(out)["bytes"] == size
        if os.environ.get("LAKEPIPE_SANITIZED"):
            continue  # ASan's quarantine keeps freed chunks: peaks grow with bytes copied
        assert peak_mib < small_peak + 40, (
            f"cp {src} -> {dst} peaked at {peak_mib:.0f} MiB; a file 4x smaller at {small_peak:.0f}")
    assert sha256(tmp_path / "big-back.bin") == sha256(source)


def read_bytes_of(pid):
    try:
        with open(f"/proc/{pid}/io") as f:
            return int(next(line for line in f if line.startswith("rchar:")).split()[1])
    except (OSError, StopIteration):
        return 0


@pytest.mark.parametrize("backend", ["file", "s3", "gcs", "azure"], indirect=True)
def test_killed_cp_leaves_no_object_at_destination(backend, lakepipe_bin, clean_env, tmp_path):
    source = random_file(tmp_path / "kill.bin", 150 * 1024 * 1024)
    proc = subprocess.Popen([str(lakepipe_bin), "cp", str(source), backend.uri("killed.bin")],
                            env={**clean_env, **backend.env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    # Kill once a good part of the source has been read, i.e. mid-upload.
    deadline = time.monotonic() + 60
    while read_bytes_of(proc.pid) < 40 * 1024 * 1024:
        assert proc.poll() is None, f"cp ended before it could be killed: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "cp made no progress"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not backend.exists("killed.bin")
    if backend.name == "file":
        # The hidden temp file may stay behind (a later gc removes it) but is never the
        # destination, and listing hides it.
        assert not (tmp_path / "bucket" / "killed.bin").exists()


def staging_left(backend, folder: str) -> list[str]:
    """Hidden staging files/objects of AtomicWriter directly in `folder` (independent
    reader: pyarrow's own filesystem lists hidden names too)."""
    import pyarrow.fs as pafs
    infos = backend.fs.get_file_info(pafs.FileSelector(backend.fs_path(folder),
                                                       allow_not_found=True))
    return sorted(i.base_name for i in infos
                  if i.type == pafs.FileType.File and i.base_name.startswith(".")
                  and ".tmp-" in i.base_name)


@pytest.mark.parametrize("backend", ["file", "azure"], indirect=True)
def test_a_later_write_sweeps_what_a_killed_cp_left(backend, lakepipe_bin, run_lakepipe,
                                                    clean_env, tmp_path):
    """A SIGKILLed cp leaves its hidden staging file (local) or staging blob (Azure, which
    creates it at open). The next write into that folder removes it once it is older than
    kStaleWriteAge (shortened here), and never a young one, which may be a live write."""
    source = random_file(tmp_path / "kill.bin", 150 * 1024 * 1024)
    proc = subprocess.Popen([str(lakepipe_bin), "cp", str(source), backend.uri("dir/killed.bin")],
                            env={**clean_env, **backend.env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while read_bytes_of(proc.pid) < 40 * 1024 * 1024:
        assert proc.poll() is None, f"cp ended before it could be killed: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "cp made no progress"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = staging_left(backend, "dir")
    assert len(left) == 1 and left[0].startswith(".killed.bin.tmp-"), left

    small = tmp_path / "small.bin"
    small.write_bytes(b"small")
    run_lakepipe("cp", small, backend.uri("dir/one.bin"), env=backend.env)
    assert staging_left(backend, "dir") == left  # young: it might be a live write

    time.sleep(2)
    run_lakepipe("cp", small, backend.uri("dir/two.bin"),
                 env={**backend.env, "LAKEPIPE_STALE_WRITE_SECONDS": "1"})
    assert staging_left(backend, "dir") == []
    assert backend.read_bytes("dir/two.bin") == b"small"
    assert not backend.exists("dir/killed.bin")


def s3_uploads_in_progress(backend) -> list[str]:
    import boto3
    env = backend.env
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    return [u["Key"] for u in s3.list_multipart_uploads(Bucket=backend.fs_root).get("Uploads", [])]


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("backend", ["file", "s3", "azure"], indirect=True)
def test_a_stopped_cp_aborts_its_upload(backend, lakepipe_bin, clean_env, tmp_path,
                                        signal_number):
    """SIGTERM and Ctrl-C end a cp with exit 130 and leave nothing: no multipart upload
    on S3 (which nothing could list and remove later), no staging file or blob."""
    source = random_file(tmp_path / "stop.bin", 150 * 1024 * 1024)
    proc = subprocess.Popen([str(lakepipe_bin), "cp", str(source), backend.uri("dir/stopped.bin")],
                            env={**clean_env, **backend.env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while read_bytes_of(proc.pid) < 40 * 1024 * 1024:
        assert proc.poll() is None, f"cp ended before it could be stopped: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "cp made no progress"
        time.sleep(0.005)
    proc.send_signal(signal_number)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    target = backend.uri("dir/stopped.bin")
    if backend.name == "file":
        target = f"file://{target}"
    assert stderr == f"lakepipe: error: copy to '{target}' cancelled: nothing written\n"
    assert not backend.exists("dir/stopped.bin")
    assert staging_left(backend, "dir") == []
    if backend.name == "s3":
        assert s3_uploads_in_progress(backend) == []
