#!/usr/bin/env bash
# Builds the base image `node:20-bookworm-slim` offline: a Debian bookworm minbase root filesystem
# (mmdebstrap, from this host's own apt sources) plus this host's own `node` and `npm`, imported
# with `docker import`. Online you can `docker pull node:20-bookworm-slim` instead; the Dockerfile
# only needs an image by that name with node at /usr/local/bin/node and a `node` user (uid 1000).
#
# Why not pull: these machines reach no image registry. Why the host's node: the image then runs
# the very binary that built node_modules on the host, so native addons (level, @node-rs/*) load.
#
# Usage: deploy/docker/build-base-image.sh      (idempotent; FORCE=1 rebuilds, BASE_IMAGE=tag)
# Needs: root, mmdebstrap, a running Docker engine, Node.js 20 on the host.
set -euo pipefail
IMAGE=${BASE_IMAGE:-node:20-bookworm-slim}

if [ -z "${FORCE:-}" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE present (FORCE=1 rebuilds)"
  exit 0
fi
command -v mmdebstrap >/dev/null || { echo "mmdebstrap is not installed (apt-get install mmdebstrap)" >&2; exit 1; }

NODE_BIN=$(readlink -f "$(command -v node)")
NODE_VERSION=$(node -p 'process.versions.node')
case "$NODE_VERSION" in 20.*) ;; *) echo "host node is $NODE_VERSION; the image is named for Node 20" >&2; exit 1 ;; esac
# The host's own Debian mirror configuration: we name no mirror ourselves.
SOURCES=/etc/apt/sources.list.d/debian.sources
[ -f "$SOURCES" ] || SOURCES=/etc/apt/sources.list
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")   # .../node_modules/npm

echo "building $IMAGE from Debian bookworm minbase + host node $NODE_VERSION (about a minute)"
# SOURCE_DATE_EPOCH makes the tar (and so the layer digest) reproducible from run to run.
SOURCE_DATE_EPOCH=1700000000 mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="install -D -m755 $NODE_BIN \"\$1/usr/local/bin/node\"" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a $NPM_DIR \"\$1/usr/local/lib/node_modules/npm\"" \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  --customize-hook='chroot "$1" groupadd -g 1000 node && chroot "$1" useradd -u 1000 -g node -m -s /bin/sh node' \
  bookworm - "$SOURCES" |
  docker import --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' - "$IMAGE"
docker run --rm "$IMAGE" node -e 'console.log("base image ok: node", process.version)'
