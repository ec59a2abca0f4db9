#include "lakepipe/flow/task_graph.h"

#include <gtest/gtest.h>

#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::flow {
namespace {

constexpr char kHeader[] = "name: shop\ntable_store: { base: ./lake }\nstages:\n";

arrow::Result<FlowConfig> Resolved(const std::string& stages) {
  ARROW_ASSIGN_OR_RAISE(auto config,
                        ParseFlowYaml(std::string(kHeader) + stages, "shop.yaml", "/flows"));
  ARROW_RETURN_NOT_OK(ResolveTaskInputs(&config));
  return config;
}

std::vector<std::string> Inputs(const TaskConfig& task) {
  std::vector<std::string> out;
  for (const auto& ref : task.inputs) out.push_back(ref.ToString());
  return out;
}

TEST(TaskGraphTest, InputsAreDeclaredThenTheKindsOwnThenFoundOnesOnceEach) {
  ASSERT_OK_AND_ASSIGN(auto config, Resolved(R"yaml(  - name: Raw
    tasks:
      - name: Orders
        sql: "SELECT 1 AS id"
      - name: refunds
        sql: "SELECT 2 AS id"
  - name: model
    tasks:
      - name: joined
        inputs: [raw.refunds]
        sql: "SELECT * FROM RAW.orders JOIN raw.refunds USING (id)"
      - name: scored
        exec: [python3, score.py]
        inputs: [model.joined]
        stdin: RAW.ORDERS
)yaml"));
  const auto& model = config.stages.at(1);
  // Spelled as the flow file spells stage and task, whatever the SQL or YAML wrote.
  EXPECT_EQ(Inputs(model.tasks.at(0)), (std::vector<std::string>{"Raw.refunds", "Raw.Orders"}));
  EXPECT_EQ(Inputs(model.tasks.at(1)), (std::vector<std::string>{"model.joined", "Raw.Orders"}));
}

TEST(TaskGraphTest, ReferencesToNothingOrLaterAreErrorsNamingTheTask) {
  const std::string raw = "  - name: raw\n    tasks:\n";
  ASSERT_NOT_OK_WITH(Resolved(raw + "      - {name: a, sql: 'SELECT * FROM nowhere.x'}\n"),
                     "flow 'shop', stage 'raw', task 'a' (shop.yaml:6): 'nowhere.x' names no "
                     "stage of the flow");
  ASSERT_NOT_OK_WITH(Resolved(raw + "      - {name: a, sql: 'SELECT * FROM later.b'}\n" +
                              "  - name: later\n    tasks: [{name: b, sql: 'SELECT 1'}]\n"),
                     "task 'a' (shop.yaml:6): 'later.b' is in a later stage");
  ASSERT_NOT_OK_WITH(Resolved(raw + "      - {name: a, inputs: [raw.gone], sql: 'SELECT 1'}\n"),
                     "task 'a' (shop.yaml:6): 'raw.gone' is not produced by any task");
  ASSERT_NOT_OK_WITH(Resolved(raw + "      - {name: a, exec: [x], stdin: raw.a}\n"),
                     "task 'a' (shop.yaml:6): a task cannot read its own table");
}

TEST(TaskGraphTest, CyclesInAStageNameEveryTaskTheyBlock) {
  const std::string raw = "  - name: raw\n    tasks:\n";
  ASSERT_NOT_OK_WITH(Resolved(raw + "      - {name: a, sql: 'SELECT * FROM raw.c'}\n" +
                              "      - {name: b, sql: 'SELECT 1'}\n" +
                              "      - {name: c, exec: [x], stdin: raw.a}\n" +
                              "      - {name: d, sql: 'SELECT * FROM raw.a'}\n"),
                     "flow 'shop', stage 'raw': tasks a, c, d depend on each other in a cycle");
  // No cycle: a chain in any file order.
  ASSERT_OK_AND_ASSIGN(auto config,
                       Resolved(raw + "      - {name: a, sql: 'SELECT * FROM raw.b'}\n" +
                                "      - {name: b, sql: 'SELECT * FROM raw.c'}\n" +
                                "      - {name: c, sql: 'SELECT 1'}\n"));
  EXPECT_TRUE(CyclicTasks(config.stages.at(0)).empty());
}

}  // namespace
}  // namespace lakepipe::flow
