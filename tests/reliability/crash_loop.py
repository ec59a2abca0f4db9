#!/usr/bin/env python3
"""Crash loop: runs lakepipe's ingest and flow commands over and over, kills each run with
SIGKILL (after a random delay, or at a named point of the commit through the test-only
LAKEPIPE_CRASH_AT hook), checks what a reader sees, re-runs to completion and checks the
result is the source exactly once.

    python tests/reliability/crash_loop.py --iterations 200 --seed 7 [--store s3]

Scenarios (one per iteration, in a seeded random order; all share one bucket, so a crash
in one pipeline's commit must not disturb another's manifest entry):
  singer-incremental  a Singer tap, incremental; the source grows each iteration
  singer-two-destinations  a Singer tap, incremental, into the loop's bucket and a second
                      local one: both must end equal
  singer-full         a Singer tap, full refresh; the source is rewritten each iteration
  csv-full            the built-in CSV reader over a glob whose files are rewritten
  postgres-incremental  the built-in PostgreSQL reader, incremental on `id` (skipped
                        with --no-postgres; needs the server scripts/install-deps sets up)
  flow                the three-stage flow of the flow tests (CSV -> SQL -> exec)
  flow-neighbour-gc   a second flow (fy) with the same stage names on the same base and
                      instance, while `flow gc` of fy and of the first flow run beside it

After every kill (before recovery) and after every recovery, it checks: a reader that
globs a table's folder (as DataSpoc Lens does) sees the committed or the new generation,
never an uncommitted row; every manifest entry's files exist and read with the rows the
entry says; no file is listed twice; the
table is exactly one generation of the source (the last committed or the new one), with
no duplicate row; state is never ahead of the data; no journal or temp file is left once
a run completes; the flow's catalog opens and every view in it reads, each stage's tables
come from one generation, and no killed run is left "running" in lakepipe.runs; after a
recovery and a gc, every file in a flow's folder is accounted for (a table of either slot,
or kept by a replaced-files marker) and no flow ever wrote outside its own folder. A failed
check stops the loop with the seed and iteration to replay.
Prints a JSON summary (also written to --summary) for RELIABILITY.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))

import pyarrow.fs as pafs  # noqa: E402

from backends import Backend  # noqa: E402
from flow_support import CUSTOMERS, Flow, expected_tables, make_orders  # noqa: E402
from ingest_support import Lake, SampleTap  # noqa: E402
from services import ROOT, MotoS3, Postgres  # noqa: E402

INGEST_POINTS = ["after-data-before-commit", "after-journal-commit",
                 "after-publish-before-manifest", "after-manifest-before-state",
                 "after-commit-before-cleanup"]
FLOW_POINTS = ["stage-after-data-before-commit", "stage-after-metadata-before-catalog",
               "catalog-built-before-publish"]


class CheckFailed(AssertionError):
    pass


def check(condition, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "AZURE_", "STORAGE_EMULATOR", "GOOGLE_", "LAKEPIPE_"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


class Runner:
    """Runs the real binary to completion (the `run_lakepipe` shape the helpers expect)."""

    def __init__(self, binary: Path):
        self.binary = binary

    def __call__(self, *args, env: dict | None = None, timeout: float = 300, check: bool = True,
                 cwd: Path | None = None):
        proc = subprocess.run([str(self.binary), *map(str, args)], capture_output=True,
                              text=True, env={**clean_env(), **(env or {})}, timeout=timeout,
                              cwd=cwd, stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise CheckFailed(f"lakepipe {' '.join(map(str, args))} exited {proc.returncode}\n"
                              f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc


@dataclass
class Attempt:
    outcome: str          # "killed-at-point", "killed-after-delay", "finished"
    point: str | None = None
    delay: float | None = None


def attempt_with_kill(scenario, binary: Path, rng: random.Random,
                      typical_seconds: float) -> Attempt:
    """One run that is killed: half the time at a named point (the process kills itself),
    else after a random delay up to a little past a typical run's length (SIGKILL to
    lakepipe's process group; the taps and exec programs it starts have groups of their
    own and end when their pipes close). A run that finishes before the delay must have
    succeeded, and so must one that passes no crash point (`scenario.passes_no_point`)."""
    run_env = {**clean_env(), **scenario.env()}
    point = rng.choice(scenario.crash_points) if rng.random() < 0.5 else None
    if point:
        run_env["LAKEPIPE_CRASH_AT"] = point
    proc = subprocess.Popen(scenario.argv(binary), env=run_env, cwd=scenario.cwd,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    # Commands some scenarios run beside the killed one (never killed themselves).
    beside = scenario.start_beside(binary, rng, typical_seconds) if hasattr(
        scenario, "start_beside") else None
    delay = None
    try:
        if point:
            out, err = proc.communicate(timeout=300)
            if proc.returncode == 0 and scenario.passes_no_point(out):
                return Attempt("finished", point=point)
            check(proc.returncode == -signal.SIGKILL,
                  f"with LAKEPIPE_CRASH_AT={point} the run exited {proc.returncode} instead of "
                  f"dying at the point\nstdout: {out}\nstderr: {err}")
            return Attempt("killed-at-point", point=point)
        delay = rng.uniform(0, 1.3 * typical_seconds)
        try:
            out, err = proc.communicate(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return Attempt("killed-after-delay", delay=delay)
        check(proc.returncode == 0, f"run exited {proc.returncode} before the kill\n"
                                    f"stdout: {out}\nstderr: {err}")
        return Attempt("finished", delay=delay)
    finally:
        # Whatever is left in the group (a self-kill kills lakepipe alone).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if beside is not None:
            beside.finish()


# --- ingest scenarios --------------------------------------------------------------------

def check_manifest(lake: Lake) -> dict:
    """Every entry's files exist and read with the rows it lists; no file is listed twice
    (within or across entries); total_rows is the sum. Returns the tables."""
    if not lake.exists(".dataspoc/manifest.json"):
        return {}
    tables = lake.manifest()["tables"]
    seen = set()
    for key, entry in tables.items():
        for f in entry["files"]:
            check(f["path"] not in seen, f"{key}: {f['path']} is listed twice")
            seen.add(f["path"])
            check(lake.exists(f["path"]), f"{key}: manifest lists {f['path']}, which is missing")
            rows = lake.read_parquet(f["path"]).num_rows
            check(rows == f["rows"], f"{key}: {f['path']} has {rows} rows, manifest says {f['rows']}")
        check(entry["stats"]["total_rows"] == sum(f["rows"] for f in entry["files"]),
              f"{key}: total_rows {entry['stats']['total_rows']} is not the sum of its files")
    return tables


class IngestScenario:
    """A pipeline of the shared lake whose source changes each iteration. Subclasses say
    how the source changes (`advance`) and what state must not be ahead of
    (`check_state`); the table must hold the committed or the new generation."""

    name = ""
    pipeline = ""
    cwd = None   # runs start anywhere
    crash_points = INGEST_POINTS

    def passes_no_point(self, stdout: str) -> bool:
        """A successful ingest run passes every commit point, new rows or none."""
        del stdout
        return False

    def __init__(self, lake: Lake, folder: Path):
        self.lake = lake
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.committed: list[tuple] = []   # rows of the last generation known committed
        self.pending: list[tuple] = []     # rows of the source now

    def argv(self, binary: Path) -> list[str]:
        return self.lake.argv(binary, "run", self.pipeline)

    def env(self) -> dict:
        return dict(self.lake.backend.env)

    def entry(self, tables: dict) -> dict | None:
        found = [e for e in tables.values() if e.get("pipeline") == self.pipeline]
        check(len(found) <= 1, f"{self.pipeline}: {len(found)} manifest entries")
        return found[0] if found else None

    def table_rows(self, entry: dict | None) -> list[tuple]:
        if entry is None:
            return []
        table = self.lake.read_table("", entry)
        rows = [tuple(r[c] for c in ("id", "name", "amount")) for r in table.to_pylist()]
        return sorted(rows)

    def globbed_rows(self, entry: dict | None) -> list[tuple]:
        """What a reader that globs the table's folder sees (DataSpoc Lens reads every
        visible `*.parquet` under the location), whatever the manifest says."""
        if entry is None:
            return []
        table = self.lake.read_location(entry["location"])
        if table is None:
            return []
        return sorted(tuple(r[c] for c in ("id", "name", "amount")) for r in table.to_pylist())

    # A second destination's journals are "prepared": the first destination's say.
    primary = None

    def dead_run_committed(self) -> bool:
        if self.primary is not None:
            return self.primary.dead_run_committed()
        for path in self.lake.journal(self.pipeline):
            if path.endswith(".json") and self.lake.read_json(path).get("status") == "committed":
                return True
        return False

    def check_globbed_after_kill(self, entry: dict | None, manifest_has_new: bool) -> None:
        """Before its commit point a killed run is invisible to a glob. Once committed, its
        files move in one by one (and a full refresh deletes the old ones last), so a glob
        sees the committed rows and some of the new ones, each row once."""
        rows = self.globbed_rows(entry)
        if not (manifest_has_new or self.dead_run_committed()):
            check(rows == self.committed,
                  f"{self.pipeline}: a glob of the table's folder sees {len(rows)} rows of an "
                  f"uncommitted run (committed: {len(self.committed)})")
            return
        known = set(self.committed) | set(self.pending)
        check(len(rows) == len(set(rows)) and set(rows) <= known,
              f"{self.pipeline}: a glob of the table's folder sees rows twice or rows of no "
              f"generation ({len(rows)} rows)")

    def check_consistent(self, tables: dict) -> str:
        """After a kill: the table is the committed generation or the new one, each row
        once, and state is not ahead; a reader that globs the folder never sees an
        uncommitted row. Returns which generation the manifest has."""
        entry = self.entry(tables)
        self.check_globbed_after_kill(entry, self.table_rows(entry) == self.pending)
        rows = self.table_rows(self.entry(tables))
        check(len(rows) == len({r[0] for r in rows}), f"{self.pipeline}: duplicate ids")
        if rows == self.pending:
            which = "new"
        else:
            check(rows == self.committed,
                  f"{self.pipeline}: the table holds {len(rows)} rows, neither the committed "
                  f"generation ({len(self.committed)} rows) nor the new one "
                  f"({len(self.pending)} rows)")
            which = "old"
        self.check_state(rows)
        return which

    def check_recovered(self, tables: dict) -> None:
        entry = self.entry(tables)
        check(entry is not None, f"{self.pipeline}: no manifest entry after a full run")
        rows = self.table_rows(entry)
        check(rows == self.pending, f"{self.pipeline}: after recovery the table holds "
                                    f"{len(rows)} rows, the source {len(self.pending)}")
        check(self.globbed_rows(entry) == self.pending,
              f"{self.pipeline}: after recovery a glob of the folder is not the source")
        check(not self.lake.files(f".dataspoc/staging/{self.pipeline}"),
              f"{self.pipeline}: staged files left after a complete run")
        self.check_state(rows)
        check(self.lake.journal(self.pipeline) == [],
              f"{self.pipeline}: a journal is left: {self.lake.journal(self.pipeline)}")
        on_disk = [p for p in self.lake.files(entry["location"])
                   if not p.rsplit("/", 1)[-1].startswith(".")]
        check(sorted(on_disk) == sorted(f["path"] for f in entry["files"]),
              f"{self.pipeline}: files not in the manifest under {entry['location']}: "
              f"{sorted(set(on_disk) - {f['path'] for f in entry['files']})}")
        logs = self.lake.logs(self.pipeline)
        check(logs and logs[-1]["status"] == "success", f"{self.pipeline}: last log not success")
        self.committed = list(self.pending)

    def check_state(self, rows: list[tuple]) -> None:
        pass

    def advance(self, rng: random.Random) -> None:
        raise NotImplementedError


class SingerIncremental(IngestScenario):
    name = pipeline = "singer-incremental"

    def __init__(self, lake, folder):
        super().__init__(lake, folder)
        self.tap = SampleTap(folder, streams=("inc_things",))
        lake.pipeline(self.pipeline, self.tap.source(), incremental={"enabled": True})

    def advance(self, rng):
        first = len(self.pending) + 1
        new = [(i, f"name-{i}", i * 1.25) for i in range(first, first + rng.randint(1, 3000))]
        self.tap.add_rows([{"id": i, "name": n, "amount": a} for i, n, a in new], "inc_things")
        self.pending = self.pending + new

    def check_state(self, rows):
        path = f".dataspoc/state/{self.pipeline}/state.json"
        if not self.lake.exists(path):
            return
        bookmark = self.lake.read_json(path)["bookmarks"]["inc_things"]["id"]
        check(rows and bookmark <= rows[-1][0],
              f"{self.pipeline}: state bookmark {bookmark} is ahead of the data "
              f"(max id {rows[-1][0] if rows else None})")


class SingerTwoDestinations(IngestScenario):
    """A Singer tap landing one incremental table in two buckets (the loop's and a local
    second one): after every kill each bucket holds the committed or the new generation,
    and after every recovery both hold the source, with the same state."""

    name = pipeline = "singer-two-destinations"
    crash_points = INGEST_POINTS + ["after-prepare-before-commit"]

    def __init__(self, lake, folder, second: Lake):
        super().__init__(lake, folder)
        self.tap = SampleTap(folder, streams=("dual_things",), script="tap-dual.py")
        lake.pipeline(self.pipeline, self.tap.source(), incremental={"enabled": True},
                      destinations=[{"bucket": lake.bucket}, {"bucket": second.bucket}])
        self.twin = IngestScenario(second, folder / "second")
        self.twin.pipeline = self.pipeline
        self.twin.primary = self

    def advance(self, rng):
        first = len(self.pending) + 1
        new = [(i, f"dual-{i}", i * 2.5) for i in range(first, first + rng.randint(1, 2000))]
        self.tap.add_rows([{"id": i, "name": n, "amount": a} for i, n, a in new], "dual_things")
        self.pending = self.pending + new
        self.twin.pending = self.pending

    def check_consistent(self, tables):
        self.twin.check_consistent(check_manifest(self.twin.lake))
        return super().check_consistent(tables)

    def check_recovered(self, tables):
        super().check_recovered(tables)
        self.twin.check_recovered(check_manifest(self.twin.lake))
        state = f".dataspoc/state/{self.pipeline}/state.json"
        check(self.lake.read_json(state) == self.twin.lake.read_json(state),
              f"{self.pipeline}: the destinations' states differ")


class SingerFull(IngestScenario):
    name = pipeline = "singer-full"

    def __init__(self, lake, folder):
        super().__init__(lake, folder)
        self.tap = SampleTap(folder, streams=("full_things",), script="tap-full.py")
        self.generation = 0
        lake.pipeline(self.pipeline, self.tap.source())

    def advance(self, rng):
        self.generation += 1
        g = self.generation
        self.pending = [(i, f"g{g}-{i}", i * 0.5 + g) for i in range(1, rng.randint(1, 4000) + 1)]
        self.tap.set_rows([{"id": i, "name": n, "amount": a} for i, n, a in self.pending],
                          "full_things")


class CsvFull(IngestScenario):
    name = pipeline = "csv-full"

    def __init__(self, lake, folder):
        super().__init__(lake, folder)
        self.input = folder / "input"
        self.input.mkdir(exist_ok=True)
        self.generation = 0
        lake.pipeline(self.pipeline, {"reader": "csv", "uri": f"{self.input}/part_*.csv",
                                      "stream": "parts"})

    def advance(self, rng):
        self.generation += 1
        g = self.generation
        for old in self.input.glob("part_*.csv"):
            old.unlink()
        self.pending, next_id = [], 1
        for n in range(rng.randint(1, 5)):
            rows = [(i, f"g{g}-{i}", i * 0.25 + g) for i in range(next_id, next_id + rng.randint(1, 2000))]
            next_id += len(rows)
            text = "id,name,amount\n" + "".join(f"{i},{name},{a}\n" for i, name, a in rows)
            tmp = self.input / f".part_{n}.tmp"
            tmp.write_text(text)
            tmp.rename(self.input / f"part_{n}.csv")
            self.pending += rows


class PostgresIncremental(IngestScenario):
    name = pipeline = "postgres-incremental"

    def __init__(self, lake, folder, postgres: Postgres):
        super().__init__(lake, folder)
        self.pg = postgres
        self.pg.psql("CREATE TABLE items (id bigint PRIMARY KEY, name text, amount double precision)")
        lake.pipeline(self.pipeline, {"reader": "postgres", "uri": postgres.url, "stream": "items",
                                      "options": {"table": "public.items"}},
                      incremental={"enabled": True, "replication_key": "id"})

    def advance(self, rng):
        first = len(self.pending) + 1
        last = first + rng.randint(1, 5000) - 1
        self.pg.psql(f"INSERT INTO items SELECT i, 'item-' || i, i * 0.75 "
                     f"FROM generate_series({first}, {last}) AS i")
        self.pending = self.pending + [(i, f"item-{i}", i * 0.75) for i in range(first, last + 1)]

    def check_state(self, rows):
        path = f".dataspoc/state/{self.pipeline}/state.json"
        if not self.lake.exists(path):
            return
        bookmark = self.lake.read_json(path)["bookmarks"]["items"]["replication_key_value"]
        check(rows and int(bookmark) <= rows[-1][0],
              f"{self.pipeline}: state bookmark {bookmark} is ahead of the data")


# --- the flow scenario -------------------------------------------------------------------

class FlowScenario:
    """The standard three-stage flow; orders.csv changes each iteration."""

    name = "flow"
    crash_points = FLOW_POINTS

    def __init__(self, backend: Backend, runner: Runner, folder: Path):
        self.cwd = folder   # `flow run` starts in the flow's folder
        self.flow = Flow(folder, backend, runner)
        self.flow.put_data(CUSTOMERS, make_orders(1, 40))
        self.flow.write()
        self.committed: dict = {}
        self.pending: dict = {}
        self.generation = 0

    def argv(self, binary: Path) -> list[str]:
        return self.flow.argv(binary, "flow", "run", self.flow.file)

    def passes_no_point(self, stdout: str) -> bool:
        """A run after one killed once it had committed every stage finds every task cached
        (and the catalog published, or it would have published it): it writes nothing, so
        it passes no crash point."""
        summary = json.loads(stdout)
        return all(task["cache_hit"] for stage in summary["stages"] for task in stage["tasks"])

    def env(self) -> dict:
        return self.flow.env

    def advance(self, rng):
        # Amounts shifted by the generation: no generation repeats an earlier one, so the
        # run always computes (a cache hit would commit without writing, past no crash point).
        self.generation += 1
        orders = [(i, c, a + self.generation) for i, c, a in make_orders(1, rng.randint(1, 400))]
        self.flow.put_orders(orders)
        self.pending = expected_tables(CUSTOMERS, orders)

    def check_catalog(self) -> dict:
        """The catalog opens read-only and every view in it reads; every committed file
        exists with the rows the metadata says. Returns (stage, table) -> rows."""
        if not self.flow.catalog.exists():
            return {}
        con = self.flow.duck()
        try:
            views = con.execute("SELECT schema_name, view_name FROM duckdb_views() "
                                "WHERE NOT internal").fetchall()
            for schema, view in views:
                con.execute(f'SELECT count(*) FROM "{schema}"."{view}"').fetchall()
        finally:
            con.close()
        for (stage, table), entry in self.flow.committed().items():
            for f in entry["files_json"]:
                rows = self.flow.read_file(f["path"]).num_rows
                check(rows == f["rows"], f"flow {stage}.{table}: {f['path']} has {rows} rows, "
                                         f"metadata says {f['rows']}")
        return self.flow.catalog_tables()

    def check_consistent(self, tables: dict) -> str:
        """After a kill: each stage's tables are all of the committed generation or all of
        the new one (a table both generations agree on, like customers, fits either)."""
        del tables
        seen = self.check_catalog()
        check(set(seen) == set(self.committed), f"flow: the catalog lists {sorted(seen)}")
        generations = set()
        for stage in {k[0] for k in seen}:
            keys = [k for k in seen if k[0] == stage]
            if all(seen[k] == self.pending.get(k) for k in keys):
                generations.add("new")
            else:
                check(all(seen[k] == self.committed[k] for k in keys),
                      f"flow stage {stage}: its tables are neither all of the committed "
                      f"generation nor all of the new one: "
                      f"{ {k[1]: len(seen[k]) for k in keys} } rows")
                generations.add("old")
        return "new" if generations == {"new"} else "old"

    def check_recovered(self, tables: dict) -> None:
        del tables
        seen = self.check_catalog()
        check(seen == self.pending, f"flow: after recovery the catalog shows "
                                    f"{ {k: len(v) for k, v in seen.items()} }, expected "
                                    f"{ {k: len(v) for k, v in self.pending.items()} }")
        # A killed run is recorded as abandoned by the next one, never left running.
        runs = dict(self.flow.query("SELECT status, count(*) FROM lakepipe.runs GROUP BY status"))
        check(set(runs) <= {"succeeded", "abandoned"}, f"flow: runs by status {runs}")
        # The catalog copies killed runs were building are swept by the next publish.
        leftovers = sorted(p.name for p in self.flow.folder.glob(f"{self.flow.catalog.name}.tmp-*"))
        check(not leftovers, f"flow: catalog temp files left beside the catalog: {leftovers}")
        self.check_accounted_for()
        self.committed = self.pending

    def check_accounted_for(self) -> None:
        """After a gc, every file in the flow's folder is a table file of one of its slots
        (lakepipe.tables keeps both) or kept by a replaced-files marker; and no flow's
        files are outside the folders of the flows."""
        self.flow.lakepipe("flow", "gc", self.flow.file)
        files = self.flow.files()
        known = set()
        for (files_json,) in self.flow.query("SELECT files_json FROM lakepipe.tables"):
            known.update(f["path"] for f in json.loads(files_json))
        for path in files:
            if "/_replaced-" in path:
                known.add(path)
                marker = json.loads(self.flow.backend.read_bytes(self.flow.store_path(path)))
                known.update(marker["files"])
        mine = {p for p in files if p.startswith(self.flow.dir + "/")}
        check(mine <= known, f"{self.name}: files in the flow's folder that nothing accounts "
                             f"for after gc: {sorted(mine - known)[:5]}")
        strays = [p for p in files if not p.startswith(("dev/shop/", "dev/fy/"))]
        check(not strays, f"{self.name}: files outside every flow's folder: {strays[:5]}")


class Beside:
    """Commands started one after another, after a random delay, on a thread of their own;
    finish() waits for them and checks each succeeded."""

    def __init__(self, commands: list[list[str]], env: dict, cwd: Path, delay: float):
        import threading
        self.results: list = []
        self.thread = threading.Thread(target=self._run, args=(commands, env, cwd, delay))
        self.thread.start()

    def _run(self, commands, env, cwd, delay):
        time.sleep(delay)
        for argv in commands:
            self.results.append(subprocess.run(argv, env=env, cwd=cwd, capture_output=True,
                                               text=True, stdin=subprocess.DEVNULL, timeout=600))

    def finish(self) -> None:
        self.thread.join()
        for proc in self.results:
            check(proc.returncode == 0, f"{proc.args} beside the killed run exited "
                                        f"{proc.returncode}\nstderr: {proc.stderr}")


class NeighbourFlowWithGc(FlowScenario):
    """A second flow, fy, with the same stages on the same base and instance (pipedag's
    layout: several flows under one base). While its run is killed, `flow gc` of fy (which
    must wait for the run's locks) and of the first flow (which must not look at fy's
    files) run beside it."""

    name = "flow-neighbour-gc"

    def __init__(self, backend: Backend, runner: Runner, folder: Path, first: FlowScenario):
        self.cwd = folder
        self.flow = Flow(folder, backend, runner, name="fy")
        self.flow.put_data(CUSTOMERS, make_orders(1, 40))
        self.flow.write()
        self.first = first
        self.committed = {}
        self.pending = {}
        self.generation = 0

    def start_beside(self, binary: Path, rng, typical_seconds: float) -> Beside:
        gcs = [self.flow.argv(binary, "flow", "gc", self.flow.file),
               self.first.flow.argv(binary, "flow", "gc", self.first.flow.file)]
        rng.shuffle(gcs)
        return Beside(gcs, {**clean_env(), **self.flow.env}, self.cwd,
                      rng.uniform(0, typical_seconds))


# --- the loop ----------------------------------------------------------------------------

def make_backend(store: str, workdir: Path, services: list) -> Backend:
    if store == "file":
        folder = workdir / "bucket"
        folder.mkdir(parents=True)
        return Backend("file", str(folder), {}, pafs.LocalFileSystem(), str(folder))
    moto = MotoS3(workdir / "moto").start()
    services.append(moto)
    bucket = f"lp-{uuid.uuid4().hex[:12]}"
    moto.create_bucket(bucket)
    return Backend("s3", f"s3://{bucket}", moto.env, moto.filesystem(), bucket)


def run_loop(binary: Path, workdir: Path, iterations: int, seed: int, store: str = "file",
             use_postgres: bool = True, log=print, only: list[str] | None = None) -> dict:
    rng = random.Random(seed)
    binary = Path(binary).resolve()   # flow runs start in the flow's folder
    services: list = []
    try:
        backend = make_backend(store, workdir, services)
        runner = Runner(binary)
        lake = Lake(backend, runner, workdir / "home")
        second_folder = workdir / "second-bucket"
        second_folder.mkdir(parents=True)
        second = Lake(Backend("file", str(second_folder), {}, pafs.LocalFileSystem(),
                              str(second_folder)), runner, workdir / "home")
        scenarios = [SingerIncremental(lake, workdir / "singer-incremental"),
                     SingerTwoDestinations(lake, workdir / "singer-two-destinations", second),
                     SingerFull(lake, workdir / "singer-full"),
                     CsvFull(lake, workdir / "csv-full")]
        if use_postgres:
            pg = Postgres(Path(tempfile.mkdtemp(prefix="lakepipe-crash-pg-"))).start()
            services.append(pg)
            scenarios.append(PostgresIncremental(lake, workdir / "postgres-incremental", pg))
        first_flow = FlowScenario(backend, runner, workdir / "flow")
        scenarios.append(first_flow)
        scenarios.append(NeighbourFlowWithGc(backend, runner, workdir / "flow-neighbour",
                                             first_flow))
        if only:
            unknown = set(only) - {s.name for s in scenarios}
            check(not unknown, f"no scenario {sorted(unknown)}")
            scenarios = [s for s in scenarios if s.name in only]

        typical: dict[str, float] = {}
        counts: Counter = Counter()

        def clean_run(s) -> None:
            started = time.monotonic()
            proc = subprocess.run(s.argv(binary), env={**clean_env(), **s.env()},
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  timeout=600, cwd=s.cwd)
            check(proc.returncode == 0, f"{s.name}: the recovery run exited {proc.returncode}\n"
                                        f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
            elapsed = time.monotonic() - started
            typical[s.name] = max(elapsed, 0.7 * typical.get(s.name, elapsed))
            counts["clean_runs"] += 1

        for s in scenarios:   # generation 1 of every source, committed by a clean run
            s.advance(rng)
            clean_run(s)
            s.check_recovered(check_manifest(lake))

        started = time.monotonic()
        for i in range(1, iterations + 1):
            s = rng.choice(scenarios)
            s.advance(rng)
            kills = 1 + (rng.random() < 0.25)   # sometimes the first re-run dies as well
            attempts = []
            try:
                for _ in range(kills):
                    a = attempt_with_kill(s, binary, rng, typical.get(s.name, 1.0))
                    attempts.append(a)
                    counts[a.outcome] += 1
                    if a.outcome == "killed-at-point":
                        counts[f"point:{a.point}"] += 1
                    tables = check_manifest(lake)
                    generation = s.check_consistent(tables)
                    counts[f"seen-{generation}-after-kill"] += 1
                    for other in scenarios:   # the others' tables are untouched
                        if other is not s:
                            other.check_consistent(tables)
                    counts["checks"] += 1
                    if a.outcome == "finished":
                        break   # committed already: a second run would have nothing to do
                clean_run(s)
                s.check_recovered(check_manifest(lake))
                counts["checks"] += 1
            except CheckFailed as e:
                raise CheckFailed(f"iteration {i} (seed {seed}), scenario {s.name}, attempts "
                                  f"{attempts}: {e}") from None
            counts[f"scenario:{s.name}"] += 1
            if i % 10 == 0 or i == iterations:
                log(f"crash loop: {i}/{iterations} iterations, {time.monotonic() - started:.0f} s, "
                    f"{counts['killed-at-point']} killed at a point, "
                    f"{counts['killed-after-delay']} after a delay, {counts['finished']} finished first")
        return {"iterations": iterations, "seed": seed, "store": store,
                "seconds": round(time.monotonic() - started, 1),
                "failures": 0, **dict(sorted(counts.items()))}
    finally:
        for service in reversed(services):
            service.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--store", choices=["file", "s3"], default="file")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--scenario", action="append", default=None,
                        help="run only this scenario (repeatable; default: all)")
    parser.add_argument("--lakepipe", type=Path,
                        default=Path(os.environ.get("LAKEPIPE_BIN", ROOT / "build" / "lakepipe")))
    parser.add_argument("--workdir", type=Path, default=None,
                        help="kept after the run (default: a temp folder, removed on success)")
    parser.add_argument("--summary", type=Path, default=None)
    a = parser.parse_args()
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1 << 30)
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="lakepipe-crash-loop-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"crash loop: seed {seed}, store {a.store}, workdir {workdir}", flush=True)
    try:
        summary = run_loop(a.lakepipe.resolve(), workdir, a.iterations, seed, a.store,
                           not a.no_postgres, log=lambda m: print(m, flush=True),
                           only=a.scenario)
    except CheckFailed as e:
        print(f"crash loop FAILED: {e}\n(workdir kept: {workdir})", file=sys.stderr)
        return 1
    text = json.dumps(summary, indent=2)
    print(text)
    if a.summary:
        a.summary.write_text(text + "\n")
    if a.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
