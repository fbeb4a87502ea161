#!/usr/bin/env bash
# Builds the lab's container images, with no registry: each image is
# `FROM scratch` plus one release binary (debug info stripped), the shared
# libraries it links, the dynamic loader and an /etc/passwd, so nothing is
# pulled (deploy/images/Dockerfile.in says what goes in and why).
#
#   scripts/images.sh            build every image
#   scripts/images.sh NAME ...   only these (e.g. shoplab-gateway)
#
# First `cargo build --release` of the binaries (a no-op when they are
# fresh, a rebuild when the sources changed), then one `docker build` per
# binary with the legacy builder (this engine has no BuildKit). Each image is
# tagged with the commit (`git rev-parse --short HEAD`, `-dirty` when the
# tree has uncommitted changes) and `latest`, and labelled
# org.opencontainers.image.*. Also writes deploy/compose/shoplab.env, the
# deployment's internal token, if it is missing (it is never overwritten:
# delete it to make a new token).
set -euo pipefail
cd "$(dirname "$0")/.."

all=(shoplab-monolith shoplab-users shoplab-catalog shoplab-payments shoplab-orders shoplab-gateway shoplab-group shoplab-floor)
case "${1:-}" in
-h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    printf 'images: %s\n' "${all[*]}"
    exit 0
    ;;
esac
binaries=("$@")
[ ${#binaries[@]} -eq 0 ] && binaries=("${all[@]}")
for binary in "${binaries[@]}"; do
    if ! printf '%s\n' "${all[@]}" | grep -qx "$binary"; then
        echo "images.sh: no image named $binary (images: ${all[*]})" >&2
        exit 2
    fi
done
if ! command -v docker >/dev/null; then
    echo "images.sh: docker is not installed" >&2
    exit 1
fi
if ! docker info >/dev/null 2>&1; then
    echo "images.sh: no Docker engine answers (is the daemon running, may this user use it?)" >&2
    exit 1
fi

echo "building the release binaries (a no-op if they are fresh) ..." >&2
cargo build --release $(printf -- '--bin %s ' "${binaries[@]}")

revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$revision" != unknown ] && ! git diff --quiet HEAD 2>/dev/null; then
    revision=$revision-dirty
fi
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
metadata=$(cargo metadata --no-deps --format-version 1)
# "version<TAB>license<TAB>description" of the package that builds binary $1.
package_of() {
    python3 -c '
import json, sys
binary = sys.argv[1]
for package in json.load(sys.stdin)["packages"]:
    if any(t["name"] == binary and "bin" in t["kind"] for t in package["targets"]):
        print(package["version"], package.get("license") or "", package.get("description") or "", sep="\t")
        break
else:
    sys.exit(f"no package builds {binary}")
' "$1" <<<"$metadata"
}

env_file=deploy/compose/shoplab.env
if [ ! -f "$env_file" ]; then
    token=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
    printf '# The deployment'"'"'s internal token (written by scripts/images.sh; delete it for a new one).\nSHOPLAB_INTERNAL_TOKEN=%s\n' "$token" >"$env_file"
    chmod 600 "$env_file"
    echo "wrote $env_file (a new internal token)" >&2
fi

for binary in "${binaries[@]}"; do
    stage=target/images/$binary
    rm -rf "$stage"
    mkdir -p "$stage/rootfs/usr/local/bin" "$stage/rootfs/etc" "$stage/data"
    # /tmp for SQLite's temporary files (COPY keeps the mode, sticky and
    # world-writable as on any system).
    mkdir -m 1777 "$stage/rootfs/tmp"
    strip --strip-debug -o "$stage/rootfs/usr/local/bin/$binary" "target/release/$binary"
    # The libraries and the loader, at the paths the binary asks for them.
    ldd "target/release/$binary" | awk '/=> \// { print $3 } /^\t\// { print $1 }' |
        while read -r library; do
            mkdir -p "$stage/rootfs$(dirname "$library")"
            cp -L "$library" "$stage/rootfs$library"
        done
    printf 'root:x:0:0:root:/:/sbin/nologin\nshoplab:x:10001:10001:shoplab:/var/lib/shoplab:/sbin/nologin\n' >"$stage/rootfs/etc/passwd"
    printf 'root:x:0:\nshoplab:x:10001:\n' >"$stage/rootfs/etc/group"
    IFS=$'\t' read -r version license description < <(package_of "$binary")
    # What the health check asks: /health, or the floor's /hello (it has
    # no /health: it is the bare stack compare measures against).
    health=/health
    [ "$binary" = shoplab-floor ] && health=/hello
    sed -e "s|@BINARY@|$binary|g" -e "s|@HEALTH@|$health|g" -e "s|@LICENSE@|$license|g" -e "s|@DESCRIPTION@|${description//|/\\|}|g" \
        deploy/images/Dockerfile.in >"$stage/Dockerfile"
    echo "building image $binary:$revision ..." >&2
    # The legacy builder warns on every build that it is deprecated; its
    # output is shown only when the build fails.
    if ! DOCKER_BUILDKIT=0 docker build --quiet \
        --build-arg REVISION="$revision" --build-arg CREATED="$created" --build-arg VERSION="$version" \
        --tag "$binary:$revision" --tag "$binary:latest" "$stage" >"$stage/build.log" 2>&1; then
        cat "$stage/build.log" >&2
        echo "images.sh: building $binary failed" >&2
        exit 1
    fi
done

docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' |
    grep -E "^($(IFS='|'; echo "${binaries[*]}")):$revision"$'\t' | sort
