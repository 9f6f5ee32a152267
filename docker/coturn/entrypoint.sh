#!/bin/sh
# coturn (docker-compose.yml): the static config plus the values from .env,
# written to a private file so the secret is never on coturn's command line.
set -eu
[ -n "${TURN_SHARED_SECRET:-}" ] || { echo "coturn: TURN_SHARED_SECRET is empty" >&2; exit 1; }
conf=$(mktemp /tmp/turnserver.XXXXXX)
chmod 600 "$conf"
cat /mxv/turnserver.conf > "$conf"
{
  echo "realm=${TURN_HOST}"
  echo "server-name=${TURN_HOST}"
  echo "tls-listening-port=${TURN_TLS_PORT:-5349}"
  echo "static-auth-secret=${TURN_SHARED_SECRET}"
  if [ -n "${TURN_EXTERNAL_IP:-}" ]; then
    echo "external-ip=${TURN_EXTERNAL_IP}"
    echo "allowed-peer-ip=${TURN_EXTERNAL_IP%%/*}"
  fi
} >> "$conf"
exec turnserver -c "$conf"
