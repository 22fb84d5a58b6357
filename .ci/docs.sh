#!/usr/bin/env bash
# The documentation site and the type check (issue 32), in the CI environment:
# mypy on the package (pyproject.toml [tool.mypy]), `mkdocs build --strict`
# (a broken link, anchor or API reference fails), then the pages rendered in
# headless Chromium, screenshots in ci-artifacts/docs/.
set -euo pipefail
cd "$(dirname "$0")/.."
# (The `docs` extra is installed by .ci/run before the lanes start.)
start=$SECONDS
python -m mypy
echo "mypy: $((SECONDS - start)) s"
start=$SECONDS
site=$(mktemp -d)
NO_MKDOCS_2_WARNING=1 python -m mkdocs build --strict --quiet --site-dir "$site"
echo "mkdocs build --strict: $((SECONDS - start)) s"
# Debian's Chromium; CI runs as root on Debian (apt-get works there). The
# package lists may be missing on a fresh machine: update them only then.
if ! command -v chromium > /dev/null; then
    apt-get install -y --quiet chromium > /dev/null 2>&1 || {
        apt-get update --quiet > /dev/null
        apt-get install -y --quiet chromium > /dev/null
    }
fi
start=$SECONDS
python .ci/browser_check.py "$site" ci-artifacts/docs
echo "browser check: $((SECONDS - start)) s"
rm -rf "$site"
