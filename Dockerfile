# Tessera's container image. Node.js 24 (LTS) runs it; the code itself supports Node.js 20.19 and later
# (package.json `engines`), which is what CI tests on. Built in two stages: `build` installs everything
# and compiles the TypeScript; the final image gets the compiled code and production dependencies only.
ARG NODE_IMAGE=node:24.11.0-bookworm-slim

FROM ${NODE_IMAGE} AS base
# tini as PID 1 with -g: `docker stop` sends SIGTERM to the whole process group, so the server
# (and its workers when WORKERS > 1) shuts down cleanly.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && npm i -g pnpm@12.4.2
ENV npm_config_update_notifier=false
WORKDIR /app
RUN chown node:node /app
USER node

FROM base AS build
# 1. Dependencies from the lockfile alone, before any source is copied: this layer is reused until
#    pnpm-lock.yaml changes.
COPY --chown=node:node pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
# 2. The source; install from the fetched store (no registry access for packages). The root
#    postinstall fetches the pinned OHIF viewer with `npm pack`; it only warns when that fails, so the
#    next step fails the build instead of shipping an image without its viewer.
COPY --chown=node:node . .
RUN pnpm install --frozen-lockfile --offline
RUN test -f packages/ohif/viewer/index.html \
 || { echo 'the OHIF viewer could not be fetched (see the install output above); the image needs it' >&2; exit 1; }
RUN pnpm build
# 3. Production dependencies only: a fresh install without devDependencies (tsx, esbuild, tap,
#    typescript are gone, not just unlinked) and without install scripts.
RUN rm -rf node_modules packages/*/node_modules migrations/node_modules \
 && pnpm install --frozen-lockfile --offline --prod --ignore-scripts

FROM base
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /app/data
# ALLOWED_HOSTS: the loopback names of the documented `docker run -p 127.0.0.1:8080:8080` shape URLs;
# any other Host is ignored (docs/deployment.md). Set PUBLIC_URL or ALLOWED_HOSTS for a real name.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    ALLOWED_HOSTS=localhost:8080,127.0.0.1:8080 \
    DATA_DIR=/app/data
EXPOSE 8080
# Ready when the index and the blob store answer (GET /readyz); fetch is built into Node.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "-g", "--"]
CMD ["node", "packages/cli/dist/main.js", "serve"]
