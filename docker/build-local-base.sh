#!/usr/bin/env bash
# Builds aks-emu/node-base:local, a stand-in for node:20-bookworm-slim on machines
# that reach no container registry: FROM scratch with the host's own node binary,
# the shared libraries it links (ldd), a static busybox for sh, wget, ip, nc..., the
# host's openssl (the built-in ingress controller makes its default certificate with it),
# the host's nft (a container pod's sandbox programs its NetworkPolicy with it) and the
# host's conntrack (conntrack-tools: kube-proxy in nftables mode traces its flows with it).
#
# Usage: docker/build-local-base.sh [--force]
#   Skips the build when an image with this tag already carries the same node
#   version and recipe labels; --force rebuilds anyway.
set -euo pipefail

IMAGE="${AKS_EMU_BASE_IMAGE:-aks-emu/node-base:local}"
# Bump when the layout below changes, so existing images are rebuilt.
RECIPE=4
FORCE=0

die() { echo "build-local-base: $*" >&2; exit 1; }

for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg (expected --force)" ;;
  esac
done

command -v docker >/dev/null || die "docker is not installed (run .ci/docker-setup.sh)"
docker info >/dev/null 2>&1 || die "the Docker engine is not answering (run .ci/docker-setup.sh)"

NODE_BIN="$(readlink -f "$(command -v node)")" || die "node is not on PATH"
NODE_VERSION="$("$NODE_BIN" -p process.version)"
BUSYBOX_BIN="$(readlink -f "$(command -v busybox || true)")"
OPENSSL_BIN="$(readlink -f "$(command -v openssl || true)")"
NFT_BIN="$(readlink -f "$(command -v nft || echo /usr/sbin/nft)" || true)"
CONNTRACK_BIN="$(readlink -f "$(command -v conntrack || echo /usr/sbin/conntrack)" || true)"
[ -x "$OPENSSL_BIN" ] || die "openssl not found (apt-get install openssl)"
[ -x "$NFT_BIN" ] || die "nft not found (apt-get install nftables)"
# Optional: without it the image works, and kernel-forwarded flows are counted but not traced.
[ -x "$CONNTRACK_BIN" ] || { echo "build-local-base: conntrack not found (apt-get install conntrack): kernel flows will not be traced" >&2; CONNTRACK_BIN=""; }
[ -x "$BUSYBOX_BIN" ] || die "busybox not found (apt-get install busybox-static)"
# A dynamic busybox would need its own libraries in the image; only the static build is self-contained.
if ldd "$BUSYBOX_BIN" >/dev/null 2>&1; then
  die "$BUSYBOX_BIN is dynamically linked; install busybox-static"
fi

label() {
  docker image inspect "$IMAGE" --format "{{ index .Config.Labels \"$1\" }}" 2>/dev/null || true
}
if [ "$FORCE" = 0 ] && [ "$(label io.aks-emu.base.node-version)" = "$NODE_VERSION" ] \
  && [ "$(label io.aks-emu.base.recipe)" = "$RECIPE" ]; then
  echo "build-local-base: $IMAGE already has node $NODE_VERSION (recipe $RECIPE); use --force to rebuild"
  exit 0
fi

CTX="$(mktemp -d /tmp/aks-emu-base.XXXXXX)"
trap 'rm -rf "$CTX"' EXIT
ROOT="$CTX/rootfs"
mkdir -p "$ROOT"/{bin,usr/bin,usr/local/bin,etc,root,app,lib64} "$ROOT/tmp"
chmod 1777 "$ROOT/tmp"
chmod 700 "$ROOT/root"

# node:20-bookworm-slim keeps node in /usr/local/bin; the same path keeps scripts portable.
cp "$NODE_BIN" "$ROOT/usr/local/bin/node"

cp "$OPENSSL_BIN" "$ROOT/usr/bin/openssl"
mkdir -p "$ROOT/usr/sbin"
cp "$NFT_BIN" "$ROOT/usr/sbin/nft"
[ -z "$CONNTRACK_BIN" ] || cp "$CONNTRACK_BIN" "$ROOT/usr/sbin/conntrack"
for conf in /usr/lib/ssl/openssl.cnf /etc/ssl/openssl.cnf; do
  if [ -e "$conf" ]; then
    mkdir -p "$ROOT$(dirname "$conf")"
    cp -L "$conf" "$ROOT$conf"
  fi
done

# ldd prints "name => /path (addr)" for libraries and "/path (addr)" for the loader;
# mawk (Debian's awk) has no \s, so split on the default blanks.
{ ldd "$NODE_BIN"; ldd "$OPENSSL_BIN"; ldd "$NFT_BIN"; [ -z "$CONNTRACK_BIN" ] || ldd "$CONNTRACK_BIN"; } | sort -u | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
  while read -r lib; do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
  done
[ -f "$ROOT/lib64/ld-linux-x86-64.so.2" ] || die "ldd did not list /lib64/ld-linux-x86-64.so.2"

cp "$BUSYBOX_BIN" "$ROOT/bin/busybox"
# Every applet the build knows (sh, wget, ip, nslookup, nc, cat, ls, sleep, timeout...).
for applet in $("$BUSYBOX_BIN" --list); do
  case "$applet" in busybox|'['|'[[') continue ;; esac
  [ -e "$ROOT/bin/$applet" ] || ln -s busybox "$ROOT/bin/$applet"
done
ln -s busybox "$ROOT/bin/["
for required in sh wget ip nslookup nc cat ls sleep timeout; do
  [ -L "$ROOT/bin/$required" ] || die "busybox at $BUSYBOX_BIN lacks the applet '$required'"
done

# The same users as node:20-bookworm-slim (root, node 1000, nobody).
cat > "$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$ROOT/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
mkdir -p "$ROOT/home/node"
# glibc resolves names through these sources; Docker mounts /etc/hosts and /etc/resolv.conf.
echo 'hosts: files dns' > "$ROOT/etc/nsswitch.conf"

tar -C "$ROOT" --numeric-owner --owner=0 --group=0 -cf "$CTX/rootfs.tar" .

cat > "$CTX/Dockerfile" <<EOF
FROM scratch
ADD rootfs.tar /
RUN ["/bin/chown", "1000:1000", "/home/node"]
ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/bin NODE_VERSION=${NODE_VERSION#v}
LABEL io.aks-emu.base.node-version="$NODE_VERSION" io.aks-emu.base.recipe="$RECIPE"
CMD ["node"]
EOF
# Only the Dockerfile and the tar go to the daemon.
printf 'rootfs\nbuild.log\n' > "$CTX/.dockerignore"

previous="$(docker image inspect "$IMAGE" --format '{{.Id}}' 2>/dev/null || true)"
echo "build-local-base: building $IMAGE (node $NODE_VERSION from $NODE_BIN, busybox from $BUSYBOX_BIN)"
# Output only on failure: the legacy builder warns on every build where buildx is absent.
docker build -q -t "$IMAGE" "$CTX" >"$CTX/build.log" 2>&1 || { cat "$CTX/build.log" >&2; die "docker build failed"; }
# Each build's rootfs layer differs (file times), so the replaced image would stay
# behind untagged at ~100 MB; it is left alone only while a container uses it.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect "$IMAGE" --format '{{.Id}}')" ]; then
  docker image rm "$previous" >/dev/null 2>&1 || true
fi

got="$(docker run --rm --network none "$IMAGE" node -e 'console.log(process.version)')" || die "node does not run in $IMAGE"
[ "$got" = "$NODE_VERSION" ] || die "node in $IMAGE printed '$got', expected $NODE_VERSION"
docker run --rm --network none "$IMAGE" sh -c 'wget --help >/dev/null 2>&1; ip addr >/dev/null && openssl version >/dev/null && nft --version >/dev/null && { ! [ -e /usr/sbin/conntrack ] || conntrack --version >/dev/null; }' ||
  die "busybox sh/wget/ip, openssl, nft or conntrack do not run in $IMAGE"
echo "build-local-base: $IMAGE ready (node $NODE_VERSION)"
