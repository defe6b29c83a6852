# tests/cluster/lib.sh - sourced by the cluster tests (bash).
# shellcheck shell=bash
#
# A test starts with
#
#	. "$(dirname "$0")/lib.sh"
#	cluster_test_main "$@"
#	... the test body: "$C" up 3, checks with ok/fail/poll ...
#
# cluster_test_main runs the rest of the script again as a child under
# timeout (SMB3C_TEST_LIMIT seconds, default 110), then always runs
# "cluster.sh down", checks that no namespace is left, and prints one
# "NAME: PASS|FAIL in S s" line; the script's exit status is the body's
# (non-zero on failure or timeout).  Each test gets its own namespace
# prefix, subnet and state root unless the caller set them, so it never
# touches a cluster someone has up (default prefix smb3ct, 10.215).

CLUSTER_TEST_NAME=$(basename "$0" .sh)
CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
C=$CLUSTER_DIR/cluster.sh
export SMB3C_PREFIX=${SMB3C_PREFIX:-smb3ct}
export SMB3C_NET=${SMB3C_NET:-10.215}
export SMB3C_ROOT=${SMB3C_ROOT:-/var/tmp/$SMB3C_PREFIX}

cluster_test_main() {
	local limit=${SMB3C_TEST_LIMIT:-110} t0=$SECONDS rc
	[ "${1:-}" = __body ] && return 0
	[ "$(id -u)" = 0 ] || { echo "SKIP: $CLUSTER_TEST_NAME needs root"; exit 77; }
	timeout -k 5 "$limit" "$0" __body
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "FAIL: not done within $limit s"
	fi
	"$C" down >/dev/null 2>&1
	if ip netns list | grep -q "^$SMB3C_PREFIX-"; then
		echo "FAIL: namespaces left after down"
		rc=1
	fi
	echo "$CLUSTER_TEST_NAME: $([ $rc -eq 0 ] && echo PASS || echo FAIL) in $((SECONDS - t0)) s"
	exit $rc
}

# fail WHY: print it with the cluster's status, end the test
fail() {
	echo "FAIL: $*"
	"$C" status 2>&1 | sed 's/^/  | /'
	echo "  (logs stay in $SMB3C_ROOT/node*/log until the next up)"
	exit 1
}

ok() { echo "ok: $*"; }

# seconds (one decimal) from epoch time $1 to now
since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", b - a }'
}

# poll SECS CMD... : run CMD every 0.3 s until it succeeds (prints the
# seconds it took) or SECS have passed (returns 1)
poll() {
	local limit=$1 e0=$EPOCHREALTIME t0=$SECONDS
	shift
	while ! "$@"; do
		[ $((SECONDS - t0)) -ge "$limit" ] && return 1
		sleep 0.3
	done
	since "$e0"
}

# "members quorate expected-votes total-votes" as node $1's corosync
# reports them, e.g. "3 Yes 3 3"
corosync_view() {
	"$C" exec "$1" timeout 5 corosync-quorumtool -s 2>/dev/null | awk -F: '
		{ gsub(/ /, "", $2) }
		/^Nodes/ { m = $2 } /^Quorate/ { q = $2 }
		/^Expected votes/ { e = $2 } /^Total votes/ { t = $2 }
		END { print m, q, e, t }'
}

# view_is "NODES" "VIEW": every node of NODES sees VIEW (for poll)
view_is() {
	local n
	for n in $1; do
		[ "$(corosync_view "$n")" = "$2" ] || return 1
	done
}

# views "NODES": "node K: VIEW" for each, for failure messages
views() {
	local n
	for n in $1; do
		echo -n "node $n: '$(corosync_view "$n")' "
	done
}

# smb_ls IP [CMD]: one smbclient connection from the client namespace with
# the cluster's user (default command: ls); quiet, status only; the
# output of the last failed call is kept in $SMB3C_ROOT/smb_ls.last
smb_ls() {
	local out
	out=$("$C" client timeout 10 smbclient "//$1/$("$C" info SHARE)" \
		-U "$("$C" info SMB_USER)%$("$C" info SMB_PASS)" \
		-c "${2:-ls}" 2>&1) && return 0
	echo "smbclient //$1 at $EPOCHREALTIME: $out" >"$SMB3C_ROOT/smb_ls.last"
	return 1
}

# smb_last: why the last smb_ls failed (one line)
smb_last() {
	tail -n 3 "$SMB3C_ROOT/smb_ls.last" 2>/dev/null | tr '\n' ' '
}

# ---- clusterd (tests that need it: skip unless it is built)

need_clusterd() {
	local b=${SMB3_BUILD:-$CLUSTER_DIR/../../build}
	[ -x "$b/clusterd/clusterd" ] && [ -x "$b/clusterd/clusterctl" ] &&
		[ -z "${SMB3C_NO_CLUSTERD:-}" ] && return 0
	echo "SKIP: $CLUSTER_TEST_NAME needs clusterd ($b/clusterd/clusterd)"
	exit 77
}

# ctl_get K EXPR: evaluate the Python expression EXPR on node K's
# "clusterctl status --json" (as s) and print it; fails if clusterctl
# gives no JSON.  e.g.  ctl_get 1 's["leader"]'
ctl_get() {
	"$C" ctl "$1" status --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
v = eval(sys.argv[1])
print(" ".join(map(str, v)) if isinstance(v, list) else v)' "$2"
}

# node K's state as node J sees it ("ok", "disconnected", ...)
node_state() { # J K
	ctl_get "$1" "[n['state'] for n in s['nodes'] if n['id'] == $2][0]"
}

# holders IP: the nodes whose eth0 carries IP right now (numbers, sorted)
holders() {
	local n
	for n in $("$C" info N | xargs seq 1); do
		ip -n "$SMB3C_PREFIX-n$n" -o -4 addr show dev eth0 2>/dev/null |
			awk -v ip="$1" '{ split($4, a, "/"); if (a[1] == ip) f = 1 }
				END { exit !f }' && echo -n "$n "
	done | sed 's/ $//'
}

# ips_on "NODES": every public IP is on exactly one node's eth0, and that
# node is one of NODES (for poll)
ips_on() {
	local ip h
	for ip in $("$C" info PUBLIC_IPS); do
		h=$(holders "$ip")
		case " $1 " in *" $h "*) ;; *) return 1 ;; esac
	done
}

# ips_balanced: with every node up, each node holds exactly one public IP
# (3 IPs over 3 nodes)
ips_balanced() {
	local ip all=""
	for ip in $("$C" info PUBLIC_IPS); do
		all="$all $(holders "$ip")"
	done
	# shellcheck disable=SC2086
	[ "$(printf '%s\n' $all | sort -u | wc -l)" -eq "$("$C" info N)" ] &&
		[ "$(echo "$all" | wc -w)" -eq "$("$C" info N)" ]
}

# where: "ip->holders ..." for failure messages
where() {
	local ip
	for ip in $("$C" info PUBLIC_IPS); do
		echo -n "$ip->[$(holders "$ip")] "
	done
}

# ---- what the client's ARP cache says

# MAC address of node K's eth0
node_mac() {
	ip -n "$SMB3C_PREFIX-n$1" -o link show dev eth0 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "link/ether") print $(i + 1) }'
}

# arp_ok: every public IP the client has a usable neighbour entry for
# points at the MAC of the node that holds the IP.  A stale entry means
# the client's packets go to a node without the address (a takeover whose
# gratuitous ARP is missing, or a node that announced an IP it then gave
# away) until the entry expires, for tens of seconds.
arp_ok() {
	local ip h e mac
	for ip in $("$C" info PUBLIC_IPS); do
		h=$(holders "$ip")
		e=$(ip -n "$SMB3C_PREFIX-cl" neigh show "$ip" dev eth0 2>/dev/null)
		mac=$(echo "$e" | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
		[ -n "$mac" ] || continue
		case "$e" in *FAILED*|*INCOMPLETE*) continue ;; esac
		case "$h" in *" "*|"") return 1 ;; esac
		[ "$mac" = "$(node_mac "$h")" ] || return 1
	done
}

# arp_where: the client's entries and the holders, for failure messages
arp_where() {
	local ip n mac
	for ip in $("$C" info PUBLIC_IPS); do
		mac=$(ip -n "$SMB3C_PREFIX-cl" neigh show "$ip" dev eth0 2>/dev/null |
			awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
		for n in $("$C" info N | xargs seq 1); do
			[ -n "$mac" ] && [ "$mac" = "$(node_mac "$n")" ] && mac="node$n"
		done
		echo -n "$ip: client->${mac:-none} held by [$(holders "$ip")]; "
	done
}
