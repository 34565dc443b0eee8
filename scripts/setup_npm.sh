#!/usr/bin/env bash
# Installs every npm project of the repo from its lock (integrity-checked, no install
# scripts), then runs its `build` script if it has one. A project is a folder listed below
# with a package.json and a package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
for dir in web tests/clients/js tests/clients/workspaces outlayer/sdkjs/toolchain; do
  [ -f "$dir/package.json" ] || continue
  [ -f "$dir/package-lock.json" ] || { echo "setup: $dir has no package-lock.json" >&2; exit 1; }
  echo "setup: npm ci in $dir"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
     && npm run build --if-present --silent)
done
