# syntax=docker/dockerfile:1
# Build: bundle the operator and its dependencies into one minified ES module (npm run build).
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` dev dependency would fetch a second Node; the image has one.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild esbuild
COPY scripts/build.ts ./scripts/
COPY scripts/bundle ./scripts/bundle
COPY src ./src
RUN node scripts/build.ts

# The allocator: jemalloc from Debian 12, the release the runtime image is built on. Node's heap
# outside V8 fragments glibc malloc, which keeps the freed memory; jemalloc gives it back to the
# kernel (docs/benchmarks.md). Copied to a path that is the same on every architecture.
FROM node:24.21.0-bookworm-slim AS jemalloc
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2=5.3.0-1 \
 && cp "$(dpkg -L libjemalloc2 | grep '/libjemalloc\.so\.2$')" /libjemalloc.so.2 \
 && rm -rf /var/lib/apt/lists/*

# Run: distroless Node 24, no shell, no package manager, no node_modules (all of it is in the
# bundle), non-root (65532), read-only root filesystem friendly.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=jemalloc /libjemalloc.so.2 /usr/local/lib/libjemalloc.so.2
# Settings measured in docs/benchmarks.md: one arena and no per-thread caches (the operator
# allocates mostly from its main thread), and freed pages given back at once (decay 0) by a
# background thread, also when the operator is idle and would not otherwise call into jemalloc:
# with a second's decay, the start-up's parsing held 20 MB for that second, the peak of a run.
ENV NODE_ENV=production \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 \
    MALLOC_CONF=narenas:1,tcache:false,background_thread:true,dirty_decay_ms:0,muzzy_decay_ms:0
# dist/iam-data: IAM's action list (JSON), which the guard reads once at start (scripts/build.ts).
COPY --from=build /app/dist/main.mjs /app/dist/main.mjs.LEGAL.txt ./dist/
COPY --from=build /app/dist/iam-data ./dist/iam-data
USER 65532:65532
EXPOSE 8080
# --optimize-for-size: V8 keeps its heap closer to the live data (10 MB less RSS at 3,000 objects,
# for about 10 % more CPU). --jitless: V8 interprets and compiles nothing to machine code; the
# operator waits on the network, and its CPU per object did not grow, while its RSS fell by the
# compilers' code and data (docs/benchmarks.md). It also turns off WebAssembly, which nothing in
# the bundle uses.
CMD ["--optimize-for-size", "--jitless", "dist/main.mjs"]
