"""Renders the built documentation site in headless Chromium (issue 32).

Serves the `mkdocs build` output over HTTP (the search index is fetched, which
`file://` forbids) and drives one headless Chromium over the DevTools protocol
(`--remote-debugging-pipe`: JSON messages on file descriptors 3 and 4, so no
WebSocket client is needed). For the home page, a guide, an API page and a
search query it opens the page, waits (in real time, up to a deadline) until
the page's scripts have rendered what the check expects, then saves the DOM
and a screenshot. The search check waits for Material's search worker to list
a result linking to the API entry of `DirichletOutput`, so it sees the search
actually run in the browser, not only the index file.

    python .ci/browser_check.py SITE_DIR ARTIFACT_DIR [--chromium PATH]

Needs Chromium (Debian's `chromium` package); Python's standard library only.
"""

import argparse
import base64
import functools
import http.server
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time

# (page, name of the screenshot, a JavaScript expression that is true once the
# page rendered what it should)
CHECKS = (
    ("", "home", "!!document.querySelector('img[src=\"images/uncertainty_distribution.png\"]')"),
    ("core/", "guide", "document.body.innerText.includes('Two ways to build a model')"),
    ("api/layers/", "api", "!!document.getElementById('keras_evidential.layers.DirichletOutput')"),
    # `?q=` opens Material's search with the query; the hits are rendered by
    # its web worker after it has fetched and indexed search_index.json.
    (
        "?q=DirichletOutput",
        "search",
        "!!document.querySelector('.md-search-result__list "
        "a[href$=\"#keras_evidential.layers.DirichletOutput\"]')",
    ),
)
DEADLINE_S = 60


class Chromium:
    """Headless Chromium driven over `--remote-debugging-pipe`."""

    def __init__(self, executable, profile):
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def onto_fds_3_and_4():  # where Chromium reads commands, writes replies
            os.dup2(commands_read, 3)
            os.dup2(replies_write, 4)

        self.process = subprocess.Popen(
            [
                executable, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                "--remote-debugging-pipe", "--window-size=1280,900", "about:blank",
            ],
            preexec_fn=onto_fds_3_and_4, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(replies_write)
        self._pending = b""
        self._last_id = 0

    def send(self, method, session=None, **params):
        """Sends one command and returns its result (events are skipped)."""
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._pending:
                chunk = os.read(self._replies, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"Chromium exited during {method}")
                self._pending += chunk
            raw, self._pending = self._pending.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url):
        """A new tab on `url`; returns its session id."""
        target = self.send("Target.createTarget", url=url)["targetId"]
        return self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def evaluate(self, session, expression):
        result = self.send(
            "Runtime.evaluate", session=session, expression=expression, returnByValue=True
        )["result"]
        return result.get("value")

    def wait_for(self, session, expression, deadline_s):
        """Polls `expression` until it is true or the deadline passes."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.evaluate(session, f"document.readyState === 'complete' && ({expression})"):
                return True
            time.sleep(0.25)
        return False

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        os.close(self._commands)
        os.close(self._replies)


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
    with tempfile.TemporaryDirectory() as profile:
        browser = Chromium(args.chromium, profile)
        try:
            for url, name, expected in CHECKS:
                start = time.monotonic()
                session = browser.open(base + url)
                rendered = browser.wait_for(session, expected, DEADLINE_S)
                dom = browser.evaluate(session, "document.documentElement.outerHTML") or ""
                (args.artifacts / f"{name}.html").write_text(dom, encoding="utf-8")
                png = browser.send("Page.captureScreenshot", session=session, format="png")
                (args.artifacts / f"{name}.png").write_bytes(base64.b64decode(png["data"]))
                print(f"{'ok  ' if rendered else 'FAIL'} {name}: /{url} "
                      f"({len(dom)} characters of DOM, {time.monotonic() - start:.1f} s)")
                if not rendered:
                    failures.append(name)
        finally:
            browser.close()
            server.shutdown()
    if failures:
        sys.exit(f"not rendered as expected: {failures} (DOMs and screenshots in {args.artifacts})")


if __name__ == "__main__":
    main()
