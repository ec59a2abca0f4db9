"""lakepipe: land data as Parquet in any bucket and keep it cataloged.

The engine is C++: the ``lakepipe`` program and the ``lakepipe._engine`` module this
package carries. This package is its Python face:

- ``lakepipe.Flow``: run a flow file, read its status, read committed tables as Arrow,
  Polars, pandas or DuckDB (through the Arrow C stream interface, no copy);
- ``lakepipe.PipeClient``: DataSpoc Pipe's Python SDK (``dataspoc_pipe.PipeClient``) over
  the ``lakepipe`` program: pipelines, config, run, status, logs, manifest, validate;
- ``lakepipe.LakepipeError``: what a failed call raises, with the CLI's message.
"""

from __future__ import annotations

from importlib import metadata as _metadata

from lakepipe.errors import LakepipeError
from lakepipe.flow import Flow, Table
from lakepipe.pipe_client import PipeClient

try:
    __version__ = _metadata.version("lakepipe")
except _metadata.PackageNotFoundError:  # a source checkout on sys.path
    __version__ = "0+source"
__all__ = ["Flow", "LakepipeError", "PipeClient", "Table", "set_verbosity", "__version__"]


def set_verbosity(level: int) -> None:
    """What the engine tells on stderr: 0 warnings and errors (the default), 1 what runs do
    (files written, retries, cache decisions), 2 every call to the store (the CLI's -v/-vv)."""
    from lakepipe._engine_loader import engine

    engine().set_verbosity(level)
