#!/usr/bin/env bash
# Checks that the build installs nothing and finds HDF5 by itself on a system
# without Debian's package tools: a PATH of symlinks to every tool here except
# dpkg* and apt*, then also without pkg-config, then without h5cc. Run from the
# repository root (cmd/efmpi's TestBuildWithoutDebianTools runs it).
#   scripts/build_test.sh [--no-build]   --no-build: skip the full `make build`
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# fakepath DIR HIDDEN...: DIR gets a symlink to every command on PATH except
# dpkg*, apt* and the HIDDEN ones
fakepath() {
  local d=$1; shift
  mkdir -p "$d"
  local IFS=: p h
  for p in $PATH; do
    [ -d "$p" ] || continue
    # cp -s: one process for the symlinks; the first PATH entry wins
    find "$p" -maxdepth 1 \( -type f -o -type l \) ! -xtype d -print0 2>/dev/null | xargs -0 -r cp -s -n -t "$d" 2>/dev/null || true
  done
  rm -f "$d"/dpkg* "$d"/apt*
  for h in "$@"; do rm -f "$d/$h" "$d"/*-"$h"; done
}
fakepath "$tmp/p-all"
fakepath "$tmp/p-nopc" pkg-config pkgconf
fakepath "$tmp/p-none" pkg-config pkgconf h5cc h5pcc
for d in p-all p-nopc p-none; do
  ! PATH=$tmp/$d command -v dpkg-query apt-get >/dev/null || fail "$d still has dpkg or apt-get"
done

# route REQUIRED-ROUTE PATHDIR [VAR=VALUE...]: hdf5-flags finds HDF5 that way, and the
# -I directory it prints holds hdf5.h
route() ( # a subshell: the flags it evaluates stay in it
  local want=$1 dir=$2; shift 2
  local out
  out=$(env "$@" PATH="$tmp/$dir" EFMPI_HDF5_VERBOSE=1 scripts/hdf5-flags.sh --print 2>"$tmp/err") || { cat "$tmp/err" >&2; fail "no HDF5 on $dir"; }
  grep -q "HDF5 via $want" "$tmp/err" || fail "$dir: want route '$want', got: $(cat "$tmp/err")"
  eval "$out"
  local inc
  inc=$(printf '%s\n' $CGO_CFLAGS | sed -n 's/^-I//p' | head -1)
  [ -f "$inc/hdf5.h" ] || fail "$dir: -I$inc has no hdf5.h"
  echo "ok: $want: CGO_CFLAGS='$CGO_CFLAGS' CGO_LDFLAGS='$CGO_LDFLAGS'"
)
if command -v pkg-config >/dev/null && { pkg-config --exists hdf5 || pkg-config --exists hdf5-serial; }; then
  route "pkg-config" p-all
else
  echo "skip: no pkg-config with an hdf5 module here"
fi
command -v h5cc >/dev/null || fail "no h5cc here (hdf5-tools / libhdf5-dev)"
route "h5cc" p-nopc
eval "$(PATH=$tmp/p-nopc scripts/hdf5-flags.sh --print)"
inc=$(printf '%s\n' $CGO_CFLAGS | sed -n 's/^-I//p' | head -1)
lib=$(printf '%s\n' $CGO_LDFLAGS | sed -n 's/^-L//p' | head -1)
unset CGO_CFLAGS CGO_LDFLAGS
mkdir -p "$tmp/prefix"
ln -s "$inc" "$tmp/prefix/include"
ln -s "$lib" "$tmp/prefix/lib"
route "HDF5_DIR=$tmp/prefix" p-none HDF5_DIR="$tmp/prefix"
route "HDF5_ROOT=$tmp/prefix" p-none HDF5_ROOT="$tmp/prefix"
route "CGO_CFLAGS/CGO_LDFLAGS" p-none CGO_CFLAGS="-I$inc" CGO_LDFLAGS="-L$lib"

# nothing found: exit 1, naming what to load or set
if PATH=$tmp/p-none scripts/hdf5-flags.sh --print >"$tmp/out" 2>"$tmp/err"; then
  fail "found HDF5 with no pkg-config, no h5cc and no HDF5_DIR: $(cat "$tmp/out")"
fi
for want in "module load hdf5" "HDF5_DIR" "CGO_CFLAGS" "make deps"; do
  grep -q "$want" "$tmp/err" || fail "the not-found message lacks '$want': $(cat "$tmp/err")"
done
echo "ok: nothing found: exit 1 with what to load or set"

# deps: `make run`/`make test` install nothing off Debian; `make deps` says what to install
PATH=$tmp/p-nopc scripts/deps.sh --debian-only test >"$tmp/out" 2>&1 || fail "deps.sh --debian-only off Debian: $(cat "$tmp/out")"
[ ! -s "$tmp/out" ] || fail "deps.sh --debian-only off Debian printed: $(cat "$tmp/out")"
if PATH=$tmp/p-nopc scripts/deps.sh run >"$tmp/out" 2>&1; then fail "deps.sh off Debian succeeded"; fi
grep -q "not a Debian/Ubuntu system" "$tmp/out" || fail "deps.sh off Debian: $(cat "$tmp/out")"
echo "ok: deps.sh off Debian"

[ "${1:-}" = --no-build ] && exit 0
# the whole build, through h5cc (no pkg-config, no dpkg, no apt-get)
PATH=$tmp/p-nopc make --no-print-directory build BIN="$tmp/efmpi" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; fail "make build"; }
"$tmp/efmpi" version | grep -q "^efmpi " || fail "the built binary does not run"
echo "ok: make build without dpkg, apt-get and pkg-config"
