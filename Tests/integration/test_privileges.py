"""user/group: the master binds as root, the workers serve as the unprivileged user."""
import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import run_cli


def status_ids(pid: int) -> tuple[int, int]:
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return int(fields["Uid"].split()[0]), int(fields["Gid"].split()[0])


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_workers_drop_to_user_and_group(server_factory, tmp_path):
    nobody = pwd.getpwnam("nobody")
    # pytest's tmp_path is private to root; nobody needs a path it can traverse.
    var = Path(tempfile.mkdtemp(prefix="rtu-priv-", dir="/tmp"))
    os.chmod(var, 0o755)
    os.chown(var, nobody.pw_uid, nobody.pw_gid)
    try:
        srv = server_factory(args=["--user", "nobody", "--group", str(nobody.pw_gid)],
                             env={"WORKING_DIR": str(var)})
        check_ids(srv, nobody)
    finally:
        shutil.rmtree(var, ignore_errors=True)


def check_ids(srv, nobody):
    assert status_ids(srv.pid) == (0, 0), "the master keeps root to bind and supervise"
    for pid in srv.worker_pids():
        assert status_ids(pid) == (nobody.pw_uid, nobody.pw_gid)
    assert srv.try_get("/hello")


def test_unknown_user_is_a_configuration_error(tmp_path):
    result = run_cli("check-config", "--user", "no-such-user-xyz", cwd=tmp_path)
    assert result.returncode == 2
    assert "user" in result.stderr and "no-such-user-xyz" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
