# One image for both data planes (BERTH_MODE=node | nginx), started the nginx-proxy way:
#   docker build -t berth .
#   docker run -d -p 80:80 -v /var/run/docker.sock:/tmp/docker.sock:ro berth
#
# Both bases are build arguments. With a registry the defaults just work: the official Node image builds, and
# Debian's nginx-light is installed into the runtime stage. On a host without a registry,
# docker/build-berth-image.sh builds the same file from images imported from the host's own files:
#   BUILD_BASE=berth-build-base:local  node + npm + busybox (+ the host's CA bundle, for `npm ci`)
#   BASE=berth-base:local              node + nginx + busybox (no npm: the runtime never needs it)
ARG BASE=node:20-bookworm-slim
ARG BUILD_BASE=${BASE}

FROM ${BUILD_BASE} AS build
LABEL berth.image=build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script (ssh2's optional native addon is skipped; it has a JS path).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${BASE}
LABEL berth.image=runtime org.opencontainers.image.title=berth
# nginx for BERTH_MODE=nginx; skipped when the base already has it (the locally built base ships it). nginx runs
# with berth's own main config under BERTH_STATE_DIR; its workers run as nobody. `berth` goes on PATH for
# `docker exec berth berth routes`.
RUN (command -v nginx >/dev/null 2>&1 || { apt-get update \
      && apt-get install -y --no-install-recommends nginx-light \
      && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/*; }) \
    && mkdir -p /var/lib/berth /etc/nginx/vhost.d /etc/nginx/conf.d \
    && printf '#!/bin/sh\nexec node --single-threaded-gc --min-semi-space-size=16 /app/dist/src/cli.js "$@"\n' > /usr/local/bin/berth \
    && chmod 755 /usr/local/bin/berth
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
ENV DOCKER_HOST=unix:///tmp/docker.sock \
    BERTH_STATE_DIR=/var/lib/berth \
    NODE_ENV=production
EXPOSE 80
STOPSIGNAL SIGTERM
# `berth healthcheck` exits 0 once the running berth answers on its admin endpoint and has published its first table.
# The timeout is generous: each probe starts a node process that loads the CLI (~2 s on a busy 2-core host).
HEALTHCHECK --interval=10s --timeout=8s --start-period=30s --retries=3 \
  CMD ["node", "/app/dist/src/cli.js", "healthcheck"]
# Node flags: src/node-flags.ts says why (a unit test keeps this line, the wrapper above and `npm start` in step).
ENTRYPOINT ["node", "--single-threaded-gc", "--min-semi-space-size=16", "/app/dist/src/cli.js"]
CMD ["run"]
