"""max_worker_memory (issue 14): a worker whose own memory (USS) grows past the limit is
replaced without a gap, as max_requests does: the master starts a new worker first, then the
old one drains, and no request fails meanwhile. The growth is real: `GET /grow?mb=N` (a test
route) allocates and keeps N MiB in the worker that serves it."""
import re
import threading

from conftest import http, wait_for


def test_a_worker_over_max_worker_memory_is_replaced_without_a_failed_request(server_factory):
    srv = server_factory(workers=1, args=("--max-worker-memory", "48"))
    (old,) = srv.worker_pids()
    failures, served, stop = [], [0], threading.Event()

    def load():
        while not stop.is_set():
            try:
                answer = http(srv.port, "GET", "/hello", timeout=5)
                if answer.status == 200:
                    served[0] += 1
                else:
                    failures.append(answer.status)
            except OSError as error:
                failures.append(repr(error))

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        grown = http(srv.port, "GET", "/grow?mb=80", timeout=30)
        assert grown.status == 200 and f"in {old}".encode() in grown.body
        line = wait_for(lambda: re.search(r"worker memory (\d+) MiB \(its own pages, USS\) is over max_worker_memory "
                                          r"\(48 MiB\); asking to be replaced", srv.log()), 10,
                        what="the worker saying it is over the limit")
        assert int(line.group(1)) >= 80
        wait_for(lambda: re.search(rf"Stopping worker {old} gracefully: its memory \(\d+ MiB\) is over "
                                   r"max_worker_memory, replacement is serving", srv.log()), 10,
                 what="the master draining it once its replacement serves")
        wait_for(lambda: srv.worker_pids() and old not in srv.worker_pids(), 15, what="the old worker gone")
        before = served[0]
        wait_for(lambda: served[0] > before + 20, 10, what="the new worker serving")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not failures, failures[:5]
    assert len(srv.worker_pids()) == 1 and "was killed" not in srv.log()
