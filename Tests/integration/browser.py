"""A small WebDriver client for the browser tests: headless Chromium driven by Debian's
`chromedriver` over the W3C WebDriver HTTP protocol, with nothing but the standard library
(`urllib`), so CI needs no pip install.

    with Browser() as browser:
        browser.get(url)
        browser.click(browser.find("a[href='/tags']"))
        browser.wait_for("p.message.ok")

Each `Browser` starts its own `chromedriver --port=FREE` in a temporary directory that also
holds Chromium's profile (`--user-data-dir`) and `HOME`, so nothing is shared between
browsers or left on the machine. `close()` ends the session, stops chromedriver and kills
whatever of its processes is still running; `leftover_processes()` says what survived (the
fixture in browser_harness.py asserts that nothing does).

Where the protocol has no command (submitting a form), a line of JavaScript does it; the
one chromedriver extension used is `cdp(...)` (Chrome DevTools Protocol), for printing with
the page's own CSS `@page` size, which WebDriver's /print cannot ask for."""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# Runs chromedriver as its child and reaps every process orphaned under it. Chromium's browser
# process exits before some of its own children (zygotes, crashpad handlers); they would be
# handed to PID 1, which in a container may never reap them and leave `[chromium] <defunct>`
# behind. As a child subreaper (prctl PR_SET_CHILD_SUBREAPER) this process receives them
# instead, waits for every one, and exits with chromedriver's status once none is left.
# SIGTERM is passed on to chromedriver. Should the test process die without closing the
# browser (a CI timeout), the kernel sends this one SIGHUP (PR_SET_PDEATHSIG) and it kills its
# whole process group, which is chromedriver and Chromium.
REAPER = """
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
signal.signal(signal.SIGHUP, lambda *_: os.killpg(0, signal.SIGKILL))
if libc.prctl(36, 1, 0, 0, 0) != 0 or libc.prctl(1, signal.SIGHUP, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER, PR_SET_PDEATHSIG) failed")
if os.getppid() != int(sys.argv[1]):
    os.killpg(0, signal.SIGKILL)   # the test process is gone already
driver = os.fork()
if driver == 0:
    os.execv(sys.argv[2], sys.argv[2:])
signal.signal(signal.SIGTERM, lambda *_: os.kill(driver, signal.SIGTERM))
code = 1
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        sys.exit(code)
    if pid == driver:
        code = os.waitstatus_to_exitcode(status)
"""

# The key under which WebDriver passes an element reference (W3C WebDriver, "Elements").
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"

# Debian's /usr/bin/chromium is a shell wrapper that adds extensions and flags from
# /etc/chromium.d; the browser itself is /usr/lib/chromium/chromium.
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER_CANDIDATES = ("chromedriver", "/usr/lib/chromium/chromedriver")

CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",              # the tests run as root in CI; the sandbox refuses root
    "--disable-gpu",
    "--disable-dev-shm-usage",   # containers have a small /dev/shm
    "--disable-extensions",
    "--disable-crash-reporter",  # no crashpad handler process to outlive the browser
    "--no-first-run",
)


class WebDriverError(AssertionError):
    """A WebDriver command failed: `error` is the protocol's error code ("no such element")."""

    def __init__(self, command: str, error: str, message: str):
        super().__init__(f"{command}: {error}: {message}")
        self.error = error


@dataclass(frozen=True)
class Element:
    """A reference to an element of the current page (stale once the page changes)."""
    id: str

    def to_json(self):
        return {ELEMENT_KEY: self.id}


def find_executable(env_name: str, candidates) -> str:
    """The program named by the environment variable, else the first candidate found."""
    chosen = os.environ.get(env_name)
    if chosen:
        return chosen
    for name in candidates:
        path = shutil.which(name) if "/" not in name else (name if os.access(name, os.X_OK) else None)
        if path:
            return path
    raise AssertionError(f"none of {', '.join(candidates)} is installed (set {env_name}, or "
                         "apt-get install chromium chromium-driver: make deps does)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_table():
    """{pid: (ppid, start time, state)} for every process, from /proc/PID/stat."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        table[int(entry)] = (int(fields[1]), int(fields[19]), fields[0])
    return table


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Browser:
    """One chromedriver and one headless Chromium session. Not thread-safe."""

    def __init__(self, timeout: float = 10.0, window_size=(1280, 1024)):
        self.timeout = timeout
        self.directory = Path(tempfile.mkdtemp(prefix="browser-"))
        self.driver_log = self.directory / "chromedriver.log"
        self.port = _free_port()
        self.session = None
        self._closed = False
        self._known = {}   # pid -> start time, of every process of ours seen running
        self.killed = []   # what close() had to SIGKILL
        chromium = find_executable("CHROMIUM_BIN", CHROMIUM_CANDIDATES)
        chromedriver = find_executable("CHROMEDRIVER_BIN", CHROMEDRIVER_CANDIDATES)
        env = {**os.environ, "HOME": str(self.directory), "XDG_CONFIG_HOME": str(self.directory / "config"),
               "XDG_CACHE_HOME": str(self.directory / "cache")}
        self.driver = subprocess.Popen(
            [sys.executable, "-c", REAPER, str(os.getpid()), chromedriver, f"--port={self.port}", f"--log-path={self.driver_log}"],
            cwd=self.directory, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            self._wait_until_driver_ready()
            args = [*CHROMIUM_ARGS, f"--window-size={window_size[0]},{window_size[1]}",
                    f"--user-data-dir={self.directory / 'profile'}"]
            answer = self._command("POST", "/session", {"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": "normal",
                "goog:chromeOptions": {"binary": chromium, "args": args},
                "goog:loggingPrefs": {"browser": "ALL"},
                "timeouts": {"implicit": 0, "pageLoad": int(timeout * 1000), "script": int(timeout * 1000)},
            }}}, session=False)
            self.session = answer["sessionId"]
            self._remember_processes()
        except BaseException:
            self.close()
            raise

    # --- lifecycle ----------------------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self, grace: float = 15.0) -> list:
        """Ends the session (chromedriver quits Chromium) and stops chromedriver; whatever of
        ours is still running after `grace` seconds is SIGKILLed. Returns what had to be
        killed ("pid cmdline"), empty when everything exited by itself. Idempotent."""
        if self._closed:
            return []
        self._closed = True
        self._remember_processes()
        if self.session and self.driver.poll() is None:
            try:
                self._command("DELETE", "", timeout=grace + 5)
            except (OSError, AssertionError):
                pass   # the driver or the browser is gone already: the kills below clean up
        self.session = None
        if self.driver.poll() is None:
            self.driver.terminate()   # the reaper exits once chromedriver and all under it have
        try:
            self.driver.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        killed = self.leftover_processes()
        for line in killed:
            try:
                os.kill(int(line.split(" ", 1)[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.driver.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.driver.pid, signal.SIGKILL)   # its own session: chromedriver's group
            except ProcessLookupError:
                pass
            self.driver.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
        self.killed = killed
        return killed

    def leftover_processes(self) -> list:
        """Processes of this browser still alive (zombies count as gone): each "pid cmdline"."""
        table = process_table()
        alive = []
        for pid, started in self._known.items():
            entry = table.get(pid)
            if entry and entry[1] == started and entry[2] not in ("Z", "X"):
                alive.append(f"{pid} {cmdline(pid)[:200]}")
        # Anything started since the last look: descendants, or a process naming our profile.
        for pid, (_, started, state) in table.items():
            if pid not in self._known and state not in ("Z", "X") and str(self.directory) in cmdline(pid):
                alive.append(f"{pid} {cmdline(pid)[:200]}")
        return alive

    def _remember_processes(self):
        """Notes chromedriver and every descendant of it, and anything naming our directory,
        so that close() can find them after they are orphaned."""
        table = process_table()
        children = {}
        for pid, (ppid, _, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        pending = [self.driver.pid]
        while pending:
            pid = pending.pop()
            if pid in table:
                self._known[pid] = table[pid][1]
                pending.extend(children.get(pid, ()))
        marker = str(self.directory)
        for pid, (_, started, _) in table.items():
            if pid not in self._known and marker in cmdline(pid):
                self._known[pid] = started

    # --- protocol -----------------------------------------------------------------------

    def _wait_until_driver_ready(self):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.driver.poll() is not None:
                raise AssertionError(f"chromedriver exited with {self.driver.returncode}:\n{self._driver_log_tail()}")
            try:
                if self._command("GET", "/status", session=False, timeout=2)["ready"]:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"chromedriver not ready after {self.timeout}s:\n{self._driver_log_tail()}")

    def _driver_log_tail(self, lines=30) -> str:
        try:
            return "\n".join(self.driver_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no chromedriver log)"

    def _command(self, method: str, path: str, body=None, session=True, timeout=None):
        """One WebDriver command; returns its `value`, raises WebDriverError for its errors."""
        url = f"http://127.0.0.1:{self.port}" + (f"/session/{self.session}" if session else "") + path
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout + 20) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as failure:
            try:
                value = json.loads(failure.read()).get("value", {})
            except ValueError:
                value = {}
            raise WebDriverError(f"{method} {path}", value.get("error", str(failure.code)),
                                 value.get("message", "")) from None
        return answer.get("value")

    def _element_path(self, element: Element, suffix: str) -> str:
        return f"/element/{element.id}{suffix}"

    @staticmethod
    def _decode(value):
        """Element references in a result become Elements."""
        if isinstance(value, dict):
            if ELEMENT_KEY in value:
                return Element(value[ELEMENT_KEY])
            return {k: Browser._decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [Browser._decode(v) for v in value]
        return value

    @staticmethod
    def _encode(value):
        if isinstance(value, Element):
            return value.to_json()
        if isinstance(value, (list, tuple)):
            return [Browser._encode(v) for v in value]
        if isinstance(value, dict):
            return {k: Browser._encode(v) for k, v in value.items()}
        return value

    # --- navigation and the page --------------------------------------------------------

    def get(self, url: str):
        """Opens `url` and returns once it has loaded."""
        self._command("POST", "/url", {"url": url})

    @property
    def current_url(self) -> str:
        return self._command("GET", "/url")

    @property
    def page_source(self) -> str:
        """The current DOM serialized (not the bytes the server sent)."""
        return self._command("GET", "/source")

    @property
    def title(self) -> str:
        return self._command("GET", "/title")

    def find(self, css: str) -> Element:
        """The first element matching `css`; raises WebDriverError("no such element") if none."""
        return Element(self._command("POST", "/element", {"using": "css selector", "value": css})[ELEMENT_KEY])

    def find_all(self, css: str) -> list:
        found = self._command("POST", "/elements", {"using": "css selector", "value": css})
        return [Element(item[ELEMENT_KEY]) for item in found]

    def click(self, element: Element):
        """Clicks like a user (scrolled into view, at its centre); a link or submit button
        navigates, and the click returns once the new page has loaded."""
        self._command("POST", self._element_path(element, "/click"))

    def clear(self, element: Element):
        self._command("POST", self._element_path(element, "/clear"))

    def type(self, element: Element, text: str, clear: bool = False):
        """Types `text` into a field as key presses (after emptying it if `clear`)."""
        if clear:
            self.clear(element)
        self._command("POST", self._element_path(element, "/value"), {"text": text})

    def submit(self, element: Element):
        """Submits the form `element` is (or is in) the way its submit button would: with the
        form's validation and its submit event (`requestSubmit`). WebDriver has no command
        for it."""
        self.execute("var f = arguments[0].form || arguments[0]; f.requestSubmit();", element)

    def text(self, element: Element) -> str:
        """The element's rendered text (as a user sees it: hidden parts left out)."""
        return self._command("GET", self._element_path(element, "/text"))

    def attribute(self, element: Element, name: str):
        """The attribute as written in the page, or None."""
        return self._command("GET", self._element_path(element, f"/attribute/{name}"))

    def property(self, element: Element, name: str):
        """The DOM property (an input's current `value`, a link's resolved `href`)."""
        return self._command("GET", self._element_path(element, f"/property/{name}"))

    def cookies(self) -> list:
        """The cookies the browser holds for the current page: dicts with name, value,
        httpOnly, secure, sameSite, path..."""
        return self._command("GET", "/cookie")

    def delete_cookies(self):
        self._command("DELETE", "/cookie")

    def execute(self, script: str, *args):
        """Runs `script` as a function body in the page with `args` (Elements allowed) as
        `arguments`; returns what it returns (elements as Elements)."""
        return self._decode(self._command("POST", "/execute/sync", {"script": script, "args": self._encode(args)}))

    def console(self) -> list:
        """The page's console messages and errors since the last call (uncaught exceptions,
        failed loads): dicts with level ("SEVERE", "WARNING", "INFO"), message, timestamp.
        A chromedriver extension (/se/log): WebDriver has no command for it."""
        return self._command("POST", "/se/log", {"type": "browser"})

    def wait_for(self, what, timeout: float = None, interval: float = 0.05):
        """Polls until `what` holds and returns it: a CSS selector (returns the first matching
        Element) or a predicate taking this browser (returns its first truthy value)."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            if isinstance(what, str):
                found = self.find_all(what)
                value = found[0] if found else None
            else:
                value = what(self)
            if value:
                return value
            if time.monotonic() >= deadline:
                shown = what if isinstance(what, str) else getattr(what, "__name__", "the condition")
                raise AssertionError(f"timed out after {timeout}s waiting for {shown} on {self.current_url}")
            time.sleep(interval)

    # --- printing -----------------------------------------------------------------------

    def print_to_pdf(self, **options) -> bytes:
        """The current page printed to PDF (WebDriver's /print) as bytes. Options as in the
        spec, in centimetres, snake_case accepted: page={"width": 10, "height": 6.2},
        margin={"top": 0, ...}, background=True, shrink_to_fit=False, orientation, scale,
        page_ranges."""
        def camel(name):
            head, *rest = name.split("_")
            return head + "".join(part.title() for part in rest)
        body = {camel(name): value for name, value in options.items()}
        return base64.b64decode(self._command("POST", "/print", body))

    def screenshot(self) -> bytes:
        """The viewport as PNG bytes (for looking at a failure)."""
        return base64.b64decode(self._command("GET", "/screenshot"))

    def cdp(self, command: str, **params):
        """A Chrome DevTools Protocol command through chromedriver (goog/cdp/execute)."""
        return self._command("POST", "/goog/cdp/execute", {"cmd": command, "params": params})
