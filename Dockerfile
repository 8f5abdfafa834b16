# The compactor's image: `compactor run` by default, and the `log-reader` CLI beside it.
#
#   make image                        (docker build with the labels' build args; IMAGE=name:tag)
#   docker run --rm --read-only --tmpfs /tmp -e COMPACTOR_BUCKET=... IMAGE           # a pass
#   docker run --rm --read-only --entrypoint log-reader IMAGE cat POD --bucket ...  # a log
#
# The runtime stage holds node, tini and the tree scripts/build-prod-tree.sh makes: the two
# CLIs, each bundled with its dependencies into one file and lazily loaded chunks (no
# node_modules/), nothing else. test/image.test.ts builds that tree with the same script and
# runs it read-only as another user, without a Docker engine. Nothing has to write at run time (no npm): a read-only root filesystem
# works. With /tmp writable (a tmpfs) the CLIs keep Node's compile cache there and start
# faster the next time; without it they run as before.

# Node 24 (LTS) is the release's runtime (.nvmrc, package.json engines); the tag pins .nvmrc's release.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# The dependency layer is rebuilt only when a package.json or the lock file changes. The
# testkit's package.json is left out: npm ci installs the other workspaces without it.
COPY package.json package-lock.json ./
COPY packages/log-reader/package.json packages/log-reader/
COPY packages/compactor/package.json packages/compactor/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages/log-reader/ packages/log-reader/
COPY packages/compactor/ packages/compactor/
COPY scripts/bundle-clis.mjs scripts/build-prod-tree.sh scripts/
RUN npx tsc -b packages/log-reader packages/compactor \
 && node scripts/bundle-clis.mjs \
 && scripts/build-prod-tree.sh /out

FROM ${NODE_IMAGE}
ARG NODE_IMAGE
ARG VERSION=unknown
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown
# The repository declares no license yet: set one with --build-arg LICENSES=<SPDX expression>.
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="compactor" \
      org.opencontainers.image.description="Merges Fluent Bit's per-minute job log objects on S3 into large gzip files and deletes them once no reader needs them; with the log-reader CLI" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"

# tini as PID 1: node as PID 1 ignores SIGTERM (the kernel drops a signal PID 1 has no
# handler of its own for), so a deleted pod would wait out its grace period for SIGKILL.
# Under tini, SIGTERM ends the compactor at once, which is as safe as any kill (no loss
# or duplicate, docs/reliability.md). npm, npx, corepack and yarn never run here.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
    /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* \
    /usr/local/bin/yarn /usr/local/bin/yarnpkg

# Owned by root, run by uid 1000 (the image's `node` user): the process cannot change its
# own code. A numeric USER lets Kubernetes' runAsNonRoot verify it.
COPY --from=build /out /app
ENV NODE_ENV=production \
    PATH=/app/bin:$PATH
WORKDIR /app
USER 1000:1000
ENTRYPOINT ["tini", "--", "compactor"]
CMD ["run"]
