#!/usr/bin/env bash
# System setup for the container and client tests (called by .ci/run before `npm ci`). Installs
# docker.io, docker-compose (v1.29), mmdebstrap, and the S3 clients rclone and s3cmd (and the aws
# CLI and boto3 when none is on the PATH) from Debian, starts dockerd in the background, blocks all
# container egress (DOCKER-USER rules), builds the offline base image and sweeps leftover test
# containers. Idempotent and fast when already done. It never fails CI: on any problem it prints
# one clear line and exits 0, and the docker tests then skip with their own message.
set -uo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/tessera-dockerd.log}

skip() { echo "== docker setup skipped: $*; docker tests will skip"; exit 0; }

[ "$(id -u)" = 0 ] || skip "not root (cannot install or start dockerd)"
command -v apt-get >/dev/null || skip "no apt-get on this machine"

# S3 clients for the client compatibility tests (they skip with a message when absent); a
# failure here does not stop the Docker setup.
clients=()
command -v rclone >/dev/null || clients+=(rclone)
command -v s3cmd >/dev/null || clients+=(s3cmd)
command -v aws >/dev/null || clients+=(awscli)
# boto3 for the Python client test, unless some python3 on the PATH already has it.
{ python3 -c 'import boto3' || /usr/bin/python3 -c 'import boto3'; } >/dev/null 2>&1 || clients+=(python3-boto3)
if [ ${#clients[@]} -gt 0 ]; then
  echo "== apt-get install ${clients[*]} (S3 clients)"
  { apt-get update -qq && apt-get install -y -qq "${clients[@]}"; } >/dev/null 2>&1 || echo "== could not install ${clients[*]}; their tests will skip"
fi

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v iptables >/dev/null || need+=(iptables)
if [ ${#need[@]} -gt 0 ]; then
  echo "== apt-get install ${need[*]}"
  apt-get update -qq >/dev/null 2>&1 || skip "apt-get update failed"
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || skip "apt-get install ${need[*]} failed"
fi

if ! docker info >/dev/null 2>&1; then
  echo "== starting dockerd (log: $DOCKERD_LOG)"
  setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -20 "$DOCKERD_LOG"; skip "dockerd did not start"; }
fi

# Containers must not reach anything off their own bridge (no registry, no internet). Host ->
# container traffic (published 127.0.0.1 ports) goes through INPUT/OUTPUT, not FORWARD, so it is
# unaffected; container -> container traffic stays on one bridge. `-C` keeps this idempotent.
for iface in 'br-+' docker0; do
  iptables -C DOCKER-USER -i "$iface" ! -o "$iface" -j DROP 2>/dev/null ||
    iptables -I DOCKER-USER -i "$iface" ! -o "$iface" -j DROP ||
    echo "== warning: could not add the DOCKER-USER egress rule for $iface"
done

deploy/docker/build-base-image.sh || skip "base image build failed"

# Leftovers from crashed test runs: compose projects named tessera-test-* and testcontainers.
stale=$( { docker ps -aq --filter label=org.testcontainers=true
          docker ps -a --filter label=com.docker.compose.project --format '{{.ID}} {{.Label "com.docker.compose.project"}}' |
            awk '$2 ~ /^tessera-test-/ {print $1}'; } | sort -u)
if [ -n "$stale" ]; then
  echo "== removing $(echo "$stale" | wc -l) leftover test containers"
  echo "$stale" | xargs -r docker rm -f -v >/dev/null
fi
docker network ls -q --filter name=tessera-test- | xargs -r docker network rm >/dev/null 2>&1
docker volume ls -q --filter name=tessera-test- | xargs -r docker volume rm >/dev/null 2>&1
echo "== docker ready: $(docker version --format 'engine {{.Server.Version}}'), $(docker-compose version --short 2>/dev/null || echo 'no docker-compose')"
exit 0
