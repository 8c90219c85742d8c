#!/bin/sh
# Role dispatch for the Tessera image: `docker run IMAGE <role> [flags...]`.
#   gateway  -> node packages/gateway/dist/main.js      (S3 API)
#   metadata -> node packages/metadata/dist/main.js     (Raft-replicated catalogue)
#   storage  -> node packages/storage-node/dist/main.js (shard store)
#   healer   -> node packages/healer/dist/main.js       (rebuilds, scrubbing, orphan collection)
#   tessera  -> node packages/cli/dist/main.js          (operator CLI; also /usr/local/bin/tessera)
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
  healer    healing service   (--metadata, --metrics-listen, --worker-id, --node-loss-grace-ms,
                               --rebuild-rate-bytes-per-second, --scrub-period-ms, ...)
  tessera   operator CLI      (tessera heal --watch, tessera scrub start, tessera status, ...);
                               in the healer's container heal/scrub need no --healer
`<role> --help` prints the role's own flags. Every role serves /health/live, /health/ready and
/metrics on its metrics address (default TESSERA_METRICS_LISTEN=0.0.0.0:9090 in this image);
the healer also serves /admin/status there (and /admin/* changes, from loopback only).
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
  healer)
    main=/app/packages/healer/dist/main.js
    # The healer names its metrics variable TESSERA_HEALER_METRICS_LISTEN; as for the gateway.
    if [ -z "${TESSERA_HEALER_METRICS_LISTEN:-}" ] && [ -n "${TESSERA_METRICS_LISTEN:-}" ]; then
      export TESSERA_HEALER_METRICS_LISTEN="$TESSERA_METRICS_LISTEN"
    fi
    ;;
  tessera) shift; exec /app/deploy/docker/tessera "$@" ;;
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
# `tessera heal|scrub` run in this container (deploy/docker/tessera) default to this healer.
printf '%s\n' "$role" > /tmp/tessera-role 2>/dev/null || true

exec node "$main" "$@"
