#!/bin/sh
# Role dispatch for the Tessera image: `docker run IMAGE <role> [flags...]`.
#   gateway  -> node packages/gateway/dist/main.js      (S3 API)
#   metadata -> node packages/metadata/dist/main.js     (Raft-replicated catalogue)
#   storage  -> node packages/storage-node/dist/main.js (shard store)
# Anything else is executed as given (e.g. `docker run IMAGE node -e ...`), like the official
# node image. `exec` makes node the process that receives SIGTERM (both with and without
# `--init`/`init: true`); every role main stops gracefully on SIGTERM.
set -eu

usage() {
  cat <<'USAGE'
usage: <role> [flags...]
roles:
  gateway   S3 gateway        (--listen, --metadata, --region, --metrics-listen; keys from
                               TESSERA_ROOT_ACCESS_KEY / TESSERA_ROOT_SECRET_KEY)
  metadata  metadata node     (--node-id, --listen, --peers, --data-dir, --metrics-listen)
  storage   storage node      (--node-id, --zone, --listen, --data-dir, --metrics-listen,
                               --capacity-bytes, --metadata, --advertise)
`<role> --help` prints the role's own flags. Every role serves /health/live, /health/ready and
/metrics on its metrics address (default TESSERA_METRICS_LISTEN=0.0.0.0:9090 in this image).
USAGE
}

role=${1:-}
case "$role" in
  gateway)
    main=/app/packages/gateway/dist/main.js
    # The gateway names its variables TESSERA_GATEWAY_*; keep one documented variable for the
    # image's metrics address across roles.
    if [ -z "${TESSERA_GATEWAY_METRICS_LISTEN:-}" ] && [ -n "${TESSERA_METRICS_LISTEN:-}" ]; then
      export TESSERA_GATEWAY_METRICS_LISTEN="$TESSERA_METRICS_LISTEN"
    fi
    ;;
  metadata) main=/app/packages/metadata/dist/main.js ;;
  storage) main=/app/packages/storage-node/dist/main.js ;;
  '' | help | -h | --help) usage; exit 0 ;;
  *) exec "$@" ;;
esac
shift

if [ ! -f "$main" ]; then
  echo "tessera: role '$role' is not in this image ($main is missing; was it built before the image?)" >&2
  exit 64
fi

# The healthcheck must probe the address this process really serves /health on: the flag wins
# over the environment, exactly as in the mains, so record what we will pass.
metrics_listen=${TESSERA_METRICS_LISTEN:-}
previous=''
for arg in "$@"; do
  case "$arg" in --metrics-listen=*) metrics_listen=${arg#--metrics-listen=} ;; esac
  [ "$previous" = '--metrics-listen' ] && metrics_listen=$arg
  previous=$arg
done
printf '%s\n' "$metrics_listen" > /tmp/tessera-metrics-listen 2>/dev/null || true

exec node "$main" "$@"
