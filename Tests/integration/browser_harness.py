"""The `browser` fixture: a fresh headless Chromium (browser.py) for each test, so every test
starts with an empty cookie jar and profile, closed after the test whatever its outcome.

    from browser_harness import browser  # noqa: F401  (the fixture)

Teardown fails the test if any chromedriver or Chromium process of it outlived the session
or had to be killed: the browser tests leave nothing running. Starting one costs about a
second, well inside the browser tests' budget."""
import pytest

from browser import Browser


@pytest.fixture
def browser():
    session = Browser()
    try:
        yield session
    finally:
        killed = session.close()
        left = session.leftover_processes()
    assert not left, f"still running after close(): {left}"
    assert not killed, f"did not exit when the session ended and had to be killed: {killed}"
