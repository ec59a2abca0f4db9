"""Where the lakepipe executable is.

The wheel carries the C++ command-line program inside the package (``lakepipe/bin``); a
source checkout points at its build with ``LAKEPIPE_BIN``. Everything in this package that
runs a lakepipe command goes through ``executable()``, so both work the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def executable() -> str:
    """The lakepipe program to run: ``$LAKEPIPE_BIN`` when set, else the wheel's own."""
    override = os.environ.get("LAKEPIPE_BIN")
    if override:
        return override
    bundled = _PACKAGE_DIR / "bin" / "lakepipe"
    if not bundled.is_file():
        raise RuntimeError(
            f"lakepipe: the lakepipe program is not in this package ({bundled}); "
            "install the wheel, or set LAKEPIPE_BIN to a built lakepipe")
    return str(bundled)


def add_bundled_extensions(env) -> None:
    """Points ``env`` (a dict, or os.environ for the engine in this process) at the DuckDB
    extensions the wheel carries, unless it names a folder already. A build from source has
    its folder compiled in and carries none."""
    extensions = _PACKAGE_DIR / "duckdb_extensions"
    if extensions.is_dir():
        env.setdefault("LAKEPIPE_DUCKDB_EXTENSIONS", str(extensions))


def environment() -> dict[str, str]:
    """The environment a lakepipe process runs with: the caller's, plus the wheel's
    DuckDB extensions."""
    env = dict(os.environ)
    add_bundled_extensions(env)
    return env
