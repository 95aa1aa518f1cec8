# Tessera: Node 20 + pnpm; the TypeScript is compiled to JavaScript at image build time (pnpm build).
FROM node:20-bookworm-slim

# tini as PID 1 with -g: `docker stop` sends SIGTERM to the whole process group, so the server
# (and its workers when WORKERS > 1) shuts down cleanly.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && npm i -g pnpm@12.4.2

WORKDIR /app
RUN mkdir -p /app/data && chown -R node:node /app
USER node

# All dependencies, devDependencies included: `pnpm build` needs esbuild. Do not set NODE_ENV=production
# before this step.
COPY --chown=node:node . .
RUN pnpm install --frozen-lockfile && pnpm build

# ALLOWED_HOSTS: the loopback names of the documented `docker run -p 127.0.0.1:8080:8080` shape URLs;
# any other Host is ignored (docs/deployment.md). Set PUBLIC_URL or ALLOWED_HOSTS for a real name.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    ALLOWED_HOSTS=localhost:8080,127.0.0.1:8080 \
    DATA_DIR=/app/data \
    npm_config_update_notifier=false
EXPOSE 8080

ENTRYPOINT ["/usr/bin/tini", "-g", "--"]
CMD ["node", "packages/cli/dist/main.js", "serve"]
