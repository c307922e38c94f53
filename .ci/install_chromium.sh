#!/bin/sh
# Installs Debian's chromium (and a CJK font, so pages and PDF page images render Chinese) for the
# browser end-to-end tests. Never a browser download by a test tool: Debian packages only.
set -e
need=""
[ -x /usr/bin/chromium ] || need="$need chromium"
fc-list 2>/dev/null | grep -qi -e "wqy" -e "noto sans cjk" || need="$need fonts-wqy-zenhei"
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" = "0" ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q $need || { $SUDO apt-get update -q && $SUDO apt-get install -y -q $need; }
test -x /usr/bin/chromium
