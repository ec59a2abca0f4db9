"""The one exception lakepipe raises for a failed command or call."""

from __future__ import annotations


class LakepipeError(RuntimeError):
    """A lakepipe command or engine call failed. The message is the one the CLI prints
    after ``lakepipe: error:``, naming where (pipeline, flow, stage, task, stream, URI)."""
