"""A real Request Tracker 5 for the RT client's integration tests, started once per session
by Tests/rt/rt-server.sh (Debian's request-tracker5 on SQLite, on a free loopback port, in a
temporary directory) and seeded with the fixtures that script documents.

    def test_x(rt): ...            # conftest.py makes the session fixture visible everywhere

`rt.url`, `rt.token`; `rt.api(method, path, body)` is plain urllib against REST 2.0;
`rt.create_asset(...)`, `rt.get_asset(id)`; `rt.stopped()` is a context manager that stops
RT and starts it again on the same port (for "RT is down" tests)."""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "rt" / "rt-server.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RT:
    def __init__(self, directory: Path):
        self.directory = directory
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def _script(self, *args, timeout=300):
        result = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"rt-server.sh {' '.join(args)} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}")
        return result.stdout

    def start(self):
        return self._script("start", str(self.port), str(self.directory))

    def seed(self):
        return self._script("seed", str(self.directory))

    def stop(self):
        return self._script("stop", str(self.directory), timeout=60)

    @property
    def token(self) -> str:
        return (self.directory / "root.token").read_text().strip()

    @contextlib.contextmanager
    def stopped(self):
        """RT is down inside the block and up again after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def api(self, method, path, body=None, token=None):
        """(status, parsed JSON) of one REST 2.0 call."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/REST/2.0{path}", data=data, method=method, headers={
            "Authorization": f"token {token or self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def create_asset(self, name, serial=None, description="", catalog="General assets", fields=None):
        """`fields`: more custom fields by name ("Internal Name", "Model", "Funding Source", "Type")."""
        body = {"Name": name, "Catalog": catalog, "Description": description}
        custom = {**({"Serial Number": serial} if serial else {}), **(fields or {})}
        if custom:
            body["CustomFields"] = custom
        status, answer = self.api("POST", "/asset", body)
        assert status == 201, (status, answer)
        return int(answer["id"])

    def get_asset(self, asset_id):
        status, answer = self.api("GET", f"/asset/{asset_id}")
        assert status == 200, (status, answer)
        return answer

    def env(self, **extra):
        """The app's RT settings for this instance; a None value leaves that variable out."""
        settings = {"RT_URL": self.url, "RT_TOKEN": self.token, "RT_TIMEOUT": "5", **extra}
        return {name: value for name, value in settings.items() if value is not None}


@pytest.fixture(scope="session")
def rt():
    if os.geteuid() != 0:
        pytest.skip("the RT harness needs root (apt-get; Debian's rt-server)")
    directory = Path(tempfile.mkdtemp(prefix="rtu-rt-"))
    instance = RT(directory)
    try:
        instance.start()
        instance.seed()
        yield instance
    finally:
        try:
            instance.stop()
        finally:
            shutil.rmtree(directory, ignore_errors=True)
