# aiframe-server container image.
#
#   docker compose up -d                       (see docker-compose.yml), or
#   docker build -t aiframe-server . && docker run -d --init -p 8099:8099 \
#     -v "$PWD/data:/data" -v "$PWD/images:/images" -v "$PWD/log:/log" aiframe-server
#
# Base: Debian bookworm "slim" (glibc), not Alpine (musl). sharp's prebuilt libvips exists for
# both libcs, but onnxruntime-node ships only glibc builds of libonnxruntime.so for linux x64
# and arm64 (they need glibc >= 2.28; bookworm has 2.36), so on Alpine the local ONNX provider
# could not load. Slim keeps the image small; nothing here compiles native code.
#
# scripts/docker-build-steps.sh repeats these steps without Docker and checks that this file
# still says what it expects: change both together.

# ---- build: install everything, compile TypeScript, then drop the dev dependencies ----
FROM node:20-bookworm-slim AS build
# onnxruntime-node's install script would download CUDA libraries from nuget.org; the CPU
# binaries are already in the npm package. (.npmrc says the same; an environment variable
# keeps working whatever npm does with unknown .npmrc keys in future versions.)
ENV ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app
# The lockfile first: this layer (the slow one) is reused until the dependencies change.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
# The phone page: plain files, served as they are.
COPY web ./web
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund
# onnxruntime-node ships its binaries for every OS and CPU (about 290 MB); keep this one's, and
# check that the binding still loads.
RUN arch="$(node -p process.arch)" \
    && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 ! -name linux -exec rm -rf {} + \
    && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 ! -name "$arch" -exec rm -rf {} + \
    && node -e "require(process.argv[1])" onnxruntime-node

# ---- runtime: production node_modules, the compiled code, nothing else ----
FROM node:20-bookworm-slim AS runtime
# tzdata: TZ=Europe/Moscow etc. then also works for anything outside Node (Node itself carries
# its own time-zone data in ICU). Cron schedules in options.yml run in this zone.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    TZ=UTC \
    PORT=8099 \
    DATA_DIR=/data \
    IMAGES_DIR=/images \
    LOG_DIR=/log
WORKDIR /app
# The application stays owned by root: the server cannot modify its own code.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/web ./web
# The user "node" (uid 1000) comes with the base image; it owns only the state folders.
RUN mkdir -p /data /images /log \
    && chown node:node /data /images /log
USER node
VOLUME ["/data", "/images", "/log"]
EXPOSE 8099
# The server closes its listeners, lets running requests finish and flushes the log on SIGTERM
# (src/cli.ts). Node as PID 1 still receives it because the server installs a handler; run
# with an init anyway (compose "init: true", docker run --init) so that any child process
# is reaped and Ctrl-C behaves as usual.
STOPSIGNAL SIGTERM
# No curl in slim images: Node's own fetch asks the server. 127.0.0.1 works with the default
# HOST (0.0.0.0); a HOST bound to another single address would need a different check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8099)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
