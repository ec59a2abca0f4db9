"""-v tells on stderr what a run does (files written, cache decisions, retries), -vv more
(every call to the store, locks taken); without it a good run is quiet. Never a secret."""
import re

from backends import make_backend
from flow_support import MORE_ORDERS, flow_on

INFO = "lakepipe: info: "
DEBUG = "lakepipe: debug: "


def test_demo_is_quiet_then_tells_files_then_store_calls(run_lakepipe, tmp_path):
    quiet = run_lakepipe("demo", tmp_path / "a", "--rows", "100")
    assert quiet.stderr == ""

    told = run_lakepipe("-v", "demo", tmp_path / "b", "--rows", "100").stderr
    assert DEBUG not in told
    assert re.search(rf"{INFO}pipeline 'demo': run \S+ starts", told), told
    # Each file as its writer finished it (in the run's staging folder until the commit).
    assert re.search(rf"{INFO}wrote '\S+/b/\S*/raw/demo/orders/orders_0000.parquet\S*': 100 rows, ",
                     told), told
    assert f"{INFO}pipeline 'demo': stream 'orders' committed, 100 records" in told, told

    more = run_lakepipe("-vv", "demo", tmp_path / "c", "--rows", "100").stderr
    assert INFO in more
    assert re.search(rf"{DEBUG}writing '\S*/c/\.dataspoc/manifest.json'", more), more
    assert re.search(rf"{DEBUG}reading '\S*/c/\.dataspoc/manifest.json'", more), more
    assert re.search(rf"{DEBUG}moving '\S+' to '\S*/c/raw/demo/orders/orders_0000.parquet'",
                     more), more
    assert re.search(rf"{DEBUG}holding .*demo.* \('\S+\.lock'\)", more), more

def test_flow_run_tells_each_cache_decision(local_flow):
    flow = local_flow
    flow.put_data()
    flow.write()
    first = flow.lakepipe("-v", "flow", "run", flow.file).stderr
    assert f"{INFO}task 'raw.orders': runs: no committed table" in first, first
    assert re.search(rf"{INFO}task 'model.totals': \d+ rows, \d+ bytes in 1 file\(s\)", first), first
    assert f"{INFO}stage 'report': committed slot 'odd'" in first, first

    second = flow.lakepipe("-v", "flow", "run", flow.file).stderr
    assert f"{INFO}stage 'raw': every task is a cache hit: a metadata-only commit" in second, second

    flow.put_orders(MORE_ORDERS)
    third = flow.lakepipe("-v", "flow", "run", flow.file).stderr
    assert re.search(rf"{INFO}task 'raw.orders': runs: cache key \S+ differs from the committed \S+",
                     third), third
    assert re.search(rf"{INFO}task 'raw.customers': cache hit \(key \S+\)", third), third

    forced = flow.lakepipe("-v", "flow", "run", flow.file, "--force").stderr
    assert f"{INFO}task 'raw.customers': runs: --force" in forced, forced


def test_verbose_store_calls_show_no_credential(moto, run_lakepipe, request, tmp_path):
    backend = make_backend("s3", request, tmp_path / "store")
    key_id, secret = "AKIAVERBOSECANARY7Q", "verbose-canary-secret-51e2c0"
    env = {**backend.env, "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret}
    flow = flow_on(backend, run_lakepipe, tmp_path / "flow")
    flow.put_data()
    flow.write()
    proc = flow.lakepipe("-vv", "flow", "run", flow.file, env=env)
    assert f"{DEBUG}writing 's3://{backend.root[len('s3://'):]}" in proc.stderr, proc.stderr[-3000:]
    for text in (proc.stdout, proc.stderr):
        assert key_id not in text and secret not in text
