#include "lakepipe/sources/demo_source.h"

#include <array>
#include <random>

#include <arrow/builder.h>
#include <arrow/util/decimal.h>

namespace lakepipe::sources {
namespace {

std::shared_ptr<arrow::Schema> DemoSchema() {
  return arrow::schema({
      arrow::field("id", arrow::int64(), /*nullable=*/false),
      arrow::field("customer", arrow::utf8()),
      arrow::field("amount", arrow::decimal128(12, 2)),
      arrow::field("status", arrow::utf8()),
      arrow::field("created_at", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
      arrow::field("tags", arrow::list(arrow::utf8())),
  });
}

// Yields batches on demand so memory stays at one batch whatever `rows` is.
class DemoReader : public arrow::RecordBatchReader {
 public:
  DemoReader(int64_t rows, int64_t batch_rows, uint64_t seed)
      : remaining_(rows), batch_rows_(batch_rows), rng_(seed) {}

  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    if (remaining_ <= 0) {
      batch->reset();
      return arrow::Status::OK();
    }
    const int64_t n = std::min(remaining_, batch_rows_);
    remaining_ -= n;
    static constexpr std::array<const char*, 4> kStatuses = {"new", "paid", "shipped", "returned"};
    static constexpr std::array<const char*, 3> kTags = {"web", "mobile", "promo"};
    arrow::Int64Builder ids;
    arrow::StringBuilder customers, statuses;
    arrow::Decimal128Builder amounts(schema_->field(2)->type());
    arrow::TimestampBuilder created(schema_->field(4)->type(), arrow::default_memory_pool());
    auto tag_values = std::make_shared<arrow::StringBuilder>();
    arrow::ListBuilder tags(arrow::default_memory_pool(), tag_values);
    std::uniform_int_distribution<int64_t> cents(100, 10'000'000);
    std::uniform_int_distribution<int> pick(0, 1023);
    for (int64_t i = 0; i < n; ++i, ++next_id_) {
      ARROW_RETURN_NOT_OK(ids.Append(next_id_));
      ARROW_RETURN_NOT_OK(customers.Append("customer-" + std::to_string(pick(rng_) % 97)));
      ARROW_RETURN_NOT_OK(amounts.Append(arrow::Decimal128(cents(rng_))));
      ARROW_RETURN_NOT_OK(statuses.Append(kStatuses[pick(rng_) % kStatuses.size()]));
      // 2026-01-01T00:00:00Z plus one minute per order.
      ARROW_RETURN_NOT_OK(created.Append(1'767'225'600'000'000LL + next_id_ * 60'000'000LL));
      ARROW_RETURN_NOT_OK(tags.Append());
      const int tag_count = pick(rng_) % 3;
      for (int t = 0; t < tag_count; ++t) {
        ARROW_RETURN_NOT_OK(tag_values->Append(kTags[(next_id_ + t) % kTags.size()]));
      }
    }
    std::vector<std::shared_ptr<arrow::Array>> columns(6);
    ARROW_RETURN_NOT_OK(ids.Finish(&columns[0]));
    ARROW_RETURN_NOT_OK(customers.Finish(&columns[1]));
    ARROW_RETURN_NOT_OK(amounts.Finish(&columns[2]));
    ARROW_RETURN_NOT_OK(statuses.Finish(&columns[3]));
    ARROW_RETURN_NOT_OK(created.Finish(&columns[4]));
    ARROW_RETURN_NOT_OK(tags.Finish(&columns[5]));
    *batch = arrow::RecordBatch::Make(schema_, n, std::move(columns));
    return arrow::Status::OK();
  }

 private:
  std::shared_ptr<arrow::Schema> schema_ = DemoSchema();
  int64_t remaining_;
  int64_t batch_rows_;
  int64_t next_id_ = 1;
  std::mt19937_64 rng_;
};

}  // namespace

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> MakeDemoOrders(int64_t rows,
                                                                        int64_t batch_rows,
                                                                        uint64_t seed) {
  if (rows < 0 || batch_rows <= 0) {
    return arrow::Status::Invalid("demo source: rows must be >= 0 and batch_rows > 0");
  }
  return std::make_shared<DemoReader>(rows, batch_rows, seed);
}

}  // namespace lakepipe::sources
