#!/usr/bin/env bash
# Refresh the vendored htmx from the npm registry at a pinned version: scripts/refresh-htmx.sh 2.0.4
set -euo pipefail
version="${1:-$(cat "$(dirname "$0")/../portal/static/vendor/htmx/VERSION")}"
dest="$(cd "$(dirname "$0")/.." && pwd)/portal/static/vendor/htmx"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "htmx.org@${version}" >/dev/null && tar xzf htmx.org-*.tgz)
cp "$tmp/package/dist/htmx.min.js" "$dest/htmx.min.js"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
echo "$version" > "$dest/VERSION"
sha256sum "$dest/htmx.min.js"
