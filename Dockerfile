# syntax=docker/dockerfile:1
# One image for both data planes. The base image is a build argument so hosts without a registry can build from a
# locally imported base (docker/build-base-image.sh). With a registry, the defaults just work:
#   docker build -t berth .
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${BASE}
# nginx for BERTH_MODE=nginx; skipped when the base already has it (the locally built base ships it).
RUN command -v nginx >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends nginx-light && rm -rf /var/lib/apt/lists/*)
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
ENV DOCKER_HOST=unix:///tmp/docker.sock \
    BERTH_STATE_DIR=/var/lib/berth \
    NODE_ENV=production
EXPOSE 80
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/dist/src/cli.js"]
CMD ["run"]
