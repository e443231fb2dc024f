#!/usr/bin/env python3
"""Page benchmark: how long the explorer and the trading page take to first render in Chromium.

Starts the demo stack (node + signer + exchange, as `bourse up`), then loads each page --reps times in fresh
browser contexts (nothing cached) and reports the median and worst time from navigation to the page's first
complete render (its `data-ready` mark: data fetched and drawn), and the bytes transferred. Needs Playwright for
Python and a Chromium (Debian's `chromium`).

    python bench/page_bench.py [--reps 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from bourse.stack import Stack

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("error: no Chromium found (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp)).start()
        try:
            pages = {"explorer home": (f"{stack.rpc_url}/explorer/#/", 'main[data-ready="#/"]'),
                     "explorer dev panel": (f"{stack.rpc_url}/explorer/#/dev", 'main[data-ready="#/dev"]'),
                     "trading page": (f"{stack.exchange_url}/trade/#BRSWBNB", "main[data-ready]"),
                     "proof of reserves": (f"{stack.exchange_url}/trade/por.html", "main[data-ready]")}
            results = {}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                for name, (url, ready) in pages.items():
                    times, sizes = [], []
                    for _ in range(args.reps):
                        context = browser.new_context()
                        page = context.new_page()
                        received: list[int] = []
                        page.on("response", lambda r: received.append(len(r.body()) if r.ok else 0))
                        page.goto(url)
                        page.wait_for_selector(ready, state="attached")
                        times.append(page.evaluate("performance.now()"))
                        sizes.append(sum(received))
                        context.close()
                    results[name] = {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
                                     "bytes": int(statistics.median(sizes))}
                browser.close()
        finally:
            stack.stop()
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"reps": args.reps, "load_avg": load, "pages": results}))
        return
    print(f"page bench: first complete render in Chromium, {args.reps} fresh loads each, load avg {load:.2f}")
    for name, r in results.items():
        print(f"{name:<22} median {r['median_ms']:7.1f} ms   worst {r['max_ms']:7.1f} ms   {r['bytes']:>8,} bytes")


if __name__ == "__main__":
    main()
