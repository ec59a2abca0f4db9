#include "lakepipe/python/python_errors.h"

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <nanobind/nanobind.h>

#include "lakepipe/storage/redact.h"

namespace nb = nanobind;

namespace lakepipe::python {

void ThrowIfError(const arrow::Status& status) {
  if (status.ok()) return;
  const std::string message = storage::RedactSecrets(status.message());
  if (status.IsCancelled()) {
    PyErr_SetString(PyExc_KeyboardInterrupt, message.c_str());
    throw nb::python_error();
  }
  nb::object error_type = nb::module_::import_("lakepipe.errors").attr("LakepipeError");
  PyErr_SetString(error_type.ptr(), message.c_str());
  throw nb::python_error();
}

arrow::Status RunInterruptible(
    const std::function<arrow::Status(const std::atomic<bool>*)>& call) {
  std::atomic<bool> cancel{false};
  std::packaged_task<arrow::Status()> task([&] { return call(&cancel); });
  std::future<arrow::Status> done = task.get_future();
  std::thread worker;
  {
    nb::gil_scoped_release without_gil;
    worker = std::thread(std::move(task));
  }
  bool interrupted = false;
  while (true) {
    {
      nb::gil_scoped_release without_gil;
      if (done.wait_for(std::chrono::milliseconds(100)) == std::future_status::ready) break;
    }
    if (!interrupted && PyErr_CheckSignals() != 0) {
      // The KeyboardInterrupt stays set while the run winds down; it is what we raise.
      interrupted = true;
      cancel = true;
    }
  }
  worker.join();
  arrow::Status status = done.get();
  if (interrupted) throw nb::python_error();
  return status;
}

}  // namespace lakepipe::python
