"""The district's directory against a real slapd (Tests/ldap/slapd-server.sh: a test CA,
LDAPS and StartTLS, tech1 in it-staff, teacher1 in teachers, nobody1 in neither), through
`request-tracker-utils user check NAME` (which signs a user in exactly as the sign-in page does
and says which role they get, or why not, in one line) and through the sign-in page itself."""
import html
import re
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from conftest import run_cli, sign_in
from test_app import prepared, request

SCRIPT = Path(__file__).resolve().parents[1] / "ldap" / "slapd-server.sh"
PASSWORDS = {"tech1": "tech1-secret", "teacher1": "Lehrer Paßwort 1", "nobody1": "nobody1-secret"}


def start(directory, *options):
    out = subprocess.run([str(SCRIPT), "start", str(directory), *options], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    ldap, ldaps = out.stdout.split()[:2]
    return ldap, ldaps


@pytest.fixture
def slapd(tmp_path):
    directory = tmp_path / "slapd"
    uris = start(directory)
    yield directory, uris
    subprocess.run([str(SCRIPT), "stop", str(directory)], capture_output=True, timeout=30)


def settings(directory, uri, **extra):
    env = {"LDAP_SERVER": uri, "LDAP_BASE_DN": "dc=example,dc=org",
           "LDAP_USER_DN_TEMPLATE": "uid=%s,ou=people,dc=example,dc=org", "LDAP_TECH_GROUP": "it-staff",
           "LDAP_TEACHER_GROUPS": "teachers", "LDAP_CA_CERT_FILE": str(directory / "ca.pem"), "LDAP_TIMEOUT": "3"}
    env.update(extra)
    return env


def check(tmp_path, env, name, password):
    return run_cli("user", "check", name, env={"WORKING_DIR": str(tmp_path / "var"), **env}, input=password + "\n")


def test_each_user_gets_their_role_over_ldaps_and_starttls(tmp_path, slapd):
    directory, (ldap, ldaps) = slapd
    for uri in (ldaps, ldap):
        env = settings(directory, uri)
        tech = check(tmp_path, env, "tech1", PASSWORDS["tech1"])
        assert tech.returncode == 0 and "tech1 signs in as technology staff" in tech.stdout, tech.stderr
        teacher = check(tmp_path, env, "teacher1", PASSWORDS["teacher1"])
        assert teacher.returncode == 0 and "teacher1 signs in as teacher" in teacher.stdout, teacher.stderr
        nobody = check(tmp_path, env, "nobody1", PASSWORDS["nobody1"])
        assert nobody.returncode == 1 and "in no group that may use this tool" in nobody.stderr
        assert len(nobody.stderr.strip().splitlines()) == 1


def test_a_wrong_password_or_unknown_user_is_refused_and_never_shown(tmp_path, slapd):
    directory, (_, ldaps) = slapd
    env = settings(directory, ldaps)
    for name, password in (("tech1", "not-the-password-7"), ("nosuchuser", "not-the-password-7"), ("tech1", "")):
        out = check(tmp_path, env, name, password)
        assert out.returncode == 1, out.stdout
        assert "refused the name or password" in out.stderr or "password is empty" in out.stderr, out.stderr
        assert "not-the-password-7" not in out.stderr + out.stdout
        assert len(out.stderr.strip().splitlines()) == 1


def test_a_certificate_the_ca_did_not_sign_is_refused(tmp_path):
    directory = tmp_path / "untrusted"
    _, ldaps = start(directory, "--untrusted-cert")
    try:
        out = check(tmp_path, settings(directory, ldaps), "tech1", PASSWORDS["tech1"])
        assert out.returncode == 1 and "certificate" in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
    finally:
        subprocess.run([str(SCRIPT), "stop", str(directory)], capture_output=True, timeout=30)


def test_a_stopped_directory_is_one_line_within_the_timeout(tmp_path, slapd):
    directory, (_, ldaps) = slapd
    subprocess.run([str(SCRIPT), "stop", str(directory)], capture_output=True, timeout=30)
    started = time.monotonic()
    out = check(tmp_path, settings(directory, ldaps, LDAP_TIMEOUT="2"), "tech1", PASSWORDS["tech1"])
    elapsed = time.monotonic() - started
    assert out.returncode == 1 and "could not be asked" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert elapsed < 10, elapsed


def test_check_config_names_what_the_directory_lacks(tmp_path):
    out = run_cli("check-config", env={"WORKING_DIR": str(tmp_path / "var"), "LDAP_SERVER": "ldaps://dc.example.org",
                                       "LDAP_TIMEOUT": "40"})
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert any("'ldap_base_dn'" in line for line in lines), lines
    assert any("'ldap_tech_group'" in line for line in lines), lines
    assert any("ldap_upn_suffix" in line and "ldap_user_dn_template" in line for line in lines), lines
    assert any("'ldap_timeout'" in line and "below 'timeout'" in line for line in lines), lines
    bad = run_cli("check-config", env={"WORKING_DIR": str(tmp_path / "var"), "LDAP_SERVER": "http://dc"})
    assert bad.returncode == 2 and "ldap_server" in bad.stderr and "ldaps://" in bad.stderr


# --- the sign-in page with the directory ------------------------------------------------------

def web_server(tmp_path, server_factory, env):
    prepared(tmp_path)
    return server_factory(env=env)


def test_the_sign_in_page_signs_directory_users_in_with_their_role(tmp_path, server_factory, slapd):
    directory, (_, ldaps) = slapd
    srv = web_server(tmp_path, server_factory, settings(directory, ldaps))
    status, _, tech = sign_in(srv.port, name="tech1", password=PASSWORDS["tech1"], next_path="/tags")
    assert status == 303 and tech
    status, _, page = request(srv.port, "GET", "/tags", headers={"Cookie": tech})
    assert status == 200 and b"tech1 \xc2\xb7 <a href=\"/logout\">Sign out</a>" in page
    status, _, teacher = sign_in(srv.port, name="Teacher1", password=PASSWORDS["teacher1"])
    assert status == 303 and teacher
    status, _, page = request(srv.port, "GET", "/tags", headers={"Cookie": teacher})
    assert status == 403 and b"you are signed in as teacher1 (teacher)" in page
    for name, password in (("nobody1", PASSWORDS["nobody1"]), ("tech1", "not-the-password-7")):
        status, _, session = sign_in(srv.port, name=name, password=password)
        assert status == 401 and session is None
    # the directory's users have accounts made at their first sign-in, with the directory's role
    listed = run_cli("user", "list", env=srv.env).stdout
    assert re.search(r"^tech1\ttech\tdirectory\tenabled\tlast sign-in ", listed, re.M), listed
    assert re.search(r"^teacher1\tteacher\tdirectory\t", listed, re.M), listed
    assert "nobody1" not in listed
    # each failure logged once with the name and address; no password anywhere
    failures = [line for line in srv.log().splitlines() if "failed sign-in" in line]
    assert len(failures) == 2 and '"nobody1"' in failures[0] and "127.0.0.1" in failures[0]
    for password in PASSWORDS.values():
        assert password not in srv.log() + srv.access_log()
    assert "not-the-password-7" not in srv.log()


def post_sign_in(srv, name, password):
    """The sign-in form, filled in and posted: (status, headers, page)."""
    status, headers, body = request(srv.port, "GET", "/login")
    assert status == 200
    token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"csrf_token": token, "name": name, "password": password}).encode()
    return request(srv.port, "POST", "/login", form, {"Cookie": headers["set-cookie"].split(";")[0],
                                                       "Content-Type": "application/x-www-form-urlencoded"})


def test_a_stopped_directory_is_one_sentence_on_the_sign_in_page_within_the_timeout(tmp_path, server_factory, slapd):
    directory, (_, ldaps) = slapd
    srv = web_server(tmp_path, server_factory, settings(directory, ldaps, LDAP_TIMEOUT="2"))
    workers = srv.worker_pids()
    subprocess.run([str(SCRIPT), "stop", str(directory)], capture_output=True, timeout=30)
    started = time.monotonic()
    status, headers, page = post_sign_in(srv, "tech1", PASSWORDS["tech1"])
    elapsed = time.monotonic() - started
    assert status == 503 and "set-cookie" not in headers
    message = html.unescape(re.search(rb'<p class="message error" role="alert">([^<]*)</p>', page).group(1).decode())
    assert message == ("The district's directory did not answer, so nobody can sign in with it just now; "
                       "try again in a minute.")
    assert elapsed < 2 + 3, elapsed      # LDAP_TIMEOUT, plus the page's own work
    # the worker that waited lives and serves; the log says why, once
    assert srv.worker_pids() == workers and srv.proc.poll() is None
    assert request(srv.port, "GET", "/login")[0] == 200
    assert srv.log().count("the directory could not be asked") == 1
    assert PASSWORDS["tech1"] not in srv.log()
