"""A wrong key, a missing bucket and an unreachable endpoint: one line naming the URI, a
non-zero exit code, no hang past the retry deadline, no secret in the message."""
import time

import pytest

from services import AZURITE_ACCOUNT, MotoS3, free_port


def assert_one_line_error(proc, uri):
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("lakepipe: error: ")
    assert f"'{uri}'" in lines[0], lines[0]


def test_wrong_azure_key_is_refused_without_leaking_it(azurite, run_lakepipe, tmp_path):
    azurite.create_bucket("wrongkey")
    bad_key = "V3JvbmdLZXlGb3JMYWtlcGlwZVRlc3RzMTIzNDU2Nzg5MA=="
    env = {"AZURE_STORAGE_CONNECTION_STRING":
           f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={bad_key};"
           f"BlobEndpoint={azurite.endpoint}/{AZURITE_ACCOUNT};"}
    source = tmp_path / "x.bin"
    source.write_bytes(b"data")
    start = time.monotonic()
    proc = run_lakepipe("cp", source, "az://wrongkey/x.bin", env=env, check=False)
    assert time.monotonic() - start < 60
    assert_one_line_error(proc, "az://wrongkey/x.bin")
    assert "AuthorizationFailure" in proc.stderr or "403" in proc.stderr, proc.stderr
    assert bad_key not in proc.stderr + proc.stdout


def test_wrong_s3_key_is_refused_without_leaking_it(run_lakepipe, tmp_path):
    moto = MotoS3(tmp_path / "moto-auth").start(check_credentials=True)
    try:
        secret = "lakepipe-wrong-secret-value-42"
        env = {**moto.env, "AWS_ACCESS_KEY_ID": "AKIALAKEPIPEWRONG", "AWS_SECRET_ACCESS_KEY": secret}
        source = tmp_path / "x.bin"
        source.write_bytes(b"data")
        proc = run_lakepipe("cp", source, "s3://guarded/x.bin", env=env, check=False)
        assert_one_line_error(proc, "s3://guarded/x.bin")
        assert "INVALID_ACCESS_KEY_ID" in proc.stderr, proc.stderr
        assert secret not in proc.stderr + proc.stdout
    finally:
        moto.stop()


@pytest.mark.parametrize("backend", ["s3", "gcs", "azure"], indirect=True)
def test_missing_bucket_names_the_uri(backend, run_lakepipe, tmp_path):
    scheme = backend.root.split("://")[0]
    uri = f"{scheme}://no-such-bucket-{backend.name}/file.bin"
    source = tmp_path / "x.bin"
    source.write_bytes(b"data")
    start = time.monotonic()
    proc = run_lakepipe("cp", source, uri, env=backend.env, check=False)
    assert time.monotonic() - start < 60
    assert_one_line_error(proc, uri)
    # A missing bucket is not an empty folder.
    proc = run_lakepipe("ls", uri.rsplit("/", 1)[0] + "/folder/", env=backend.env, check=False)
    assert proc.stderr == (f"lakepipe: error: listing '{uri.rsplit('/', 1)[0]}/folder': "
                           f"bucket 'no-such-bucket-{backend.name}' does not exist\n")
    assert proc.returncode == 1


@pytest.mark.parametrize("provider", ["s3", "gcs", "azure"])
def test_unreachable_endpoint_fails_within_the_retry_deadline(provider, run_lakepipe, tmp_path):
    port = free_port()  # nothing listens here
    endpoint = f"http://127.0.0.1:{port}"
    config = tmp_path / "storage.yaml"
    config.write_text(
        "storage:\n"
        "  retry: { max_attempts: 3, deadline_seconds: 8, connect_timeout_seconds: 1 }\n"
        f"  s3: {{ endpoint: {endpoint} }}\n"
        f"  gcs: {{ endpoint: {endpoint}, credentials: anonymous }}\n"
        f"  azure: {{ endpoint: {endpoint}, account: {AZURITE_ACCOUNT} }}\n")
    env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "lakepipe-unreachable-secret",
           "AZURE_STORAGE_KEY": "bGFrZXBpcGUtdW5yZWFjaGFibGUtc2VjcmV0"}
    uri = {"s3": "s3://b/x", "gcs": "gs://b/x", "azure": "az://b/x"}[provider]
    start = time.monotonic()
    proc = run_lakepipe("--storage", config, "ls", uri, env=env, check=False, timeout=120)
    elapsed = time.monotonic() - start
    assert_one_line_error(proc, uri)
    assert elapsed < 8 + 5, f"took {elapsed:.1f} s for a deadline of 8 s"
    assert "lakepipe-unreachable-secret" not in proc.stderr
