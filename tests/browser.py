"""A real browser for the page tests: Debian's Chromium driven by Playwright (its own browser download is not
reachable here). Screenshots of every page a test looks at go to `test-artifacts/screenshots/` (or
$BOURSE_TEST_ARTIFACTS), and one more when a test fails."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .tools import ROOT

ARTIFACTS = Path(os.environ.get("BOURSE_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not for the session: Playwright's sync API runs an event loop on the main
    thread while it is started, and tests after it that start their own (asyncio.run) would find one running."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium package)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


class Screens:
    """Saves screenshots named after the test."""

    def __init__(self, test_name: str) -> None:
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def shot(self, page: Any, name: str) -> Path:
        path = ARTIFACTS / f"{self.prefix}--{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def screens(request: pytest.FixtureRequest) -> Screens:
    return Screens(request.node.name)


@pytest.fixture
def pages(browser: Any, request: pytest.FixtureRequest, screens: Screens) -> Iterator[Any]:
    """new(viewport=...) opens a page in a fresh context (its own storage); on failure each is screenshotted."""
    contexts: list[Any] = []

    def new(width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.errors = []  # uncaught page errors, checked by the tests
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield new
    report = getattr(request.node, "rep_call", None)
    for i, context in enumerate(contexts):
        if report is not None and report.failed:
            for j, page in enumerate(context.pages):
                try:
                    screens.shot(page, f"FAILED-{i}-{j}")
                except Exception:
                    pass
        context.close()


LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def untranslated(page: Any, allowed: set[str]) -> list[str]:
    """Visible text on `page` with a Latin word that is not an allowed name (data - hashes, addresses, code,
    contract and function names - is marked .raw or is code/pre/input and skipped)."""
    texts: list[str] = page.evaluate("""() => {
        const out = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const el = node.parentElement;
            if (!el || el.closest('code, pre, .raw, script, style, option:not(:checked)')) continue;
            const style = getComputedStyle(el);
            if (style.display === 'none' || style.visibility === 'hidden' || !el.getClientRects().length) continue;
            if (el.closest('details:not([open])') && !el.closest('summary')) continue;
            const text = node.textContent.trim();
            if (text) out.push(text);
        }
        for (const el of document.querySelectorAll('input[placeholder]')) out.push(el.placeholder);
        return out;
    }""")
    return [text for text in texts if any(word not in allowed for word in LATIN_WORD.findall(text))]
