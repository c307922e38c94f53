#!/bin/sh
# Installs Debian's chromium for the browser end-to-end tests (required: the tests fail, never
# skip, without it) and a CJK font (best effort: Chinese in screenshots and PDF page images of
# drafts whose fonts are not embedded). Debian packages only, never a browser download.
set -e
SUDO=""
[ "$(id -u)" = "0" ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
apt_install() {
    $SUDO apt-get install -y -q "$@" || { $SUDO apt-get update -q && $SUDO apt-get install -y -q "$@"; }
}
if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
fi
test -x /usr/bin/chromium
if ! fc-list 2>/dev/null | grep -qi -e "wqy" -e "noto sans cjk"; then
    apt_install fonts-wqy-zenhei || echo "warning: no CJK font installed; screenshots may show boxes for Chinese" >&2
fi
