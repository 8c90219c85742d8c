#!/usr/bin/env bash
# Builds the Tessera image offline: stages the built workspace with production node_modules
# taken from the host's install, then runs `docker build` on that staging directory.
#
# Why stage: `npm ci` cannot run inside `docker build` on machines whose registry access goes
# through a TLS-intercepting proxy (the container does not trust its CA), and the workspace's
# node_modules also holds dev tools (jest, swc, typescript, the AWS SDK...) that do not belong
# in the image. `npm ls --omit=dev` names exactly the production packages.
#
# Usage: deploy/docker/build-image.sh [--no-compile] [--stage-only] [--tag tessera:dev]
#   --no-compile   use the existing packages/*/dist (CI has just run `npm run build`)
#   --stage-only   prepare the staging directory and stop (Dockerfile.online uses this)
#   env TESSERA_IMAGE_CONTEXT  staging directory (default: $TMPDIR/tessera-image-context)
# Needs: a Docker engine and the base image (deploy/docker/build-base-image.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAG=tessera:dev
COMPILE=1
STAGE_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-compile) COMPILE=0 ;;
    --stage-only) STAGE_ONLY=1 ;;
    --tag) TAG=$2; shift ;;
    --tag=*) TAG=${1#--tag=} ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
CONTEXT=${TESSERA_IMAGE_CONTEXT:-${TMPDIR:-/tmp}/tessera-image-context}
cd "$ROOT"

# The role packages (plus the operator CLI, so `tessera heal --watch` runs in the healer's
# container) and, transitively, every @tessera package they depend on at run time.
ROLE_PACKAGES="gateway metadata storage-node healer cli"
PACKAGES=$(node -e '
  const fs = require("fs");
  const seen = new Set();
  const visit = (dir) => {
    if (seen.has(dir) || !fs.existsSync(`packages/${dir}/package.json`)) return;
    seen.add(dir);
    const deps = JSON.parse(fs.readFileSync(`packages/${dir}/package.json`, "utf8")).dependencies ?? {};
    for (const name of Object.keys(deps)) if (name.startsWith("@tessera/")) visit(name.slice("@tessera/".length));
  };
  for (const dir of process.argv.slice(1)) visit(dir);
  console.log([...seen].sort().join(" "));
' $ROLE_PACKAGES)

if [ "$COMPILE" = 1 ]; then
  for pkg in $ROLE_PACKAGES; do
    [ -d "packages/$pkg" ] && npx tsc -b "packages/$pkg"
  done
fi
# Metadata nodes must run on the patched LevelDB engine (native/leveldb/README.md): put it in
# node_modules if `npm run build` has not, and refuse to build an image with the stock one.
node native/leveldb/engine.mjs install
node native/leveldb/engine.mjs status >/dev/null || {
  echo "node_modules holds the stock LevelDB engine (see native/leveldb/README.md): not building an image with it" >&2; exit 1; }
for pkg in $ROLE_PACKAGES; do
  [ -f "packages/$pkg/dist/main.js" ] || echo "warning: packages/$pkg/dist/main.js is missing: the image cannot run that role" >&2
done

rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/packages" "$CONTEXT/node_modules" "$CONTEXT/deploy/docker"
cp -a package.json package-lock.json proto "$CONTEXT/"
cp -a deploy/docker/entrypoint.sh deploy/docker/healthcheck.cjs deploy/docker/tessera "$CONTEXT/deploy/docker/"
for pkg in $PACKAGES; do
  [ -d "packages/$pkg/dist" ] || { echo "packages/$pkg/dist is missing (build first or drop --no-compile)" >&2; exit 1; }
  mkdir -p "$CONTEXT/packages/$pkg"
  cp -a "packages/$pkg/package.json" "packages/$pkg/dist" "$CONTEXT/packages/$pkg/"
  rm -f "$CONTEXT/packages/$pkg/dist/.tsbuildinfo"
done

# Production dependencies as npm resolved them on the host. Top-level entries only: a nested
# node_modules is copied with its parent. @tessera/* are workspace symlinks (../../packages/x):
# keep only those of staged packages so none dangles.
# `npm ls` exits non-zero on any tree problem elsewhere in the workspace (say, a workspace
# someone has just added and not installed); the list it prints is still right, and an empty
# list is caught below.
PROD_LIST="$CONTEXT/.production-packages"
{ npm ls --omit=dev --all --parseable 2>/dev/null || true; } | sed -n "s|^$ROOT/node_modules/||p" |
  grep -v '/node_modules/' | sort -u > "$PROD_LIST"
[ -s "$PROD_LIST" ] || { echo "npm ls --omit=dev listed no packages: is node_modules installed?" >&2; exit 1; }
while read -r rel; do
    case "$rel" in
      @tessera/*) [ -d "$CONTEXT/packages/${rel#@tessera/}" ] || continue ;;
    esac
    mkdir -p "$CONTEXT/node_modules/$(dirname "$rel")"
    cp -a "node_modules/$rel" "$CONTEXT/node_modules/$rel"
done < "$PROD_LIST"
rm -f "$PROD_LIST"
# Binary links of production packages only would need a second walk; the image runs `node
# <main.js>` directly and needs none.

echo "context $CONTEXT: $(du -sh "$CONTEXT" | cut -f1) ($PACKAGES)"
[ "$STAGE_ONLY" = 1 ] && exit 0
docker build --quiet -f deploy/docker/Dockerfile -t "$TAG" "$CONTEXT" >/dev/null
echo "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
