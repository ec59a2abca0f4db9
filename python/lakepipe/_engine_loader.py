"""Loads the C++ engine module the wheel carries.

pyarrow is imported first: the engine links the libarrow of the pyarrow wheel, so a process
holds one Arrow, and pyarrow.fs finalizes the S3 SDK at exit for both. Where the wheel keeps
DuckDB's extensions is set before the engine opens its first database.
"""

from __future__ import annotations

import os

from lakepipe._binary import add_bundled_extensions


def engine():
    import pyarrow  # noqa: F401  (one libarrow in the process: pyarrow's)
    import pyarrow.fs  # noqa: F401  (registers the S3 finalization at exit)

    add_bundled_extensions(os.environ)
    try:
        from lakepipe import _engine
    except ImportError as error:
        raise ImportError(
            "lakepipe: the engine module is missing: flows from Python need the installed "
            "wheel (make wheel; pip install dist/lakepipe-*.whl)") from error
    return _engine
