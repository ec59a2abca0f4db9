// lakepipe._engine: the C++ engine inside the Python process. The pure-Python package
// (python/lakepipe/) wraps these calls in its public API; tables cross as Arrow C streams.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/util/config.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include "lakepipe/common/build_config.h"
#include "lakepipe/common/console_log.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/flow/catalog_session.h"
#include "lakepipe/flow/flow_config.h"
#include "lakepipe/flow/flow_runner.h"
#include "lakepipe/flow/flow_status.h"
#include "lakepipe/python/arrow_stream_capsule.h"
#include "lakepipe/python/python_errors.h"
#include "lakepipe/storage/runtime.h"
#include "lakepipe/tablestore/table_store.h"

namespace nb = nanobind;

namespace lakepipe::python {
namespace {

// A JSON value handed to Python as its text: the package parses it with json.loads, so
// the shapes are exactly those of the CLI's --output json.
std::string ToJsonText(const nlohmann::json& value) { return value.dump(); }

/// A loaded flow file: what lakepipe.Flow holds.
class FlowHandle {
 public:
  FlowHandle(const std::string& path, const std::optional<std::string>& instance,
             const std::optional<std::string>& storage_file)
      : storage_file_(storage_file.value_or("")) {
    config_ = ValueOrThrow(flow::LoadFlowConfig(path, instance));
    if (!storage_file_.empty()) ThrowIfError(config_.storage.MergeYamlFile(storage_file_));
  }

  std::string name() const { return config_.name; }
  std::string instance() const { return config_.store.instance; }
  std::string catalog() const { return config_.store.catalog_path; }
  std::vector<std::string> stages() const {
    std::vector<std::string> names;
    for (const auto& stage : config_.stages) names.push_back(stage.name);
    return names;
  }

  std::string Run(std::vector<std::string> stages, std::vector<std::string> tasks, bool force,
                  bool keep_going, bool with_upstream, const std::string& home) {
    flow::FlowRunOptions options;
    options.stages = std::move(stages);
    options.tasks = std::move(tasks);
    options.force = force;
    options.keep_going = keep_going;
    options.with_upstream = with_upstream;
    options.home = home;
    options.storage_file = storage_file_;
    flow::FlowRunResult result;
    ThrowIfError(RunInterruptible([&](const std::atomic<bool>* cancel) -> arrow::Status {
      options.cancel = cancel;
      ARROW_ASSIGN_OR_RAISE(result, flow::RunFlow(config_, options));
      return arrow::Status::OK();
    }));
    return ToJsonText(flow::FlowRunSummary(config_, result));
  }

  std::string Status() const { return ToJsonText(ValueOrThrow(flow::FlowStatus(config_))); }

  /// The committed table "stage.table" as an Arrow C stream.
  nb::capsule ReadTable(const std::string& ref) const {
    auto table = ValueOrThrow(flow::ParseTableRef(ref));
    std::shared_ptr<arrow::RecordBatchReader> reader;
    {
      nb::gil_scoped_release without_gil;
      auto opened = [&]() -> arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> {
        ARROW_ASSIGN_OR_RAISE(auto store,
                              tablestore::TableStore::Open(config_.store, config_.storage));
        ARROW_ASSIGN_OR_RAISE(auto rows, store->ReadTable(table));
        // The store serves the reader's reads: it lives as long as the stream does.
        return KeepingAlive(std::move(rows), std::shared_ptr<void>(std::move(store)));
      }();
      nb::gil_scoped_acquire with_gil;
      reader = ValueOrThrow(std::move(opened));
    }
    return ExportStream(std::move(reader));
  }

  /// One read-only query on the flow's catalog, as an Arrow C stream.
  nb::capsule Sql(const std::string& sql) const {
    std::shared_ptr<arrow::RecordBatchReader> reader;
    {
      nb::gil_scoped_release without_gil;
      auto opened = [&]() -> arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> {
        ARROW_ASSIGN_OR_RAISE(auto session, flow::OpenCatalogSession(config_));
        ARROW_RETURN_NOT_OK(flow::CheckCatalogQuery(config_, *session, sql));
        ARROW_ASSIGN_OR_RAISE(auto rows, session->QueryArrow(sql));
        return KeepingAlive(std::move(rows), std::shared_ptr<void>(std::move(session)));
      }();
      nb::gil_scoped_acquire with_gil;
      reader = ValueOrThrow(std::move(opened));
    }
    return ExportStream(std::move(reader));
  }

 private:
  flow::FlowConfig config_;
  std::string storage_file_;
};

}  // namespace
}  // namespace lakepipe::python

NB_MODULE(_engine, m) {
  using lakepipe::python::FlowHandle;
  m.doc() = "lakepipe's C++ engine (use the lakepipe package, not this module)";
  // Compute kernels, the CA bundle, the S3 SDK. The S3 SDK is finalized by pyarrow.fs at
  // exit: engine and pyarrow share one libarrow, so one finalization serves both.
  lakepipe::python::ThrowIfError(lakepipe::storage::ArrowRuntime::Initialize());
  lakepipe::ConfigureConsoleLog(0);

  m.def("set_verbosity", &lakepipe::ConfigureConsoleLog, nb::arg("verbose"),
        "0: warnings and errors on stderr; 1: what runs do; 2: every call to the store");

  m.def("versions", [] {
    nb::dict versions;
    versions["lakepipe"] = lakepipe::kVersion;
    versions["arrow"] = ARROW_VERSION_STRING;
    versions["duckdb"] = lakepipe::duckdb::Database::LibraryVersion();
    return versions;
  });

  nb::class_<FlowHandle>(m, "Flow")
      .def(nb::init<const std::string&, const std::optional<std::string>&,
                    const std::optional<std::string>&>(),
           nb::arg("path"), nb::arg("instance") = nb::none(), nb::arg("storage_file") = nb::none())
      .def_prop_ro("name", &FlowHandle::name)
      .def_prop_ro("instance", &FlowHandle::instance)
      .def_prop_ro("catalog", &FlowHandle::catalog)
      .def_prop_ro("stages", &FlowHandle::stages)
      .def("run", &FlowHandle::Run, nb::arg("stages"), nb::arg("tasks"), nb::arg("force"),
           nb::arg("keep_going"), nb::arg("with_upstream"), nb::arg("home"))
      .def("status", &FlowHandle::Status)
      .def("read_table", &FlowHandle::ReadTable, nb::arg("ref"))
      .def("sql", &FlowHandle::Sql, nb::arg("sql"));
}
