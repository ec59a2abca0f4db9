"""The one exception lakepipe raises for a failed command or call."""

from __future__ import annotations

from typing import Optional


class LakepipeError(RuntimeError):
    """A lakepipe command or engine call failed. The message is the one the CLI prints
    after ``lakepipe: error:``, naming where (pipeline, flow, stage, task, stream, URI).
    ``exit_code`` is the command's exit code when a lakepipe process failed (1 failed,
    2 usage, 130 cancelled), None for a call of the engine in this process."""

    def __init__(self, message: str, exit_code: Optional[int] = None):
        super().__init__(message)
        self.exit_code = exit_code
