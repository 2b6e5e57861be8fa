#!/usr/bin/env bash
# Finds the HDF5 C library for cgo, installing nothing, and runs a command with
# CGO_CFLAGS/CGO_LDFLAGS pointing at it:
#   scripts/hdf5-flags.sh go build ./cmd/efmpi     run the command with the flags
#   scripts/hdf5-flags.sh --print                  print `export CGO_...=...` lines
#   eval "$(scripts/hdf5-flags.sh --print)"        ... for your own shell
# The first of these that compiles and links a test program against
# -lhdf5 -lhdf5_hl with the C compiler cgo uses ($CC, else `go env CC`) wins:
#   1. CGO_CFLAGS / CGO_LDFLAGS as you set them (both kept as given);
#   2. HDF5_DIR, HDF5_ROOT or HDF5_HOME: <dir>/include and <dir>/lib (or lib64);
#   3. pkg-config: hdf5, then hdf5-serial (Debian/Ubuntu);
#   4. h5cc (or h5pcc) -show: its -I, -L and the directories of the libraries
#      it names; else the "Installation point" of `h5cc -showconfig`;
#   5. the compiler's default search paths (RHEL/Rocky/SUSE hdf5-devel).
# With none, it names what to load or set and exits 1.
# EFMPI_HDF5_VERBOSE=1 says which route won, on stderr.
set -euo pipefail

print=0
if [ "${1:-}" = --print ]; then print=1; shift; fi
if [ $print = 0 ] && [ $# = 0 ]; then
  echo "usage: scripts/hdf5-flags.sh --print | COMMAND [ARGS...]" >&2
  exit 2
fi

cc=${CC:-}
if [ -z "$cc" ]; then
  if command -v go >/dev/null 2>&1; then cc=$(go env CC); fi
  cc=${cc:-gcc}
fi
# the compiler may be "gcc -m64": its first word must exist
if ! command -v "${cc%% *}" >/dev/null 2>&1; then
  echo "hdf5-flags: no C compiler '$cc' on PATH (cgo needs one: module load gcc, or set CC)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/t.c" <<'C'
#include <hdf5.h>
#include <hdf5_hl.h>
int main(void) { unsigned a, b, c; H5get_libversion(&a, &b, &c); return H5LTfind_dataset(0, "x") < -1000; }
C

# works CFLAGS LDFLAGS: does a program using libhdf5 and libhdf5_hl build with them?
works() {
  # shellcheck disable=SC2086
  $cc $1 "$tmp/t.c" -o "$tmp/t" $2 -lhdf5_hl -lhdf5 >"$tmp/log" 2>&1
}

route="" cflags="" ldflags=""
trim() { local s=$*; s=${s#"${s%%[![:space:]]*}"}; printf '%s' "${s%"${s##*[![:space:]]}"}"; }
try() { # try ROUTE CFLAGS LDFLAGS
  if [ -z "$route" ] && works "$2" "$3"; then route=$1 cflags=$(trim "$2") ldflags=$(trim "$3"); fi
}

if [ -n "${CGO_CFLAGS:-}${CGO_LDFLAGS:-}" ]; then
  try "CGO_CFLAGS/CGO_LDFLAGS" "${CGO_CFLAGS:-}" "${CGO_LDFLAGS:-}"
  if [ -z "$route" ]; then
    echo "hdf5-flags: CGO_CFLAGS='${CGO_CFLAGS:-}' CGO_LDFLAGS='${CGO_LDFLAGS:-}' do not build a program against -lhdf5 -lhdf5_hl with $cc:" >&2
    sed 's/^/  /' "$tmp/log" | head -5 >&2
    exit 1
  fi
fi

for var in HDF5_DIR HDF5_ROOT HDF5_HOME; do
  dir=${!var:-}
  [ -n "$dir" ] && [ -z "$route" ] || continue
  for lib in lib lib64; do
    [ -d "$dir/$lib" ] && try "$var=$dir" "-I$dir/include" "-L$dir/$lib"
  done
  if [ -z "$route" ]; then
    echo "hdf5-flags: $var=$dir has no usable include/hdf5.h with lib/ or lib64/libhdf5 (ignored)" >&2
  fi
done

if [ -z "$route" ] && command -v pkg-config >/dev/null 2>&1; then
  for name in hdf5 hdf5-serial; do
    if pkg-config --exists "$name" 2>/dev/null; then
      try "pkg-config $name" "$(pkg-config --cflags "$name")" "$(pkg-config --libs-only-L "$name")"
    fi
  done
fi

if [ -z "$route" ]; then
  for wrapper in h5cc h5pcc; do
    command -v $wrapper >/dev/null 2>&1 && [ -z "$route" ] || continue
    show=$($wrapper -show 2>/dev/null || true)
    inc="" libdirs=""
    for w in $show; do
      d=""
      case "$w" in
        -I*) inc="$inc $w"; continue ;;
        -L*) d=$w ;;
        */libhdf5.a | */libhdf5.so | */libhdf5_hl.a | */libhdf5_hl.so) d=-L$(dirname "$w") ;;
        *) continue ;;
      esac
      case " $libdirs " in *" $d "*) ;; *) libdirs="$libdirs $d" ;; esac
    done
    [ -n "$inc$libdirs" ] && try "$wrapper -show" "${inc# }" "${libdirs# }"
    if [ -z "$route" ]; then
      prefix=$($wrapper -showconfig 2>/dev/null | sed -n 's/^[[:space:]]*Installation point:[[:space:]]*//p' | head -1)
      if [ -n "$prefix" ]; then
        for lib in lib lib64; do try "$wrapper -showconfig ($prefix)" "-I$prefix/include" "-L$prefix/$lib"; done
      fi
    fi
  done
fi

try "the compiler's default paths" "" ""

if [ -z "$route" ]; then
  cat >&2 <<MSG
hdf5-flags: the HDF5 C library (headers and libhdf5, libhdf5_hl) was not found.
Tried: CGO_CFLAGS/CGO_LDFLAGS (unset), HDF5_DIR/HDF5_ROOT/HDF5_HOME (unset or unusable),
pkg-config hdf5|hdf5-serial, h5cc -show / h5pcc -show, and $cc's default paths.
Do one of:
  module load hdf5                     (environment modules, Lmod; Spack: spack load hdf5)
  export HDF5_DIR=/path/to/hdf5        (the prefix holding include/hdf5.h and lib/libhdf5.so)
  export CGO_CFLAGS=-I/path/include CGO_LDFLAGS=-L/path/lib
  make deps                            (Debian/Ubuntu: installs libhdf5-dev with apt-get)
  dnf install hdf5-devel | zypper install hdf5-devel   (RHEL/Rocky, SUSE)
The last compiler error was:
MSG
  sed 's/^/  /' "$tmp/log" | head -5 >&2
  exit 1
fi

# Go's own default CGO_CFLAGS (-O2 -g) apply only while CGO_CFLAGS is unset:
# keep them beside the flags found here (the user's own are kept as given).
case "$route" in CGO_CFLAGS/*) ;; *) cflags=$(trim "-O2 -g $cflags") ;; esac
[ "${EFMPI_HDF5_VERBOSE:-0}" = 1 ] && echo "hdf5-flags: HDF5 via $route: CGO_CFLAGS='$cflags' CGO_LDFLAGS='$ldflags'" >&2
if [ $print = 1 ]; then
  printf "export CGO_CFLAGS=%q\nexport CGO_LDFLAGS=%q\n" "$cflags" "$ldflags"
  exit 0
fi
export CGO_CFLAGS="$cflags" CGO_LDFLAGS="$ldflags"
rm -rf "$tmp"
trap - EXIT
exec "$@"
