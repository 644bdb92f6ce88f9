#!/usr/bin/env python3
"""A loopback HTTP/1.1 server that misbehaves on request, for the HTTP client's tests.

    test-server.py [--tls CERT KEY]

Listens on 127.0.0.1 on a free port, prints the port on stdout, and serves each connection
in a thread until killed. The path chooses the answer:

    /hello          200, Content-Length body "hello"
    /echo           200, the request head and body as the response body
    /chunked        200, chunked body "hello, chunked world" in three chunks, with a trailer
    /close          200, no Content-Length: the body ends when the connection closes
    /interim        100 Continue, then 200 "after interim"
    /sleep?s=N      waits N seconds, then 200 "slept"
    /trickle        sends the head, then one body byte a second (forever)
    /early-close    closes the connection without answering
    /truncated      Content-Length 100, sends 10 bytes, closes
    /big?n=N        200 with a body of N bytes
    /garbage        a response that is not HTTP
"""
import socket
import ssl
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head, rest


def respond(conn, head, body):
    target = head.split(b"\r\n")[0].split(b" ")[1].decode()
    url = urlsplit(target)
    query = parse_qs(url.query)
    path = url.path
    if path == "/hello":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello")
    elif path == "/echo":
        payload = head + b"\r\n\r\n" + body
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
    elif path == "/chunked":
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in (b"hello, ", b"chunked", b" world"):
            conn.sendall(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
            time.sleep(0.01)
        conn.sendall(b"0\r\nX-Trailer: yes\r\n\r\n")
    elif path == "/close":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ")
        time.sleep(0.01)
        conn.sendall(b"the end")
    elif path == "/interim":
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nafter interim")
    elif path == "/sleep":
        time.sleep(float(query.get("s", ["1"])[0]))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nslept")
    elif path == "/trickle":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        while True:
            conn.sendall(b"x")
            time.sleep(1)
    elif path == "/early-close":
        pass
    elif path == "/truncated":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    elif path == "/big":
        n = int(query.get("n", ["1000000"])[0])
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n + b"b" * n)
    elif path == "/garbage":
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
    else:
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


def serve(conn, context):
    try:
        if context:
            conn = context.wrap_socket(conn, server_side=True)
        head, body = read_request(conn)
        if head is not None:
            respond(conn, head, body)
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    context = None
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, context), daemon=True).start()


if __name__ == "__main__":
    main()
