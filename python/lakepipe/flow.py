"""Flows from Python: run a flow file, read its status, read committed tables.

Tables leave the engine as Arrow C streams (``__arrow_c_stream__``): pyarrow, Polars,
pandas (through pyarrow) and DuckDB take the engine's buffers as they are, with no copy and
no serialization.
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Sequence

from lakepipe._engine_loader import engine


class Table:
    """A committed table of a flow, ``stage.table``. Each read streams the table as the
    store holds it at that moment: a later commit is seen by the next read."""

    def __init__(self, flow: "Flow", ref: str):
        self._flow = flow
        self.ref = ref

    def __repr__(self) -> str:
        return f"lakepipe.Table({self._flow.name!r}, {self.ref!r})"

    def __arrow_c_stream__(self, requested_schema: Any = None):
        capsule = self._flow._handle.read_table(self.ref)
        if requested_schema is None:
            return capsule
        import pyarrow as pa

        # pyarrow's reader casts the stream to the schema (a capsule) the consumer asked for.
        reader = pa.RecordBatchReader._import_from_c_capsule(capsule)
        return reader.__arrow_c_stream__(requested_schema)

    def to_reader(self):
        """A pyarrow.RecordBatchReader over the table: batches as they are read."""
        import pyarrow as pa

        return pa.RecordBatchReader.from_stream(self)

    def to_arrow(self):
        """The whole table as a pyarrow.Table (the engine's buffers, not copied)."""
        return self.to_reader().read_all()

    def to_polars(self):
        """A polars.DataFrame."""
        import polars as pl

        return pl.from_arrow(self.to_arrow())

    def to_pandas(self, **options):
        """A pandas.DataFrame (pyarrow's to_pandas; ``options`` go to it)."""
        return self.to_arrow().to_pandas(**options)

    def to_duckdb(self, connection=None):
        """A DuckDB relation over the table, on ``connection`` (default: DuckDB's)."""
        import duckdb

        con = connection if connection is not None else duckdb.default_connection()
        return con.from_arrow(self.to_arrow())


class Flow:
    """A flow file, loaded and checked (errors name the file, line and key).

    ``instance`` overrides the file's instance; ``storage`` is a YAML file with a storage
    block merged into the flow's (as the CLI's ``--storage``, default ``$LAKEPIPE_STORAGE``).
    """

    def __init__(self, path: str | os.PathLike, instance: Optional[str] = None,
                 storage: Optional[str | os.PathLike] = None):
        if storage is None:
            storage = os.environ.get("LAKEPIPE_STORAGE") or None
        self._handle = engine().Flow(os.fspath(path), instance,
                                     os.fspath(storage) if storage is not None else None)

    name = property(lambda self: self._handle.name, doc="The flow's name")
    instance = property(lambda self: self._handle.instance, doc="The instance it runs as")
    catalog = property(lambda self: self._handle.catalog, doc="Path of its DuckDB catalog")
    stages = property(lambda self: list(self._handle.stages), doc="Stage names, in file order")

    def __repr__(self) -> str:
        return f"lakepipe.Flow({self.name!r}, instance={self.instance!r})"

    def run(self, stages: Sequence[str] = (), tasks: Sequence[str] = (), *, force: bool = False,
            keep_going: bool = False, with_upstream: bool = False,
            home: Optional[str | os.PathLike] = None) -> dict:
        """Runs the flow (or the selected stages and ``stage.task`` tasks) and commits each
        stage; returns what ``lakepipe flow run --output json`` reports. Ctrl-C stops the
        run once the tasks running then end (as the CLI's), with nothing committed by
        their stage, and raises KeyboardInterrupt."""
        if isinstance(stages, str):
            stages = [stages]
        if isinstance(tasks, str):
            tasks = [tasks]
        home = os.fspath(home) if home is not None else os.environ.get("LAKEPIPE_HOME", "")
        return json.loads(self._handle.run(list(stages), list(tasks), force, keep_going,
                                           with_upstream, home))

    def status(self) -> dict:
        """Stages, their committed slots and tables, and the runs (``flow status`` JSON)."""
        return json.loads(self._handle.status())

    def table(self, ref: str) -> Table:
        """The committed table ``stage.table``."""
        return Table(self, ref)

    def sql(self, query: str):
        """Runs one read-only query on the flow's catalog; returns a pyarrow.Table."""
        import pyarrow as pa

        return pa.RecordBatchReader.from_stream(_Stream(self._handle.sql(query))).read_all()


class _Stream:
    """A one-shot holder of an Arrow C stream capsule, for from_stream()."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __arrow_c_stream__(self, requested_schema: Any = None):
        capsule, self._capsule = self._capsule, None
        if capsule is None:
            raise RuntimeError("lakepipe: this query result was already read")
        return capsule
