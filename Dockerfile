# lgsp-gateway image: compiled JavaScript on Node 24, production dependencies only, non-root.
# Build:  docker build -t lgsp-gateway:0.1.0 .
# Run:    docker run -p 127.0.0.1:8080:8080 --env-file production.env \
#           -v "$PWD/deploy/config-production:/etc/lgsp-gateway:ro" lgsp-gateway:0.1.0   (README "Image")
# Pin the base for byte-reproducible builds: --build-arg NODE_IMAGE=node:24-alpine@sha256:<digest>; without
# Docker Hub, any Node 24 image with npm (.ci/run builds one with debootstrap: deploy/ci/container-smoke.sh).
# Plain Dockerfile syntax only (no `# syntax=` line, no RUN --mount, no heredocs): the classic builder,
# BuildKit's built-in frontend and podman/buildah all build it, and nothing is fetched but NODE_IMAGE.
# No secret is ever baked in: credentials come at run time from env vars or mounted files (VAR_FILE).
ARG NODE_IMAGE=node:24-alpine

# --- 1. production dependencies, exactly as the lockfile says -------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script; none gets to run one. --omit=optional: the
# optional dependency "node" (Node 24 for `npm start` on machines with an older Node) is not needed here,
# the base image is Node 24.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- 2. compile TypeScript to dist/ (needs the dev dependencies: typescript, @types/node) ---------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
# Sources and the optional shipped folders (schemas/); .dockerignore keeps tests, docs and secrets out.
COPY . .
RUN npm run build && mkdir -p schemas

# --- 3. runtime ---------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# LGSP_AUDIT_DIR: where the shipped configs put audit files (audit.output: file), writable by uid 1000.
# LGSP_DELIVERY_DB: the SQLite delivery store of config/ (deliveries accepted for delivery, the ledger).
ENV NODE_ENV=production \
    LGSP_CONFIG_DIR=/etc/lgsp-gateway \
    LGSP_AUDIT_DIR=/var/lib/lgsp-gateway/audit \
    LGSP_DELIVERY_DB=/var/lib/lgsp-gateway/data/deliveries.db \
    PORT=8080 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/schemas ./schemas
COPY package.json ./
COPY bin ./bin
# The shipped route table, read by deploy/config-production/ as ${LGSP_PACKAGE_DIR}/config/... (LGSP_PACKAGE_DIR
# is /app here): a production config directory mounted alone finds it. About 60 KB.
COPY config/routes ./config/routes
COPY config/mappings ./config/mappings
COPY config/catalogs ./config/catalogs
# `lgsp-gateway validate|routes|report|gen-key` on PATH inside the container; the audit directory
# (used only with audit.output: file) belongs to the runtime user.
RUN ln -s /app/bin/lgsp-gateway.js /usr/local/bin/lgsp-gateway \
 && mkdir -p /etc/lgsp-gateway /var/lib/lgsp-gateway/audit /var/lib/lgsp-gateway/data \
 && chown -R 1000:1000 /var/lib/lgsp-gateway
# The SQLite delivery store's directory is a volume: with --read-only (README "Image") it stays writable,
# and a queue of accepted pushes outlives the container when a named volume is mounted there. (Replicas use
# PostgreSQL: delivery.store.kind postgres, nothing written here.)
VOLUME ["/var/lib/lgsp-gateway/data"]
# The `node` user of the official image, by number: Kubernetes' runAsNonRoot can only verify a numeric user.
USER 1000:1000
EXPOSE 8080
# The process answers /healthz as long as its event loop runs; node is used because the image has no curl.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 and handles SIGTERM itself (graceful drain within shutdown.graceMs), SIGHUP reloads.
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["start"]
