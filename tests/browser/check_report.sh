#!/usr/bin/env bash
# Opens reports/demo/report.html in headless Chromium (Debian's `chromium`, installed when
# missing), fails on any console message (the report has no script, so any message is an
# error: a failed load, a parse problem), checks the page rendered, and saves the screenshot
# the README shows: tests/browser/report.png.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null; then
  echo "browser check: installing Debian's chromium" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

cargo run --quiet -- run -o reports/demo >/dev/null
report="$(pwd)/reports/demo/report.html"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
flags=(--headless=new --no-sandbox --disable-gpu --hide-scrollbars --enable-logging=stderr --v=0
       --disable-features=MediaRouter --no-first-run --no-default-browser-check)

dom="$(chromium "${flags[@]}" --dump-dom "file://$report" 2>"$log")"
chromium "${flags[@]}" --window-size=1280,1800 --screenshot="tests/browser/report.png" \
  "file://$report" 2>>"$log" >/dev/null

if grep -q "CONSOLE" "$log"; then
  echo "browser check: console messages in report.html:" >&2
  grep "CONSOLE" "$log" >&2
  exit 1
fi
for needle in "palpa report" "Therapist audit" "upper trapezius" "<svg"; do
  if ! grep -q "$needle" <<<"$dom"; then
    echo "browser check: the rendered page lacks \`$needle\`" >&2
    exit 1
  fi
done
[ -s tests/browser/report.png ] || { echo "browser check: no screenshot" >&2; exit 1; }
echo "browser check: report.html rendered without console messages; screenshot tests/browser/report.png"
