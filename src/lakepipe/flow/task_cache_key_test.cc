// Cache keys are persisted: a key that changes makes every existing flow run again. These
// pin one key per kind (computed by the code before tasks became one interface per kind),
// so a refactor that changes a key's JSON by one byte fails here.

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/writer.h>
#include <gtest/gtest.h>

#include "lakepipe/flow/flow_config.h"
#include "lakepipe/flow/flow_runner.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::flow {
namespace {

namespace fs = std::filesystem;

// Read tasks list their files by path, size and time: the folder and the times are fixed.
constexpr char kDir[] = "/tmp/lakepipe-cache-key-pin";

void Write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  const struct timespec times[2] = {{1700000000, 0}, {1700000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

arrow::Status WriteIpc(const fs::path& path) {
  auto schema = arrow::schema({arrow::field("n", arrow::int64())});
  arrow::Int64Builder builder;
  ARROW_RETURN_NOT_OK(builder.AppendValues({1, 2, 3}));
  ARROW_ASSIGN_OR_RAISE(auto column, builder.Finish());
  auto batch = arrow::RecordBatch::Make(schema, 3, {column});
  ARROW_ASSIGN_OR_RAISE(auto out, arrow::io::FileOutputStream::Open(path.string()));
  ARROW_ASSIGN_OR_RAISE(auto writer, arrow::ipc::MakeStreamWriter(out, schema));
  ARROW_RETURN_NOT_OK(writer->WriteRecordBatch(*batch));
  ARROW_RETURN_NOT_OK(writer->Close());
  return out->Close();
}

TEST(TaskCacheKeyTest, KeysOfEachKindAreTheOnesRecordedBeforeTheTaskInterface) {
  fs::remove_all(kDir);
  fs::create_directories(kDir);
  Write(fs::path(kDir) / "orders.csv", "id,amount\n1,2.5\n2,3.5\n");
  Write(fs::path(kDir) / "gen.sh", "cat numbers.arrows\n");
  ASSERT_OK(WriteIpc(fs::path(kDir) / "numbers.arrows"));
  const std::string yaml = R"yaml(name: pin
table_store: { base: ./lake }
stages:
  - name: raw
    tasks:
      - name: plain
        sql: "SELECT 1 AS x"
      - name: versioned
        version: "1.0.0"
        sql: "SELECT 2 AS y"
        sort_by: [y]
        compression: snappy
      - name: from_file
        sql: "SELECT * FROM read_csv('orders.csv')"
      - name: orders
        read: { uri: orders.csv, options: { delimiter: "," } }
        not_null: [id]
      - name: numbers
        version: 3
        exec: [sh, gen.sh]
)yaml";
  ASSERT_OK_AND_ASSIGN(auto config, ParseFlowYaml(yaml, "pin.yaml", kDir));
  for (bool second : {false, true}) {
    ASSERT_OK_AND_ASSIGN(auto result, RunFlow(config, {}));
    ASSERT_EQ(result.stages.size(), 1u);
    std::map<std::string, std::string> keys;
    for (const auto& task : result.stages[0].tasks) {
      keys[task.task] = task.cache_key;
      EXPECT_EQ(task.cache_hit, second) << task.task;
    }
    EXPECT_EQ(result.stages[0].metadata_only, second);
    EXPECT_EQ(keys, (std::map<std::string, std::string>{
                        {"plain", "zzvkggm74io4xxslpn2opcrjmyo4uchq6am53atqsfglseg53swq"},
                        {"versioned", "wuyif3lhxu5p4dtly4arzgkanlk5jbcpw7zp4cvlc4bjhypt2kiq"},
                        {"from_file", "p6vh2y24ubcc7wp5tfky6eaiachawy2bhh5rf2lgfdbejfzvytya"},
                        {"orders", "bmpqzunjjzcm2rwbbcbytruwwdvqrtcqubtjaau2q4ggxf4ofjfq"},
                        {"numbers", "thd767i6jsp3hlo2mae5eqo6ucvqpzhz62oh72bmidbezdce32nq"},
                    }));
  }
  fs::remove_all(kDir);
}

}  // namespace
}  // namespace lakepipe::flow
