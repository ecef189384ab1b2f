#!/usr/bin/env bash
# Stages the build context of docker/Dockerfile in docker/.context/ (see the
# Dockerfile for why the context is staged instead of built with `npm ci` inside).
#
# Usage: docker/prepare-context.sh [--build] [--root DIR] [--out DIR]
#   --build run `npm run build` (tsc to dist/) in ROOT first
#   --root  the repository to stage from (default: this script's repository);
#           it must hold dist/ and bin/aks-emu.js (npm run build, or --build)
#   --out   the staging folder (default: ROOT/docker/.context); emptied first
set -euo pipefail

die() { echo "prepare-context: $*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT=""
BUILD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="$(cd "${2:?--root needs a folder}" && pwd)"; shift 2 ;;
    --out) OUT="${2:?--out needs a folder}"; shift 2 ;;
    --build) BUILD=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
OUT="${OUT:-$ROOT/docker/.context}"

if [ "$BUILD" = 1 ]; then
  (cd "$ROOT" && npm run build --silent) || die "npm run build failed in $ROOT"
fi

for need in package.json package-lock.json bin/aks-emu.js dist; do
  [ -e "$ROOT/$need" ] || die "$ROOT/$need is missing (run npm run build first)"
done

rm -rf "$OUT"
mkdir -p "$OUT/examples"
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$OUT/"
cp -R "$ROOT/bin" "$ROOT/dist" "$OUT/"
[ -d "$ROOT/examples" ] && cp -R "$ROOT/examples/." "$OUT/examples/"

# The lockfile pins every production dependency. --prefer-offline serves them from
# the npm cache when the registry is unreachable; --ignore-scripts because the
# project's `prepare` script would run tsc, which production installs do not have.
if ! (cd "$OUT" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund \
  --loglevel=error >/dev/null); then
  # Last resort with neither registry nor cache: the host's installed tree,
  # pruned of dev dependencies.
  [ -d "$ROOT/node_modules" ] || die "npm ci failed and $ROOT/node_modules does not exist"
  echo "prepare-context: npm ci failed; copying $ROOT/node_modules and pruning dev dependencies" >&2
  rm -rf "$OUT/node_modules"
  cp -R "$ROOT/node_modules" "$OUT/node_modules"
  (cd "$OUT" && npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund \
    --loglevel=error >/dev/null) || die "npm prune failed in $OUT"
  # npm prune leaves the emptied @scope folders behind.
  find "$OUT/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -delete
fi
# An empty node_modules still has to exist for the Dockerfile's COPY.
mkdir -p "$OUT/node_modules"
echo "prepare-context: staged $(du -sh "$OUT" | cut -f1) in $OUT"
