#!/bin/bash
# test_cluster_failover.sh - public IPs on the test cluster with clusterd:
#
#   up 3        every clusterd: quorum, 3 nodes ok, the same leader and the
#               same assignment; each public IP on exactly one node's eth0
#               (one per node) and serving SMB
#   kill K      for a non-leader, then for the leader: its IPs are served
#               by the survivors (prints the seconds from the kill to the
#               first successful SMB connection), a survivor's own IP keeps
#               working, the survivors show K "disconnected"; start K: one
#               IP per node again
#   kill K --hard  (partition) node K loses quorum and releases its IPs,
#               the others serve all of them; healing rebalances
#   kill K --only smbd  the monitor event fails: K turns unhealthy, its
#               IPs move; with smbd restarted it gets one back
# After every step the client's ARP cache must point each public IP at
# its holder (arp_ok) and every public IP must serve SMB.
#
# Needs clusterd built in $SMB3_BUILD (else exit 77, skipped).  Bounded
# (SMB3C_TEST_LIMIT, default 170 s), always cleans up (lib.sh).
set -u
. "$(dirname "$0")/lib.sh"
need_clusterd
export SMB3C_TEST_LIMIT=${SMB3C_TEST_LIMIT:-170}
cluster_test_main "$@"

# agreed: every node in "NODES" reports quorum, ok, every node of NODES
# "ok", and the same leader and assignment as the first of them
agreed() {
	local n first="" want="" got
	for n in $1; do
		got=$(ctl_get "$n" '(s["quorum"], s["ok"], s["leader"],
			sorted(x["id"] for x in s["nodes"] if x["state"] == "ok"),
			[(p["address"], p["node"]) for p in s["public_ips"]])') ||
			return 1
		if [ -z "$first" ]; then
			first=$n
			want=$got
			case "$got" in "(True, True, "*) ;; *) return 1 ;; esac
		fi
		[ "$got" = "$want" ] || return 1
	done
	# the agreed owners are the real holders
	for n in $(ctl_get "$first" '[p["address"] + "=" + str(p["node"]) for p in s["public_ips"]]'); do
		[ "$(holders "${n%=*}")" = "${n#*=}" ] || return 1
	done
}

# every public IP serves SMB; an IP that has just moved may need its
# gratuitous ARP to reach the client first: a few seconds are allowed,
# and said
all_smb() {
	local ip t first
	for ip in $("$C" info PUBLIC_IPS); do
		smb_ls "$ip" && continue
		first=$(smb_last)
		t=$(poll 5 smb_ls "$ip") || {
			echo "no SMB on $ip (on node $(holders "$ip")): $(smb_last)"
			return 1
		}
		echo "note: SMB on $ip (node $(holders "$ip")) after another ${t}s; first try: $first"
	done
}

healthy3() { agreed "1 2 3" && ips_balanced; }

# the client's ARP cache follows the IPs (gratuitous ARP of the new owner
# arrives within a second or two; nobody else announces them)
arp_check() {
	poll 3 arp_ok >/dev/null || fail "client ARP after $1: $(arp_where)"
}

"$C" down >/dev/null 2>&1
out=$("$C" up 3 2>&1) || { echo "$out" | tail -40; fail "up 3"; }
ok "up 3"
poll 20 healthy3 >/dev/null || fail "after up: not agreed/balanced: $(where)"
ok "3 nodes agree (quorum, 3 ok, leader $(ctl_get 1 's["leader"]')), one IP per node: $(where)"
all_smb || fail "SMB on the public IPs"
ok "SMB on every public IP"
arp_check "up"

# crash VICTIM LABEL
crash() {
	local v=$1 label=$2 survivors="" n ips ip e0 t other
	for n in 1 2 3; do [ "$n" = "$v" ] || survivors="$survivors $n"; done
	survivors=${survivors# }
	ips=""
	for ip in $("$C" info PUBLIC_IPS); do
		[ "$(holders "$ip")" = "$v" ] && ips="$ips $ip"
	done
	[ -n "$ips" ] || fail "node $v holds no IP before the kill"
	other=$(ctl_get "${survivors%% *}" '[p["address"] for p in s["public_ips"] if p["node"] == '"${survivors%% *}"'][0]')
	out=$("$C" kill "$v") || fail "kill $v"
	e0=$(echo "$out" | awk '{ print $5 }')
	# a client of a survivor is not disturbed by the takeover
	smb_ls "$other" || fail "SMB on $other (node ${survivors%% *}) during the takeover"
	for ip in $ips; do
		poll 30 smb_ls "$ip" >/dev/null || fail "$ip not served after killing node $v: $(where)"
		t=$(since "$e0")
		ok "kill node $v ($label): first SMB connection to $ip after ${t}s"
	done
	poll 10 ips_on "$survivors" >/dev/null || fail "IPs not on $survivors: $(where)"
	for n in $survivors; do
		poll 10 test_state "$n" "$v" disconnected >/dev/null ||
			fail "node $n shows node $v as '$(node_state "$n" "$v")'"
	done
	ok "survivors $survivors hold every IP once ($(where)), show node $v disconnected"
	arp_check "kill $v"
	all_smb || fail "SMB after the takeover"
	"$C" start "$v" >/dev/null 2>&1 || fail "start $v"
	t=$(poll 60 healthy3) || fail "after start $v: $(where)"
	ok "start $v: agreed and one IP per node again after ${t}s: $(where)"
	arp_check "start $v"
	all_smb || fail "SMB after start $v"
}

test_state() { [ "$(node_state "$1" "$2")" = "$3" ]; }
test_quorum() { [ "$(ctl_get "$1" 's["quorum"]')" = "$2" ]; }

leader=$(ctl_get 1 's["leader"]')
case "$leader" in 1|2|3) ;; *) fail "no leader ($leader)" ;; esac
nonleader=3
[ "$leader" = 3 ] && nonleader=2
crash "$nonleader" "not the leader"
leader=$(ctl_get 1 's["leader"]')
crash "$leader" "the leader"

# partition: a cut node keeps running, loses quorum, releases its IPs
cut=$(ctl_get 1 's["leader"]')
[ "$cut" = 1 ] && cut=2 || cut=1
rest=$(echo 1 2 3 | tr ' ' '\n' | grep -v "^$cut$" | tr '\n' ' ')
"$C" kill "$cut" --hard >/dev/null || fail "kill $cut --hard"
poll 20 test_quorum "$cut" False >/dev/null || fail "cut node $cut still quorate"
t=$(poll 20 ips_on "$rest") || fail "IPs not on $rest after the cut: $(where)"
ok "cut node $cut: no quorum, its IPs released and served by $rest after ${t}s"
arp_check "cutting $cut"
all_smb || fail "SMB with node $cut cut off"
"$C" start "$cut" >/dev/null 2>&1 || fail "heal $cut"
t=$(poll 60 healthy3) || fail "after healing $cut: $(where)"
ok "heal $cut: agreed and one IP per node again after ${t}s"
arp_check "healing $cut"
all_smb || fail "SMB after healing $cut"

# a failing monitor: smbd of one node dies, 50.smbd fails, the node turns
# unhealthy and its IPs move; with smbd back it gets one again
sick=3
rest="1 2"
out=$("$C" kill "$sick" --only smbd) || fail "kill $sick --only smbd"
e0=$(echo "$out" | awk '{ print $7 }')
poll 30 test_state 1 "$sick" unhealthy >/dev/null ||
	fail "node 1 shows node $sick as '$(node_state 1 "$sick")'"
t=$(poll 20 ips_on "$rest") || fail "IPs not on $rest: $(where)"
ok "smbd of node $sick killed: unhealthy, its IPs on $rest $(since "$e0")s after the kill"
all_smb || fail "SMB with node $sick unhealthy"
"$C" start "$sick" >/dev/null 2>&1 || fail "start $sick (smbd)"
t=$(poll 60 healthy3) || fail "after restarting smbd on $sick: $(where)"
ok "smbd of node $sick back: agreed and one IP per node again after ${t}s"
arp_check "smbd back on $sick"
all_smb || fail "SMB with smbd back on $sick"
exit 0
