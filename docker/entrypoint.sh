#!/bin/sh
# Runs `mario "$@"`. Workers and clients announce an address others connect back to: unless
# MARIO_ADVERTISE_HOST is set, it is this container's IP on its network.
set -e
if [ -z "${MARIO_ADVERTISE_HOST:-}" ] || [ "${MARIO_ADVERTISE_HOST}" = "auto" ]; then
  MARIO_ADVERTISE_HOST="$(hostname -i 2>/dev/null | cut -d' ' -f1)"
  [ -n "$MARIO_ADVERTISE_HOST" ] || MARIO_ADVERTISE_HOST=127.0.0.1
  export MARIO_ADVERTISE_HOST
fi
exec node /app/bin/mario.js "$@"
