#!/usr/bin/env bash
# Two hosts on one machine, for the multi-host tests (root): two network
# namespaces joined by a veth pair, each command run with its own host name
# (a UTS namespace) and an /etc/hosts naming both hosts (bind-mounted in a
# mount namespace of its own).
#   scripts/twohost.sh up ID            make hosts h1 (10.R.S.1) and h2 (10.R.S.2);
#                                       prints the subnet, e.g. 10.251.17.0/24
#   scripts/twohost.sh exec ID H CMD…   run CMD on host hH (H = 1 or 2)
#   scripts/twohost.sh rsh ID [-FLAGS] HOST CMD…  the same for an ssh-like caller
#                                       (Open MPI's plm_rsh_agent, Hydra's -launcher-exec):
#                                       HOST is h1|h2, CMD one shell command line
#   scripts/twohost.sh down ID          remove both namespaces and the files
# ID (letters and digits, at most 8) keeps concurrent pairs apart; the
# namespaces are efmpi-ID-1 and efmpi-ID-2, the files /tmp/efmpi-twohost-ID/.
# Needs `ip` (iproute2), util-linux's unshare, and root.
set -euo pipefail
cmd=${1:?usage: twohost.sh up|exec|rsh|down ID ...}
id=${2:?no ID}
case "$id" in *[!a-zA-Z0-9]* | ?????????*) echo "twohost: bad ID '$id'" >&2; exit 2 ;; esac
shift 2
dir=/tmp/efmpi-twohost-$id
ns() { echo "efmpi-$id-$1"; }
self=$(readlink -f "$0")

inns() { ip netns exec "$(ns "$1")" "${@:2}"; } # inns H CMD...: CMD in host H's network namespace

case "$cmd" in
up)
  mkdir -p "$dir"
  # a /24 from the ID so that pairs made at the same time do not overlap
  sum=$(printf '%s' "$id" | cksum | cut -d' ' -f1)
  subnet="10.$((200 + sum % 50)).$(((sum / 50) % 250)).0/24"
  base=${subnet%.0/24}
  command -v ip >/dev/null 2>&1 || { echo "twohost: needs ip (iproute2)" >&2; exit 1; }
  ip netns add "$(ns 1)"
  ip netns add "$(ns 2)"
  ip link add "ef${id}a" type veth peer name "ef${id}b"
  ip link set "ef${id}a" netns "$(ns 1)"
  ip link set "ef${id}b" netns "$(ns 2)"
  inns 1 ip addr add "$base.1/24" dev "ef${id}a"
  inns 2 ip addr add "$base.2/24" dev "ef${id}b"
  for h in 1 2; do
    inns $h ip link set lo up
  done
  inns 1 ip link set "ef${id}a" up
  inns 2 ip link set "ef${id}b" up
  printf '127.0.0.1 localhost\n%s.1 h1\n%s.2 h2\n' "$base" "$base" >"$dir/hosts"
  echo "$subnet" >"$dir/subnet"
  echo "$subnet"
  ;;
exec)
  h=${1:?no host}; shift
  [ -f "$dir/hosts" ] || { echo "twohost: $id is not up" >&2; exit 2; }
  # exec all the way down: the caller's pid becomes CMD's (kill -9 reaches it)
  exec ip netns exec "$(ns "$h")" unshare --uts --mount --propagation private \
    sh -c 'hostname "$1" && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"' sh "h$h" "$dir/hosts" "$@"
  ;;
rsh)
  # ssh's flags that a launcher may pass before the host (Hydra: -x)
  while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
  host=${1:?no host}; shift
  exec "$self" exec "$id" "${host#h}" sh -c "$*"
  ;;
down)
  ip netns del "$(ns 1)" 2>/dev/null || true
  ip netns del "$(ns 2)" 2>/dev/null || true
  rm -rf "$dir"
  ;;
*)
  echo "twohost: unknown command $cmd" >&2; exit 2 ;;
esac
