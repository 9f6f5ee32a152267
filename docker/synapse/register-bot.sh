#!/bin/sh
# bot-account (docker-compose.yml): registers the bot user with Synapse's
# registration shared secret; an existing account is fine (idempotent).
set -eu
[ -n "${BOT_PASSWORD:-}" ] || { echo "bot-account: BOT_PASSWORD is empty" >&2; exit 1; }
pwfile=$(mktemp)
trap 'rm -f "$pwfile"' EXIT
printf '%s' "$BOT_PASSWORD" > "$pwfile"
# Keep the password out of argv where this Synapse supports --password-file.
if register_new_matrix_user --help 2>&1 | grep -q -- '--password-file'; then
  set -- --password-file "$pwfile"
else
  set -- -p "$BOT_PASSWORD"
fi
if out=$(register_new_matrix_user -c /data/homeserver.yaml -u "$BOT_LOCALPART" "$@" --no-admin http://synapse:8008 2>&1); then
  echo "bot-account: registered @${BOT_LOCALPART}"
elif echo "$out" | grep -qi 'already taken'; then
  echo "bot-account: @${BOT_LOCALPART} exists"
else
  echo "$out" | grep -v -- "$BOT_PASSWORD" >&2
  exit 1
fi
