"""A person uploads a real document through the page in headless Chromium and watches it become processed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
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


def row_cells(driver: webdriver.Chrome, path: str) -> list[str] | None:
    for row in driver.find_elements(By.CSS_SELECTOR, "#uploads tbody tr"):
        cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        if len(cells) > 3 and cells[1] == path:
            return cells
    return None


def test_a_document_uploaded_through_the_page_shows_up_processed(
    gateway_factory: Any, browser: webdriver.Chrome, corpus: Path, tmp_path: Path
) -> None:
    gateway = gateway_factory(f"sqlite:///{tmp_path / 'db.sqlite'}")
    browser.get(f"{gateway.url}/")
    assert browser.current_url.endswith("/_/"), "a browser opening / is led to the upload page"
    browser.find_element(By.NAME, "folder").send_keys("from-browser")
    browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(corpus / "testWORD.doc"))
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 60, poll_frequency=0.3).until(
        lambda d: (row_cells(d, "/from-browser/testWORD.doc") or [""] * 5)[3] == "processed")
    cells = row_cells(browser, "/from-browser/testWORD.doc")
    assert cells is not None and cells[4] == "60" and cells[5] == "antiword"
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "upload-page.png"))
