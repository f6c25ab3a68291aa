#!/usr/bin/env bash
# The node image of the docker provider, made locally (no image registry is reachable): a Debian
# root filesystem from debootstrap, imported as an image whose init is supervisord (containers have
# no systemd; the Ansible roles write supervisor programs there and systemd units on real machines).
# Beside it, a local apt repository of the packages the roles install (Redis, Java, Docker, ...),
# downloaded once into the cache and mounted read-only into the nodes, so that offline nodes get
# their packages from the control host. The Debian mirror is the one this machine's apt uses.
#
#   scripts/infra/node-image.sh [build]   build what is missing; print the exports below
#   scripts/infra/node-image.sh env       print the exports only
#
# Prints FAASFLOW_NODE_IMAGE (image name) and FAASFLOW_NODE_DEBS (the apt repository directory).
# Needs root (debootstrap, chroot) and DOCKER_HOST pointing at the daemon (scripts/services/docker.sh).
set -euo pipefail

CACHE="${FAASFLOW_CACHE:-$HOME/.cache/faasflow}/node"
SUITE="${FAASFLOW_NODE_SUITE:-bookworm}"
# Baked into the image: what Ansible itself needs on a node, and the node's init.
BASE_PACKAGES="python3,python3-apt,supervisor,ca-certificates,procps,iproute2,netbase,tar,gzip"
# Served by the local repository: what the roles install.
ROLE_PACKAGES="redis-server redis-tools openjdk-17-jre-headless docker.io curl"
# The version of this recipe: bump it to rebuild the image and the repository.
RECIPE=3
KEY="$(printf '%s|%s|%s|%s' "$SUITE" "$BASE_PACKAGES" "$ROLE_PACKAGES" "$RECIPE" | sha256sum | cut -c1-12)"
IMAGE="faasflow-node:$KEY"
DEBS="$CACHE/debs-$KEY"

say() { printf '[node-image] %s\n' "$*" >&2; }
die() { printf '[node-image] error: %s\n' "$*" >&2; exit 1; }

print_env() {
  echo "export FAASFLOW_NODE_IMAGE=$IMAGE"
  echo "export FAASFLOW_NODE_DEBS=$DEBS"
}

# mirror: the first Debian archive URI this machine's apt is configured with.
mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m="$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)"
  fi
  [ -n "$m" ] || die "no Debian mirror found in /etc/apt/sources.list(.d): set FAASFLOW_NODE_MIRROR"
  echo "$m"
}

# in_root ROOTFS CMD...: run a command in the root filesystem, with /proc mounted for its duration.
in_root() {
  local root="$1"; shift
  mount -t proc proc "$root/proc"
  local rc=0
  chroot "$root" "$@" || rc=$?
  umount "$root/proc"
  return "$rc"
}

build_rootfs() {
  local root="$1" m="${FAASFLOW_NODE_MIRROR:-$(mirror)}" t0=$SECONDS
  command -v debootstrap >/dev/null || {
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2
  }
  say "debootstrap $SUITE (minbase + $BASE_PACKAGES) into $root (a few minutes)"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$root" "$m" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed; see $CACHE/debootstrap.log"; }
  say "root filesystem ready in $((SECONDS - t0))s"
}

build_debs() {
  local root="$1" m="${FAASFLOW_NODE_MIRROR:-$(mirror)}" t0=$SECONDS
  say "downloading the role packages into $DEBS: $ROLE_PACKAGES"
  printf 'deb %s %s main\n' "$m" "$SUITE" >"$root/etc/apt/sources.list"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mkdir -p "$root/tmp/debs"
  # shellcheck disable=SC2086
  in_root "$root" sh -c "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --download-only \
      --no-install-recommends -o Dir::Cache::archives=/tmp/debs $ROLE_PACKAGES" >"$CACHE/debs.log" 2>&1 \
    || { tail -20 "$CACHE/debs.log" >&2; die "downloading packages failed; see $CACHE/debs.log"; }
  rm -rf "$DEBS.tmp"; mkdir -p "$DEBS.tmp"
  mv "$root"/tmp/debs/*.deb "$DEBS.tmp/"
  (cd "$DEBS.tmp" && dpkg-scanpackages -m . /dev/null 2>/dev/null >Packages && gzip -9nk Packages)
  rm -rf "$DEBS"; mv "$DEBS.tmp" "$DEBS"
  say "$(find "$DEBS" -name '*.deb' | wc -l) packages in $((SECONDS - t0))s"
}

# finish_rootfs: offline apt (the local repository is its only source), no caches, supervisord as init.
finish_rootfs() {
  local root="$1"
  : >"$root/etc/apt/sources.list"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/periodic/update-success-stamp "$root"/tmp/debs "$root/etc/resolv.conf"
  # Keep package daemons from starting themselves at install time; Ansible starts what it wants.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
}

build_image() {
  local root="$CACHE/rootfs-$KEY"
  mkdir -p "$CACHE"
  [ "$(id -u)" -eq 0 ] || die "building the node image needs root (debootstrap, chroot)"
  command -v dpkg-scanpackages >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dpkg-dev >&2
  if [ ! -x "$root/usr/bin/python3" ] || [ ! -f "$root/.faasflow-rootfs-done" ]; then
    rm -rf "$root"
    build_rootfs "$root"
    touch "$root/.faasflow-rootfs-done"
  fi
  [ -f "$DEBS/Packages" ] || build_debs "$root"
  finish_rootfs "$root"
  local t0=$SECONDS
  say "importing $root as $IMAGE"
  tar -C "$root" --exclude=./.faasflow-rootfs-done --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' -c . \
    | docker import \
        --change 'CMD ["/usr/bin/supervisord", "-n", "-c", "/etc/supervisor/supervisord.conf"]' \
        --change 'ENV LANG=C.UTF-8' \
        - "$IMAGE" >/dev/null
  say "image $IMAGE in $((SECONDS - t0))s"
}

case "${1:-build}" in
  env) print_env ;;
  build)
    [ -n "${DOCKER_HOST:-}" ] || die "DOCKER_HOST is not set: eval \"\$(scripts/services/docker.sh start)\" first"
    if ! docker image inspect "$IMAGE" >/dev/null 2>&1 || [ ! -f "$DEBS/Packages" ]; then
      build_image
    fi
    print_env
    ;;
  *) echo "usage: $0 [build|env]" >&2; exit 2 ;;
esac
