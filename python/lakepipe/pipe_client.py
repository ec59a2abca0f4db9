"""DataSpoc Pipe's Python SDK over lakepipe: ``PipeClient`` has the methods of
``dataspoc_pipe.PipeClient`` (0.2.0) and returns the same shapes, so code written for it
runs with only the import changed.

Each call runs one lakepipe command with ``--output json`` (the program ``_binary`` finds)
and reshapes its JSON; the CLI stays the one implementation of every command. Where
DataSpoc raises (an unknown or invalid pipeline, an unreadable bucket), this raises
LakepipeError with the message the CLI prints; a run that fails is returned as
``{"success": False, ...}``, as DataSpoc returns it.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any, Optional, Sequence

from lakepipe._binary import environment, executable
from lakepipe.errors import LakepipeError

_ERROR_PREFIX = "lakepipe: error: "

# lakepipe's status of a pipeline without runs, and DataSpoc's.
_NEVER_RUN = "never run"
_NO_RUNS = "no runs"


def _error(proc: subprocess.CompletedProcess) -> LakepipeError:
    """The error lines the command printed, without their prefix."""
    lines = [line[len(_ERROR_PREFIX):] for line in proc.stderr.splitlines()
             if line.startswith(_ERROR_PREFIX)]
    message = "\n".join(lines) or proc.stderr.strip() or f"lakepipe exited {proc.returncode}"
    return LakepipeError(message, exit_code=proc.returncode)


class PipeClient:
    """Pipelines of a lakepipe home folder (``home``; default ``$LAKEPIPE_HOME``, else
    ``~/.lakepipe``), which holds DataSpoc Pipe's layout: a DataSpoc home
    (``~/.dataspoc-pipe``) works as it is."""

    def __init__(self, home: Optional[str | os.PathLike] = None):
        self.home = os.fspath(home) if home is not None else None

    def __repr__(self) -> str:
        return f"lakepipe.PipeClient(home={self.home!r})"

    def _command(self, *args: str, exit_codes: Sequence[int] = (0,)) -> subprocess.CompletedProcess:
        argv = [executable(), "--output", "json"]
        if self.home is not None:
            argv += ["--home", self.home]
        proc = subprocess.run([*argv, *args], capture_output=True, text=True,
                              env=environment(), stdin=subprocess.DEVNULL)
        if proc.returncode not in exit_codes:
            raise _error(proc)
        return proc

    def _json(self, *args: str) -> Any:
        return json.loads(self._command(*args).stdout)

    def pipelines(self) -> list[str]:
        """Names of the pipeline files (sorted), whether they load or not."""
        return self._json("config", "--names")

    def config(self, name: str) -> dict:
        """The pipeline's settings: name, source (tap, config, streams), destination
        (bucket, path, partition_by, compression), incremental (enabled), schedule (cron).
        An inline tap config keeps its keys, with every value shown as ``"***"``."""
        return self._json("config", name)

    def run(self, name: str, full: bool = False) -> dict:
        """Runs the pipeline once (``full``: replace its tables instead of appending).
        Returns ``{"success": bool, "streams": {stream: records}, "error": str | None}``;
        a pipeline that does not load raises LakepipeError."""
        proc = self._command("run", name, *(["--full"] if full else []), exit_codes=(0, 1))
        if proc.returncode != 0:
            self.config(name)  # raises when the pipeline itself is the problem
            return {"success": False, "streams": {}, "error": str(_error(proc))}
        [log] = json.loads(proc.stdout)
        return {
            "success": log["status"] == "success",
            "streams": {stream: counts["records"] for stream, counts in log["streams"].items()},
            "error": log.get("error"),
        }

    def status(self) -> list[dict]:
        """The last run of every pipeline: ``{"name", "last_run", "status", "duration",
        "records"}``; a pipeline never run has status ``"no runs"`` and None elsewhere,
        one whose file does not load ``"invalid"``."""
        rows = []
        for row in self._json("status"):
            status = row["status"]
            rows.append({
                "name": row["pipeline"],
                "last_run": row.get("started_at"),
                "status": _NO_RUNS if status == _NEVER_RUN else status,
                "duration": row.get("duration_seconds"),
                "records": row.get("total_records"),
            })
        return rows

    def logs(self, name: str) -> Optional[dict]:
        """The log of the pipeline's latest run, or None before its first run."""
        logs = self._json("logs", name, "--last", "1")
        return logs[-1] if logs else None

    def manifest(self, bucket: str) -> dict:
        """The bucket's manifest (``.dataspoc/manifest.json``); an empty one when the
        bucket has none yet."""
        return self._json("manifest", bucket)

    def validate(self, name: str) -> dict:
        """Checks that the tap (or the reader's input) is there and the bucket writable.
        Returns ``{"bucket_ok": bool, "tap_ok": bool, "errors": [str]}``; a pipeline that
        does not load raises LakepipeError."""
        proc = self._command("validate", name, exit_codes=(0, 1))
        try:
            [row] = json.loads(proc.stdout)
        except ValueError:
            raise _error(proc) from None
        if not row["config_ok"]:
            raise LakepipeError("\n".join(row["errors"]), exit_code=proc.returncode)
        return {"bucket_ok": row["bucket_ok"], "tap_ok": row["source_ok"],
                "errors": row["errors"]}
