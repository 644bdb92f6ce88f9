"""USR2: upgrade in place (issue 14). The master re-executes the binary at the path it was
started from (a copy in the test's directory, replaced as a package manager would: a new file
renamed over it), keeping its PID and its sockets; the new master adopts the workers, starts new
ones and drains the old ones once those serve. A binary that fails its check changes nothing; one
whose workers cannot boot is rolled back to the previous binary."""
import os
import shutil
import signal
import stat

from conftest import BIN, finish_wrk, http, start_wrk, wait_for


def installed(tmp_path):
    """A copy of the binary at bin/request-tracker-utils, as a deployment would have it."""
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    path = directory / "request-tracker-utils"
    shutil.copy(BIN, path)
    return path


def replace(path, content=None):
    """Replaces the file at `path` by renaming a new one over it (the running inode stays)."""
    new = path.with_name(path.name + ".new")
    if content is None:
        shutil.copy(BIN, new)
    else:
        new.write_text(content)
        new.chmod(new.stat().st_mode | stat.S_IXUSR)
    os.rename(new, path)


def upgrade(srv, binary, line):
    """A good binary renamed over `binary`, USR2, and the log line that says it is done."""
    replace(binary)
    srv.signal(signal.SIGUSR2)
    wait_for(lambda: line in srv.log(), 20, what=line)


def exe(pid):
    return os.readlink(f"/proc/{pid}/exe")


def test_usr2_under_load_replaces_every_worker_and_keeps_the_pid(server_factory, tmp_path):
    binary = installed(tmp_path)
    srv = server_factory(workers=2, job_workers=1, binary=str(binary))
    before = set(srv.worker_pids())
    replace(binary)
    assert exe(srv.pid).endswith("(deleted)")
    wrk = start_wrk(srv.url("/hello"), duration=6, connections=16)
    srv.signal(signal.SIGUSR2)
    wait_for(lambda: "Upgrade complete: generation 2 is serving" in srv.log(), 20, what="the upgrade")
    result = finish_wrk(wrk, 6)
    assert result.requests > 0, result.output
    assert sum(result.socket_errors.values()) == 0, result.output
    assert result.non_2xx == 0, result.output
    assert srv.proc.poll() is None
    assert exe(srv.pid) == str(binary), "the master now runs the new file"
    wait_for(lambda: len(srv.worker_pids()) == 2 and not set(srv.worker_pids()) & before, 15,
             what="all workers new")
    log = srv.log()
    assert "Upgraded in place: adopted 3 worker(s) of generation 1" in log
    assert f"re-executing {binary} in place (pid {srv.pid} kept)" in log
    assert http(srv.port, "GET", "/hello").status == 200
    upgrade(srv, binary, "Upgrade complete: generation 3 is serving")   # a second one works the same way


def test_usr2_with_a_binary_that_exits_at_once_leaves_everything_serving(server_factory, tmp_path):
    binary = installed(tmp_path)
    srv = server_factory(workers=2, binary=str(binary))
    before = sorted(srv.worker_pids())
    replace(binary, "#!/bin/sh\nexit 1\n")
    srv.signal(signal.SIGUSR2)
    line = wait_for(lambda: next((l for l in srv.log().splitlines() if "upgrade abandoned" in l), None), 15,
                    what="the upgrade abandoned")
    assert f"the new binary {binary} exited with code 1 during its check" in line
    assert "the running master and its workers keep serving" in line
    assert "[ERROR]" in line
    assert srv.proc.poll() is None and exe(srv.pid).endswith("(deleted)")
    assert sorted(srv.worker_pids()) == before
    assert all(http(srv.port, "GET", "/hello").status == 200 for _ in range(10))
    upgrade(srv, binary, "Upgrade complete")   # once a good binary is in place, USR2 works


def test_usr2_whose_new_workers_cannot_boot_rolls_back_to_the_previous_binary(server_factory, tmp_path):
    binary = installed(tmp_path)
    real = tmp_path / "bin" / "real"
    shutil.copy(BIN, real)
    srv = server_factory(workers=2, binary=str(binary))
    before = sorted(srv.worker_pids())
    # passes its check (the configuration resolves), but its workers cannot create WORKING_DIR
    replace(binary, f'#!/bin/sh\nWORKING_DIR=/proc/forbidden/x exec {real} "$@"\n')
    srv.signal(signal.SIGUSR2)
    wait_for(lambda: "Rolled back in place: adopted 2 worker(s) of generation 1" in srv.log(), 20,
             what="the rollback")
    log = srv.log()
    assert "upgrade failed: the new binary's workers cannot boot; going back to the previous binary" in log
    assert srv.proc.poll() is None
    assert sorted(srv.worker_pids()) == before, "the old workers never stopped"
    assert exe(srv.pid).endswith("(deleted)"), "the master runs the previous binary again"
    environ = open(f"/proc/{srv.pid}/environ", "rb").read().split(b"\0")
    assert b"WORKING_DIR=/proc/forbidden/x" not in environ, "with its own environment"
    for _ in range(10):
        assert http(srv.port, "GET", "/hello").status == 200
    # it still supervises: a killed worker is replaced by the previous binary's code
    os.kill(before[0], signal.SIGKILL)
    wait_for(lambda: len(srv.worker_pids()) == 2 and before[0] not in srv.worker_pids(), 10, what="a replacement")
    assert http(srv.port, "GET", "/hello").status == 200
