#!/usr/bin/env bash
# Builds the Debian package with Debian's own tools (dpkg-deb), no source
# package: `make deb` -> bin/paceline_VERSION_ARCH.deb.
#
#   scripts/build-deb.sh [--out DIR] [--binary PATH] [--version DEBVERSION]
#   scripts/build-deb.sh --deb-version GIT_DESCRIBE   # print the mapping only
#
# Without --binary it builds a static binary (CGO_ENABLED=0, -trimpath,
# stripped). The version comes from `git describe`, mapped to a valid
# Debian version (deb_version below). Layout: scripts/install.sh with
# PREFIX=/usr into a staging tree, plus packaging/deb/ (maintainer
# scripts), the control file and /usr/share/doc/paceline.
set -euo pipefail
cd "$(dirname "$0")/.."

# deb_version maps `git describe --tags --long --always --dirty` to a
# Debian version (upstream part only: a native package, no revision):
#   v1.2.3-0-gabc1234      -> 1.2.3              (on the tag)
#   v1.2.3-rc1-0-gabc1234  -> 1.2.3~rc1          (sorts before 1.2.3)
#   v1.2.3-4-gabc1234      -> 1.2.3+git4.gabc1234 (after 1.2.3)
#   abc1234 (no tag)       -> 0~gitN.gabc1234    (N = commits; before any tag)
#   ...-dirty              -> ...+dirty
deb_version() {
	local d=$1 dirty="" v tag
	if [[ $d == *-dirty ]]; then
		d=${d%-dirty}
		dirty=+dirty
	fi
	if [[ $d =~ ^(.+)-([0-9]+)-g([0-9a-f]+)$ ]]; then
		local raw=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]} h=${BASH_REMATCH[3]}
		tag=${raw#v}
		if ! [[ $tag =~ ^([0-9][0-9A-Za-z.]*)(-([0-9A-Za-z.]+))?$ ]]; then
			echo "build-deb: tag '$raw' is not a version (want vX.Y.Z or vX.Y.Z-rc1)" >&2
			return 1
		fi
		v=${BASH_REMATCH[1]}${BASH_REMATCH[3]:+~${BASH_REMATCH[3]}}
		if [ "$n" != 0 ]; then
			v=$v+git$n.g$h
		fi
	elif [[ $d =~ ^[0-9a-f]{4,}$ ]]; then
		v=0~git${COMMITS:-0}.g$d
	else
		echo "build-deb: cannot map '$1' to a Debian version" >&2
		return 1
	fi
	echo "$v$dirty"
}

out=bin binary="" version=""
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--binary) binary=$2; shift 2 ;;
	--version) version=$2; shift 2 ;;
	--deb-version) deb_version "$2"; exit ;;
	*) echo "usage: $0 [--out DIR] [--binary PATH] [--version DEBVERSION]" >&2; exit 2 ;;
	esac
done

for t in dpkg-deb dpkg gzip install; do
	command -v "$t" >/dev/null || { echo "build-deb: needs $t (Debian's dpkg, gzip, coreutils)" >&2; exit 1; }
done

gitver=$(git describe --tags --long --always --dirty 2>/dev/null || echo 0000000)
if [ -z "$version" ]; then
	version=$(COMMITS=$(git rev-list --count HEAD 2>/dev/null || echo 0) deb_version "$gitver")
fi
if ! dpkg --validate-version "$version" 2>/dev/null; then
	echo "build-deb: '$version' is not a valid Debian version" >&2
	exit 1
fi
arch=$(dpkg --print-architecture)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/root

if [ -z "$binary" ]; then
	goarch=$(case $arch in amd64) echo amd64 ;; arm64) echo arm64 ;; i386) echo 386 ;; armhf) echo arm ;; *) echo "$arch" ;; esac)
	binary=$work/paceline
	echo "build-deb: building paceline $gitver for $arch"
	CGO_ENABLED=0 GOOS=linux GOARCH=$goarch ${GO:-go} build -trimpath -ldflags "-s -w -X main.version=$gitver" -o "$binary" ./cmd/paceline
fi

# Files: the same layout as make install with PREFIX=/usr, units in
# /lib/systemd/system as Debian 12's packages have them.
BIN=$binary DESTDIR=$stage PREFIX=/usr UNITDIR=/lib/systemd/system ./scripts/install.sh >/dev/null
# /var/lib/paceline is made by postinst (mode 0700) and removed on purge only.
rmdir "$stage/var/lib/paceline" "$stage/var/lib" "$stage/var"

doc=$stage/usr/share/doc/paceline
install -d -m 0755 "$doc"
first=$(git log --max-parents=0 -1 --format=%cd --date=format:%Y 2>/dev/null || true)
last=$(git log -1 --format=%cd --date=format:%Y 2>/dev/null || date -u +%Y)
years=${first:-$last}
[ "$years" = "$last" ] || years=$years-$last
cat >"$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: paceline
Source: https://github.com/paceline/paceline

Files: *
Copyright: $years the Paceline authors
License: none-chosen
 The Paceline project has not chosen a license yet; until it does, no
 rights beyond those of the law are granted.
COPYRIGHT
chmod 0644 "$doc/copyright"
{
	echo "paceline ($version) unstable; urgency=medium"
	echo
	echo "  * Built from $gitver."
	echo
	echo " -- Paceline maintainers <maintainers@paceline.invalid>  $(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# A Go binary built without cgo is static by design; lintian knows Go only
# from a source package's Build-Depends, which a dpkg-deb build has not.
install -d -m 0755 "$stage/usr/share/lintian/overrides"
cat >"$stage/usr/share/lintian/overrides/paceline" <<'OVERRIDES'
# Go, CGO_ENABLED=0: static by design.
paceline: statically-linked-binary [usr/bin/paceline]
OVERRIDES
chmod 0644 "$stage/usr/share/lintian/overrides/paceline"

install -d -m 0755 "$stage/DEBIAN"
for s in postinst prerm postrm; do
	install -m 0755 "packaging/deb/$s" "$stage/DEBIAN/$s"
done
# Every file under /etc is a conffile (dpkg keeps the operator's changes).
(cd "$stage" && find etc -type f | sort | sed 's|^|/|') >"$stage/DEBIAN/conffiles"
chmod 0644 "$stage/DEBIAN/conffiles"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's|  \./|  |') >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: paceline
Version: $version
Architecture: $arch
Maintainer: Paceline maintainers <maintainers@paceline.invalid>
Installed-Size: $size
Depends: iproute2
Recommends: resource-agents
Suggests: fence-agents, libxml2-utils
Section: admin
Priority: optional
Homepage: https://github.com/paceline/paceline
Description: high-availability cluster manager in one binary
 Paceline keeps services (a virtual IP, nginx, redis, anything with a
 resource agent) running on a group of machines and moves them when a
 machine, a link or a service fails, without ever letting two machines run
 a single-instance service at once. It follows Pacemaker's model (quorum,
 fencing, a replicated configuration, constraints, a policy engine, OCF,
 LSB and systemd resource agents) with keepalived's simplicity, and speaks
 VRRP.
 .
 One binary is both the node agent (paceline.service) and a pcs-like
 command line tool. Write the node configs with 'paceline cluster init'.
CONTROL
chmod 0644 "$stage/DEBIAN/control"

mkdir -p "$out"
deb=$out/paceline_${version}_${arch}.deb
# DEB_COMPRESSION=none or gzip: a quicker build (tests).
dpkg-deb --build --root-owner-group -Z"${DEB_COMPRESSION:-xz}" "$stage" "$deb" >/dev/null
echo "$deb"
