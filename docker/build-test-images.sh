#!/usr/bin/env bash
# Builds the images the tests and the tutorial use, without any registry: the local Node base image, then
#   berth-echo:local       docker/echo/Dockerfile        (the demo app: EXPOSE 80, HEALTHCHECK)
#   berth-echo-bare:local  docker/echo/Dockerfile.bare   (same server, no EXPOSE, no HEALTHCHECK)
# Skips images that exist unless --force.
#
# Usage: docker/build-test-images.sh [--force]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
force=0
[[ ${1:-} == --force ]] && force=1

base=berth-node-base:local

if [[ $force -eq 1 ]]; then bash "$here/build-base-image.sh" --force "$base"; else bash "$here/build-base-image.sh" "$base"; fi

build() { # image dockerfile
  local image=$1 dockerfile=$2 out
  if [[ $force -eq 0 ]] && docker image inspect "$image" >/dev/null 2>&1; then
    echo "build-test-images: $image exists (use --force to rebuild)"
    return
  fi
  # The classic builder resolves FROM against local images and never contacts a registry for them; the docker CLI
  # here has no buildx plugin, so BuildKit is not an option anyway (its deprecation notice is hidden on success).
  if ! out=$(DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base" -f "$here/echo/$dockerfile" -t "$image" "$here/echo" 2>&1); then
    echo "$out" >&2
    exit 1
  fi
  echo "build-test-images: built $image"
}

build berth-echo:local Dockerfile
build berth-echo-bare:local Dockerfile.bare
