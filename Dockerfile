# imds-emulator: the EC2 Instance Metadata Service (IMDSv2) emulator as a container.
#   docker build -t imds-emulator .
#   docker run --rm -p 127.0.0.1:1338:80 imds-emulator          # mock credentials
# compose.yaml puts it at 169.254.169.254 on a network of its own, where clients find it unconfigured.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY tools ./tools
COPY src ./src
RUN npm run build

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# The image's user is not root, yet EC2's metadata port is 80. No file capability is needed: Docker
# 20.10 and later set net.ipv4.ip_unprivileged_port_start=0 in a container's network namespace, so
# any user binds port 80, also under --cap-drop ALL (where a capability on node would stop it from
# starting at all). A runtime without that default: --sysctl net.ipv4.ip_unprivileged_port_start=0.
# iptables, for Kubernetes node mode's redirect of the pods' metadata packets (docs/kubernetes.md);
# nothing else runs it. Debian's default is its nftables backend, as on current Kubernetes nodes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/*
# The built CLI holds every dependency it loads (tools/bundle.mjs): the image has no node_modules.
# package.json is what --version prints.
COPY package.json ./
COPY --from=build /app/dist/bin ./dist/bin
# The README's instance descriptions: docker run imds-emulator --config examples/web-server.yaml
COPY examples ./examples

# Inside a container the clients are on other hosts: listen on the container's addresses, at EC2's
# port. The admin listener stays on loopback, where only the HEALTHCHECK below (and `docker exec`) reach it.
ENV IMDS_EMULATOR_HOST=0.0.0.0 \
    IMDS_EMULATOR_PORT=80 \
    IMDS_EMULATOR_ADMIN_HOST=127.0.0.1 \
    IMDS_EMULATOR_ADMIN_PORT=9901
EXPOSE 80

# The node user's uid 1000 is the usual owner of a host's ~/.aws, for a read-only mount of it.
USER node

# Slim images have no curl: node itself asks /healthz, which is 503 while credentials are unavailable or stale.
# An admin listener off loopback requires IMDS_EMULATOR_ADMIN_TOKEN, for /healthz too.
# The first check runs one interval after the start: 5 s, not Docker's 30 (compose.yaml asks every 2 s).
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const t=process.env.IMDS_EMULATOR_ADMIN_TOKEN;fetch('http://127.0.0.1:'+process.env.IMDS_EMULATOR_ADMIN_PORT+'/healthz',{headers:t?{authorization:'Bearer '+t}:{}}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# The daemon stops its listeners on SIGTERM and exits 0 within its 5 s grace period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/dist/bin/cli.js"]
