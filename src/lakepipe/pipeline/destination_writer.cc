#include "lakepipe/pipeline/destination_writer.h"

#include <fmt/format.h>

#include "lakepipe/lake/path_segment.h"
#include "lakepipe/lake/table_reconciler.h"

namespace lakepipe::pipeline {

DestinationWriter::DestinationWriter(storage::Storage* storage, const DestinationConfig& config,
                                     std::string source_name, lake::RunJournal* journal,
                                     std::optional<std::string> dt)
    : storage_(storage),
      config_(config),
      source_name_(std::move(source_name)),
      layout_(storage::Uri::Parse(config.bucket).ValueOrDie()),
      manifest_(storage, layout_),
      journal_(journal),
      dt_(std::move(dt)) {}

arrow::Status DestinationWriter::OnSchema(const std::string& stream,
                                          const std::shared_ptr<arrow::Schema>& schema) {
  auto it = writers_.find(stream);
  if (it != writers_.end()) {
    ARROW_RETURN_NOT_OK(it->second.writer->Finish());
    ARROW_RETURN_NOT_OK(CollectFinished(stream));
  }
  auto& output = outputs_[stream];
  if (!output.schema) {
    // First sight of the stream in this run. Its name comes from the tap: refuse one that
    // cannot be a path segment before anything is journaled or written.
    ARROW_RETURN_NOT_OK(lake::CheckPathName("stream", stream));
    // In a local bucket one run at a time writes a table, whichever home folder or
    // pipeline it comes from (held until this writer is gone, after the commit).
    if (layout_.bucket().is_local()) {
      ARROW_ASSIGN_OR_RAISE(
          auto lock, FileLock::Acquire(layout_.TableLockUri(source_name_, stream).FileSystemPath(),
                                       fmt::format("table '{}/{}'", source_name_, stream),
                                       "is being written by another run"));
      table_locks_.push_back(std::move(lock));
    }
    // Learn what the table holds: committed runs of ours, and what DataSpoc Pipe (or
    // another writer of the same layout) wrote before or in between.
    const std::string location =
        lake::BucketLayout::TableLocation(config_.path, source_name_, stream);
    ARROW_ASSIGN_OR_RAISE(
        output.previous,
        lake::LoadReconciledTable(storage_, &manifest_, layout_, source_name_, stream, location));
    // Two pipelines whose taps share a name (both PostgreSQL taps are tap-postgres) would
    // silently take one table over: its files replaced, its column types changed.
    if (output.previous && !output.previous->pipeline.empty() &&
        output.previous->pipeline != journal_->pipeline() && !config_.share_tables) {
      return arrow::Status::Invalid(fmt::format(
          "table '{}/{}' in '{}' belongs to pipeline '{}'; pipeline '{}' would take it over "
          "(give one of them another source.name, or set share_tables: true on both "
          "destinations)",
          source_name_, stream, config_.bucket, output.previous->pipeline, journal_->pipeline()));
    }
    int64_t next = output.previous ? output.previous->next_file_number : 0;
    ARROW_ASSIGN_OR_RAISE(auto existing, storage_->List(layout_.Resolve(location), true));
    for (const auto& file : existing) {
      auto number = lake::BucketLayout::DataFileNumber(file.uri.Name(), stream);
      if (number) next = std::max(next, *number + 1);
    }
    output.next_file_number = next;
  }
  output.schema = schema;
  writers_[stream] =
      OpenWriter{std::make_unique<parquet::RollingParquetWriter>(
                     storage_, schema, config_.parquet, config_.file_size_target_bytes,
                     [this, stream] { return NextFile(stream); }),
                 0};
  return arrow::Status::OK();
}

arrow::Result<parquet::FileSlot> DestinationWriter::NextFile(const std::string& stream) {
  auto& output = outputs_[stream];
  const std::string location =
      lake::BucketLayout::TableLocation(config_.path, source_name_, stream);
  const std::optional<std::string_view> dt =
      dt_ ? std::optional<std::string_view>(*dt_) : std::nullopt;
  const std::string relative =
      lake::BucketLayout::DataFile(location, stream, dt, output.next_file_number++);
  const std::string staged =
      lake::BucketLayout::StagedPath(journal_->pipeline(), journal_->run_id(), relative);
  // Journal first: if we die while writing, the next run knows what to remove.
  ARROW_RETURN_NOT_OK(journal_->AddWritten(staged));
  publications_.push_back({staged, relative});
  return parquet::FileSlot{layout_.Resolve(staged), relative};
}

arrow::Status DestinationWriter::Write(const std::string& stream, const arrow::RecordBatch& batch) {
  auto it = writers_.find(stream);
  if (it == writers_.end()) {
    return arrow::Status::Invalid(fmt::format("stream '{}': batch before its schema", stream));
  }
  ARROW_RETURN_NOT_OK(it->second.writer->Write(batch));
  return CollectFinished(stream);
}

arrow::Status DestinationWriter::CollectFinished(const std::string& stream) {
  auto& open = writers_.at(stream);
  auto& output = outputs_[stream];
  const auto& files = open.writer->files();
  for (; open.collected < files.size(); ++open.collected) {
    const auto& file = files[open.collected];
    output.files.push_back(file);
    output.rows += file.rows;
    output.bytes += file.bytes;
  }
  return arrow::Status::OK();
}

arrow::Status DestinationWriter::Finish() {
  for (auto& [stream, open] : writers_) {
    ARROW_RETURN_NOT_OK(open.writer->Finish());
    ARROW_RETURN_NOT_OK(CollectFinished(stream));
  }
  return arrow::Status::OK();
}

void DestinationWriter::Abort() {
  for (auto& [stream, open] : writers_) open.writer->Abort();
}

}  // namespace lakepipe::pipeline
