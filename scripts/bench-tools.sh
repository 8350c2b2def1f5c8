#!/bin/sh
# What `make bench` needs besides the venv: wrk (the load generator: C, a Lua script per
# request, ~0.05 ms of CPU per request instead of httpx's 3-4 ms) and nginx (the load
# balancer in front of several `serve` processes), from Debian's packages.
# Installs them when missing and this runs as root; otherwise says which benchmarks
# will be skipped and exits 0 (the benchmarks skip themselves with the same reason).
set -u
missing=""
for tool in wrk nginx; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing="$missing $tool"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing$missing from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    if apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends $missing >/dev/null 2>&1 \
        || { apt-get update -q -o DPkg::Lock::Timeout=300 >/dev/null 2>&1 \
             && apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends $missing >/dev/null 2>&1; }; then
        exit 0
    fi
    echo "bench: apt-get could not install$missing; the benchmarks that need them are skipped" >&2
    exit 0
fi
echo "bench:$missing missing and not root (or no apt-get): install them with" \
     "'apt-get install -y$missing'; the benchmarks that need them are skipped" >&2
exit 0
