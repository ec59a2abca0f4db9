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


def environment() -> dict[str, str]:
    """The environment a lakepipe process runs with: the caller's, plus where the wheel
    keeps DuckDB's extensions (a build from source has their folder compiled in)."""
    env = dict(os.environ)
    extensions = _PACKAGE_DIR / "duckdb_extensions"
    if extensions.is_dir():
        env.setdefault("LAKEPIPE_DUCKDB_EXTENSIONS", str(extensions))
    return env
