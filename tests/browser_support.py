"""What the browser tests share: Debian's Chromium (or a skip), and the app served on loopback.

A module calls ``sync_playwright = require_browser()`` at import: it skips the module when
/usr/bin/chromium or playwright is missing, unless KB_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REQUIRED = os.environ.get("KB_REQUIRE_BROWSER") == "1"


def require_browser():
    """``sync_playwright``, or skip the calling module (fail it under KB_REQUIRE_BROWSER=1)."""
    if not CHROMIUM.exists():
        if REQUIRED:
            pytest.fail(f"KB_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing; install chromium to run the browser tests", allow_module_level=True)
    if REQUIRED:
        from playwright.sync_api import sync_playwright

        return sync_playwright
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed").sync_playwright


def launch(playwright):
    """Headless Chromium with the flags that keep it quiet and offline."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@contextmanager
def serve(app) -> Iterator[str]:
    """``app`` on a free loopback port in a thread (threaded server); yields its base URL."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()
