#!/usr/bin/env bash
# Builds the images the tests and the tutorial use, without any registry: the local Node base image, then
#   berth-echo:local       docker/echo/Dockerfile        (the demo app: EXPOSE 80, HEALTHCHECK)
#   berth-echo-bare:local  docker/echo/Dockerfile.bare   (same server, no EXPOSE, no HEALTHCHECK)
# The build context is a copy of docker/echo plus a self-signed certificate generated here with openssl
# (tls-cert.pem / tls-key.pem: the echo server's HTTPS_PORT and GRPCS_PORT listeners), so no key is ever committed.
# Up to date = the image's label berth.echo.sources equals the sha256 of docker/echo's files: an image built from
# other sources (an older checkout) is rebuilt; one built from these is kept unless --force.
#
# Usage: docker/build-test-images.sh [--force]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
force=0
[[ ${1:-} == --force ]] && force=1

base=berth-node-base:local

if [[ $force -eq 1 ]]; then bash "$here/build-base-image.sh" --force "$base"; else bash "$here/build-base-image.sh" "$base"; fi

# Names and contents of every source file, in a stable order.
sources=$(cd "$here/echo" && find . -type f | LC_ALL=C sort | while read -r f; do printf '%s ' "$f"; sha256sum <"$f"; done | sha256sum | cut -c1-64)

context=""
cleanup() { [[ -n $context ]] && rm -rf "$context"; return 0; }
trap cleanup EXIT

make_context() {
  [[ -n $context ]] && return
  context=$(mktemp -d)
  cp "$here"/echo/* "$context/"
  # A throwaway self-signed pair for CN/SAN echo.test; berth does not verify backend certificates (nginx's default).
  if ! out=$(openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=echo.test' \
      -addext 'subjectAltName=DNS:echo.test' -keyout "$context/tls-key.pem" -out "$context/tls-cert.pem" 2>&1); then
    echo "$out" >&2
    echo "build-test-images: openssl could not make the test certificate" >&2
    exit 1
  fi
  chmod 644 "$context/tls-key.pem"
}

build() { # image dockerfile
  local image=$1 dockerfile=$2 out current
  current=$(docker image inspect -f '{{index .Config.Labels "berth.echo.sources"}}' "$image" 2>/dev/null || true)
  if [[ $force -eq 0 && $current == "$sources" ]]; then
    echo "build-test-images: $image is up to date (use --force to rebuild)"
    return
  fi
  make_context
  # The classic builder resolves FROM against local images and never contacts a registry for them; the docker CLI
  # here has no buildx plugin, so BuildKit is not an option anyway (its deprecation notice is hidden on success).
  if ! out=$(DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base" --label "berth.echo.sources=$sources" \
      -f "$context/$dockerfile" -t "$image" "$context" 2>&1); then
    echo "$out" >&2
    exit 1
  fi
  echo "build-test-images: built $image"
}

build berth-echo:local Dockerfile
build berth-echo-bare:local Dockerfile.bare
# Images superseded by a rebuild are dangling now: remove those (only this script's, by their label).
docker image prune -f --filter label=berth.echo.sources >/dev/null
