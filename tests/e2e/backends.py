"""Storage backends as the tests see them: a local folder or a bucket on an emulator."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

BACKENDS = ["file", "s3", "gcs", "azure"]


@dataclass
class Backend:
    """One storage backend as the tests see it: where to write (root URI), the environment
    lakepipe needs to reach it, and an independent pyarrow filesystem to check results."""

    name: str
    root: str
    env: dict = field(default_factory=dict)
    fs: object = None
    fs_root: str = ""

    def uri(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def fs_path(self, relative: str) -> str:
        return f"{self.fs_root}/{relative}"

    def read_bytes(self, relative: str) -> bytes:
        with self.fs.open_input_stream(self.fs_path(relative)) as f:
            return f.read()

    def exists(self, relative: str) -> bool:
        import pyarrow.fs as pafs
        return self.fs.get_file_info(self.fs_path(relative)).type != pafs.FileType.NotFound


def make_backend(name: str, request, tmp_path: Path) -> Backend:
    import pyarrow.fs as pafs
    bucket = f"lp-{uuid.uuid4().hex[:12]}"
    if name == "file":
        folder = tmp_path / "bucket"
        folder.mkdir(parents=True)
        return Backend(name, str(folder), {}, pafs.LocalFileSystem(), str(folder))
    service = request.getfixturevalue({"s3": "moto", "gcs": "fake_gcs", "azure": "azurite"}[name])
    service.create_bucket(bucket)
    scheme = {"s3": "s3", "gcs": "gs", "azure": "az"}[name]
    return Backend(name, f"{scheme}://{bucket}", service.env, service.filesystem(), bucket)
