# syntax=docker/dockerfile:1
# Build: bundle the operator and its dependencies into one minified ES module (npm run build).
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` dev dependency would fetch a second Node; the image has one.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild esbuild
COPY scripts/build.ts ./scripts/
COPY src ./src
RUN node scripts/build.ts

# Run: distroless Node 24, no shell, no package manager, no node_modules (all of it is in the
# bundle), non-root (65532), read-only root filesystem friendly.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/dist/main.mjs /app/dist/main.mjs.LEGAL.txt ./dist/
USER 65532:65532
EXPOSE 8080
CMD ["dist/main.mjs"]
