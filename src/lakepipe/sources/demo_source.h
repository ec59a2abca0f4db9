#pragma once

#include <cstdint>
#include <memory>

#include <arrow/record_batch.h>
#include <arrow/result.h>

namespace lakepipe::sources {

/// Generates `rows` rows of a small, realistic orders table (id, customer, amount as
/// decimal, status, created_at in UTC, a list of tags) in batches of `batch_rows`.
/// Deterministic for a given seed, so tests and benchmarks can check what they read.
arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> MakeDemoOrders(int64_t rows,
                                                                        int64_t batch_rows = 65536,
                                                                        uint64_t seed = 42);

}  // namespace lakepipe::sources
