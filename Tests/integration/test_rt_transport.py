"""How the RT client reaches RT (libcurl through the Curl module), through the real binary:
certificates verified against RT_CA_FILE with real TLS (a private CA, Python's ssl server as a
stand-in RT), proxies from the environment (a tiny forward proxy that records what it was
asked), and one deadline shared by several calls. RT's own answers are tested in
test_rt_client.py against a real RT 5."""
import json
import select
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import run_cli


def one_line(text):
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {text!r}"
    return lines[0]


def make_certificates(directory):
    """A private CA, a certificate it signed for 127.0.0.1, and a self-signed one."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-days", "2", "-subj", "/CN=rt test CA", "-keyout", "ca.key", "-out", "ca.pem",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    openssl("req", "-new", *key, "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr")
    (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "server.ext", "-out", "server.pem")
    openssl("req", "-x509", *key, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", "self.key", "-out", "self.pem")
    return directory


class FakeRT(BaseHTTPRequestHandler):
    """Answers `GET /REST/2.0/rt` as RT 5 does; nothing else."""
    def do_GET(self):
        body = json.dumps({"Version": "5.0.3"}).encode() if self.path == "/REST/2.0/rt" else b"{}"
        self.send_response(200 if self.path == "/REST/2.0/rt" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve_tls(directory, name):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / f"{name}.pem", directory / f"{name}.key")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRT)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def certificates(tmp_path):
    return make_certificates(tmp_path)


def test_private_ca_is_trusted_with_rt_ca_file(certificates):
    server = serve_tls(certificates, "server")
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        env = {"RT_URL": url, "RT_TOKEN": "t", "RT_TIMEOUT": "5"}
        result = run_cli("rt-check", env={**env, "RT_CA_FILE": str(certificates / "ca.pem")})
        assert result.returncode == 0, result.stderr
        assert one_line(result.stdout) == f"RT at {url}: ok (RT 5.0.3, token auth)"
        # without RT_CA_FILE the system's CAs do not know the private CA: refused
        result = run_cli("rt-check", env=env)
        assert result.returncode == 1
        line = one_line(result.stderr)
        assert line.startswith(f"error: RT at {url}: TLS: the server's certificate is not trusted: "), line
    finally:
        server.shutdown()


def test_a_certificate_the_ca_did_not_sign_is_refused(certificates):
    server = serve_tls(certificates, "self")
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        result = run_cli("rt-check", env={"RT_URL": url, "RT_TOKEN": "t", "RT_CA_FILE": str(certificates / "ca.pem")})
        assert result.returncode == 1
        assert "certificate is not trusted" in one_line(result.stderr)
    finally:
        server.shutdown()


def test_a_missing_ca_file_is_a_configuration_error():
    result = run_cli("rt-check", env={"RT_URL": "https://127.0.0.1:1", "RT_TOKEN": "t", "RT_CA_FILE": "/no/ca.pem"})
    assert result.returncode == 1
    assert one_line(result.stderr) == \
        "error: RT at https://127.0.0.1:1: CA file /no/ca.pem: No such file or directory"


class ForwardProxy:
    """An HTTP proxy: absolute-form requests are forwarded to `upstream` (whatever host they
    name), CONNECT is tunnelled to `upstream`. Each request line is recorded."""
    def __init__(self, upstream):
        self.upstream = upstream
        self.requests = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        with client, socket.create_connection(self.upstream) as upstream:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode()
            self.requests.append(line)
            if line.startswith("CONNECT "):
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                rest = head.split(b"\r\n\r\n", 1)[1]
            else:
                method, target, version = line.split(" ", 2)
                path = "/" + target.split("://", 1)[1].split("/", 1)[1]
                rest = head.replace(line.encode(), f"{method} {path} {version}".encode(), 1)
            if rest:
                upstream.sendall(rest)
            sockets = [client, upstream]
            while True:
                ready, _, _ = select.select(sockets, [], [], 10)
                if not ready:
                    return
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is client else client).sendall(data)

    def close(self):
        self.listener.close()


NO_PROXY_ENV = {"no_proxy": None, "NO_PROXY": None, "all_proxy": None, "ALL_PROXY": None}


def test_http_proxy_from_the_environment_is_used(rt):
    proxy = ForwardProxy(("127.0.0.1", rt.port))
    try:
        # a name that resolves nowhere: only the proxy can reach it
        url = f"http://rt.proxied.invalid:{rt.port}"
        result = run_cli("rt-check", env={**rt.env(RT_URL=url), **NO_PROXY_ENV,
                                          "http_proxy": f"http://127.0.0.1:{proxy.port}"})
        assert result.returncode == 0, result.stderr
        assert one_line(result.stdout).startswith(f"RT at {url}: ok (RT 5.")
        assert proxy.requests == [f"GET {url}/REST/2.0/rt HTTP/1.1"]
        # no_proxy names the host: straight to it, which does not resolve
        result = run_cli("rt-check", env={**rt.env(RT_URL=url, RT_TIMEOUT="3"), **NO_PROXY_ENV,
                                          "http_proxy": f"http://127.0.0.1:{proxy.port}",
                                          "no_proxy": "rt.proxied.invalid"})
        assert result.returncode == 1 and "DNS lookup failed" in result.stderr, result.stderr
        assert len(proxy.requests) == 1
    finally:
        proxy.close()


def test_https_proxy_tunnels_and_the_certificate_is_still_verified(certificates):
    server = serve_tls(certificates, "server")
    proxy = ForwardProxy(("127.0.0.1", server.server_address[1]))
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        env = {"RT_URL": url, "RT_TOKEN": "t", "RT_TIMEOUT": "5", **NO_PROXY_ENV,
               "https_proxy": f"http://127.0.0.1:{proxy.port}"}
        result = run_cli("rt-check", env={**env, "RT_CA_FILE": str(certificates / "ca.pem")})
        assert result.returncode == 0, result.stderr
        assert proxy.requests == [f"CONNECT 127.0.0.1:{server.server_address[1]} HTTP/1.1"]
        result = run_cli("rt-check", env=env)
        assert result.returncode == 1 and "certificate is not trusted" in result.stderr, result.stderr
    finally:
        proxy.close()
        server.shutdown()
