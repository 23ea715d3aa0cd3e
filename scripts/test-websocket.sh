#!/usr/bin/env bash
# Same command as before, a true verdict now: ./scripts/test-websocket.sh [URL] [PATH] [options]
# Exit 0 = every gate passed (see `--help` for the other codes).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec node "$here/../bin/wsgate.js" run "$@"
