#!/usr/bin/env bash
# Builds the QuickFIX interoperability peer into tools/interop/out/quickfix-peer.
# Installs QuickFIX (Debian package libquickfix-dev) first when its headers are missing.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="$here/out"

if [ ! -f /usr/include/quickfix/Application.h ]; then
  echo "build.sh: installing libquickfix-dev" >&2
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq libquickfix-dev g++
fi

mkdir -p "$out"
# Rebuild only when the source is newer than the binary.
if [ -x "$out/quickfix-peer" ] && [ "$out/quickfix-peer" -nt "$here/quickfix-peer.cpp" ] && [ -z "${FORCE:-}" ]; then
  echo "build.sh: $out/quickfix-peer is up to date"
  exit 0
fi
# QuickFIX 1.15 headers use dynamic exception specifications, removed in C++17: build as C++14.
g++ -O2 -std=c++14 -Wall -Wno-deprecated -Wno-deprecated-declarations \
  -o "$out/quickfix-peer" "$here/quickfix-peer.cpp" -lquickfix -lpthread
echo "build.sh: built $out/quickfix-peer"
