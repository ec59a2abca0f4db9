"""lakepipe: land data as Parquet in any bucket and keep it cataloged.

The engine is C++ (the ``lakepipe`` program this package carries); this package is its
Python face.
"""

from __future__ import annotations

__all__: list[str] = []
