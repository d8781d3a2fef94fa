# maillon: runs as an unprivileged user; holds no secret (configuration comes from the environment
# and mounted files at run time).
FROM node:20-bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends libxml2-utils postgresql-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/maillon
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY pipelines ./pipelines
COPY schemas ./schemas
COPY tsconfig.json ./

RUN useradd --system --create-home --home-dir /var/lib/maillon maillon
USER maillon
ENV MAILLON_HOME=/var/lib/maillon NODE_ENV=production
VOLUME ["/var/lib/maillon"]
ENTRYPOINT ["/opt/maillon/bin/maillon.js"]
CMD ["--help"]
