"""The ``lakepipe`` console script: replaces this Python process with the C++ program, so
the command behaves exactly as the program built from source (exit codes, signals, stdout
and stderr untouched)."""

from __future__ import annotations

import os
import sys

from lakepipe._binary import environment, executable


def main() -> None:
    program = executable()
    os.execve(program, [program, *sys.argv[1:]], environment())
