#!/usr/bin/env bash
# Builds the berth image (berth:local by default) from the repository's Dockerfile on a host without an image
# registry: first the two local bases, made from this machine's own files by build-base-image.sh,
#   berth-build-base:local  node + npm + busybox + the host's CA bundle   (the build stage: npm ci, tsc)
#   berth-base:local        node + nginx + busybox                         (the runtime stage)
# then `docker build --build-arg BUILD_BASE=... --build-arg BASE=...` with the classic builder (it resolves FROM
# against local images and never contacts a registry for them; this docker CLI has no buildx). `npm ci` in the build
# stage needs the npm registry: the build runs with --network host, so it reaches whatever the host reaches.
# Up to date = Docker's layer cache: an unchanged tree rebuilds in seconds. --force re-imports the bases too.
#
# Usage: docker/build-berth-image.sh [--force] [IMAGE]      (IMAGE defaults to berth:local)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
force=()
image=berth:local
for arg in "$@"; do
  case "$arg" in
    --force) force=(--force) ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) image=$arg ;;
  esac
done

build_base=berth-build-base:local
base=berth-base:local
bash "$here/build-base-image.sh" "${force[@]}" --npm "$build_base"
bash "$here/build-base-image.sh" "${force[@]}" --nginx "$base"

started=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cache=()
[[ ${#force[@]} -gt 0 ]] && cache=(--no-cache)
build() { # extra docker build arguments...
  if ! DOCKER_BUILDKIT=0 docker build "${cache[@]}" --network host \
      --build-arg "BUILD_BASE=$build_base" --build-arg "BASE=$base" "$@" -f "$repo/Dockerfile" "$repo" >"$log" 2>&1; then
    cat "$log" >&2
    echo "build-berth-image: docker build $* failed" >&2
    exit 1
  fi
}
# The build stage gets a tag so that it stays the layer cache (npm ci) for the next build, and so that superseded
# build stages and images of this Dockerfile are dangling: the prune below removes those (label berth.image), only.
build --target build -t berth-build-stage:local
cache=()
build -t "$image"
docker image prune -f --filter label=berth.image >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$image")
echo "build-berth-image: built $image in $(($(date +%s) - started)) s ($((size / 1000000)) MB)"
