#include "lakepipe/flow/flow_selection.h"

#include <gtest/gtest.h>

#include "lakepipe/flow/flow_runner.h"

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
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = std::move(*config);
    ASSERT_TRUE(ResolveTaskInputs(&config_).ok());
  }

  /// "stage.task" of every task that runs, in flow order.
  std::vector<std::string> Running(const std::vector<std::string>& stages,
                                   const std::vector<std::string>& tasks, bool upstream) {
    auto selection = SelectTasks(config_, stages, tasks, upstream);
    EXPECT_TRUE(selection.ok()) << selection.status().ToString();
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
  ASSERT_TRUE(selection.ok());
  std::vector<std::string> found;
  for (const auto& up : UnselectedUpstream(config_, *selection)) {
    found.push_back(up.table.ToString() + "<-" + up.read_by.ToString());
  }
  // s1.b is read by nobody on the way: not upstream.
  EXPECT_EQ(found, (std::vector<std::string>{"s1.a<-s2.c", "s2.c<-s2.d", "s2.d<-s3.e"}));

  selection = SelectTasks(config_, {}, {"s2.d"}, false);
  ASSERT_TRUE(selection.ok());
  found.clear();
  for (const auto& up : UnselectedUpstream(config_, *selection)) {
    found.push_back(up.table.ToString() + "<-" + up.read_by.ToString());
  }
  EXPECT_EQ(found, (std::vector<std::string>{"s1.a<-s2.c", "s2.c<-s2.d"}));
}

}  // namespace
}  // namespace lakepipe::flow
