# Keel's container image: dependencies installed from the lockfile in a build stage, then
# copied into a slim Node 20 image that runs `keel` as a non-root user under tini (PID 1
# forwards SIGTERM to Keel, so a worker drains, and reaps the runner processes).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY tsconfig.json keel.config.json ./

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --home-dir /app --no-create-home keel \
    && ln -s /app/bin/keel.js /usr/local/bin/keel
WORKDIR /app
COPY --from=build --chown=root:root /app /app
ENV NODE_ENV=production KEEL_LOG_FORMAT=json KEEL_HEALTH_HOST=0.0.0.0 KEEL_HEALTH_PORT=9090 KEEL_DAGS_FOLDER=/dags
USER 10001:10001
EXPOSE 8080 9090
ENTRYPOINT ["/usr/bin/tini", "--", "keel"]
CMD ["standalone"]
