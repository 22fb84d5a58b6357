"""Renders the built documentation site in headless Chromium (issue 32).

Serves the `mkdocs build` output over HTTP (the search index is fetched, which
`file://` forbids), then, for the home page, a guide, an API page and a search
query, has Chromium run the page's scripts and dump the resulting DOM, checks
that the expected content was rendered, and writes a screenshot of each.

    python .ci/browser_check.py SITE_DIR ARTIFACT_DIR [--chromium PATH]

Needs Chromium (Debian's `chromium` package); Python's standard library only.
"""

import argparse
import functools
import http.server
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading

# (page, name of the screenshot, text the rendered DOM must contain)
CHECKS = (
    ("", "home", 'src="images/uncertainty_distribution.png"'),
    ("core/", "guide", "Two ways to build a model"),
    ("api/layers/", "api", 'id="keras_evidential.layers.DirichletOutput"'),
    # The search box renders; the query's hits come from a web worker that
    # headless Chromium's --dump-dom does not wait for, so the index the
    # worker searches is checked on its own (check_search_index).
    ("?q=DirichletOutput", "search", 'data-md-component="search-query"'),
)


def chromium_command(chromium, profile):
    return [
        chromium, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}",
        "--virtual-time-budget=15000", "--window-size=1280,900",
    ]


def render(base, url, screenshot, chromium):
    with tempfile.TemporaryDirectory() as profile:
        command = chromium_command(chromium, profile)
        dom = subprocess.run(
            command + ["--dump-dom", base + url],
            capture_output=True, text=True, timeout=120,
        ).stdout
    with tempfile.TemporaryDirectory() as profile:
        command = chromium_command(chromium, profile)
        subprocess.run(
            command + [f"--screenshot={screenshot}", base + url],
            capture_output=True, text=True, timeout=120,
        )
    return dom


def check_search_index(site):
    """The search index holds the API reference's entry for a class."""
    import json

    index = json.loads((site / "search" / "search_index.json").read_text("utf-8"))
    locations = [doc["location"] for doc in index["docs"]]
    return any(loc.endswith("#keras_evidential.layers.DirichletOutput") for loc in locations)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=pathlib.Path)
    parser.add_argument("artifacts", type=pathlib.Path)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)
    args.artifacts.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(QuietHandler, directory=str(args.site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    failures = []
    try:
        for url, name, expected in CHECKS:
            screenshot = (args.artifacts / f"{name}.png").resolve()
            dom = render(base, url, screenshot, args.chromium)
            (args.artifacts / f"{name}.html").write_text(dom, encoding="utf-8")
            rendered = expected in dom and screenshot.is_file()
            print(f"{'ok  ' if rendered else 'FAIL'} {name}: /{url} "
                  f"({len(dom)} characters of DOM, screenshot {screenshot.is_file()})")
            if not rendered:
                failures.append(name)
    finally:
        server.shutdown()
    indexed = check_search_index(args.site)
    print(f"{'ok  ' if indexed else 'FAIL'} search index: DirichletOutput's API entry")
    if not indexed:
        failures.append("search index")
    if failures:
        sys.exit(f"not rendered as expected: {failures} (DOMs in {args.artifacts})")


if __name__ == "__main__":
    main()
