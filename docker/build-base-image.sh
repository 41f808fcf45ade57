#!/usr/bin/env bash
# Builds berth-node-base:local, a Node runtime image made from this machine's own files, for hosts that cannot
# reach an image registry (see /work/shared/reference/environment.md): the node binary, the shared libraries ldd
# lists for it (plus the dynamic loader), and a static busybox with applet links (sh, wget, ...), imported with
# `docker import`. ~2 s. Idempotent: does nothing when the image exists, unless --force.
#
# Usage: docker/build-base-image.sh [--force] [IMAGE]     (IMAGE defaults to berth-node-base:local)
set -euo pipefail

force=0
image=berth-node-base:local
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) image=$arg ;;
  esac
done

if [[ $force -eq 0 ]] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "build-base-image: $image exists (use --force to rebuild)"
  exit 0
fi

node_bin=$(readlink -f "$(command -v node)")
busybox_bin=$(command -v busybox || true)
if [[ -z $busybox_bin ]] || ! file -L "$busybox_bin" 2>/dev/null | grep -q 'statically linked'; then
  # `file` may be missing; fall back to ldd, which says "not a dynamic executable" for static binaries.
  if [[ -z $busybox_bin ]] || ldd "$busybox_bin" >/dev/null 2>&1; then
    echo "build-base-image: need a static busybox (apt-get install -y busybox-static)" >&2
    exit 1
  fi
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,usr/bin,usr/local/bin,etc,tmp,root,app}
chmod 1777 "$root/tmp"

cp "$node_bin" "$root/usr/local/bin/node"
# Every library ldd resolves (`name => /path`) plus the loader (a bare absolute path), at the same paths.
ldd "$node_bin" | awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}' | while read -r lib; do
  cp --parents -L "$lib" "$root/"
done

cp "$busybox_bin" "$root/bin/busybox"
for applet in $("$busybox_bin" --list); do
  [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
done

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  -c 'CMD ["node"]' \
  -m "berth local Node base ($("$node_bin" --version)) from $(hostname)" \
  - "$image" >/dev/null
echo "build-base-image: built $image (node $("$node_bin" --version))"
