"""A real ``videogen serve`` process and a headless Chromium driven by Selenium.

Without Chromium and chromedriver on the PATH (Debian: ``apt-get install
chromium chromium-driver``; ``.ci/run`` does it) every browser test is skipped
with that instruction as its reason; the rest of the suite still runs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.servers import videogen_serve

TOKEN = "studio-browser-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
INSTALL = ("Chromium and chromedriver are needed for the Studio browser tests: "
           "apt-get install chromium chromium-driver (as .ci/run does)")


def _browser() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") \
        or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.fixture(scope="module")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``videogen serve`` with fast settings: silent narrator, 320x180, ultrafast x264."""
    tmp = tmp_path_factory.mktemp("studio")
    with videogen_serve(tmp, {
        "VIDEOGEN_DATA_DIR": str(tmp / "data"), "VIDEOGEN_API_TOKEN": TOKEN,
        "VIDEOGEN_NARRATOR": "silent", "VIDEOGEN_WIDTH": "320", "VIDEOGEN_HEIGHT": "180",
        "VIDEOGEN_PRESET": "ultrafast", "VIDEOGEN_CRF": "23", "VIDEOGEN_THREADS": "8",
        "VIDEOGEN_MAX_JOBS": "1",
    }, grace=10) as running:
        yield running.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (skipped, saying how to install it, when there is none)."""
    found = _browser()
    if found is None:
        pytest.skip(INSTALL)
    chromium, driver_path = found
    pytest.importorskip("selenium", reason="selenium is in the test extra: "
                                           "pip install -e '.[test]'")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1440,1000", "--autoplay-policy=no-user-gesture-required",
                "--mute-audio", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$STUDIO_SCREENSHOTS`` or a temporary directory."""
    wanted = os.environ.get("STUDIO_SCREENSHOTS")
    path = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
