"""How workers take connections: accept paused at max_connections and resumed when one closes;
reuse_port giving each worker a listening socket of its own, also across a reload."""
import signal
import threading

from conftest import (Conn, accepted_connections, assert_stays, build_request, http, listening_sockets,
                      pid_alive, queued_connections, wait_for)


def test_accept_paused_at_max_connections_until_one_closes(server_factory):
    srv = server_factory(workers=1, args=["--max-connections", "2", "--keepalive", "30"])
    idle = [Conn(srv.port) for _ in range(2)]
    try:
        for c in idle:                                   # accepted, answered, then kept open idle
            assert c.request("GET", "/hello").status == 200
        assert accepted_connections(srv.port) == 2
        with Conn(srv.port, timeout=10) as third:
            third.send(build_request("GET", "/hello"))
            wait_for(lambda: queued_connections(srv.port) == 1, 5,
                     what="the third connection waiting in the listen queue")
            # the worker has max_connections open: it leaves the third one in the queue
            assert_stays(lambda: queued_connections(srv.port) == 1 and accepted_connections(srv.port) == 2,
                         1.0, what="the third connection not accepted while two are open")
            idle[0].close()
            r = third.read_response()                    # accepted and served once one closed
            assert r.status == 200 and r.body == b"Hello, World!"
        assert idle[1].request("GET", "/hello").status == 200
    finally:
        for c in idle:
            c.close()


def _serving_pids(srv, label, count=40):
    """Sends `count` requests on fresh connections; returns the pids (access log %(p)s) of the
    workers that answered them."""
    marks = {f"/healthz?{label}={i}" for i in range(count)}
    for path in marks:
        assert http(srv.port, "GET", path).status == 200

    def answered():
        seen = {}
        for line in srv.access_log().splitlines():
            pid, _, path = line.partition(" ")
            if path in marks:
                seen[path] = int(pid.strip("<>"))   # %(p)s is "<pid>", as in Gunicorn
        return seen if len(seen) == len(marks) else None
    return set(wait_for(answered, 10, what="the access lines of every request").values())


REUSE_PORT_ARGS = ["--reuse-port", "--access-log-format", "%(p)s %(U)s?%(q)s"]


def test_reuse_port_gives_each_worker_its_socket_also_after_a_reload(server_factory):
    srv = server_factory(workers=2, args=REUSE_PORT_ARGS)
    before = srv.worker_pids()
    # the master's shared socket and one per worker, all in one SO_REUSEPORT group
    assert listening_sockets(srv.port) == 1 + 2
    # the kernel spreads new connections over the group: both workers serve
    assert _serving_pids(srv, "before") == set(before)
    srv.signal(signal.SIGHUP)
    wait_for(lambda: "Reload complete: generation 2 is serving" in srv.log(), 15, what="reload complete")
    wait_for(lambda: not any(pid_alive(p) for p in before), 15, what="old workers gone")
    after = srv.worker_pids()
    assert len(after) == 2 and not set(after) & set(before)
    # the old workers' sockets went with them; the new workers have theirs
    wait_for(lambda: listening_sockets(srv.port) == 1 + 2, 5, what="one socket per new worker")
    assert _serving_pids(srv, "after") == set(after)
    assert "reuse_port: cannot open" not in srv.log()


# A draining worker accepts what is queued on its own SO_REUSEPORT socket and closes it at once
# (Worker.closeOwnListeners), so a reload loses nothing even with net.ipv4.tcp_migrate_req=0.
def test_reuse_port_reload_under_steady_requests_fails_nothing(server_factory):
    srv = server_factory(workers=2, args=REUSE_PORT_ARGS)
    before = srv.worker_pids()
    failures, done = [], threading.Event()

    def client():
        while not done.is_set():
            try:
                r = http(srv.port, "GET", "/hello", timeout=5)
                if r.status != 200:
                    failures.append(r.status)
            except OSError as e:
                failures.append(repr(e))
    thread = threading.Thread(target=client)
    thread.start()
    try:
        wait_for(lambda: "GET /hello" in srv.access_log() or "/hello?" in srv.access_log(), 5,
                 what="the client's requests being served")
        srv.signal(signal.SIGHUP)
        wait_for(lambda: "Reload complete: generation 2 is serving" in srv.log(), 15, what="reload complete")
        wait_for(lambda: not any(pid_alive(p) for p in before), 15, what="old workers gone")
    finally:
        done.set()
        thread.join(10)
    assert failures == [], f"requests failed during the reload: {failures}"
