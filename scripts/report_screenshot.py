"""Screenshot a report in headless Chromium (offline), for docs/quickstart-report.png.

    routecraft quickstart --out routecraft-out
    python scripts/report_screenshot.py routecraft-out/report.html docs/quickstart-report.png

Uses the DevTools-over-a-pipe helper of the browser test (tests/evaluate/_browser.py);
fails if the page logs a console error, throws, or makes any request off the page.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--width", type=int, default=1300)
    ap.add_argument("--height", type=int, default=2600, help="pixels from the top of the page to capture")
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("rc_browser", ROOT / "tests/evaluate/_browser.py")
    browser = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(browser)
    binary = browser.find_chromium()
    if binary is None:
        raise SystemExit("chromium is not installed (apt-get install -y chromium)")
    with browser.Browser(binary, width=args.width, height=args.height) as b:
        seen = b.load(args.report)
        bad = [m for m in seen["console"] if m[0] == "error"] + seen["exceptions"]
        off_page = [u for u in seen["requests"] if not u.startswith(("file:", "data:", "about:"))]
        if bad or off_page:
            raise SystemExit(f"report page is not clean: errors {bad}, requests {off_page}")
        b.screenshot(args.out, full_page=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
