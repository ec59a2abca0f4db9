#pragma once

#include <string>

#include <arrow/result.h>

namespace lakepipe::singer {

/// The folder temp files go under: $TMPDIR when set and not empty, else /tmp.
std::string TempRoot();

/// Makes a private folder (0700) under TempRoot() for one tap's config, state and catalog
/// files, named lakepipe-tap-<pid>-<start>-XXXXXX after the process that owns it (<start>
/// is the process's start time in clock ticks since boot, from /proc/self/stat, so a
/// reused pid is not taken for its owner). The first call of a process also removes the
/// folders of owners that are gone (SweepDeadTapTempDirs): a lakepipe killed by SIGKILL
/// cannot remove its own, and they may hold a tap config with a password. The caller
/// removes the folder it got. Thread-safe.
arrow::Result<std::string> MakeTapTempDir();

/// Removes every lakepipe-tap-<pid>-<start>-* folder in `parent` that belongs to us (our
/// uid) and whose owner is gone: no process <pid>, or one that started at another time.
/// Never removes a live owner's folder; when /proc cannot tell, keeps the folder. Best
/// effort: errors are ignored. Returns how many folders it removed.
int SweepDeadTapTempDirs(const std::string& parent);

}  // namespace lakepipe::singer
