#!/usr/bin/env bash
# The install-and-author path, on the real machine, as root (docs/provider-authors.md follows these steps):
#   1. cpack the built tree: gatehouse, gatehouse-sdk-dev, gatehouse-provider-postgres .debs
#   2. apt-get install them; check RUNPATHs and that the installed binaries run
#   3. scaffold a provider with the installed `gatehouse provider new`, build and test it out of tree against
#      the installed SDK, cpack it into gatehouse-provider-NAME.deb, install that, inspect it
#   4. run the installed gatehoused as the gatehouse user (as systemd would) on a copy of the packaged config
#      (a free port and a token; data_dir stays /var/lib/gatehouse), wait for /readyz, find the provider in
#      `gatehouse provider list`, stop it with SIGTERM
#   5. apt-get purge everything and check nothing is left
# Cleans up on any exit. It never purges or replaces a gatehouse installation it did not make: when one of its
# packages is known to dpkg (installed, or removed with its config files kept) and this test's marker
# ($MARKER, written before it installs anything, removed once it purged everything) is absent, it skips with
# exit 77 and a sentence naming what it found. Packages an interrupted run of this test left (the marker is
# there) are reinstalled over, then purged.
# Usage: check_packages.sh BUILD_DIR    (exit 77 = skipped: not root, no dpkg/apt-get, or gatehouse is installed)
set -euo pipefail

build_dir=$(cd "$1" && pwd)
NAME=pkgcheck_notes                 # '_' on purpose: the package and provider name become pkgcheck-notes
SLUG=${NAME//_/-}
PACKAGES=(gatehouse gatehouse-sdk-dev gatehouse-provider-postgres)
ALL_PACKAGES=("gatehouse-provider-$SLUG" gatehouse-provider-postgres gatehouse-sdk-dev gatehouse)
MARKER=${GATEHOUSE_PACKAGE_TEST_MARKER:-/var/tmp/gatehouse-package-test.installed}

if [[ $(id -u) -ne 0 ]]; then echo "skipped: installing packages needs root"; exit 77; fi
for tool in apt-get dpkg cpack setpriv readelf; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool is not available"; exit 77; }
done

say() { printf '==> %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# The status line of GET /readyz, with bash alone (no curl on a minimal machine).
ready_status() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 \
    && timeout 2 head -n 1 <&3) 2>/dev/null
}
# dpkg's state of a package: installed, config-files (removed, its config kept), half-installed, …; empty or
# not-installed when dpkg has nothing of it.
dpkg_state() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true; }

# Someone's gatehouse is theirs: installing over it would replace it, and the purge at the end would delete its
# config (/etc/gatehouse) and state (/var/lib/gatehouse). Checked before anything is changed or cleaned up.
if [[ ! -f "$MARKER" ]]; then
  found=()
  for p in "${ALL_PACKAGES[@]}"; do
    state=$(dpkg_state "$p")
    [[ -z "$state" || "$state" == not-installed ]] || found+=("$p ($state$(dpkg-query -W -f=', ${Version}' "$p" 2>/dev/null || true))")
  done
  if ((${#found[@]})); then
    echo "skipped: this machine has ${found[*]}, which this test did not install; it would replace and purge it," \
         "so it runs only where no gatehouse package is installed"
    exit 77
  fi
fi

work=$(mktemp -d /tmp/gatehouse-packages-XXXXXX)
chmod 755 "$work"   # apt's _apt user reads the .debs; the gatehouse user reads the config copy
user_existed=0
getent passwd gatehouse >/dev/null && user_existed=1
daemon_pid=

cleanup() {
  local rc=$?
  set +e
  if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid"
    for _ in $(seq 1 300); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null
  fi
  # A daemon killed hard leaves its embedded PostgreSQL running: stop that cluster (ours) before purging.
  if [[ -f /var/lib/gatehouse/postgres/postmaster.pid ]]; then
    pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    setpriv --reuid gatehouse --regid gatehouse --init-groups "$pgbin/pg_ctl" -D /var/lib/gatehouse/postgres -m immediate -w stop >/dev/null 2>&1
  fi
  local left=() state
  for p in "${ALL_PACKAGES[@]}"; do  # ours: a foreign installation made this script exit before the trap was set
    state=$(dpkg_state "$p")
    [[ -z "$state" || "$state" == not-installed ]] || left+=("$p")
  done
  if ((${#left[@]})); then
    say "cleanup: purging ${left[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${left[@]}" >/dev/null 2>&1
  fi
  # The marker goes only once dpkg has nothing of ours left: a later run may then finish the cleanup.
  left=()
  for p in "${ALL_PACKAGES[@]}"; do
    state=$(dpkg_state "$p")
    [[ -z "$state" || "$state" == not-installed ]] || left+=("$p")
  done
  ((${#left[@]})) || rm -f "$MARKER"
  if ((user_existed == 0)) && getent passwd gatehouse >/dev/null; then
    userdel gatehouse 2>/dev/null; getent group gatehouse >/dev/null && groupdel gatehouse 2>/dev/null
  fi
  if ((rc != 0)) && [[ -f "$work/gatehoused.log" ]]; then
    echo "--- end of gatehoused.log" >&2; tail -n 30 "$work/gatehoused.log" >&2
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. packages from the built tree
say "cpack in $build_dir"
cpack --config "$build_dir/CPackConfig.cmake" -B "$work/debs" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack failed"; }
cd "$work/debs"
for p in "${PACKAGES[@]}"; do
  compgen -G "${p}_*.deb" >/dev/null || fail "cpack made no ${p}_*.deb"
  say "$(ls ${p}_*.deb): $(dpkg-deb -f ${p}_*.deb Depends)"
done
dpkg-deb -f gatehouse_*.deb Provides | grep -q "gatehouse-abi-1" || fail "gatehouse does not provide gatehouse-abi-1"
dpkg-deb --ctrl-tarfile gatehouse_*.deb | tar -xO ./conffiles | grep -qx /etc/gatehouse/gatehoused.yaml \
  || fail "/etc/gatehouse/gatehoused.yaml is not a conffile"

# ---- 2. install (deps are already installed by the quick start: no network needed)
echo "installed by tests/install/check_packages.sh (pid $$) at $(date -u +%FT%TZ): ${ALL_PACKAGES[*]}" > "$MARKER"
say "apt-get install ./gatehouse_*.deb ./gatehouse-sdk-dev_*.deb ./gatehouse-provider-postgres_*.deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --reinstall --allow-downgrades \
  ./gatehouse_*.deb ./gatehouse-sdk-dev_*.deb ./gatehouse-provider-postgres_*.deb >"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log"; fail "apt-get install failed"; }
cd "$work"
getent passwd gatehouse >/dev/null || fail "postinst did not create the gatehouse user"
[[ $(stat -c %U /var/lib/gatehouse) == gatehouse ]] || fail "/var/lib/gatehouse is not owned by gatehouse"
for f in /usr/sbin/gatehoused /usr/bin/gatehouse /usr/libexec/gatehouse/gatehouse-provider-runner \
         /usr/lib/gatehouse/providers/demo.so /usr/lib/gatehouse/providers/postgres.so \
         /lib/systemd/system/gatehoused.service /usr/share/gatehouse/schemas/provider.v1.schema.json \
         /usr/include/gatehouse/sdk.hpp /usr/include/gatehouse/testing.hpp; do
  [[ -e "$f" ]] || fail "$f is not installed"
done
proto=$(dpkg -L gatehouse | grep '/libgatehouse-proto\.so\.1$') || fail "libgatehouse-proto.so.1 is not in the gatehouse package"
for f in /usr/sbin/gatehoused /usr/bin/gatehouse /usr/libexec/gatehouse/gatehouse-provider-runner \
         /usr/lib/gatehouse/providers/*.so "$proto"; do
  if ldd "$f" | grep -q "not found"; then ldd "$f"; fail "$f has unresolved libraries"; fi
  say "$f: $(readelf -d "$f" | grep -o 'runpath: .*' || echo 'no RUNPATH')"
done
# Every library an installed file needs comes from a package the Depends lists (or one of ours).
allowed=" ${PACKAGES[*]} $(for p in "${PACKAGES[@]}"; do dpkg-query -W -f='${Depends}, ' "$p"; done | tr ',|' '\n\n' | awk '{print $1}' | tr '\n' ' ') "
for p in "${PACKAGES[@]}"; do
  while read -r f; do
    [[ -f "$f" && ! -L "$f" ]] && head -c 4 "$f" | grep -q ELF || continue
    for lib in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      owners=$(dpkg -S "*/$lib" 2>/dev/null | cut -d: -f1 | tr ',' '\n' | tr -d ' ' | sort -u)
      ok=0
      for owner in $owners; do [[ "$allowed" == *" $owner "* ]] && ok=1; done
      ((ok)) || fail "$f needs $lib (from: $(echo $owners)), which $p's Depends do not name"
    done
  done < <(dpkg -L "$p")
done
/usr/sbin/gatehoused --version | grep -q . || fail "gatehoused --version"
/usr/sbin/gatehoused check-config --config /etc/gatehouse/gatehoused.yaml >/dev/null || fail "the packaged config does not check"
export XDG_CACHE_HOME="$work/cache"   # the CLI's provider scan cache: not root's home
gatehouse provider inspect /usr/lib/gatehouse/providers/demo.so | grep -q "gatehouse/demo@" || fail "inspect demo.so"
pkg-config --modversion gatehouse-sdk >/dev/null || fail "pkg-config gatehouse-sdk"

# ---- 3. author a provider with the installed SDK
say "gatehouse provider new $NAME"
gatehouse provider new "$NAME" --dir "$work/$NAME"
if gatehouse provider new "$NAME" --dir "$work/$NAME" 2>/dev/null; then fail "provider new overwrote a project"; fi
say "build, test and package it out of tree"
cmake -S "$work/$NAME" -B "$work/$NAME/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/author.log" 2>&1 \
  && cmake --build "$work/$NAME/build" -j 2 >>"$work/author.log" 2>&1 \
  && ctest --test-dir "$work/$NAME/build" --output-on-failure >>"$work/author.log" 2>&1 \
  && (cd "$work/$NAME/build" && cpack) >>"$work/author.log" 2>&1 \
  || { cat "$work/author.log"; fail "the scaffolded provider did not build, pass its test and package"; }
grep -q "100% tests passed" "$work/author.log" || { cat "$work/author.log"; fail "the provider's tests did not run"; }
deb=$(ls "$work/$NAME/build/gatehouse-provider-${SLUG}_"*.deb)
say "$(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -f "$deb" Depends | grep -q "gatehouse-abi-1" || fail "the provider package does not depend on gatehouse-abi-1"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --reinstall "$deb" >"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log"; fail "apt-get install $deb failed"; }
gatehouse provider inspect "/usr/lib/gatehouse/providers/$NAME.so" | tee "$work/inspect.txt"
grep -q "example/$SLUG@0.1.0" "$work/inspect.txt" || fail "inspect does not show example/$SLUG@0.1.0"

# ---- 4. the installed daemon, as the gatehouse user, on a copy of the packaged config
port=
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 30000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[[ -n "$port" ]] || fail "no free port"
token=$(/usr/sbin/gatehoused token new --name package-test --role admin | sed -n 's/^token: //p')
[[ -n "$token" ]] || fail "gatehoused token new printed no token"
digest=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
sed -e "s|^listen: .*|listen: 127.0.0.1:$port|" \
    -e "s|^  tokens: \[\]|  tokens:\n    - {name: package-test, role: admin, sha256: $digest}|" \
    /etc/gatehouse/gatehoused.yaml > "$work/gatehoused.yaml"
chmod 644 "$work/gatehoused.yaml"
grep -q "$digest" "$work/gatehoused.yaml" || fail "could not add the token to the config copy"
/usr/sbin/gatehoused check-config --config "$work/gatehoused.yaml" >/dev/null || fail "the config copy does not check"
say "starting /usr/sbin/gatehoused as gatehouse on 127.0.0.1:$port (data_dir /var/lib/gatehouse)"
(cd / && exec setpriv --reuid gatehouse --regid gatehouse --init-groups \
   /usr/sbin/gatehoused --config "$work/gatehoused.yaml") </dev/null >"$work/gatehoused.log" 2>&1 &
daemon_pid=$!
ready=0
for _ in $(seq 1 600); do
  if ready_status "$port" | grep -q " 200"; then ready=1; break; fi
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
((ready)) || fail "gatehoused did not become ready"
export GATEHOUSE_SERVER="http://127.0.0.1:$port" GATEHOUSE_TOKEN="$token"
gatehouse provider list | tee "$work/list.txt"
for ref in "example/$SLUG@0.1.0" "gatehouse/demo@" "gatehouse/postgres@"; do
  grep -q "$ref" "$work/list.txt" || fail "gatehouse provider list does not show $ref"
done
[[ -f /var/lib/gatehouse/postgres/PG_VERSION ]] || fail "no embedded PostgreSQL under /var/lib/gatehouse"
[[ $(stat -c %U /var/lib/gatehouse/postgres) == gatehouse ]] || fail "the embedded cluster is not the gatehouse user's"
say "stopping gatehoused (SIGTERM)"
kill -TERM "$daemon_pid"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=
((status == 0)) || fail "gatehoused exited $status after SIGTERM"

# ---- 5. purge, and nothing is left
say "apt-get purge ${ALL_PACKAGES[*]}"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${ALL_PACKAGES[@]}" >"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log"; fail "apt-get purge failed"; }
for p in "${ALL_PACKAGES[@]}"; do
  if dpkg -L "$p" >/dev/null 2>&1; then fail "dpkg -L $p still lists files"; fi
done
for path in /usr/lib/gatehouse /var/lib/gatehouse /etc/gatehouse /usr/libexec/gatehouse /usr/include/gatehouse \
            /usr/share/gatehouse /lib/systemd/system/gatehoused.service /usr/sbin/gatehoused /usr/bin/gatehouse; do
  [[ ! -e "$path" ]] || fail "$path is left after purge"
done
compgen -G "/usr/lib/*/cmake/gatehouse-sdk" >/dev/null && fail "the SDK CMake package is left after purge"
[[ ! -e /usr/lib/cmake/gatehouse-sdk ]] || fail "the SDK CMake package is left after purge"
say "packages install, an authored provider builds, packages and loads in the installed gatehoused, purge leaves nothing"
