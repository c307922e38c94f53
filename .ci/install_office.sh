#!/bin/sh
# Installs the Debian packages that reading images, scans and legacy office files needs (issue 11):
# - LibreOffice headless (writer/calc/impress, "nogui" builds: no X11 or GL), the converter of
#   .doc/.wps/.rtf/.et/.xls/.dps/.ppt to OOXML (scanner/extract/legacy.py);
# - fonts-wqy-zenhei, a CJK font, so that PDFium renders PDFs whose Chinese font is not embedded
#   (STSong-Light and other CID fonts) instead of blank pages before OCR, and tests draw Chinese.
# Debian packages only; nothing is downloaded at run time. `--best-effort` (make run) warns instead
# of failing when the packages cannot be installed; without it (make test) a failure is an error.
set -e
BEST_EFFORT=0
[ "${1:-}" = "--best-effort" ] && BEST_EFFORT=1
SUDO=""
[ "$(id -u)" = "0" ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
PKGS="libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui fonts-wqy-zenhei"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
apt_install() {
    $SUDO apt-get install -y -q --no-install-recommends "$@" \
        || { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends "$@"; }
}
if ! apt_install $missing; then
    if [ "$BEST_EFFORT" = "1" ]; then
        echo "warning: could not install$missing; legacy office files go to review as unsupported," \
             "PDFs with non-embedded Chinese fonts may render blank for OCR" >&2
        exit 0
    fi
    exit 1
fi
command -v soffice >/dev/null
