# The tsray image: one process per container, a head (the default command) or a
# node joining one (`start --address ws://HEAD:6380 --block ...`). Kubernetes
# manifests that run it: deploy/kubernetes/.
#
#   docker build -t tsray:0.1.0 .
#   docker run --rm -e TSRAY_TOKEN=... -p 6380:6380 -p 8265:8265 tsray:0.1.0
FROM node:20-slim AS build
WORKDIR /opt/tsray
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json asconfig.json ./
COPY host host
COPY store store
COPY guest guest
COPY wit wit
COPY dashboard dashboard
# Compiles the host and tsray's own components (tsray.data's read tasks), then drops the build tools.
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /opt/tsray
COPY --from=build /opt/tsray/package.json ./
COPY --from=build /opt/tsray/asconfig.json ./
COPY --from=build /opt/tsray/node_modules node_modules
COPY --from=build /opt/tsray/dist dist
COPY --from=build /opt/tsray/dashboard dashboard
COPY --from=build /opt/tsray/wit wit
COPY --from=build /opt/tsray/guest/sdk guest/sdk
# Not root: tsray keeps its private files (spill, admin sockets) under /tmp/tsray-<uid>, mode 0700.
USER node
# 6380: the cluster's WebSocket port (head); 8265: the dashboard and the /healthz and /readyz probes.
EXPOSE 6380 8265
ENTRYPOINT ["node", "/opt/tsray/dist/host/cli/main.js"]
CMD ["start", "--head", "--block", "--host", "0.0.0.0", "--dashboard-host", "0.0.0.0"]
