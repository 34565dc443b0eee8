#!/usr/bin/env bash
# System packages the tests need: Debian's chromium for the playground's browser tests.
# Installed only when missing; needs root (CI runs as root).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "setup: chromium is missing and this is not root: install Debian's 'chromium'" \
       "package for the browser tests (they are skipped without it)" >&2
  exit 0
fi
echo "setup: installing Debian's chromium (browser tests)"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || {
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null; }
