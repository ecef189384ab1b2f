#!/usr/bin/env bash
# Brings up a Docker engine on a fresh machine and builds the local base image.
# Idempotent: installs only missing packages, starts dockerd only when it does not
# answer, and build-local-base.sh skips an image that is already current.
#
# The machine reaches Debian's archive but no container registry, so images are
# built FROM scratch (docker/build-local-base.sh) and never pulled.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG=/tmp/dockerd.log
WAIT_SECONDS=60

die() { echo "docker-setup: $*" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for pkg in docker.io docker-compose busybox-static openssl nftables conntrack; do
  installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "need root to install ${missing[*]}"
  echo "docker-setup: installing ${missing[*]}"
  apt-get update -q >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    >/tmp/docker-setup-apt.log 2>&1 || die "apt-get install ${missing[*]} failed (see /tmp/docker-setup-apt.log)"
fi

if docker info >/dev/null 2>&1; then
  echo "docker-setup: Docker engine already answering"
else
  # There is no systemd here; a killed session leaves dockerd's pid file behind,
  # and dockerd refuses to start while it exists.
  pidfile=/var/run/docker.pid
  if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    rm -f "$pidfile"
  fi
  if [ -f "$pidfile" ]; then
    echo "docker-setup: dockerd (pid $(cat "$pidfile")) is running; waiting for it to answer"
  else
    echo "docker-setup: starting dockerd (log: $LOG)"
    # Default flags work in this sandbox: iptables is available, so user-defined
    # networks get Docker's isolation rules and published ports work.
    nohup dockerd >"$LOG" 2>&1 &
  fi
  deadline=$((SECONDS + WAIT_SECONDS))
  until docker info >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      tail -n 20 "$LOG" >&2 || true
      die "the Docker engine did not answer within ${WAIT_SECONDS}s (see $LOG)"
    fi
    sleep 1
  done
  echo "docker-setup: Docker engine answering ($(docker version -f '{{.Server.Version}}'))"
fi

command -v docker-compose >/dev/null || die "docker-compose is not on PATH"
"$REPO/docker/build-local-base.sh" || die "building the local base image failed"
