#pragma once

namespace lakepipe {

/// The start time of process `pid` in clock ticks since boot (field 22 of
/// /proc/<pid>/stat); -1 when there is no such process or /proc cannot say. With the pid it
/// names one process for good: a reused pid has another start time.
long long ProcessStartTicks(int pid);

}  // namespace lakepipe
