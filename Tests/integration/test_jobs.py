"""Job workers (issue 13): supervised beside the HTTP workers, they run jobs kept in the
application database, and any HTTP worker answers how a job goes. A job worker killed mid-job
is replaced and the job tried once more, then failed with the reason; HUP lets a running job
finish; TERM waits up to graceful_timeout and the next start picks the job up again; a job
over job_timeout is killed. The jobs here only wait (`POST /test/jobs?seconds=N`, a test
route), so each case is timed by the test and not by Request Tracker."""
import concurrent.futures
import json
import os
import re
import signal

import pytest

from conftest import wait_for
from test_app import prepared, request

pytestmark = pytest.mark.usefixtures("backend")


def start_job(port, seconds):
    status, _, body = request(port, "POST", f"/test/jobs?seconds={seconds}", auth=None)
    assert status == 201, body
    return json.loads(body)["id"]


def job(port, job_id):
    status, _, body = request(port, "GET", f"/api/jobs/{job_id}")
    assert status == 200, body
    return json.loads(body)


def running_pid(srv, job_id, after=0):
    """The job worker the error log says started the job (the `after`-th start)."""
    def started():
        found = re.findall(rf"\[(\d+)\] \[INFO\] job {job_id} \(test-sleep\) started", srv.log())
        return int(found[after]) if len(found) > after else None
    return wait_for(started, 15, what=f"job {job_id} started (#{after + 1})")


def test_jobs_run_in_job_workers_and_any_worker_answers(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(workers=4, job_workers=2)
    assert len(srv.job_worker_pids()) == 2 and len(srv.worker_pids()) == 4
    assert "Using 4 worker(s) and 2 job worker(s)" in srv.log()
    ids = [start_job(srv.port, 2) for _ in range(4)]
    polls = []

    def poll(job_id):
        answers = []
        while True:
            answer = job(srv.port, job_id)     # a new connection each time: any of the 4 workers
            answers.append(answer["state"])
            if answer["state"] in ("done", "failed"):
                return answer, answers

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for answer, states in pool.map(poll, ids):
            polls += states
            assert answer["state"] == "done" and answer["message"] == "slept 2 s", answer
            assert answer["done"] == answer["total"] == 2 and answer["attempts"] == 1
    assert "running" in polls and len(polls) > 20
    starts = re.findall(r"\[(\d+)\] \[INFO\] job \d+ \(test-sleep\) started", srv.log())
    assert set(int(p) for p in starts) == set(srv.job_worker_pids()), "both job workers took jobs"
    assert request(srv.port, "GET", "/api/jobs/999")[0] == 404


def test_a_job_worker_killed_mid_job_is_replaced_and_the_job_retried_once_then_failed(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(job_workers=1)
    job_id = start_job(srv.port, 60)
    first = running_pid(srv, job_id)
    os.kill(first, signal.SIGKILL)
    second = running_pid(srv, job_id, after=1)
    assert second != first and srv.job_worker_pids() == [second]
    assert job(srv.port, job_id)["attempts"] == 2
    log = srv.log()
    assert f"job worker {first} was killed by SIGKILL, which the master did not send" in log
    assert f"while running job {job_id} (test-sleep); replacing it" in log
    assert f"job {job_id} queued again: retrying: job worker {first} was killed by SIGKILL" in log
    os.kill(second, signal.SIGKILL)
    wait_for(lambda: job(srv.port, job_id)["state"] == "failed", 15, what="the job failed")
    failed = job(srv.port, job_id)
    assert failed["message"].startswith(f"job worker {second} was killed by SIGKILL"), failed
    assert failed["message"].endswith("(tried 2 times)") and failed["finished_at"]
    wait_for(lambda: len(srv.job_worker_pids()) == 1, 10, what="a third job worker")
    # the service never stopped serving, and the next job runs
    assert job(srv.port, start_job(srv.port, 0))["state"] in ("queued", "running", "done")


def test_hup_lets_the_running_job_finish(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(job_workers=1)
    job_id = start_job(srv.port, 4)
    old = running_pid(srv, job_id)
    srv.signal(signal.SIGHUP)
    wait_for(lambda: f"Stopping job worker {old} gracefully (after its job)" in srv.log(), 10,
             what="the old job worker told to stop after its job")
    assert os.path.exists(f"/proc/{old}"), "still running its job"
    wait_for(lambda: job(srv.port, job_id)["state"] == "done", 15, what="the job done")
    answer = job(srv.port, job_id)
    assert answer["attempts"] == 1 and answer["message"] == "slept 4 s", answer
    wait_for(lambda: f"job worker {old} exited" in srv.log(), 10, what="the old job worker exited")
    assert old not in srv.job_worker_pids() and len(srv.job_worker_pids()) == 1
    assert "was killed" not in srv.log()


def test_term_waits_graceful_timeout_then_the_next_start_runs_the_job_again(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(job_workers=1, args=("--graceful-timeout", "2"))
    job_id = start_job(srv.port, 30)
    pid = running_pid(srv, job_id)
    srv.signal(signal.SIGTERM)
    assert srv.proc.wait(15) == 0
    log = srv.log()
    assert f"job worker {pid} (running job {job_id}) did not stop in time (graceful_timeout); sending SIGKILL" in log
    again = server_factory(job_workers=1)
    wait_for(lambda: f"job {job_id} queued again: retrying: the server stopped while it ran" in again.log(), 15,
             what="the job picked up again")
    assert job(again.port, job_id)["attempts"] == 2


def test_a_job_over_job_timeout_is_killed(tmp_path, server_factory):
    prepared(tmp_path)
    srv = server_factory(job_workers=1, args=("--job-timeout", "2"))
    job_id = start_job(srv.port, 60)
    wait_for(lambda: job(srv.port, job_id)["state"] == "failed", 30, what="the job failed twice over job_timeout")
    assert re.search(rf"JOB TIMEOUT: job worker \d+ spent 2\.\ds on job {job_id} \(test-sleep\), over the 2\.0s "
                     r"job_timeout; sending SIGABRT", srv.log()), srv.log()
    assert job(srv.port, job_id)["message"].startswith("it ran past job_timeout (2.0s); job worker ")
