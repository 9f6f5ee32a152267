# syntax=docker/dockerfile:1
# mx-voiptest: the bot (default) and the `voiptest` CLI in one small image.
#   docker build -t mx-voiptest .
#   docker run --rm mx-voiptest node dist/src/cli.js check --help
# scripts/check-docker.sh mirrors these steps without Docker (CI runs it).

# ---- build: compilers for better-sqlite3, dev deps for tsc and the helper page bundle (esbuild)
FROM node:20-bookworm AS build
WORKDIR /app
# python3, make, g++ come with the full bookworm image (node-gyp needs them).
COPY package.json package-lock.json ./
COPY stubs ./stubs
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY docker/tsconfig.build.json ./docker/
COPY src ./src
RUN npx tsc -p docker/tsconfig.build.json \
 && if [ -d src/web/static ]; then mkdir -p dist/src/web && cp -r src/web/static dist/src/web/; fi \
 && npx tsx src/web/assets.ts dist/src/web/static \
 && npm prune --omit=dev --no-audit --no-fund \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

# ---- runtime: node slim, production deps and compiled JS only, non-root -----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    MXV_CONFIG=/config/config.yaml \
    MXV_DATA_DIR=/data \
    MXV_LOG_FORMAT=json \
    MXV_OPS_LISTEN=0.0.0.0:9464
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
# node_modules/@matrix-org/matrix-sdk-crypto-nodejs links to the local crypto adapter here.
COPY --from=build --chown=root:root /app/stubs ./stubs
COPY --from=build --chown=root:root /app/dist ./dist
COPY config/config.sample.yaml /config/config.sample.yaml
# The `node` user (uid 1000) exists in the base image; only /data is writable.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# 9464: /healthz and /metrics; 8080: the browser helper (when web.enabled).
EXPOSE 9464 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const p=(process.env.MXV_OPS_LISTEN||'').split(':').pop()||'9464';fetch('http://127.0.0.1:'+p+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node"]
CMD ["dist/src/main.js"]
