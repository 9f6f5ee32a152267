#!/bin/sh
# synapse-init (docker-compose.yml): first start generates homeserver.yaml and
# the signing key (the image's own `generate`); every start rewrites the TURN
# overlay /data/turn.yaml from the environment, so .env stays the one place
# the shared secret is set. Synapse merges both files (two --config-path).
set -eu
if [ ! -f /data/homeserver.yaml ]; then
  echo "synapse-init: generating /data/homeserver.yaml for ${SYNAPSE_SERVER_NAME}"
  /start.py generate
fi
case "$TURN_SHARED_SECRET" in
  *[!A-Za-z0-9._~+/=-]*|"") echo "synapse-init: TURN_SHARED_SECRET must be non-empty and use only letters, digits and ._~+/=- (openssl rand -hex 32)" >&2; exit 1 ;;
esac
tls_port="${TURN_TLS_PORT:-5349}"
umask 077
cat > /data/turn.yaml.tmp <<YAML
# Written by docker/synapse/synapse-init.sh from .env at every start; edit .env, not this file.
turn_uris:
  - "turn:${TURN_HOST}?transport=udp"
  - "turn:${TURN_HOST}?transport=tcp"
  - "turns:${TURN_HOST}:${tls_port}?transport=tcp"
turn_shared_secret: "${TURN_SHARED_SECRET}"
# A duration: bare numbers would be milliseconds.
turn_user_lifetime: 1h
turn_allow_guests: false
YAML
chown 991:991 /data/turn.yaml.tmp 2>/dev/null || true
mv /data/turn.yaml.tmp /data/turn.yaml
echo "synapse-init: wrote /data/turn.yaml (turn_uris for ${TURN_HOST})"
# MatrixRTC overlay /data/rtc.yaml (always written, so Synapse's third --config-path exists):
# MSC4143 rtc/transports and the .well-known rtc_foci name LIVEKIT_SERVICE_URL when it is set.
if [ -n "${LIVEKIT_SERVICE_URL:-}" ]; then
  case "$LIVEKIT_SERVICE_URL" in
    https://*|http://*) ;;
    *) echo "synapse-init: LIVEKIT_SERVICE_URL must be an http(s) URL" >&2; exit 1 ;;
  esac
  cat > /data/rtc.yaml.tmp <<YAML
# Written by docker/synapse/synapse-init.sh from .env at every start; edit .env, not this file.
experimental_features:
  msc4143_enabled: true
matrix_rtc:
  transports:
    - type: livekit
      livekit_service_url: "${LIVEKIT_SERVICE_URL}"
extra_well_known_client_content:
  org.matrix.msc4143.rtc_foci:
    - type: livekit
      livekit_service_url: "${LIVEKIT_SERVICE_URL}"
YAML
else
  echo "# MatrixRTC not configured (LIVEKIT_SERVICE_URL unset in .env)." > /data/rtc.yaml.tmp
fi
chown 991:991 /data/rtc.yaml.tmp 2>/dev/null || true
mv /data/rtc.yaml.tmp /data/rtc.yaml
