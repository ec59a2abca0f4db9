"""Fixtures of the end-to-end suite: the lakepipe binary and real services on loopback."""
from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ingest_support import Lake
from services import ROOT, Azurite, FakeGcs, MotoS3, Postgres

BACKENDS = ["file", "s3", "gcs", "azure"]


@pytest.fixture(scope="session")
def lakepipe_bin() -> Path:
    path = Path(os.environ.get("LAKEPIPE_BIN", ROOT / "build" / "lakepipe"))
    if not path.exists():
        pytest.fail(f"lakepipe binary not found at {path}: run make first")
    return path


def _service(request, tmp_path_factory, cls):
    service = cls(tmp_path_factory.mktemp(cls.name)).start()
    request.addfinalizer(service.stop)
    return service


@pytest.fixture(scope="session")
def moto(request, tmp_path_factory) -> MotoS3:
    return _service(request, tmp_path_factory, MotoS3)


@pytest.fixture(scope="session")
def fake_gcs(request, tmp_path_factory) -> FakeGcs:
    return _service(request, tmp_path_factory, FakeGcs)


@pytest.fixture(scope="session")
def azurite(request, tmp_path_factory) -> Azurite:
    return _service(request, tmp_path_factory, Azurite)


@pytest.fixture(scope="session")
def postgres(request) -> Postgres:
    # Not under pytest's private temp folder: the server runs as the 'postgres' user
    # when the tests run as root, and must reach its folder.
    service = Postgres(Path(tempfile.mkdtemp(prefix="lakepipe-pg-"))).start()
    request.addfinalizer(service.stop)
    return service


@dataclass
class Backend:
    """One storage backend as the tests see it: where to write (root URI), the environment
    lakepipe needs to reach it, and an independent pyarrow filesystem to check results."""

    name: str
    root: str
    env: dict = field(default_factory=dict)
    fs: object = None
    fs_root: str = ""

    def uri(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def fs_path(self, relative: str) -> str:
        return f"{self.fs_root}/{relative}"

    def read_bytes(self, relative: str) -> bytes:
        with self.fs.open_input_stream(self.fs_path(relative)) as f:
            return f.read()

    def exists(self, relative: str) -> bool:
        import pyarrow.fs as pafs
        return self.fs.get_file_info(self.fs_path(relative)).type != pafs.FileType.NotFound


def make_backend(name: str, request, tmp_path: Path) -> Backend:
    import pyarrow.fs as pafs
    bucket = f"lp-{uuid.uuid4().hex[:12]}"
    if name == "file":
        folder = tmp_path / "bucket"
        folder.mkdir(parents=True)
        return Backend(name, str(folder), {}, pafs.LocalFileSystem(), str(folder))
    service = request.getfixturevalue({"s3": "moto", "gcs": "fake_gcs", "azure": "azurite"}[name])
    service.create_bucket(bucket)
    scheme = {"s3": "s3", "gcs": "gs", "azure": "az"}[name]
    return Backend(name, f"{scheme}://{bucket}", service.env, service.filesystem(), bucket)


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Backend:
    return make_backend(request.param, request, tmp_path)


@pytest.fixture
def all_backends(request, tmp_path) -> dict[str, Backend]:
    return {name: make_backend(name, request, tmp_path / name) for name in BACKENDS}


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "AZURE_", "STORAGE_EMULATOR", "GOOGLE_"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


@pytest.fixture
def run_lakepipe(lakepipe_bin):
    """Runs the real binary; returns CompletedProcess (text). Extra env is merged over a
    clean environment so a developer's own cloud settings never leak into a test."""

    def run(*args, env: dict | None = None, timeout: float = 300, check: bool = True,
            cwd: Path | None = None):
        proc = subprocess.run([str(lakepipe_bin), *map(str, args)], capture_output=True, text=True,
                              env={**_clean_env(), **(env or {})}, timeout=timeout, cwd=cwd,
                              stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise AssertionError(f"lakepipe {' '.join(map(str, args))} exited {proc.returncode}\n"
                                 f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    return run


@pytest.fixture
def clean_env():
    return _clean_env()


@pytest.fixture
def lake(backend, run_lakepipe, tmp_path) -> Lake:
    """A lakepipe home folder and a bucket on the parametrized backend."""
    return Lake(backend, run_lakepipe, tmp_path / "home")


@pytest.fixture
def make_lake(request, run_lakepipe, tmp_path):
    """make_lake("s3") -> a Lake on that backend (own home folder and bucket)."""
    count = iter(range(1000))

    def make(name: str = "file") -> Lake:
        folder = tmp_path / f"lake{next(count)}-{name}"
        return Lake(make_backend(name, request, folder), run_lakepipe, folder / "home")

    return make


@pytest.fixture
def local_lake(make_lake) -> Lake:
    return make_lake("file")
