#!/usr/bin/env bash
# Makes the static bundle from wasm-bindgen's output: every file but index.html gets a content hash
# in its name (pkg/lightbeam_web-HASH.js, pkg/lightbeam_web_bg-HASH.wasm, style-HASH.css), so a
# cached old file can never meet a new one after an upgrade; index.html (never hashed: host it with
# Cache-Control: no-cache) names them and carries the page's Content-Security-Policy, with the hash
# of its one inline script. The JS names its hashed wasm, so a new wasm also renames the JS.
# Usage: bash scripts/web-bundle.sh PKG_DIR OUT_DIR   (PKG_DIR: lightbeam_web.js + lightbeam_web_bg.wasm)
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=$1
OUT=$2
for f in lightbeam_web.js lightbeam_web_bg.wasm; do
  [ -f "$PKG/$f" ] || { echo "web-bundle: $PKG/$f is missing (run scripts/build-web.sh)" >&2; exit 1; }
done
hash() { sha256sum "$1" | cut -c1-16; }
rm -rf "$OUT"
mkdir -p "$OUT/pkg"
wasm="lightbeam_web_bg-$(hash "$PKG/lightbeam_web_bg.wasm").wasm"
cp "$PKG/lightbeam_web_bg.wasm" "$OUT/pkg/$wasm"
grep -q "new URL('lightbeam_web_bg.wasm', import.meta.url)" "$PKG/lightbeam_web.js" || {
  echo "web-bundle: $PKG/lightbeam_web.js no longer names lightbeam_web_bg.wasm as wasm-bindgen did" >&2
  exit 1
}
sed "s|new URL('lightbeam_web_bg.wasm', import.meta.url)|new URL('$wasm', import.meta.url)|" \
  "$PKG/lightbeam_web.js" >"$OUT/pkg/lightbeam_web.js"
js="lightbeam_web-$(hash "$OUT/pkg/lightbeam_web.js").js"
mv "$OUT/pkg/lightbeam_web.js" "$OUT/pkg/$js"
css="style-$(hash web/style.css).css"
cp web/style.css "$OUT/$css"
python3 - "$OUT" "$js" "$css" <<'PY'
import base64, hashlib, re, sys
out, js, css = sys.argv[1:]
html = open("index.html", encoding="utf-8").read()
for old, new in (("./pkg/lightbeam_web.js", f"./pkg/{js}"), ('href="style.css"', f'href="{css}"')):
    if old not in html:
        sys.exit(f"web-bundle: index.html no longer contains {old}")
    html = html.replace(old, new)
scripts = re.findall(r"<script type=\"module\">(.*?)</script>", html, re.S)
if len(scripts) != 1:
    sys.exit("web-bundle: index.html must have exactly one inline module script")
digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
# connect-src *: the page talks to whichever Ed-Fi API the user names. frame-ancestors cannot be
# set from a meta tag; the hosting guide (README) sends it as a header.
csp = ("default-src 'none'; "
       f"script-src 'self' 'wasm-unsafe-eval' 'sha256-{digest}'; "
       "style-src 'self'; img-src 'self' data:; connect-src *; "
       "base-uri 'none'; form-action 'none'")
meta = f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
html = html.replace('<meta charset="utf-8">', '<meta charset="utf-8">\n  ' + meta, 1)
open(f"{out}/index.html", "w", encoding="utf-8").write(html)
PY
echo "web-bundle: $OUT/ (index.html, $css, pkg/$js, pkg/$wasm)"
