"""A run that waits for another run's lock says so on stderr, naming the holder (pid, host,
user, since when), once when the wait starts: with the embedded metadata store (file
locks, the holder recorded in the lock file) and in team mode (PostgreSQL advisory locks,
the holder found in pg_locks and pg_stat_activity by its application_name)."""
import getpass
import re
import socket

from backends import make_backend
from flow_support import background, flow_on, wait_for

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
WAITING = "waiting for the lock of stage 'model' of flow 'shop' (instance dev): held by "


def test_waiting_run_names_the_holder_of_the_lock(metadata, run_lakepipe, request, tmp_path,
                                                  lakepipe_bin, clean_env):
    flow = flow_on(make_backend("file", request, tmp_path / "store"), run_lakepipe,
                   tmp_path / "flow")
    flow.put_data()
    flow.write(metadata=metadata)
    # The first run blocks in its last stage's exec task, holding every stage's lock.
    (flow.folder / "hold").write_text("")
    env = {**clean_env, **flow.env}
    argv = flow.argv(lakepipe_bin, "flow", "run", flow.file)
    stderr_path = tmp_path / "second.stderr"
    with background(argv, env) as first:
        wait_for(lambda: (flow.folder / "waiting").exists(), "the first run's held task",
                 proc=first)
        with open(stderr_path, "w") as stderr, background(argv, env, stderr=stderr) as second:
            wait_for(lambda: WAITING in stderr_path.read_text(), "the second run's message",
                     proc=second)
            assert first.poll() is None and second.poll() is None
            (flow.folder / "release").write_text("")
            _, err1 = first.communicate(timeout=120)
            second.communicate(timeout=120)
    assert first.returncode == 0, err1
    err2 = stderr_path.read_text()
    assert second.returncode == 0, err2
    host, user = socket.gethostname(), getpass.getuser()
    if metadata == "embedded":
        holder = (re.escape(f"pid {first.pid} on host '{host}' (user {user}) since ") + STAMP
                  + "$")
    else:
        # application_name holds 63 bytes: the host, last, may be cut short.
        holder = (f"lakepipe since {STAMP} pid {first.pid} {re.escape(user)}@" +
                  re.escape(host[:8]) + r".* \(PostgreSQL session \d+ of user \S+, from .+\)$")
    lines = [line for line in err2.splitlines() if "waiting for" in line]
    # Said once (the wait is shorter than the minute between reports).
    assert len(lines) == 1, err2
    message = lines[0][lines[0].index(WAITING) + len(WAITING):]
    assert re.match(holder, message), (holder, lines[0])
