# maillon: compiled JavaScript on Node 24 LTS, run by tini as an unprivileged user; holds no
# secret (configuration comes from the environment and mounted files at run time). Runs on a
# read-only root file system: everything it writes goes to the volume (docs/deployment.md).
# The base image is pinned to an exact Node release (the one .ci/run tests on); pin its digest
# too when building for production: docker buildx imagetools inspect node:24.22.3-bookworm-slim.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /opt/maillon
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY pipelines ./pipelines
RUN npm run build \
 && npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# libxml2-utils: xmllint validates while a file is written, in flat memory (the npm fallback
# loads the whole file); tini: PID 1 that forwards signals and reaps the embedded servers' children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libxml2-utils tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/maillon
COPY --from=build /opt/maillon/node_modules ./node_modules
COPY --from=build /opt/maillon/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY schemas ./schemas
COPY src/db/migrations ./src/db/migrations

RUN useradd --system --create-home --home-dir /var/lib/maillon maillon
USER maillon
# TMPDIR on the volume: dry runs write their files there, not on the read-only root.
ENV MAILLON_HOME=/var/lib/maillon TMPDIR=/var/lib/maillon NODE_ENV=production \
    MAILLON_STATUS_HOST=0.0.0.0 MAILLON_STATUS_PORT=8787
VOLUME ["/var/lib/maillon"]
EXPOSE 8787
# Meaningful for `serve` (the status page); a one-off command ends before the first check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.MAILLON_STATUS_PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# A stop lets the run in progress end (docs/deployment.md: give it a stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/maillon/bin/maillon.js"]
CMD ["--help"]
