#!/bin/sh
# A private Docker Engine for fatchart's tests and for developers, from Debian's `docker.io`.
#
#   test/support/docker-up.sh start            # start (or reuse) it and keep it running; prints
#                                              #   `export DOCKER_HOST=unix://...` for eval
#   test/support/docker-up.sh start --owner PID  # the same for a test run: a watcher stops the
#                                              #   daemon once no registered owner process is alive
#   test/support/docker-up.sh stop             # stop it (containers with it); data root is kept
#   test/support/docker-up.sh status           # exit 0 when it answers
#
#   eval "$(test/support/docker-up.sh start)" && docker ps
#
# It never touches the system daemon: its own --data-root, --exec-root, socket and pid file under
# $FATCHART_TEST_DOCKER_DIR (default /tmp/fatchart-test-docker). No default bridge, no iptables,
# no masquerading, so containers reach nothing beyond the host (tests use `network_mode: none` or
# ports published on 127.0.0.1). --experimental because CRIU checkpoints need it; a CRIU built by
# ../shared/tools/criu/criu-build ($CRIU_HOME/bin) goes first in the daemon's PATH when present.
# It also builds the test image fatchart-test/busybox:1 locally by `docker import` of a rootfs
# made from Debian's busybox-static: nothing is pulled. The data root stays as a cache.
set -eu

STATE=${FATCHART_TEST_DOCKER_DIR:-/tmp/fatchart-test-docker}
SOCK="$STATE/docker.sock"
PIDFILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"
IMAGE=${FATCHART_TEST_IMAGE:-fatchart-test/busybox:1}
BUSYBOX=${FATCHART_BUSYBOX:-/bin/busybox}
CRIU_BIN=${CRIU_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/criu}/bin
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
export DOCKER_HOST="unix://$SOCK"

mkdir -p "$STATE/owners"
say() { echo "docker-up: $*" >&2; }

alive() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
answers() { curl -sf --max-time 5 --unix-socket "$SOCK" http://engine/_ping >/dev/null 2>&1; }

start_daemon() {
  if alive && answers; then return 0; fi
  if alive; then stop_daemon; fi
  rm -f "$SOCK" "$PIDFILE"
  command -v dockerd >/dev/null || { say "dockerd not found: apt-get install docker.io"; exit 3; }
  daemon_path=$PATH
  [ -x "$CRIU_BIN/criu" ] && daemon_path="$CRIU_BIN:$PATH"
  say "starting dockerd (log: $LOG)"
  # setsid: the daemon must not die with the shell or test worker that happened to start it.
  PATH=$daemon_path setsid dockerd \
    --data-root "$STATE/data" --exec-root "$STATE/exec" \
    --host "unix://$SOCK" --pidfile "$PIDFILE" \
    --bridge=none --iptables=false --ip-masq=false --experimental \
    </dev/null >"$LOG" 2>&1 9>&- &
  i=0
  until answers; do
    i=$((i + 1))
    if [ $i -gt 120 ]; then say "dockerd did not answer within 60 s; last log lines:"; tail -n 20 "$LOG" >&2; exit 3; fi
    sleep 0.5
  done
}

stop_daemon() {
  [ -f "$PIDFILE" ] || return 0
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping dockerd $pid"
    kill -TERM "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null; do
      i=$((i + 1))
      if [ $i -gt 60 ]; then kill -KILL "$pid" 2>/dev/null || true; fi
      sleep 0.5
    done
  fi
  rm -f "$PIDFILE" "$SOCK"
}

build_image() {
  docker image inspect "$IMAGE" >/dev/null 2>&1 && return 0
  [ -x "$BUSYBOX" ] || { say "$BUSYBOX not found: apt-get install busybox-static"; exit 3; }
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/root"
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $("$BUSYBOX" --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
  rm -rf "$root"
  say "built $IMAGE"
}

# Stops the daemon once every registered owner (a test runner process) has exited, unless a
# developer pinned it with a plain `start`.
watch_owners() {
  while sleep 2; do
    exec 9>"$STATE/lock"
    flock 9
    [ -f "$STATE/pinned" ] && exit 0
    [ -f "$PIDFILE" ] || exit 0
    live=0
    for f in "$STATE"/owners/*; do
      [ -e "$f" ] || continue
      if kill -0 "$(basename "$f")" 2>/dev/null; then live=1; else rm -f "$f"; fi
    done
    if [ $live = 0 ]; then stop_daemon; rm -f "$STATE/watcher"; exit 0; fi
    flock -u 9
  done
}

cmd=${1:-}
case "$cmd" in
  start)
    owner=
    [ "${2:-}" = --owner ] && owner=${3:?--owner needs a pid}
    exec 9>"$STATE/lock"
    flock 9
    start_daemon
    build_image
    if [ -n "$owner" ]; then
      : >"$STATE/owners/$owner"
      if [ ! -f "$STATE/pinned" ] && ! { [ -f "$STATE/watcher" ] && kill -0 "$(cat "$STATE/watcher")" 2>/dev/null; }; then
        setsid "$SELF" __watch </dev/null >/dev/null 2>&1 9>&- &
        echo $! >"$STATE/watcher"
      fi
    else
      : >"$STATE/pinned"
    fi
    echo "export DOCKER_HOST=$DOCKER_HOST"
    ;;
  __watch) watch_owners ;;
  stop)
    exec 9>"$STATE/lock"
    flock 9
    rm -f "$STATE/pinned" "$STATE"/owners/*
    stop_daemon
    ;;
  status) answers ;;
  *) echo "usage: $0 start [--owner PID] | stop | status" >&2; exit 1 ;;
esac
