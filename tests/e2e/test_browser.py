"""A person uploads a real document through the page in headless Chromium and watches it become processed."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.fail("Debian's chromium and chromium-driver are needed (.ci/setup installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # As root in a container: no sandbox; no background traffic to hosts this machine cannot reach.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


# The list is redrawn every second, so it is read in one script rather than element by element.
TABLE = "return Array.from(document.querySelectorAll('#uploads tbody tr'), r => Array.from(r.cells, c => c.textContent))"


def row_cells(driver: webdriver.Chrome, path: str) -> list[str] | None:
    return next((cells for cells in driver.execute_script(TABLE) if len(cells) > 3 and cells[1] == path), None)


def listed_paths(driver: webdriver.Chrome) -> list[str]:
    return [cells[1] for cells in driver.execute_script(TABLE)]


def open_text(driver: webdriver.Chrome, path: str) -> bool:
    """Click the text link in the row of ``path``."""
    for row in driver.find_elements(By.CSS_SELECTOR, "#uploads tbody tr"):
        if row.find_elements(By.TAG_NAME, "td")[1].text == path:
            row.find_element(By.LINK_TEXT, "text").click()
            return True
    return False


def wait(driver: webdriver.Chrome, what: Callable[[webdriver.Chrome], Any], deadline_s: float = 60) -> Any:
    return WebDriverWait(driver, deadline_s, poll_frequency=0.3,
                         ignored_exceptions=[StaleElementReferenceException]).until(what)


def test_a_document_uploaded_through_the_page_shows_up_processed(
    gateway_factory: Any, browser: webdriver.Chrome, corpus: Path, tmp_path: Path
) -> None:
    gateway = gateway_factory(f"sqlite:///{tmp_path / 'db.sqlite'}")
    # A name that is markup: the page must show it as text, never run it.
    hostile = tmp_path / "<img src=x onerror=document.title='owned'>.doc"
    shutil.copyfile(corpus / "testWORD.doc", hostile)
    browser.set_window_size(1280, 1500)
    browser.get(f"{gateway.url}/")
    assert browser.current_url.endswith("/_/"), "a browser opening / is led to the upload page"
    title = browser.title
    wait(browser, lambda d: "Processors connected (" in d.find_element(By.ID, "processors").text)
    assert "#" in browser.find_element(By.ID, "processors").text, "the processors' Spread names are listed"

    browser.find_element(By.NAME, "folder").send_keys("from-browser")
    browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(f"{corpus / 'testWORD.doc'}\n{hostile}")
    browser.find_element(By.CSS_SELECTOR, "#upload button[type=submit]").click()
    wait(browser, lambda d: "Stored 2 of 2" in d.find_element(By.ID, "status").text)
    bars = browser.find_elements(By.CSS_SELECTOR, "#progress progress")
    assert len(bars) == 2
    assert all(bar.get_attribute("value") == bar.get_attribute("max") for bar in bars)
    assert "stored as /from-browser/testWORD.doc" in browser.find_element(By.ID, "progress").text

    paths = ("/from-browser/testWORD.doc", f"/from-browser/{hostile.name}")
    wait(browser, lambda d: all((row_cells(d, path) or [""] * 5)[3] == "processed" for path in paths))
    for path in paths:
        cells = row_cells(browser, path)
        assert cells is not None and cells[4] == "60" and cells[5] == "antiword", cells
    assert browser.title == title
    assert browser.find_elements(By.CSS_SELECTOR, "#uploads img, #progress img") == []

    name_filter = browser.find_element(By.NAME, "name")
    name_filter.send_keys("TESTword")
    wait(browser, lambda d: listed_paths(d) == ["/from-browser/testWORD.doc"])
    name_filter.clear()
    name_filter.send_keys("onerror=")
    wait(browser, lambda d: listed_paths(d) == [paths[1]])
    name_filter.send_keys(Keys.CONTROL, "a", Keys.NULL, Keys.BACKSPACE)
    wait(browser, lambda d: len(listed_paths(d)) == 2)

    browser.find_element(By.NAME, "q").send_keys("microsoft document")
    browser.find_element(By.CSS_SELECTOR, "#search button[type=submit]").click()
    wait(browser, lambda d: d.find_element(By.ID, "search-status").text == "2 found")
    hits = browser.find_elements(By.CSS_SELECTOR, "#search-results li")
    assert [hit.find_element(By.TAG_NAME, "a").text for hit in hits] == list(reversed(paths))
    assert "Microsoft" in hits[0].find_element(By.CLASS_NAME, "snippet").text
    browser.find_element(By.NAME, "q").send_keys(Keys.CONTROL, "a", Keys.NULL, Keys.BACKSPACE, "zebrafish", Keys.ENTER)
    wait(browser, lambda d: "No processed upload" in d.find_element(By.ID, "search-status").text)

    wait(browser, lambda d: open_text(d, paths[0]))
    view = browser.find_element(By.ID, "text-view")
    wait(browser, lambda d: "Microsoft Word Document" in d.find_element(By.ID, "text-body").text)
    assert view.is_displayed()
    assert browser.find_element(By.ID, "text-path").text == paths[0]
    browser.execute_script("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "upload-page.png"))
