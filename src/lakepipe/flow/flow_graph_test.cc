#include "lakepipe/flow/flow_graph.h"

#include <gtest/gtest.h>

#include "lakepipe/common/error_subject.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::flow {
namespace {

constexpr char kHeader[] = "name: shop\ntable_store: { base: ./lake }\nstages:\n";

// Every kind of task and of input: files, a pipeline's stream, a command, tables found in
// SQL (in the order DuckDB's parser gives them) and an exec task's stdin.
constexpr char kShop[] = R"yaml(  - name: raw
    tasks:
      - name: orders
        read: {uri: data/orders*.csv}
      - name: customers
        ingest: {pipeline: crm, stream: customers}
  - name: model
    tasks:
      - name: totals
        sql: SELECT * FROM raw.orders JOIN RAW.Customers USING (id)
      - name: scored
        exec: [python3, score.py]
        stdin: model.totals
)yaml";

arrow::Result<std::string> Graph(const std::string& stages, const std::string& format) {
  ARROW_ASSIGN_OR_RAISE(auto config,
                        ParseFlowYaml(std::string(kHeader) + stages, "shop.yaml", "/flows"));
  return FlowGraphText(config, format);
}

TEST(FlowGraphTest, MermaidHasASubgraphPerStageAndAnEdgePerInput) {
  ASSERT_OK_AND_ASSIGN(auto text, Graph(kShop, "mermaid"));
  EXPECT_EQ(text, R"(flowchart LR
  subgraph stage0["raw"]
    task0_0["orders"]
    task0_1["customers"]
  end
  subgraph stage1["model"]
    task1_0["totals"]
    task1_1["scored"]
  end
  source0[("files: data/orders*.csv")]
  source1[("pipeline: crm, stream customers")]
  source2[("command: python3 score.py")]
  source0 --> task0_0
  source1 --> task0_1
  task0_1 --> task1_0
  task0_0 --> task1_0
  source2 --> task1_1
  task1_0 --> task1_1
)");
}

TEST(FlowGraphTest, DotHasAClusterPerStageAndAnEdgePerInput) {
  ASSERT_OK_AND_ASSIGN(auto text, Graph(kShop, "dot"));
  EXPECT_EQ(text, R"(digraph flow {
  rankdir=LR;
  node [shape=box];
  subgraph cluster_stage0 {
    label="raw";
    task0_0 [label="orders"];
    task0_1 [label="customers"];
  }
  subgraph cluster_stage1 {
    label="model";
    task1_0 [label="totals"];
    task1_1 [label="scored"];
  }
  source0 [label="files: data/orders*.csv", shape=cylinder];
  source1 [label="pipeline: crm, stream customers", shape=cylinder];
  source2 [label="command: python3 score.py", shape=cylinder];
  source0 -> task0_0;
  source1 -> task0_1;
  task0_1 -> task1_0;
  task0_0 -> task1_0;
  source2 -> task1_1;
  task1_0 -> task1_1;
}
)");
}

TEST(FlowGraphTest, HostileNamesAreEscapedForEachFormatAndNeverBecomeIds) {
  // Names that would end a label, open a directive, an entity, HTML or Markdown, or a
  // Graphviz escape; a command line with a line break; bytes that are not UTF-8.
  const std::string stages = R"yaml(  - name: 'st"]; end; x["é'
    tasks:
      - name: 'a"b[c]{d}<e>&f#35;g%%{init}%%`h\N'
        exec: ['print', "two\nlines", "bad)yaml" "\xff" R"yaml("]
      - name: "名 ∑ \\"
        inputs: ['st"]; end; x["é.a"b[c]{d}<e>&f#35;g%%{init}%%`h\N']
        sql: SELECT 1
)yaml";
  ASSERT_OK_AND_ASSIGN(auto mermaid, Graph(stages, "mermaid"));
  EXPECT_EQ(mermaid, R"(flowchart LR
  subgraph stage0["st#quot;]; end; x[#quot;é"]
    task0_0["a#quot;b[c]{d}#lt;e#gt;#amp;f#35;35;g#37;#37;{init}#37;#37;#96;h\N"]
    task0_1["名 ∑ \"]
  end
  source0[("command: print 'two<br>lines' 'bad)"
                     "\xEF\xBF\xBD"
                     R"('")]
  source0 --> task0_0
  task0_0 --> task0_1
)");
  ASSERT_OK_AND_ASSIGN(auto dot, Graph(stages, "dot"));
  EXPECT_EQ(dot, R"(digraph flow {
  rankdir=LR;
  node [shape=box];
  subgraph cluster_stage0 {
    label="st\"]; end; x[\"é";
    task0_0 [label="a\"b[c]{d}<e>&amp;f#35;g%%{init}%%`h\\N"];
    task0_1 [label="名 ∑ \\"];
  }
  source0 [label="command: print 'two\nlines' 'bad)"
                 "\xEF\xBF\xBD"
                 R"('", shape=cylinder];
  source0 -> task0_0;
  task0_0 -> task0_1;
}
)");
}

TEST(FlowGraphTest, ExternalSourcesAreOneNodeEachAndLocalPathsRelativeToTheFlow) {
  // Two tasks reading the same files share their node; a URI and a path outside the
  // flow's folder are shown as they are.
  ASSERT_OK_AND_ASSIGN(auto text, Graph(R"yaml(  - name: raw
    tasks:
      - {name: a, read: {uri: ./in/../data/x.csv}}
      - {name: b, read: {uri: data/x.csv, format: csv}}
      - {name: c, read: {uri: 's3://bucket/p/*.parquet'}}
      - {name: d, read: {uri: ../elsewhere/y.jsonl}}
      - {name: e, ingest: {pipeline: crm}}
      - {name: f, exec: [sh, -c, 'echo $HOME'], inputs: [raw.e]}
)yaml",
                                        "mermaid"));
  EXPECT_NE(text.find("  source0[(\"files: data/x.csv\")]\n"
                      "  source1[(\"files: s3://bucket/p/*.parquet\")]\n"
                      "  source2[(\"files: /elsewhere/y.jsonl\")]\n"
                      "  source3[(\"pipeline: crm\")]\n"
                      "  source4[(\"command: sh -c 'echo $HOME'\")]\n"
                      "  source0 --> task0_0\n"
                      "  source0 --> task0_1\n"
                      "  source1 --> task0_2\n"
                      "  source2 --> task0_3\n"
                      "  source3 --> task0_4\n"
                      "  source4 --> task0_5\n"
                      "  task0_4 --> task0_5\n"),
            std::string::npos)
      << text;
  // Each kind tells its own; a SQL task reads only tables.
  ASSERT_OK_AND_ASSIGN(auto config, ParseFlowYaml(std::string(kHeader) + kShop, "shop.yaml",
                                                  "/flows"));
  const auto& raw = config.stages.at(0).tasks;
  const auto& model = config.stages.at(1).tasks;
  EXPECT_EQ(raw.at(0).kind->ExternalSources(),
            (std::vector<ExternalSource>{{"files", "/flows/data/orders*.csv", true}}));
  EXPECT_EQ(raw.at(1).kind->ExternalSources(),
            (std::vector<ExternalSource>{{"pipeline", "crm, stream customers", false}}));
  EXPECT_TRUE(model.at(0).kind->ExternalSources().empty());
  EXPECT_EQ(model.at(1).kind->ExternalSources(),
            (std::vector<ExternalSource>{{"command", "python3 score.py", false}}));
}

TEST(FlowGraphTest, UnknownInputsCyclesAndFormatsAreErrorsNamingTheFlowFile) {
  const std::string raw = "  - name: raw\n    tasks:\n";
  // A task's error names the file already: once is enough.
  auto unknown = Graph(raw + "      - {name: a, inputs: [raw.gone], sql: 'SELECT 1'}\n", "dot");
  ASSERT_NOT_OK_WITH(unknown, "flow 'shop', stage 'raw', task 'a' (shop.yaml:6): 'raw.gone' is "
                              "not produced by any task");
  EXPECT_EQ(unknown.status().message().find("shop.yaml"),
            unknown.status().message().rfind("shop.yaml"));
  EXPECT_EQ(SubjectOf(unknown.status(), Subject::Kind::kUri), "shop.yaml");
  auto cycle = Graph(raw + "      - {name: a, sql: 'SELECT * FROM raw.b'}\n" +
                         "      - {name: b, exec: [x], stdin: raw.a}\n",
                     "mermaid");
  ASSERT_NOT_OK_WITH(cycle, "'shop.yaml': flow 'shop', stage 'raw': tasks a, b depend on each "
                            "other in a cycle");
  EXPECT_EQ(SubjectOf(cycle.status(), Subject::Kind::kFlow), "shop");
  ASSERT_NOT_OK_WITH(Graph(kShop, "svg"), "graph format 'svg': use mermaid or dot");
}

}  // namespace
}  // namespace lakepipe::flow
