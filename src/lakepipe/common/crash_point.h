#pragma once

#include <string_view>

namespace lakepipe {

/// Test-only fault injection, as LevelDB's fault env: when the environment variable
/// LAKEPIPE_CRASH_AT equals `point`, the process kills itself with SIGKILL here, like a
/// power cut (no destructors, no cleanup). Points in the ingest commit:
///   after-data-before-commit     data files written in staging, journal not committed
///   after-prepare-before-commit  (several destinations) the others prepared, the first's
///                                journal not committed
///   after-journal-commit         journal committed, nothing applied
///   after-publish-before-manifest  data files moved into their tables, manifest untouched
///   after-manifest-before-state  manifest published, state and log not written
///   after-commit-before-cleanup  everything applied, journal not removed
/// Points in a flow's stage commit:
///   stage-after-data-before-commit      the slot's tables written, metadata untouched
///   stage-after-metadata-before-catalog the next catalog built, metadata committed, the
///                                       catalog not yet renamed into place
/// Point in publishing the catalog (a stage commit's too, after its metadata commit):
///   catalog-built-before-publish        the new copy built, not yet renamed over it
void CrashPoint(std::string_view point);

/// Test-only, beside CrashPoint: when LAKEPIPE_THROW_AT equals `point`, throws
/// std::bad_alloc here, as a failed allocation would, so tests can check that any
/// exception still ends the process with one error line. Points:
///   before-command               in main(), just before the command runs
void ThrowPoint(std::string_view point);

}  // namespace lakepipe
