// Fuzzes singer::JsonSchemaToArrow with any JSON document as a stream's schema, and checks
// that every schema it accepts is one RecordBatchBuilder can build (its documented contract:
// only the types it maps to).

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <arrow/type.h>
#include <nlohmann/json.hpp>

#include "lakepipe/singer/json_schema.h"
#include "lakepipe/singer/record_batch_builder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Parsed as singer_source.cc parses a SCHEMA message's body; not JSON is not interesting.
  auto json = nlohmann::ordered_json::parse(data, data + size, /*cb=*/nullptr,
                                            /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  auto schema = lakepipe::singer::JsonSchemaToArrow(json);
  if (!schema.ok()) return 0;
  (void)(*schema)->ToString(/*show_metadata=*/true);
  for (auto policy :
       {lakepipe::singer::OnTypeError::kFail, lakepipe::singer::OnTypeError::kString}) {
    auto builder = lakepipe::singer::RecordBatchBuilder::Make(*schema, policy);
    if (!builder.ok()) {
      std::fprintf(stderr, "json_schema_fuzzer: mapped schema %s is refused by the builder: %s\n",
                   (*schema)->ToString().c_str(), builder.status().ToString().c_str());
      std::abort();
    }
  }
  return 0;
}
