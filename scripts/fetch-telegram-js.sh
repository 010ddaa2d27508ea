#!/usr/bin/env bash
# Puts the official telegram-web-app.js (from the npm package @twa-dev/sdk) in
# assets/external/, for tests and offline development. Production loads Telegram's copy.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${TWA_SDK_VERSION:-8.0.2}"
TARGET=assets/external/telegram-web-app.js
STAMP=assets/external/.version
if [ -f "$TARGET" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "@twa-dev/sdk@$VERSION" >/dev/null 2>&1)
tar -xzf "$TMP"/twa-dev-sdk-*.tgz -C "$TMP" package/dist/telegram-web-apps.js
mkdir -p assets/external
cp "$TMP/package/dist/telegram-web-apps.js" "$TARGET"
echo "$VERSION" > "$STAMP"
echo "telegram-web-app.js $VERSION from @twa-dev/sdk -> $TARGET"
