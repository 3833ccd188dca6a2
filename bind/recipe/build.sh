#!/bin/sh
# The BIND build recipe, run inside the builder container by bind.Build.
# In:  /in/bind.tar (an upstream tarball, any compression tar reads), /in/configure-flags
#      (one flag a line), /in/make-env (NAME=value a line, set for make only).
# Out: /staging (make install DESTDIR=/staging), /out/depends (runtime dependencies, one
#      "package (>= version)" a line, from ldd + dpkg -S), /out/named-V (named -V).
# Lines starting with "== " mark phases; bind.Build shows them as progress.
set -eu
phase() { echo "== $1 ($(( $(date +%s) - start ))s)"; }
start=$(date +%s)

phase unpack
mkdir -p /src /staging /out
tar -C /src -xf /in/bind.tar
cd /src/bind-*/

if [ ! -x configure ]; then
	# A tree from git (git archive) has no generated configure: make it.
	phase autoreconf
	autoreconf -fi
fi

phase configure
# shellcheck disable=SC2046 # one flag a line, none with spaces
./configure $(cat /in/configure-flags)

phase make
# The version's make environment (compiler flags the configure line does not carry).
while IFS= read -r kv; do
	[ -n "$kv" ] && export "${kv?}" && echo "make environment: $kv"
done < /in/make-env
make -j"$(nproc)"

phase install
make install DESTDIR=/staging
# Headers, static and libtool archives are for building against BIND, not for running it.
rm -rf /staging/usr/local/include
find /staging -name '*.la' -delete
find /staging -name '*.a' -delete
# Debug info: Debian ships it in separate -dbgsym packages; here it would make 9.16's
# package (BIND's own libraries linked statically into each program) ten times larger.
find /staging -type f | while read -r f; do
	case "$(file -b "$f")" in *ELF*"not stripped"*) strip --strip-debug "$f" ;; esac
done

phase check
export LD_LIBRARY_PATH=/staging/usr/local/lib
/staging/usr/local/sbin/named -V | tee /out/named-V
grep -q -- '--enable-dnstap' /out/named-V

phase depends
# Every shared library an installed ELF file needs, outside the staging tree, mapped to the
# Debian package that ships it in this builder (so: on this distro).
find /staging -type f | while read -r f; do
	case "$(file -b "$f")" in ELF*) ldd "$f" ;; esac
done | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | grep -v '^/staging/' | sort -u > /out/libs
: > /out/pkgs
while read -r lib; do
	real=$(readlink -f "$lib")
	pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$real" 2>/dev/null || dpkg -S "*/$(basename "$real")" 2>/dev/null || true)
	if [ -z "$pkg" ]; then
		echo "no package ships $lib" >&2
		exit 1
	fi
	echo "$pkg" | head -n1 | cut -d: -f1 >> /out/pkgs
done < /out/libs
sort -u /out/pkgs | while read -r p; do
	echo "$p (>= $(dpkg-query -W -f '${Version}' "$p"))"
done > /out/depends
cat /out/depends
phase done
