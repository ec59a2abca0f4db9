"""The wheel as a user installs it: a fresh venv outside the source tree, `pip install` of
dist/lakepipe-*.whl (pyarrow from the index, as its dependency), and a scrubbed environment
in which neither the build tree nor .deps/ can be reached by any variable."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services import ROOT


def wheel_file() -> Path:
    """The wheel under test: $LAKEPIPE_WHEEL, else the one `make wheel` left in dist/."""
    given = os.environ.get("LAKEPIPE_WHEEL")
    if given:
        return Path(given)
    found = sorted((ROOT / "dist").glob("lakepipe-*.whl"))
    if len(found) != 1:
        raise RuntimeError(f"expected one wheel in {ROOT / 'dist'} (run `make wheel`), found "
                           f"{[p.name for p in found]}")
    return found[0]


def pinned(*names: str) -> list[str]:
    """The pins of scripts/requirements.txt for these packages (one place for versions)."""
    pins = {}
    for line in (ROOT / "scripts" / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            pins[line.split("==")[0].split("[")[0].lower()] = line
    return [pins[n] for n in names]


class WheelVenv:
    """A venv with the wheel (and the readers users pair it with) installed."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.python = folder / "bin" / "python"
        self.lakepipe = folder / "bin" / "lakepipe"
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(folder)], check=True)
        subprocess.run([str(self.python), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", str(wheel_file()),
                        *pinned("polars", "duckdb", "pandas", "numpy")],
                       check=True, cwd=folder, env=self.env())

    def env(self, extra: dict | None = None) -> dict:
        """The caller's environment without anything that points at the source tree."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("LAKEPIPE_BIN", "LAKEPIPE_WHEEL", "PYTHONPATH", "PYTHONHOME",
                            "LD_LIBRARY_PATH", "VIRTUAL_ENV", "LAKEPIPE_DUCKDB_EXTENSIONS")}
        env["PATH"] = f"{self.folder / 'bin'}:/usr/local/bin:/usr/bin:/bin"
        env.update(extra or {})
        return env

    def python_json(self, code: str, cwd: Path, env: dict | None = None, timeout: float = 300):
        """Runs `code` with the venv's Python in `cwd`; returns the JSON it prints last."""
        proc = subprocess.run([str(self.python), "-c", code], cwd=cwd, env=self.env(env),
                              capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def cli(self, *args, cwd: Path, env: dict | None = None, check: bool = True):
        proc = subprocess.run([str(self.lakepipe), *map(str, args)], cwd=cwd,
                              env=self.env(env), capture_output=True, text=True, timeout=300)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc
