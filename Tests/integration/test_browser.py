"""The application in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven over WebDriver (browser.py) against the real binary. A person's path through the pages
by clicks and key presses: the home page, issuing tags, a label printed to PDF at its size, a
device checked in and on the day's list, and markup typed into the forms shown as text, each
after signing in through the sign-in page as a person does."""
import base64
import os
import re
import signal
import urllib.parse
import uuid

import pytest

from browser import Browser, cmdline, process_table
from browser_harness import browser  # noqa: F401  (the fixture)
from conftest import TEST_PASSWORD, auth_headers
from test_app import prepared

PAYLOAD = "<b>\"'&"
POINTS_PER_MM = 72 / 25.4


def start(tmp_path, server_factory, env=None):
    prepared(tmp_path)
    srv = server_factory(env=env)
    auth_headers(srv.port, "tech")     # makes the user tester-tech (password TEST_PASSWORD)
    return srv


def sign_in(browser, srv, path, name="tester-tech", password=TEST_PASSWORD):
    """Opens `path` signed out: the server sends the browser to the sign-in page, which after
    the name and password are typed and submitted brings it back to `path`."""
    browser.get(srv.url(path))
    browser.wait_for(lambda b: b.title.startswith("Sign in"))
    assert browser.current_url == srv.url("/login?next=" + urllib.parse.quote(path, safe=""))
    assert browser.execute("return document.activeElement.id;") == "name"
    browser.type(browser.find("#name"), name)
    browser.type(browser.find("#password"), password)
    browser.submit(browser.find("#password"))
    browser.wait_for(lambda b: b.current_url == srv.url(path))


def table_rows(browser, selector="main table tbody tr"):
    """Each row's cells as their text content (the raw characters, not the markup)."""
    return browser.execute(
        "return Array.from(document.querySelectorAll(arguments[0]),"
        " row => Array.from(row.cells, cell => cell.textContent.trim()));", selector)


def count(browser, selector) -> int:
    return browser.execute("return document.querySelectorAll(arguments[0]).length;", selector)


def select_option(browser, select_css, text):
    options = browser.find_all(f"{select_css} option")
    browser.click(next(option for option in options if browser.text(option) == text))


def assert_no_errors(browser, expected=()):
    """Nothing went wrong in the pages since the last look: no script error, no link or
    resource that failed to load (both are SEVERE console entries), except the `expected`
    ones (a refused form's own status), each of which must be there."""
    severe = [entry["message"] for entry in browser.console() if entry["level"] == "SEVERE"]
    for text in expected:
        assert any(text in message for message in severe), (text, severe)
    unexpected = [message for message in severe if not any(text in message for text in expected)]
    assert not unexpected, unexpected


def media_boxes_mm(pdf: bytes) -> list:
    """(width, height) in millimetres of each page's /MediaBox (PDF points, 1/72 inch)."""
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", pdf)
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert boxes and len(boxes) == pages, (boxes, pages)
    return [((float(x1) - float(x0)) / POINTS_PER_MM, (float(y1) - float(y0)) / POINTS_PER_MM)
            for x0, y0, x1, y1 in boxes]


def assert_printed_at(browser, width_mm, height_mm, labels=1):
    """Prints the current page twice: at the label's size through WebDriver's /print, and at
    the size the page's own CSS `@page` rule asks for (what the Print button gets); every page
    of both must be the label's size within 0.5 mm."""
    no_margin = {"top": 0, "bottom": 0, "left": 0, "right": 0}
    sized = browser.print_to_pdf(page={"width": width_mm / 10, "height": height_mm / 10}, margin=no_margin,
                                 background=True, shrink_to_fit=False)
    own = base64.b64decode(browser.cdp("Page.printToPDF", preferCSSPageSize=True, printBackground=True)["data"])
    for what, pdf in (("WebDriver /print at the label size", sized), ("the page's @page size", own)):
        for width, height in media_boxes_mm(pdf):
            assert abs(width - width_mm) <= 0.5 and abs(height - height_mm) <= 0.5, \
                f"{what}: a {width:.2f} × {height:.2f} mm page, the label is {width_mm} × {height_mm} mm"
        # One page per label: nothing else on the page (its title, the Print button) reaches
        # the printer, where it would waste a label.
        assert len(media_boxes_mm(pdf)) == labels, f"{what}: {len(media_boxes_mm(pdf))} pages for {labels} label(s)"



def test_issue_tags_print_a_label_and_check_the_device_in(tmp_path, server_factory, browser):
    srv = start(tmp_path, server_factory)
    sign_in(browser, srv, "/")
    session = {cookie["name"]: cookie for cookie in browser.cookies()}["rtu_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Lax" and session["secure"] is False
    assert browser.text(browser.find("header .user")) == "tester-tech · Sign out"
    assert browser.title == "Request Tracker Utils · Request Tracker Utils"
    assert browser.text(browser.find(".stats .tag")) == "W12-0001"
    # the stylesheet and the script the page links were found and applied
    assert browser.execute("return getComputedStyle(document.querySelector('header')).backgroundColor;") \
        == "rgb(29, 39, 51)"

    browser.click(browser.find("header a[href='/tags']"))
    browser.wait_for(lambda b: b.title.startswith("Asset tags"))
    browser.type(browser.find("#count"), "2", clear=True)
    browser.type(browser.find("#note"), "cart 4")
    browser.click(browser.find("form.card button[type=submit]"))
    message = browser.wait_for("p.message.ok")
    assert browser.text(message) == "Issued 2 tags: W12-0001 to W12-0002."
    assert "/tags?issued=W12-0001&last=W12-0002&count=2" in browser.current_url
    rows = table_rows(browser)
    assert [(row[0], row[2], row[3], row[4]) for row in rows] == [("W12-0002", "tester-tech", "cart 4", "label"),
                                                                  ("W12-0001", "tester-tech", "cart 4", "label")]
    assert browser.text(browser.find("form.card span.tag")) == "W12-0003"

    # its label, from the history table
    browser.click(browser.find("main table tbody tr:last-child a"))
    browser.wait_for(lambda b: b.title.startswith("Label W12-0001"))
    assert browser.current_url == srv.url("/labels/W12-0001")
    assert browser.text(browser.find("p.no-print")).startswith("100 × 62 mm.")
    assert count(browser, ".print-label > svg") == 1
    assert_printed_at(browser, 100, 62)

    # the device comes back
    browser.click(browser.find("header a[href='/checkin']"))
    browser.wait_for(lambda b: b.title.startswith("Check in a device"))
    assert browser.execute("return document.activeElement.id;") == "tag"   # app.js focused it
    browser.type(browser.find("#tag"), "w12-0001")
    browser.type(browser.find("#student"), "Ann Example")
    select_option(browser, "#condition", "fair")
    browser.type(browser.find("#notes"), "scratched lid")
    browser.click(browser.find("form.card button[type=submit]"))
    message = browser.wait_for("p.message.ok")
    assert browser.text(message) == ("Checked in W12-0001 from Ann Example (fair) by tester-tech. "
                                     "Request Tracker is not configured (RT_URL); recorded here only.")
    browser.click(browser.find("main a[href='/checkins']"))
    browser.wait_for(lambda b: b.title.startswith("Check-ins on "))
    rows = table_rows(browser)
    assert len(rows) == 1 and rows[0][1:7] == ["W12-0001", "Ann Example", "fair", "scratched lid", "tester-tech",
                                               "not sent"]
    assert browser.text(browser.find(".stats div")) == "1\ntotal"
    assert_no_errors(browser)

    # signing out: the header's link, then the button (a POST with the session's CSRF token)
    browser.click(browser.find("header .user a[href='/logout']"))
    browser.wait_for(lambda b: b.title.startswith("Sign out"))
    browser.click(browser.find("form.card button[type=submit]"))
    browser.wait_for(lambda b: b.title.startswith("Sign in"))
    assert "rtu_session" not in {cookie["name"] for cookie in browser.cookies()}
    browser.get(srv.url("/checkins"))
    browser.wait_for(lambda b: b.title.startswith("Sign in"))
    assert browser.current_url == srv.url("/login?next=%2Fcheckins")
    assert_no_errors(browser)


@pytest.mark.parametrize("width, height", [("90.3", "29")])
def test_label_prints_at_the_configured_size(tmp_path, server_factory, browser, width, height):
    srv = start(tmp_path, server_factory, env={"LABEL_WIDTH_MM": width, "LABEL_HEIGHT_MM": height})
    sign_in(browser, srv, "/labels")
    browser.type(browser.find("#tag"), "w12-0042")
    browser.type(browser.find("#name"), "ThinkPad X1")
    browser.click(browser.find("form.card button[type=submit]"))
    browser.wait_for(lambda b: b.title.startswith("Label W12-0042"))
    assert browser.current_url == srv.url("/labels/W12-0042?name=ThinkPad%20X1")
    assert browser.text(browser.find("p.no-print")).startswith(f"{width} × {height} mm.")
    assert_printed_at(browser, float(width), float(height))
    assert_no_errors(browser)


@pytest.mark.parametrize("size, width, height, other", [("small", 90.3, 29, "large"), ("large", 100, 62, "small")])
def test_one_page_per_label_at_either_size(tmp_path, server_factory, browser, size, width, height, other):
    """The size chosen per print, single and batch: each label its own page of its size, and
    the page's switch goes to the other size."""
    srv = start(tmp_path, server_factory, env={"LABEL_FOOTER": "Western CUSD #12"})
    path = f"/labels/W12-0042?name=ThinkPad%20X1&serial=pf4abcd9&size={size}"
    sign_in(browser, srv, path)
    assert browser.text(browser.find("p.no-print")).startswith(f"{width:g} × {height:g} mm.")
    assert count(browser, f'.print-label[data-size="{size}"] > svg') == 1
    assert_printed_at(browser, width, height)

    browser.get(srv.url(f"/labels?from=W12-0001&count=3&size={size}"))
    browser.wait_for(lambda b: b.title.startswith("3 labels"))
    assert count(browser, f'.print-label[data-size="{size}"] > svg') == 3
    assert_printed_at(browser, width, height, labels=3)

    # the switch: the same batch at the other size
    browser.click(browser.find(f'.size-switch a[data-size="{other}"]'))
    browser.wait_for(lambda b: b.current_url.endswith(f"size={other}"))
    other_width, other_height = (100, 62) if other == "large" else (90.3, 29)
    assert count(browser, f'.print-label[data-size="{other}"] > svg') == 3
    assert_printed_at(browser, other_width, other_height, labels=3)
    assert_no_errors(browser)


def test_a_batch_of_mixed_sizes_prints_each_label_at_its_own_size(tmp_path, server_factory, browser, rt):
    """A laptop and a charger from RT: the charger's label is small by its type, and printing
    the batch gives a 100 × 62 page and a 90.3 × 29 one (the named @page of each label)."""
    laptop, charger = (f"W12-{uuid.uuid4().int % 10**8:08d}" for _ in range(2))
    rt.create_asset(laptop, serial="pf4abcd9", description="ThinkPad T14", fields={"Type": "Laptop"})
    rt.create_asset(charger, description="65W charger", fields={"Type": "Charger"})
    srv = start(tmp_path, server_factory, env=rt.env())
    sign_in(browser, srv, f"/labels?tags={laptop},{charger}")
    assert count(browser, '.print-label[data-size="large"] > svg') == 1
    assert count(browser, '.print-label[data-size="small"] > svg') == 1
    own = base64.b64decode(browser.cdp("Page.printToPDF", preferCSSPageSize=True, printBackground=True)["data"])
    pages = media_boxes_mm(own)
    assert len(pages) == 2, pages
    for (width, height), (want_width, want_height) in zip(pages, [(100, 62), (90.3, 29)]):
        assert abs(width - want_width) <= 0.5 and abs(height - want_height) <= 0.5, pages
    assert_no_errors(browser)


def test_markup_typed_into_forms_shows_as_text(tmp_path, server_factory, browser):
    srv = start(tmp_path, server_factory)
    sign_in(browser, srv, "/tags")
    browser.type(browser.find("#note"), PAYLOAD)
    browser.submit(browser.find("#note"))
    browser.wait_for("p.message.ok")
    note = browser.execute("return document.querySelector('main table tbody tr td:nth-child(4)').textContent;")
    assert note == PAYLOAD
    assert count(browser, "main table b") == 0

    browser.get(srv.url("/checkin"))
    browser.type(browser.find("#tag"), PAYLOAD)
    browser.type(browser.find("#student"), PAYLOAD)
    select_option(browser, "#condition", "damaged")
    browser.click(browser.find("form.card button[type=submit]"))   # without notes: refused
    message = browser.wait_for("p.message.error")
    assert browser.text(message).startswith("notes are required for a damaged device")
    assert_no_errors(browser, expected=[f"{srv.url('/checkins')} - Failed to load resource: the server "
                                        "responded with a status of 400 (Bad Request)"])
    # the form comes back with what was typed, character for character
    assert browser.property(browser.find("#tag"), "value") == PAYLOAD
    assert browser.property(browser.find("#student"), "value") == PAYLOAD
    browser.type(browser.find("#notes"), PAYLOAD)
    browser.submit(browser.find("#notes"))
    message = browser.wait_for("p.message.ok")
    assert browser.execute("return document.querySelector('p.message.ok').textContent;").startswith(
        f"Checked in {PAYLOAD.upper()} from {PAYLOAD} (damaged) by tester-tech.")
    assert count(browser, "p.message b") == 0
    assert browser.property(browser.find("#student"), "value") == ""   # a fresh form

    browser.get(srv.url("/checkins"))
    rows = table_rows(browser)
    assert len(rows) == 1 and rows[0][1:5] == [PAYLOAD.upper(), PAYLOAD, "damaged", PAYLOAD]
    assert count(browser, "main table b") == 0
    assert_no_errors(browser)


def test_the_harness_leaves_nothing_running_after_a_failure():
    """The harness itself: a test that fails with the browser open still ends every process,
    even when Chromium's main process was killed under chromedriver first."""
    with pytest.raises(ZeroDivisionError):
        with Browser() as session:
            session.get("data:text/html,<p>open</p>")
            marker = str(session.directory)
            os.kill(_chromium_main_pid(marker), signal.SIGKILL)
            1 / 0
    assert session.leftover_processes() == []
    assert _pids_naming(marker) == []


def _pids_naming(text: str) -> list:
    """Live processes whose command line contains `text`."""
    table = process_table()
    return [pid for pid, (_, _, state) in table.items() if state not in ("Z", "X") and text in cmdline(pid)]


def _chromium_main_pid(marker: str) -> int:
    """The browser process: the one Chromium process without a --type= (renderer, zygote...)."""
    for pid in _pids_naming(f"--user-data-dir={marker}/profile"):
        if "--type=" not in cmdline(pid):
            return pid
    raise AssertionError("no Chromium browser process")
