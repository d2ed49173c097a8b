#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite, the clinic benchmark included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
# the HTML report is tested in a real browser (tests/test_report_browser.py): Debian's chromium,
# installed when missing and we may (root, apt); then the test must run, not skip
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) \
    || echo "scripts/test.sh: could not install chromium" >&2
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export NNDOCTOR_REQUIRE_BROWSER=1
fi
set +e
python -m pytest -q "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$rc"
