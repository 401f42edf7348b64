"""Browser tests: one headless Debian chromium for the session, a fresh context per test, and a
real RQ worker process so dispatching happens as in production."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.helpers import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: How long a live page may take to show a change (it polls every 2 s; lab prompts play in real time).
LIVE_TIMEOUT_MS = 15_000
expect.set_options(timeout=LIVE_TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM}: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(LIVE_TIMEOUT_MS)
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm asks with window.confirm
    yield page
    context.close()


@pytest.fixture
def worker(desk) -> Iterator[subprocess.Popen]:
    """`rq worker` in its own process, configured from the same environment as the desk."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "--worker-class",
            "rq.worker.SimpleWorker",
            "--url",
            desk.app.config["REDIS_URL"],
            "dispatch",
            "notify",
        ],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process
    process.terminate()
    process.wait(timeout=10)


def log_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the form, as a person does."""
    page.goto(f"{base_url}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')
    page.wait_for_load_state()


def screenshot(page: Page, name: str) -> None:
    """Refresh docs/screenshots/<name>.png when asked (UPDATE_SCREENSHOTS=1): test runs leave the tree clean."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
