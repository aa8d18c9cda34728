#!/usr/bin/env bash
# Debian packages the test suite uses: Chromium for the browser tests. Installs them when it can
# (root or passwordless sudo); otherwise says what is missing, and the browser tests skip locally.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk" || need+=(fonts-wqy-zenhei)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
((${#need[@]})) || exit 0
if [[ $(id -u) -eq 0 ]]; then sudo=(); elif sudo -n true 2>/dev/null; then sudo=(sudo); else
  echo "system-deps: missing ${need[*]} (install them with apt-get to run the browser and Spark tests)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "system-deps: installed ${need[*]}"
