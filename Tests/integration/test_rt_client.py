"""The RT client through the real binary (`rt-check`, `rt-asset`) against a real RT 5."""
import json
import socket
import time
import uuid

import pytest

from conftest import run_cli


def timed_cli(*args, env):
    start = time.monotonic()
    result = run_cli(*args, env=env, timeout=60)
    return result, time.monotonic() - start


def one_line(text):
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {text!r}"
    return lines[0]


def test_check_ok(rt):
    result = run_cli("rt-check", env=rt.env())
    assert result.returncode == 0, result.stderr
    assert one_line(result.stdout).startswith(f"RT at {rt.url}: ok (RT 5.")
    assert result.stdout.strip().endswith("token auth)")


def test_check_ok_with_basic_auth(rt):
    result = run_cli("rt-check", env=rt.env(RT_TOKEN=None, RT_USERNAME="root", RT_PASSWORD="password"))
    assert result.returncode == 0, result.stderr
    assert one_line(result.stdout).endswith(", user root)")


def test_check_wrong_token(rt):
    result = run_cli("rt-check", env=rt.env(RT_TOKEN="1-2-not-a-token"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert one_line(result.stderr) == f"error: RT at {rt.url}: RT rejected the credentials (RT_TOKEN)"


def test_check_without_credentials(rt):
    result = run_cli("rt-check", env=rt.env(RT_TOKEN=None))
    assert result.returncode == 1
    assert one_line(result.stderr) == \
        f"error: RT at {rt.url}: no credentials: set RT_TOKEN (or RT_USERNAME and RT_PASSWORD)"


def test_asset_by_tag_and_serial(rt):
    tag, serial = f"T-{uuid.uuid4().hex[:8]}", f"SN-{uuid.uuid4().hex[:10]}"
    asset_id = rt.create_asset(tag, serial=serial, description="Chromebook for the test")
    for argument in (tag, f"serial:{serial}", f"id:{asset_id}"):
        result = run_cli("rt-asset", argument, env=rt.env())
        assert result.returncode == 0, result.stderr
        asset = json.loads(result.stdout)
        assert asset["id"] == asset_id and asset["name"] == tag and asset["serial"] == serial
        assert asset["description"] == "Chromebook for the test" and asset["owner"] == "Nobody"
        assert asset["url"] == f"{rt.url}/Asset/Display.html?id={asset_id}"


def test_asset_sees_changes_made_in_rt(rt):
    asset_id = rt.create_asset(f"T-{uuid.uuid4().hex[:8]}", serial=f"SN-{uuid.uuid4().hex[:10]}")
    status, messages = rt.api("PUT", f"/asset/{asset_id}", {"Owner": "alice", "Status": "in-use"})
    assert status == 200, messages
    asset = json.loads(run_cli("rt-asset", f"id:{asset_id}", env=rt.env()).stdout)
    assert asset["owner"] == "alice" and asset["status"] == "in-use"


def test_seeded_assets(rt):
    asset = json.loads(run_cli("rt-asset", "serial:SN-1001", env=rt.env()).stdout)
    assert asset["name"] == "T-1001" and asset["custom_fields"] == {"Serial Number": ["SN-1001"]}


def test_asset_not_found(rt):
    result = run_cli("rt-asset", "no-such-tag", env=rt.env())
    assert result.returncode == 1
    assert one_line(result.stderr) == f"error: RT at {rt.url}: no asset has the tag 'no-such-tag'"


def test_ambiguous_tag(rt):
    tag = f"T-dup-{uuid.uuid4().hex[:6]}"
    first, second = rt.create_asset(tag), rt.create_asset(tag)
    result = run_cli("rt-asset", tag, env=rt.env())
    assert result.returncode == 1
    assert one_line(result.stderr) == \
        f"error: RT at {rt.url}: 2 assets have the tag '{tag}' (ids {first}, {second}); it should be unique"


def test_usage_errors(rt):
    assert run_cli("rt-asset", env=rt.env()).returncode == 2
    assert run_cli("rt-asset", "id:x", env=rt.env()).returncode == 2
    assert run_cli("rt-check", "extra", env=rt.env()).returncode == 2


def test_rt_url_unset():
    result = run_cli("rt-check", env={"RT_URL": ""})
    assert result.returncode == 1
    assert one_line(result.stderr) == "error: RT_URL is not set: the RT features are off"


def test_rt_down_is_unreachable_quickly(rt):
    with rt.stopped():
        result, seconds = timed_cli("rt-check", env=rt.env())
    assert result.returncode == 1
    assert one_line(result.stderr) == f"error: RT at {rt.url}: connection refused"
    assert seconds < 2, f"took {seconds:.2f}s"


def test_black_hole_times_out_within_rt_timeout():
    # A listening socket that accepts (the kernel completes the handshake) and never answers.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        result, seconds = timed_cli("rt-check", env={"RT_URL": url, "RT_TOKEN": "x", "RT_TIMEOUT": "2"})
    assert result.returncode == 1
    assert one_line(result.stderr) == f"error: RT at {url}: timed out after 2s while waiting for the response"
    assert 2 <= seconds < 3, f"took {seconds:.2f}s"


def test_unresolvable_host():
    result = run_cli("rt-check", env={"RT_URL": "https://rt.invalid", "RT_TOKEN": "x", "RT_TIMEOUT": "2"})
    assert result.returncode == 1
    assert one_line(result.stderr).startswith("error: RT at https://rt.invalid: DNS lookup failed: ")


def test_https_to_plain_rt_times_out_in_the_handshake(rt):
    # RT's Starlet waits for a request head that never comes; the deadline covers the handshake.
    url = rt.url.replace("http://", "https://")
    result, seconds = timed_cli("rt-check", env=rt.env(RT_URL=url, RT_TIMEOUT="1.5"))
    assert result.returncode == 1
    assert one_line(result.stderr) == f"error: RT at {url}: timed out after 1.5s during the TLS handshake"
    assert 1.5 <= seconds < 2.5, f"took {seconds:.2f}s"


@pytest.mark.parametrize("path", ["/REST/1.0", "/nothing-here"])
def test_wrong_api_path_is_a_clear_error(rt, path):
    result = run_cli("rt-check", env=rt.env(RT_API_ENDPOINT=path))
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith(f"error: RT at {rt.url}: "), line


def test_swift_live_rt_suite_passes_against_this_rt(rt):
    """The RTClient's own write tests (LiveRTTests, LiveRTAssetTests), which `swift test` skips without an RT:
    run here, where the session's RT is up. Needs the test build `make unit` made."""
    import os
    import subprocess
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "RT_TEST_URL": rt.url, "RT_TEST_TOKEN": rt.token}
    done = subprocess.run(["swift", "test", "--skip-build", "--filter", "LiveRT"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    for suite in ("LiveRTTests", "LiveRTAssetTests"):
        assert f"Suite {suite} passed" in output and "skipped" not in output.split(f"Suite {suite}")[1][:200], \
            output[-2000:]
