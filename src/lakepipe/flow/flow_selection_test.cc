#include "lakepipe/flow/flow_selection.h"

#include <gtest/gtest.h>

#include "lakepipe/flow/task_graph.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::flow {
namespace {

// s1: a, b; s2: c (reads s1.a), d (reads s2.c); s3: e (reads s2.d).
constexpr const char* kFlow = R"(name: shop
table_store: {base: ./store, catalog: ./shop.duckdb}
stages:
  - name: s1
    tasks:
      - {name: a, sql: SELECT 1 AS v}
      - {name: b, sql: SELECT 2 AS v}
  - name: s2
    tasks:
      - {name: c, sql: SELECT v FROM s1.a}
      - {name: d, sql: SELECT v FROM s2.c}
  - name: s3
    tasks:
      - {name: e, sql: SELECT v FROM s2.d}
)";

class FlowSelectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = ParseFlowYaml(kFlow, "flow.yaml", ".");
    ASSERT_OK(config);
    config_ = std::move(*config);
    ASSERT_OK(ResolveTaskInputs(&config_));
  }

  /// "stage.task" of every task that runs, in flow order.
  std::vector<std::string> Running(const std::vector<std::string>& stages,
                                   const std::vector<std::string>& tasks, bool upstream) {
    auto selection = SelectTasks(config_, stages, tasks, upstream);
    EXPECT_OK(selection);
    std::vector<std::string> out;
    for (const auto* stage : selection->stages()) {
      for (const auto& task : stage->tasks) {
        if (selection->Runs(stage->name, task.name)) out.push_back(stage->name + "." + task.name);
      }
    }
    return out;
  }

  std::string Error(const std::vector<std::string>& stages, const std::vector<std::string>& tasks) {
    auto selection = SelectTasks(config_, stages, tasks, false);
    return selection.ok() ? "OK" : selection.status().message();
  }

  FlowConfig config_;
};

TEST_F(FlowSelectionTest, NothingSelectedRunsEverything) {
  EXPECT_EQ(Running({}, {}, false),
            (std::vector<std::string>{"s1.a", "s1.b", "s2.c", "s2.d", "s3.e"}));
  EXPECT_TRUE(SelectTasks(config_, {}, {}, false)->everything());
}

TEST_F(FlowSelectionTest, StagesAndTasksRunInFlowOrder) {
  EXPECT_EQ(Running({"s3", "s1"}, {}, false), (std::vector<std::string>{"s1.a", "s1.b", "s3.e"}));
  EXPECT_EQ(Running({}, {"s2.d", "s1.b"}, false), (std::vector<std::string>{"s1.b", "s2.d"}));
  EXPECT_FALSE(SelectTasks(config_, {"s1"}, {}, false)->everything());
}

TEST_F(FlowSelectionTest, WithUpstreamAddsWholeStagesAndSameStageTasks) {
  // s3.e reads s2.d: the whole of s2, whose c reads s1.a: the whole of s1.
  EXPECT_EQ(Running({"s3"}, {}, true),
            (std::vector<std::string>{"s1.a", "s1.b", "s2.c", "s2.d", "s3.e"}));
  // s2.d reads s2.c (same stage: that task), which reads s1.a (another stage: all of s1).
  EXPECT_EQ(Running({}, {"s2.d"}, true),
            (std::vector<std::string>{"s1.a", "s1.b", "s2.c", "s2.d"}));
  EXPECT_EQ(Running({"s1"}, {}, true), (std::vector<std::string>{"s1.a", "s1.b"}));
}

TEST_F(FlowSelectionTest, UnknownNamesNameTheFlowFile) {
  EXPECT_EQ(Error({"zz"}, {}),
            "flow 'shop' (flow.yaml) has no stage 'zz' (its stages: s1, s2, s3)");
  EXPECT_EQ(Error({}, {"s2.zz"}),
            "flow 'shop' (flow.yaml): stage 's2' has no task 'zz' (its tasks: c, d)");
  EXPECT_EQ(Error({}, {"zz.a"}),
            "flow 'shop' (flow.yaml) has no stage 'zz' (its stages: s1, s2, s3)");
  EXPECT_EQ(Error({}, {"s2"}), "flow 'shop' (flow.yaml): --task 's2' is not 'stage.task'");
}

TEST_F(FlowSelectionTest, UpstreamIsWhatTheSelectionReadsTransitively) {
  auto selection = SelectTasks(config_, {"s3"}, {}, false);
  ASSERT_OK(selection);
  std::vector<std::string> found;
  for (const auto& up : UnselectedUpstream(config_, *selection)) {
    found.push_back(up.table.ToString() + "<-" + up.read_by.ToString());
  }
  // s1.b is read by nobody on the way: not upstream.
  EXPECT_EQ(found, (std::vector<std::string>{"s1.a<-s2.c", "s2.c<-s2.d", "s2.d<-s3.e"}));

  selection = SelectTasks(config_, {}, {"s2.d"}, false);
  ASSERT_OK(selection);
  found.clear();
  for (const auto& up : UnselectedUpstream(config_, *selection)) {
    found.push_back(up.table.ToString() + "<-" + up.read_by.ToString());
  }
  EXPECT_EQ(found, (std::vector<std::string>{"s1.a<-s2.c", "s2.c<-s2.d"}));
}

/// Every stage committed in slot "odd" with every table, except those in `missing`.
tablestore::MetadataSnapshot Committed(const FlowConfig& config,
                                       const std::set<std::string>& missing = {}) {
  tablestore::MetadataSnapshot snapshot;
  for (const auto& stage : config.stages) {
    snapshot.stages.push_back({"", stage.name, "odd", "run", "2026-12-01T00:00:00+00:00"});
    for (const auto& task : stage.tasks) {
      if (missing.contains(stage.name + "." + task.name)) continue;
      tablestore::TableRecord table;
      table.stage = stage.name;
      table.slot = "odd";
      table.table = task.name;
      snapshot.tables.push_back(table);
    }
  }
  return snapshot;
}

TEST_F(FlowSelectionTest, CheckUpstreamFailsListingEveryNeverCommittedTable) {
  auto selection = SelectTasks(config_, {"s3"}, {}, false);
  ASSERT_OK(selection);
  auto current = [](const std::string&, const TaskConfig&,
                    const std::set<tablestore::TableRef>&) -> arrow::Result<std::string> {
    return std::string();
  };
  auto result = CheckUpstream(config_, *selection, Committed(config_, {"s1.a", "s2.d"}), current);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "flow 'shop': the selected tasks read tables that were never committed: 's1.a' (read "
            "by s2.c), 's2.d' (read by s3.e); run with --with-upstream to build them too");
  // Everything selected: nothing read as committed, nothing to check.
  auto everything = SelectTasks(config_, {}, {}, false);
  EXPECT_OK(CheckUpstream(config_, *everything, {}, current));
}

TEST_F(FlowSelectionTest, CheckUpstreamWarnsOfEveryStaleTableDownToTheSelection) {
  auto selection = SelectTasks(config_, {"s3"}, {}, false);
  ASSERT_OK(selection);
  // Only s1.a changed itself; s2.c and s2.d are stale through it, whatever order they are
  // looked at in.
  auto why = [](const std::string& stage, const TaskConfig& task,
                const std::set<tablestore::TableRef>& stale) -> arrow::Result<std::string> {
    if (stage == "s1" && task.name == "a") return std::string("its SQL changed");
    for (const auto& ref : task.inputs) {
      if (stale.contains(ref)) return "its input '" + ref.ToString() + "' is stale";
    }
    return std::string();
  };
  auto warnings = CheckUpstream(config_, *selection, Committed(config_), why);
  ASSERT_OK(warnings);
  const std::string tail = "; this run reads its committed table (--with-upstream rebuilds it)";
  EXPECT_EQ(*warnings,
            (std::vector<std::string>{
                "flow 'shop': 's1.a' (read by s2.c) is stale: its SQL changed" + tail,
                "flow 'shop': 's2.c' (read by s2.d) is stale: its input 's1.a' is stale" + tail,
                "flow 'shop': 's2.d' (read by s3.e) is stale: its input 's2.c' is stale" + tail}));
}

TEST_F(FlowSelectionTest, CheckUpstreamWarnsOfCarriedTasksNeverCommitted) {
  auto selection = SelectTasks(config_, {}, {"s1.a"}, false);
  ASSERT_OK(selection);
  auto current = [](const std::string&, const TaskConfig&,
                    const std::set<tablestore::TableRef>&) -> arrow::Result<std::string> {
    return std::string();
  };
  auto warnings = CheckUpstream(config_, *selection, Committed(config_, {"s1.b"}), current);
  ASSERT_OK(warnings);
  EXPECT_EQ(*warnings, (std::vector<std::string>{
                           "flow 'shop': task 's1.b' is not selected and was never committed: "
                           "stage 's1' commits without it"}));
}

}  // namespace
}  // namespace lakepipe::flow
