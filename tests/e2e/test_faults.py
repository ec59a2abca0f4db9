"""Object-store faults between lakepipe and the S3 emulator: toxiproxy (resets, latency,
stalls, bandwidth limits, connections cut after some bytes, a store that disappears) and
an HTTP proxy answering 500 / 503. For `cp`, an ingest run and a flow run, each fault
gives either success or a one-line error naming the URI within the retry deadline; no
partial object is visible; the same command succeeds once the fault is gone."""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from backends import Backend
from flow_support import CountingProxy, Flow, expected_tables
from ingest_support import Lake, SampleTap, sample_rows
from services import Azurite, FakeGcs, Toxiproxy, free_port

# Tight retries so a failing case ends quickly: `cp` must end within the deadline plus
# one request's worth of time (the slack), whatever the fault.
DEADLINE = 10
SLACK = 12
# A call still running this long past the deadline stops the run (HungCallWatchdog): the
# bound of a stalled GCS or Azure endpoint, whose clients take no request timeout. Azure's
# is longer: through toxiproxy the Azure SDK at times waits ~30 s for the end of a
# lease-release response inside a copy, then goes on and succeeds (seen with latency).
HUNG_CALL = {"az": 40}
HUNG_CALL_DEFAULT = 5


def storage_yaml(scheme: str) -> str:
    return ("storage:\n"
            f"  retry: {{ max_attempts: 4, deadline_seconds: {DEADLINE}, connect_timeout_seconds: 2, "
            f"hung_call_seconds: {HUNG_CALL.get(scheme, HUNG_CALL_DEFAULT)} }}\n")


INGEST_ROWS = 20_000
CP_BYTES = 12 << 20


@pytest.fixture(scope="module")
def toxiproxy(tmp_path_factory):
    server = Toxiproxy(tmp_path_factory.mktemp("toxiproxy")).start()
    yield server
    server.stop()


@dataclass
class Fault:
    name: str
    expect: str          # "success", "failure" or "either"
    toxics: tuple = ()   # (type, stream, toxicity, attributes) for toxiproxy
    http: object = None  # a CountingProxy fault function (method, path) -> status | None
    disappear_after: float | None = None   # seconds into the run the proxy is disabled


def first_n(n: int, status: int):
    """Answers `status` to the first n requests, then forwards."""
    count = iter(range(1 << 30))
    return lambda method, path: status if next(count) < n else None


FAULTS = [
    Fault("latency", "success", (("latency", "downstream", 1.0, {"latency": 150, "jitter": 50}),
                                 ("latency", "upstream", 1.0, {"latency": 50}))),
    Fault("bandwidth", "success", (("bandwidth", "upstream", 1.0, {"rate": 4096}),
                                   ("bandwidth", "downstream", 1.0, {"rate": 4096}))),
    Fault("slicer", "success", (("slicer", "downstream", 1.0,
                                 {"average_size": 64, "size_variation": 32, "delay": 10}),)),
    Fault("some-resets", "either", (("reset_peer", "downstream", 0.2, {"timeout": 5}),)),
    Fault("every-reset", "failure", (("reset_peer", "downstream", 1.0, {"timeout": 0}),)),
    Fault("stall", "failure", (("timeout", "downstream", 1.0, {"timeout": 0}),)),
    Fault("cut-after-bytes", "failure", (("limit_data", "upstream", 1.0, {"bytes": 2000}),)),
    Fault("first-503s", "success", http=first_n(3, 503)),
    Fault("every-500", "failure", http=lambda method, path: 500),
    Fault("store-disappears", "failure",
          (("bandwidth", "upstream", 1.0, {"rate": 1024}),), disappear_after=0.5),
]


class FaultyStore:
    """A bucket on an emulator (moto for S3, fake-gcs-server, Azurite) that lakepipe
    reaches through toxiproxy (and, for HTTP faults, an error-answering proxy behind it);
    the checks read it directly. `proxy`, when given, is a proxy the emulator already
    names as its own address (fake-gcs-server's resumable uploads go where it says)."""

    def __init__(self, service, toxiproxy, folder: Path, fault: Fault, proxy=None):
        self.bucket = f"lp-{uuid.uuid4().hex[:12]}"
        service.create_bucket(self.bucket)
        self.http = None
        upstream = service.port
        if fault.http:
            self.http = CountingProxy(service.port, fault=fault.http).start()
            upstream = self.http.port
        self.shared_proxy = proxy is not None
        if proxy:
            proxy.set_upstream(upstream)
            self.proxy = proxy
        else:
            self.proxy = toxiproxy.proxy(f"{service.name}-{uuid.uuid4().hex[:8]}", upstream)
        self.fault = fault
        self.storage = folder / "storage.yaml"
        if isinstance(service, Azurite):
            scheme, env = "az", {"AZURE_STORAGE_CONNECTION_STRING": service.connection_string
                                 .replace(service.endpoint, self.proxy.endpoint)}
        elif isinstance(service, FakeGcs):
            scheme, env = "gs", {"STORAGE_EMULATOR_HOST": self.proxy.endpoint}
        else:
            scheme, env = "s3", {**service.env, "AWS_ENDPOINT_URL": self.proxy.endpoint}
        self.storage.write_text(storage_yaml(scheme))
        # A failing run ends within the deadline plus this. Ingest and flow runs too: once
        # a call has given up, the run's later calls (removing what it wrote, writing its
        # failure log) try once (RetryPolicy).
        self.slack = SLACK + HUNG_CALL.get(scheme, HUNG_CALL_DEFAULT) - HUNG_CALL_DEFAULT
        env["LAKEPIPE_STORAGE"] = str(self.storage)
        self.backend = Backend(scheme, f"{scheme}://{self.bucket}", env, service.filesystem(),
                               self.bucket)

    def inject(self) -> None:
        for kind, stream, toxicity, attributes in self.fault.toxics:
            self.proxy.add(kind, stream, toxicity, **attributes)

    def heal(self) -> None:
        self.proxy.clear()
        if self.http:
            self.http.fault = None

    def close(self) -> None:
        if self.shared_proxy:   # the next test starts from a healthy proxy
            self.proxy.clear()
        if self.http:
            self.http.stop()

    def objects(self) -> dict[str, int]:
        selector = pafs.FileSelector(self.bucket, recursive=True, allow_not_found=True)
        return {i.path[len(self.bucket) + 1:]: i.size
                for i in self.backend.fs.get_file_info(selector) if i.type == pafs.FileType.File}


def run_with_fault(store: FaultyStore, start_run):
    """Injects the fault, runs (disabling the proxy mid-run for a disappearing store);
    returns (CompletedProcess, seconds)."""
    store.inject()
    timer = None
    if store.fault.disappear_after is not None:
        timer = threading.Timer(store.fault.disappear_after, store.proxy.disable)
        timer.start()
    started = time.monotonic()
    try:
        proc = start_run()
    finally:
        if timer:
            timer.cancel()
    return proc, time.monotonic() - started


def assert_outcome(fault: Fault, proc, seconds: float, where: str, slack: float) -> None:
    """Success where the fault must be survived; else one error line naming `where` (the
    URI, or for DuckDB's own reads the bucket in its HTTP URL) within the deadline."""
    if fault.expect == "success" or (fault.expect == "either" and proc.returncode == 0):
        assert proc.returncode == 0, f"{fault.name}: {proc.stderr}"
        return
    assert proc.returncode == 1, f"{fault.name}: exited {proc.returncode}: {proc.stderr}"
    lines = [line for line in proc.stderr.splitlines() if line.startswith("lakepipe: error: ")]
    assert len(lines) == 1, proc.stderr
    assert where in lines[0], lines[0]
    assert seconds < DEADLINE + slack, f"{fault.name}: failed after {seconds:.1f} s"


def assert_parquet_objects_read(store: FaultyStore, prefix: str = "") -> None:
    """No partial object: every visible Parquet object reads in full."""
    for path in store.objects():
        if path.startswith(prefix) and path.endswith(".parquet") and "/." not in f"/{path}":
            with store.backend.fs.open_input_file(f"{store.bucket}/{path}") as f:
                pq.read_table(f)


@pytest.fixture(params=FAULTS, ids=[f.name for f in FAULTS])
def faulty_store(request, moto, toxiproxy, tmp_path):
    store = FaultyStore(moto, toxiproxy, tmp_path, request.param)
    yield store
    store.close()


@pytest.fixture(params=FAULTS, ids=[f.name for f in FAULTS])
def faulty_azure(request, azurite, toxiproxy, tmp_path):
    store = FaultyStore(azurite, toxiproxy, tmp_path, request.param)
    yield store
    store.close()


@pytest.fixture(scope="module")
def proxied_gcs(toxiproxy, tmp_path_factory):
    """A fake-gcs-server that hands out a toxiproxy proxy as its address."""
    port = free_port()
    service = FakeGcs(tmp_path_factory.mktemp("fake-gcs-proxied"))
    service.external_url = f"http://127.0.0.1:{port}"
    service.start()
    proxy = toxiproxy.proxy("fake-gcs", service.port, port=port)
    yield service, proxy
    service.stop()


@pytest.fixture(params=FAULTS, ids=[f.name for f in FAULTS])
def faulty_gcs(request, proxied_gcs, toxiproxy, tmp_path):
    service, proxy = proxied_gcs
    store = FaultyStore(service, toxiproxy, tmp_path, request.param, proxy=proxy)
    yield store
    store.close()


def test_cp_under_fault(faulty_store, run_lakepipe, tmp_path):
    check_cp_under_fault(faulty_store, run_lakepipe, tmp_path)


def test_cp_to_azure_under_fault(faulty_azure, run_lakepipe, tmp_path):
    check_cp_under_fault(faulty_azure, run_lakepipe, tmp_path)


def test_cp_to_gcs_under_fault(faulty_gcs, run_lakepipe, tmp_path):
    check_cp_under_fault(faulty_gcs, run_lakepipe, tmp_path)


def check_cp_under_fault(store: FaultyStore, run_lakepipe, tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(CP_BYTES))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    uri = store.backend.uri("landing/big.bin")

    proc, seconds = run_with_fault(store, lambda: run_lakepipe(
        "cp", source, uri, env=store.backend.env, check=False, timeout=120))
    assert_outcome(store.fault, proc, seconds, uri, store.slack)
    objects = store.objects()
    # The object is there complete, or not there at all.
    assert objects.get("landing/big.bin") in (None, CP_BYTES), objects
    if "landing/big.bin" in objects:
        assert hashlib.sha256(store.backend.read_bytes("landing/big.bin")).hexdigest() == digest

    store.heal()
    run_lakepipe("cp", source, uri, env=store.backend.env, timeout=120)
    assert hashlib.sha256(store.backend.read_bytes("landing/big.bin")).hexdigest() == digest


def test_ingest_under_fault(faulty_store, run_lakepipe, tmp_path):
    check_ingest_under_fault(faulty_store, run_lakepipe, tmp_path)


# Ingest to GCS and Azure: the faults that end a run, and one survived (their write path
# is cp's, faulted in full above). Azure gets the HTTP faults only: through toxiproxy its
# SDK at times waits ~30 s per call (see HUNG_CALL), and a whole ingest of such calls after
# a disappearing store outran the 120 s command timeout.
OTHER_STORE_FAULTS = {
    "gcs": ("first-503s", "every-500", "stall", "store-disappears"),
    "azure": ("first-503s", "every-500"),
}
OTHER_STORE_CASES = [(provider, fault) for provider, names in OTHER_STORE_FAULTS.items()
                     for fault in FAULTS if fault.name in names]


@pytest.fixture(params=OTHER_STORE_CASES, ids=[f"{p}-{f.name}" for p, f in OTHER_STORE_CASES])
def faulty_gcs_or_azure(request, toxiproxy, tmp_path):
    provider, fault = request.param
    if provider == "gcs":
        service, proxy = request.getfixturevalue("proxied_gcs")
        store = FaultyStore(service, toxiproxy, tmp_path, fault, proxy=proxy)
    else:
        store = FaultyStore(request.getfixturevalue("azurite"), toxiproxy, tmp_path, fault)
    yield store
    store.close()


def test_ingest_to_gcs_or_azure_under_fault(faulty_gcs_or_azure, run_lakepipe, tmp_path):
    check_ingest_under_fault(faulty_gcs_or_azure, run_lakepipe, tmp_path)


def check_ingest_under_fault(store: FaultyStore, run_lakepipe, tmp_path):
    lake = Lake(store.backend, run_lakepipe, tmp_path / "home")
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, INGEST_ROWS))
    lake.pipeline("things", tap.source(), incremental={"enabled": True})

    proc, seconds = run_with_fault(store, lambda: lake.run("things", check=False, timeout=120))
    assert_outcome(store.fault, proc, seconds, store.backend.root, store.slack)
    assert_parquet_objects_read(store)
    if proc.returncode != 0:
        # Nothing committed: no entry, no state, or the whole run.
        manifest = (json.loads(store.backend.read_bytes(".dataspoc/manifest.json"))
                    if store.backend.exists(".dataspoc/manifest.json") else {"tables": {}})
        assert manifest["tables"] == {} or \
            manifest["tables"]["sample/things"]["stats"]["total_rows"] == INGEST_ROWS
        assert not store.backend.exists(".dataspoc/state/things/state.json") or manifest["tables"]

    store.heal()
    lake.run("things", timeout=120)
    entry = lake.entry("sample/things")
    table = lake.read_table("sample/things", entry)
    assert sorted(table.column("id").to_pylist()) == list(range(1, INGEST_ROWS + 1))
    assert lake.state("things") == {"bookmarks": {"things": {"id": INGEST_ROWS}}}
    assert_parquet_objects_read(store)


def test_flow_under_fault(faulty_store, run_lakepipe, tmp_path):
    store = faulty_store
    flow = Flow(tmp_path / "flow", store.backend, run_lakepipe)
    flow.put_data()   # straight into the emulator, not through the faults
    flow.write(flow.standard_stages(report=False))

    proc, seconds = run_with_fault(store, lambda: flow.lakepipe(
        "flow", "run", flow.file, check=False, timeout=120))
    assert_outcome(store.fault, proc, seconds, store.bucket, store.slack)
    assert_parquet_objects_read(store, "shop/")
    if proc.returncode == 0:
        assert flow.catalog_tables() == expected_tables(report=False)

    store.heal()
    flow.run()
    assert flow.catalog_tables() == expected_tables(report=False)
    assert_parquet_objects_read(store, "shop/")


STALLS = [
    Fault("answers-never-arrive", "failure",
          (("latency", "downstream", 1.0, {"latency": 100_000}),)),
    Fault("stall", "failure", (("timeout", "downstream", 1.0, {"timeout": 0}),)),
]


@pytest.mark.parametrize("fault", STALLS, ids=[f.name for f in STALLS])
def test_query_on_a_stalled_endpoint_fails_within_the_deadline(fault, moto, toxiproxy,
                                                               run_lakepipe, tmp_path):
    """DuckDB's own HTTP client gets the storage block's retry budget: before, its
    defaults (30 s per attempt, 4 attempts per request) took 241 s to fail."""
    store = FaultyStore(moto, toxiproxy, tmp_path, fault)
    try:
        with store.backend.fs.open_output_stream(f"{store.bucket}/t/data.parquet") as f:
            pq.write_table(__import__("pyarrow").table({"id": list(range(1000))}), f)
        query = f"SELECT count(*) AS n FROM read_parquet('s3://{store.bucket}/t/*.parquet')"
        assert run_lakepipe("query", query, env=store.backend.env).stdout == "n\n1000\n"
        proc, seconds = run_with_fault(store, lambda: run_lakepipe(
            "query", query, env=store.backend.env, check=False, timeout=DEADLINE + SLACK + 30))
        assert_outcome(fault, proc, seconds, store.bucket, store.slack)
        store.heal()
        assert run_lakepipe("query", query, env=store.backend.env).stdout == "n\n1000\n"
    finally:
        store.close()
