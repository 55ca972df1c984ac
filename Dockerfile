# Meshlet image: the control plane, the sidecar and the init container's
# `meshlet iptables` are all this one image (like istio/proxyv2 + pilot).
# Node 24 LTS (issue 17: Node 20 is past end of life); the code also runs on 20.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
# --ignore-scripts: `prepare` would build before the sources are copied.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY proxy proxy
COPY control-plane control-plane
COPY cli cli
COPY proto proto
COPY examples examples
COPY test/bench test/bench
COPY test/support test/support
COPY test/e2e/rig test/e2e/rig
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# iptables for the init container (it runs this image as root with NET_ADMIN).
RUN apt-get update \
  && apt-get install -y --no-install-recommends iptables \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/meshlet
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY proto/meshlet proto/meshlet
COPY bin bin
RUN chmod 0755 bin/meshlet.js && ln -s /opt/meshlet/bin/meshlet.js /usr/local/bin/meshlet
# Non-root by default; the sidecar's pod spec pins uid/gid 1337 (the id the
# iptables rules exempt) and only the init container runs as root.
USER 1337:1337
ENTRYPOINT ["meshlet"]
CMD ["--help"]
