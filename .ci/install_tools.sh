#!/bin/sh
# Debian tools the tests need: strace (tests/service/test_egress.py traces every connect/sendto of
# the service and the CLI: zero egress, issue 13). Required: the tests fail, never skip, without it.
set -e
SUDO=""
[ "$(id -u)" = "0" ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
command -v strace >/dev/null && exit 0
$SUDO apt-get install -y -q --no-install-recommends strace \
    || { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends strace; }
command -v strace >/dev/null
