"""`lakepipe flow graph`: the flow's stages, tasks and inputs as Mermaid (the default) or
Graphviz dot, read back here by parsers written from each format's grammar (no Graphviz or
Mermaid is installed), so a name from the flow file comes back as written or the test fails.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

# --- readers of the two formats ----------------------------------------------------------


def mermaid_text(label: str) -> str:
    """A Mermaid quoted label as rendered: <br> a line break, #name; / #123; entities."""
    assert '"' not in label
    text = label.replace("<br>", "\n")
    assert "<" not in text and ">" not in text and "&" not in text and "%" not in text, label
    return re.sub(r"#(\w+);", lambda m: html.unescape(
        f"&#{m[1]};" if m[1].isdigit() else f"&{m[1]};"), text)


def parse_mermaid(text: str) -> dict:
    """{"stages": {label: [task labels]}, "nodes": {id: label}, "sources": {id: label},
    "edges": [(from label, to label)]}; any line that is not one of the forms the command
    writes fails the test."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    stages, nodes, sources, edges, stage = {}, {}, {}, [], None
    for line in lines[1:]:
        if m := re.fullmatch(r'  subgraph (\w+)\["([^"]*)"\]', line):
            assert stage is None
            stage = mermaid_text(m[2])
            stages[stage] = []
        elif line == "  end":
            stage = None
        elif m := re.fullmatch(r'    (\w+)\["([^"]*)"\]', line):
            nodes[m[1]] = mermaid_text(m[2])
            stages[stage].append(nodes[m[1]])
        elif m := re.fullmatch(r'  (\w+)\[\("([^"]*)"\)\]', line):
            assert stage is None
            sources[m[1]] = mermaid_text(m[2])
        elif m := re.fullmatch(r"  (\w+) --> (\w+)", line):
            edges.append((m[1], m[2]))
        else:
            raise AssertionError(f"not a Mermaid line the command writes: {line!r}")
    labels = {**nodes, **sources}
    return {"stages": stages, "nodes": nodes, "sources": sources,
            "edges": [(labels[a], labels[b]) for a, b in edges]}


DOT_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/|^\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.|\\\n)*")
  | (?P<id>[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9\x80-\U0010ffff]*|-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))
  | (?P<op>->|--|[{}\[\];,=:])
""", re.VERBOSE | re.DOTALL | re.MULTILINE)


def dot_tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    while at < len(text):
        m = DOT_TOKEN.match(text, at)
        assert m, f"not a DOT token at {text[at:at + 40]!r}"
        at = m.end()
        if m.lastgroup == "string":
            # As Graphviz's lexer reads it, pair by pair: \" is a quote, a backslash-newline
            # joins lines, \\ and every other pair are kept for the label.
            out.append(("id", re.sub(r"\\(.)", lambda e: {'"': '"', "\n": ""}.get(e[1], e[0]),
                                     m[0][1:-1], flags=re.DOTALL)))
        elif m.lastgroup != "space":
            out.append((m.lastgroup, m[0]))
    return out


def dot_label(text: str) -> str:
    """A label as Graphviz renders it (lib/common/labels.c): entities decoded, then \\\\ a
    backslash and \\n a line break; any other escape (\\N: the node's name) would not show
    the name as written, so it fails the test."""
    def escape(m):
        assert m[1] in "\\n", f"Graphviz escape \\{m[1]} in a label"
        return "\\" if m[1] == "\\" else "\n"
    return re.sub(r"\\(.)", escape, html.unescape(text), flags=re.DOTALL)


class DotParser:
    """Recursive descent over the DOT grammar (graph, subgraph, node, edge and attribute
    statements): clusters with their label and nodes, node labels, edges."""

    def __init__(self, text: str):
        self.tokens, self.at = dot_tokens(text), 0
        self.nodes, self.edges, self.clusters, self.graph_attrs = {}, [], {}, {}

    def peek(self, value=None):
        kind, text = self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")
        return text if value is None else text == value

    def take(self, value=None):
        token = self.tokens[self.at]
        assert value is None or token[1] == value, f"expected {value!r}, got {token!r}"
        self.at += 1
        return token[1]

    def parse(self):
        assert self.take() == "digraph"
        if not self.peek("{"):
            self.take()
        self.block(None)
        assert self.at == len(self.tokens), "text after the graph"
        return self

    def attrs(self) -> dict:
        out = {}
        while self.peek("["):
            self.take("[")
            while not self.peek("]"):
                key = self.take()
                self.take("=")
                out[key] = self.take()
                if self.peek(",") or self.peek(";"):
                    self.take()
            self.take("]")
        return out

    def block(self, cluster):
        self.take("{")
        while not self.peek("}"):
            self.statement(cluster)
            if self.peek(";"):
                self.take(";")
        self.take("}")

    def statement(self, cluster):
        if self.peek("subgraph"):
            self.take()
            name = self.take()
            assert name.startswith("cluster"), name
            self.clusters[name] = {"label": None, "nodes": []}
            self.block(name)
            return
        if self.peek() in ("graph", "node", "edge"):
            self.take()
            self.attrs()
            return
        first = self.take()
        if self.peek("="):
            self.take("=")
            value = self.take()
            (self.clusters[cluster] if cluster else self.graph_attrs)[
                "label" if first == "label" else first] = value
            return
        if self.peek("->"):
            self.take("->")
            second = self.take()
            self.attrs()
            self.edges.append((first, second))
            return
        self.nodes[first] = self.attrs()
        if cluster:
            self.clusters[cluster]["nodes"].append(first)


def parse_dot(text: str) -> dict:
    """The same shape as parse_mermaid's."""
    p = DotParser(text).parse()
    label = {name: dot_label(attrs["label"]) for name, attrs in p.nodes.items()}
    in_cluster = {n for c in p.clusters.values() for n in c["nodes"]}
    return {"stages": {dot_label(c["label"]): [label[n] for n in c["nodes"]]
                       for c in p.clusters.values()},
            "nodes": {n: label[n] for n in in_cluster},
            "sources": {n: label[n] for n in label if n not in in_cluster},
            "shapes": {label[n]: a.get("shape") for n, a in p.nodes.items()},
            "edges": [(label[a], label[b]) for a, b in p.edges]}


PARSERS = {"mermaid": parse_mermaid, "dot": parse_dot}

# --- flows -------------------------------------------------------------------------------


def write_flow(folder: Path, stages: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "flow.yaml"
    # JSON is YAML: every name reaches the flow exactly as written here.
    path.write_text(json.dumps({"name": "shop", "table_store": {"base": "./lake"},
                                "stages": stages}, indent=2, ensure_ascii=False) + "\n")
    return path


SHOP = [
    {"name": "raw", "tasks": [
        {"name": "orders", "read": {"uri": "data/orders-*.csv"}},
        {"name": "customers", "ingest": {"pipeline": "crm", "stream": "customers"}},
        {"name": "rates", "read": {"uri": "s3://landing/rates.parquet"}},
    ]},
    {"name": "model", "tasks": [
        {"name": "totals", "sql": "SELECT * FROM raw.orders o JOIN raw.customers c "
                                  "ON c.id = o.customer_id"},
        {"name": "scored", "exec": ["python3", "score.py", "--mode", "fast lane"],
         "stdin": "model.totals", "inputs": ["raw.rates"]},
    ]},
    {"name": "report", "tasks": [
        {"name": "top", "sql": "SELECT * FROM model.scored ORDER BY 1 LIMIT 10"},
    ]},
]

SHOP_STAGES = {"raw": ["orders", "customers", "rates"], "model": ["totals", "scored"],
               "report": ["top"]}
SHOP_EDGES = sorted([
    ("files: data/orders-*.csv", "orders"),
    ("pipeline: crm, stream customers", "customers"),
    ("files: s3://landing/rates.parquet", "rates"),
    ("orders", "totals"), ("customers", "totals"),
    ("command: python3 score.py --mode 'fast lane'", "scored"),
    ("totals", "scored"), ("rates", "scored"),
    ("scored", "top"),
])


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_stages_tasks_and_every_input_in_each_format(run_lakepipe, tmp_path, fmt):
    flow = write_flow(tmp_path / "flow", SHOP)
    args = ["flow", "graph", flow] + ([] if fmt == "mermaid" else ["--format", "dot"])
    proc = run_lakepipe(*args)
    assert proc.stderr == ""
    graph = PARSERS[fmt](proc.stdout)
    assert graph["stages"] == SHOP_STAGES
    assert sorted(graph["sources"].values()) == sorted(
        {source for source, _ in SHOP_EDGES if ":" in source})
    assert sorted(graph["edges"]) == SHOP_EDGES
    if fmt == "dot":
        assert all(graph["shapes"][s] == "cylinder" for s in graph["sources"].values())


def test_mermaid_is_the_default_and_format_mermaid_the_same(run_lakepipe, tmp_path):
    flow = write_flow(tmp_path / "flow", SHOP)
    default = run_lakepipe("flow", "graph", flow).stdout
    assert default.startswith("flowchart LR\n")
    assert run_lakepipe("flow", "graph", "--format", "mermaid", flow).stdout == default


HOSTILE_STAGE = 'st"]; end; x["é {a} <b> & #35; %%{init: {"theme":"dark"}}%%'
HOSTILE_TASKS = ['a"b[c]]\\N\\G \\n \\', "名 ∑ 🙂 `md` <br> &amp;", "end", "subgraph",
                 "--> -> --", "cluster_x", "node", "graph"]


def test_hostile_names_come_back_as_written_in_both_formats(run_lakepipe, tmp_path):
    tasks = [{"name": HOSTILE_TASKS[0], "exec": ["sh", "-c", "echo 'two\nlines' \"$X\""]}]
    # Each reads the one before it, by its hostile name.
    for before, name in zip(HOSTILE_TASKS, HOSTILE_TASKS[1:]):
        tasks.append({"name": name, "inputs": [f"{HOSTILE_STAGE}.{before}"], "sql": "SELECT 1"})
    stages = [{"name": HOSTILE_STAGE, "tasks": tasks},
              {"name": "名前", "tasks": [{"name": "last", "read": {"uri": "in \"q\"/*.csv"},
                                          "inputs": [f"{HOSTILE_STAGE}.graph"]}]}]
    flow = write_flow(tmp_path / "flow", stages)
    command = "command: sh -c 'echo '\\''two\nlines'\\'' \"$X\"'"
    for fmt, parse in PARSERS.items():
        out = run_lakepipe("flow", "graph", "--format", fmt, flow).stdout
        graph = parse(out)
        assert graph["stages"] == {HOSTILE_STAGE: HOSTILE_TASKS, "名前": ["last"]}, fmt
        assert sorted(graph["sources"].values()) == sorted([command, 'files: in "q"/*.csv'])
        assert graph["edges"] == (
            [(command, HOSTILE_TASKS[0])] + list(zip(HOSTILE_TASKS, HOSTILE_TASKS[1:])) +
            [('files: in "q"/*.csv', "last"), ("graph", "last")]), fmt
        # Ids are made by the command, never from a name.
        ids = set(graph["nodes"]) | set(graph["sources"])
        assert all(re.fullmatch(r"(task\d+_\d+|source\d+)", i) for i in ids), ids


def test_graph_reads_only_the_flow_file(run_lakepipe, tmp_path):
    # No pipeline, input file, script or table store exists: nothing is run or opened.
    folder = tmp_path / "flow"
    flow = write_flow(folder, SHOP)
    run_lakepipe("flow", "graph", flow, env={"LAKEPIPE_HOME": str(tmp_path / "home")})
    assert sorted(p.name for p in folder.iterdir()) == ["flow.yaml"]
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("case", ["unknown-table", "cycle"])
def test_bad_inputs_are_one_line_naming_the_flow_file(run_lakepipe, tmp_path, case):
    stages = [{"name": "raw", "tasks": [{"name": "a", "sql": "SELECT 1"}]},
              {"name": "model", "tasks": [
                  {"name": "x", "sql": "SELECT * FROM raw.nope"} if case == "unknown-table" else
                  {"name": "x", "sql": "SELECT * FROM model.y"},
                  {"name": "y", "exec": ["true"], "stdin": "model.x"}]}]
    flow = write_flow(tmp_path / "flow", stages)
    for fmt in PARSERS:
        proc = run_lakepipe("flow", "graph", "--format", fmt, flow, check=False)
        assert proc.returncode == 1 and proc.stdout == ""
        line = next(i for i, t in enumerate(flow.read_text().splitlines(), 1) if '"x"' in t) - 1
        expected = {
            "unknown-table": f"flow 'shop', stage 'model', task 'x' ({flow}:{line}): 'raw.nope' "
                             "is not produced by any task",
            "cycle": f"'{flow}': flow 'shop', stage 'model': tasks x, y depend on each other in "
                     "a cycle",
        }[case]
        assert proc.stderr == f"lakepipe: error: {expected}\n"


def test_unknown_format_and_missing_file_are_errors(run_lakepipe, tmp_path):
    flow = write_flow(tmp_path / "flow", SHOP)
    proc = run_lakepipe("flow", "graph", "--format", "svg", flow, check=False)
    assert proc.returncode == 2 and proc.stdout == ""  # a usage error
    assert "--format" in proc.stderr and "svg" in proc.stderr, proc.stderr
    proc = run_lakepipe("flow", "graph", tmp_path / "nope.yaml", check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == f"lakepipe: error: cannot read flow file '{tmp_path / 'nope.yaml'}'\n"
