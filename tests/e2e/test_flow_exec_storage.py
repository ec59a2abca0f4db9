"""An exec program gets the flow's storage settings in the providers' standard environment
variables: it reads its s3:// inputs from the S3 emulator although nobody exported
AWS_ENDPOINT_URL or AWS_REGION (pyarrow.fs.FileSystem.from_uri finds the endpoint in the
environment, as the AWS SDKs and boto3 do)."""
import json

from backends import make_backend
from flow_support import PYTHON, flow_on

PROGRAM = r'''
import json, os, sys
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

with open("seen-env.json", "w") as f:
    json.dump({k: os.environ.get(k) for k in
               ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION")}, f)
uris = json.loads(os.environ["LAKEPIPE_INPUTS"])["raw.src"]
assert all(u.startswith("s3://") for u in uris), uris
tables = []
for uri in uris:
    fs, path = pafs.FileSystem.from_uri(uri)  # endpoint and region from the environment
    tables.append(pq.read_table(path, filesystem=fs))
    del fs
table = pa.concat_tables(tables)
pafs.finalize_s3()
out = pa.table({"id": table["id"], "twice": pc.multiply(table["id"], 2)})
with ipc.new_stream(sys.stdout.buffer, out.schema) as writer:
    writer.write_table(out)
'''


def test_exec_program_reads_s3_inputs_with_the_flows_endpoint(moto, run_lakepipe, request,
                                                               tmp_path):
    backend = make_backend("s3", request, tmp_path / "store")
    endpoint = backend.env["AWS_ENDPOINT_URL"]
    full_env = backend.env
    # Credentials only: endpoint and region are the flow's storage block alone.
    backend.env = {k: v for k, v in backend.env.items()
                   if k not in ("AWS_ENDPOINT_URL", "AWS_REGION")}
    flow = flow_on(backend, run_lakepipe, tmp_path / "flow",
                   storage={"endpoint": endpoint, "region": "us-east-1", "url_style": "path"})
    (flow.folder / "program.py").write_text(PROGRAM)
    flow.write([
        {"name": "raw", "tasks": [
            {"name": "src", "sql": "SELECT * FROM (VALUES (1), (2), (3)) AS t(id)"}]},
        {"name": "report", "tasks": [
            {"name": "doubled", "exec": [PYTHON, "program.py"], "inputs": ["raw.src"]}]},
    ])
    proc = flow.lakepipe("flow", "run", flow.file, check=False)
    assert proc.returncode == 0, proc.stderr
    backend.env = full_env  # for this test's own reader of the catalog
    assert sorted(flow.query("SELECT id, twice FROM report.doubled")) == [(1, 2), (2, 4), (3, 6)]
    seen = json.loads((flow.folder / "seen-env.json").read_text())
    assert seen == {"AWS_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL_S3": endpoint,
                    "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
