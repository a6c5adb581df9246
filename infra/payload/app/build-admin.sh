#!/usr/bin/env bash
# Payload's admin for `make dev` and the admin's browser test: the import map of the
# plugin's components (`payload generate:importmap`), then `next build`. The build reads the
# config, not the database, so it runs against a throwaway one.
set -euo pipefail
cd "$(dirname "$0")"
export NEXT_TELEMETRY_DISABLED=1
export PAYLOAD_CONFIG_PATH="$PWD/payload.config.mjs"
export PAYLOAD_SECRET=build-only
export PAYLOAD_DATABASE_URL="file:$PWD/.next-build.db"
# The storage adapter is part of the config only with an S3 endpoint; the import map must
# hold its client component, whichever endpoint the server is started with.
export SMM_PAYLOAD_S3_ENDPOINT=http://127.0.0.1:9
node_modules/.bin/payload generate:importmap
node_modules/.bin/next build
rm -f .next-build.db
