#!/usr/bin/env bash
# Builds a Node runtime image made from this machine's own files, for hosts that cannot reach an image registry
# (see /work/shared/reference/environment.md): the node binary, the shared libraries ldd lists for it (plus the
# dynamic loader), and a static busybox with applet links (sh, wget, ...), imported with `docker import`. ~2 s.
# Idempotent: does nothing when the image exists, unless --force.
#   --nginx  adds Debian's nginx (/usr/sbin/nginx, its libraries, /etc/nginx/mime.types, the dirs it needs): the
#            runtime base of the berth image (berth-base:local, see build-berth-image.sh)
#   --npm    adds npm (this machine's /usr/lib/node_modules/npm, `npm`/`npx` wrappers) and this machine's CA bundle
#            (npm in a build stage must trust what the host trusts): the build-stage base (berth-build-base:local)
#
# Usage: docker/build-base-image.sh [--force] [--nginx] [--npm] [IMAGE]   (IMAGE defaults to berth-node-base:local)
set -euo pipefail

force=0
with_nginx=0
with_npm=0
image=berth-node-base:local
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --nginx) with_nginx=1 ;;
    --npm) with_npm=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
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
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,tmp,root,app,run,var/tmp,var/lib}
chmod 1777 "$root/tmp" "$root/var/tmp"

# Every library ldd resolves (`name => /path`) plus the loader (a bare absolute path), at the same paths.
copy_libs() { # binary
  ldd "$1" | awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}' | while read -r lib; do
    cp --parents -L -n "$lib" "$root/"
  done
}

cp "$node_bin" "$root/usr/local/bin/node"
copy_libs "$node_bin"

cp "$busybox_bin" "$root/bin/busybox"
for applet in $("$busybox_bin" --list); do
  [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
done
# `#!/usr/bin/env node` scripts (npm's own bin links) need env at its usual path.
ln -s /bin/busybox "$root/usr/bin/env"

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
# nginx resolves upstream names and `localhost` through these; Docker bind-mounts its own hosts/resolv.conf.
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"

description="node $("$node_bin" --version)"
if [[ $with_nginx -eq 1 ]]; then
  nginx_bin=/usr/sbin/nginx
  [[ -x $nginx_bin ]] || { echo "build-base-image: --nginx needs $nginx_bin (apt-get install -y nginx-light)" >&2; exit 1; }
  cp "$nginx_bin" "$root/usr/sbin/nginx"
  copy_libs "$nginx_bin"
  # berth writes its own main config (prefix = its state dir, temp paths under it, error_log stderr); the compiled-in
  # paths below must still exist: nginx opens the default access log and checks the temp dirs before reading it.
  mkdir -p "$root"/etc/nginx/{conf.d,vhost.d} "$root"/var/log/nginx "$root"/var/lib/nginx "$root"/usr/share/nginx
  cp /etc/nginx/mime.types "$root/etc/nginx/mime.types"
  ln -s /dev/stdout "$root/var/log/nginx/access.log"
  ln -s /dev/stderr "$root/var/log/nginx/error.log"
  description="$description, $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"
fi

env_args=(-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
if [[ $with_npm -eq 1 ]]; then
  npm_cli=$(readlink -f "$(command -v npm)")            # .../lib/node_modules/npm/bin/npm-cli.js
  npm_dir=$(dirname "$(dirname "$npm_cli")")
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  printf '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n' >"$root/usr/local/bin/npm"
  printf '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/npx-cli.js "$@"\n' >"$root/usr/local/bin/npx"
  chmod 755 "$root/usr/local/bin/npm" "$root/usr/local/bin/npx"
  # Hosts that reach the npm registry through a TLS-inspecting proxy trust its CA through the system bundle; node's
  # built-in CA list does not have it. Only the build stage gets the bundle, never the runtime image.
  ca_bundle=/etc/ssl/certs/ca-certificates.crt
  if [[ -f $ca_bundle ]]; then
    mkdir -p "$root/etc/ssl/certs"
    cp -L "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
    env_args+=(-c "ENV NODE_EXTRA_CA_CERTS=$ca_bundle" -c "ENV npm_config_cafile=$ca_bundle")
  fi
  env_args+=(-c 'ENV npm_config_update_notifier=false' -c 'ENV npm_config_fund=false' -c 'ENV npm_config_audit=false')
  description="$description, npm $(npm --version)"
fi

tar -C "$root" -c . | docker import \
  "${env_args[@]}" \
  -c 'CMD ["node"]' \
  -m "berth local base ($description) from $(hostname)" \
  - "$image" >/dev/null
echo "build-base-image: built $image ($description)"
