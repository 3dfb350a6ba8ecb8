#!/usr/bin/env bash
# Installs the Debian packages SWOOSH-C needs to build and test, only when
# they are missing. Called first by `make`, `make run` and `make test`.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libjansson-dev libsqlite3-dev
      libmicrohttpd-dev libssl-dev libcurl4-openssl-dev libcmocka-dev sqlite3
      curl python3 "$@")
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
