"""Fixtures of the end-to-end suite: the lakepipe binary and real services on loopback."""
from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from backends import BACKENDS, Backend, make_backend
from flow_support import Flow, flow_on
from ingest_support import Lake
from services import ROOT, Azurite, FakeGcs, MotoS3, Postgres

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


# --- flows (flow_support.Flow) ---------------------------------------------------------


@pytest.fixture(params=["file", "s3"])
def store_backend(request, tmp_path):
    """The table store's backend: a local folder or a bucket on the S3 emulator."""
    return make_backend(request.param, request, tmp_path / "store")


@pytest.fixture
def metadata_url(postgres) -> str:
    """A database of its own on the shared PostgreSQL server (the flows of every test are
    named alike), for a flow's `metadata:`."""
    name = f"flows_{uuid.uuid4().hex[:12]}"
    postgres.psql(f"CREATE DATABASE {name}")
    return postgres.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["embedded", "team"])
def metadata(request) -> str:
    """A flow's `metadata:` in each mode: "embedded", or a new PostgreSQL database."""
    if request.param == "embedded":
        return "embedded"
    return request.getfixturevalue("metadata_url")


@pytest.fixture
def flow(store_backend, run_lakepipe, tmp_path) -> Flow:
    return flow_on(store_backend, run_lakepipe, tmp_path / "flow")


@pytest.fixture
def local_flow(run_lakepipe, tmp_path, request) -> Flow:
    return flow_on(make_backend("file", request, tmp_path / "store"), run_lakepipe,
                   tmp_path / "flow")


# --- the wheel (wheel_support.WheelVenv) --------------------------------------------------


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory):
    """One venv per test session with the wheel installed, outside the source tree."""
    from wheel_support import WheelVenv
    return WheelVenv(tmp_path_factory.mktemp("wheel") / "venv")
