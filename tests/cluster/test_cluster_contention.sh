#!/bin/bash
# test_cluster_contention.sh - smbd's retry loops on the replicated
# databases (docs/cluster.md "smbd in a cluster"): clients of two nodes
# fight over one file.
#
#   up 3 (clustering = yes, smbd log level 3)
#   three phases of CONTENTION_SECONDS (default 6) each, a client
#   through node 1 and one through node 2 started at one moment, as fast
#   as they can (cluster_contention.py):
#   exclusive  open one file for writing sharing nothing, close: no error
#              but SHARING_VIOLATION, both got it and were refused many
#              times, and the times each side held it never overlap (one
#              clock: one machine): a share-mode check not made again
#              after a lost race (NT_STATUS_RETRY) would let both in;
#              smbd must have logged lost races it redid
#   shared     open sharing everything, close: both add and remove
#              entries of one record, never refused, no error
#   lock       an exclusive fail-immediately byte-range lock, unlock:
#              as exclusive (holds never overlap); a byte-range lock
#              change must have lost a race and been redone
#   afterwards no node lists an open, share-mode or lock record of the
#   files (smbstatus --all on node 3): no close or unlock lost its change
#
# Needs clusterd (else exit 77).  Bounded (SMB3C_TEST_LIMIT, default
# 110 s), always cleans up (lib.sh).
set -u
. "$(dirname "$0")/lib.sh"
need_clusterd
cluster_test_main "$@"

SECS=${CONTENTION_SECONDS:-6}
"$C" down >/dev/null 2>&1
out=$(SMB3C_LOGLEVEL=3 "$C" up 3 2>&1) || { echo "$out" | tail -40; fail "up 3"; }
ok "up 3"
R=$("$C" info ROOT)
grep -q '^[[:space:]]*clustering = yes' "$R/node1/smb.conf" ||
	fail "the nodes do not run with clustering = yes"
BUILD_DIR=$("$C" info BUILD)
read -r ip1 ip2 _ <<<"$("$C" info NODE_IPS)"

# run_phase MODE: both clients through nodes 1 and 2 at one moment
# (cluster_contention.py --mode MODE); checks their results
run_phase() {
	local mode=$1 side ip at rc=0 p verdict pids=()
	at=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t + 2 }')
	for side in 1 2; do
		ip=$ip1
		[ $side = 2 ] && ip=$ip2
		"$C" client timeout $((SECS + 30)) /usr/bin/python3 \
			"$CLUSTER_DIR/cluster_contention.py" --mode "$mode" \
			--user "$("$C" info SMB_USER)" \
			--password "$("$C" info SMB_PASS)" \
			--start-at "$at" --seconds "$SECS" \
			--out "$R/$mode$side.json" \
			"$ip" "contention_$mode.dat" >"$R/$mode$side.out" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	[ $rc = 0 ] || { cat "$R/$mode"?.out; fail "$mode: a client failed"; }
	verdict=$(/usr/bin/python3 - "$mode" "$R/${mode}1.json" "$R/${mode}2.json" <<'PY'
import json, sys
mode = sys.argv[1]
a, b = (json.load(open(f)) for f in sys.argv[2:4])
bad = []
for side, r in (("node 1", a), ("node 2", b)):
    if r["errors"]:
        bad.append("%s: %s" % (side, r["errors"][:3]))
    if r["granted"] < 10:
        bad.append("%s: granted only %d times" % (side, r["granted"]))
    if mode != "shared" and r["refused"] < 10:
        bad.append("%s: refused %d times: the runs did not overlap "
                   "enough" % (side, r["refused"]))
    if mode == "shared" and r["refused"]:
        bad.append("%s: a sharing open refused" % side)
overlaps = 0
if mode != "shared":
    # exclusive holds of the two sides must not overlap
    hb = sorted(b["holds"])
    j = 0
    for s, e in sorted(a["holds"]):
        while j < len(hb) and hb[j][1] <= s:
            j += 1
        k = j
        while k < len(hb) and hb[k][0] < e:
            overlaps += 1
            k += 1
if overlaps:
    bad.append("%d holds of node 1 overlap holds of node 2" % overlaps)
print("%s: " % mode + ("; ".join(bad) if bad else
      "node 1 granted %d times (refused %d), node 2 %d times "
      "(refused %d)%s" %
      (a["granted"], a["refused"], b["granted"], b["refused"],
       "" if mode == "shared" else ", no two holds overlap")))
sys.exit(1 if bad else 0)
PY
	) || fail "$verdict"
	ok "$verdict"
}

# lost races smbd redid so far, by what it was doing ("what xN, ...")
retries_by_what() {
	grep -h "changed on another node meanwhile" "$R"/node[12]/log/smbd.log |
		sed 's/.*\] //; s/: changed.*//' | sort | uniq -c | sort -rn |
		awk '{ n = $1; $1 = ""; sub(/^ /, ""); printf "%s%s x%d", sep, $0, n; sep = ", " }'
}
retries() {
	grep -h "changed on another node meanwhile" "$R"/node[12]/log/smbd.log |
		grep -c "$1"
}

run_phase exclusive
n=$(retries ": changed")
[ "$n" -gt 0 ] ||
	fail "exclusive: no smbd lost a race (no NT_STATUS_RETRY redone): nothing was tested"
ok "exclusive: lost races redone so far: $(retries_by_what)"
run_phase shared
run_phase lock
[ "$(retries "byte-range lock")" -gt 0 ] ||
	fail "lock: no byte-range lock change lost a race: nothing was tested"
ok "lost races redone by smbd on nodes 1 and 2: $(retries_by_what)"

leftover() {
	"$C" exec 3 timeout 20 "$BUILD_DIR/tools/smbstatus" \
		-s "$R/node3/smb.conf" --json --all 2>/dev/null |
		/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for k in ("open_files", "share_modes", "byte_range_locks")
          for r in d.get(k, []) if "contention_" in json.dumps(r)))'
}
none_left() { [ "$(leftover)" = 0 ]; }
t=$(poll 10 none_left) || fail "$(leftover) open, share-mode or lock records of the files left after the clients ended"
ok "no open, share-mode or lock record of the files left on node 3 after the clients ended (${t} s)"
exit 0
