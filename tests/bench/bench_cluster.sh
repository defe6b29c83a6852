#!/bin/bash
# bench_cluster.sh - the cluster benchmarks (issue 5), not pass/fail:
#
#   db   replicated update latency and throughput of the clustered dbwrap
#        backend, on a 1-node and then a 3-node test cluster
#        (tests/cluster/cluster.sh): clusterd/tests/cldb_tool "bench"
#        increments a counter with fetch_locked + record_store (retrying on
#        a CAS conflict) as fast as one process can for BENCH_SECONDS, and
#        prints its updates and the latency of each increment (p50, p99).
#        Scenarios: one writer on node 1 (the latency); BENCH_WRITERS
#        writers on node 1 (own keys); BENCH_WRITERS writers on every node
#        (own keys); one writer per node on ONE key (CAS conflicts).
#        There is no CTDB counterpart: Debian's ctdb package ships no
#        record-update benchmark (only the ctdb CLI, one process per
#        update), and CTDB's volatile records are not replicated at all
#        (a record lives on the node that wrote it last).
#   smb  open/close pairs per second through smbd on our 3-node cluster and
#        on a 3-node Samba+CTDB cluster (Debian's samba and ctdb, built by
#        ../shared/tools/ctdb-ref-cluster.sh in namespaces the same way),
#        both up side by side, alternating in every round (ours first in
#        odd rounds).  The client is the one of bench_open_close.sh
#        (open_close_client.sh: smbtorture smb2.bench.path-contention-
#        shared), three smbtorture processes of BENCH_CONNS connections
#        each, run in the cluster's client namespace.  Scenarios
#        KIND:PLACE:QDEPTH, KIND one (every client on bench.dat: one
#        share-mode record for all) or distinct (client K on file_K),
#        PLACE spread (client K on public IP K: one client per node) or
#        onenode (all three on public IP 1, held by one node).
#        Also the CPU time of the whole cluster per pair (every process
#        in the three nodes' PID namespaces: smbd, clusterd + corosync or
#        ctdbd, event scripts), which depends less on the load.
#
# Usage: bench_cluster.sh [db] [smb]      (default: both)
# Environment: SMB3_BUILD (default ./build: smbd, clusterd, cldb_tool),
#   BENCH_ROUNDS (5), BENCH_SECONDS (5), BENCH_WRITERS (4), BENCH_CONNS
#   (connections per smbtorture, 2), BENCH_SCENARIOS ("one:spread:1
#   one:onenode:1 distinct:spread:1 distinct:onenode:1"), BENCH_BUDGET
#   (seconds for everything, 1500), BENCH_PREFIX / BENCH_NET (namespace
#   prefix and first two octets of our cluster, default smb3cb / 10.216;
#   the Samba+CTDB cluster gets PREFIXr-* and NET.10.x / NET.11.x),
#   SMB3_CTDB_REF (path of ctdb-ref-cluster.sh; default
#   /work/shared/tools or ../shared/tools beside the clone),
#   BENCH_KEEP_LOGS=1 (keep the work directory), BENCH_COMMIT (printed as
#   the commit when the tree is not a git work tree, e.g. a git archive).
# Both clusters are always torn down at the end, also after a failure.
# Machines are noisy: read the medians and the median of the per-round
# ratios (the two runs of a round saw the same load), not single rounds.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export SMB3_BUILD=$(readlink -f "${SMB3_BUILD:-$repo/build}")
rounds=${BENCH_ROUNDS:-5}
secs=${BENCH_SECONDS:-5}
writers=${BENCH_WRITERS:-4}
conns=${BENCH_CONNS:-2}
scenarios=${BENCH_SCENARIOS:-one:spread:1 one:onenode:1 distinct:spread:1 distinct:onenode:1}
budget=${BENCH_BUDGET:-1500}
export SMB3C_PREFIX=${BENCH_PREFIX:-smb3cb}
export SMB3C_NET=${BENCH_NET:-10.216}
export SMB3C_ROOT=/var/tmp/$SMB3C_PREFIX
C=$repo/tests/cluster/cluster.sh
TOOL=$SMB3_BUILD/clusterd/cldb_tool
deadline=$(( $(date +%s) + budget ))
parts=${*:-db smb}
clk_tck=$(getconf CLK_TCK)

. "$here/open_close_client.sh"

log() { printf '%s\n' "$*" >&2; }
die() { log "bench_cluster: $*"; exit 1; }

for v in "$rounds" "$secs" "$writers" "$conns" "$budget"; do
	case $v in '' | *[!0-9]* | 0) die "BENCH_ROUNDS/SECONDS/WRITERS/CONNS/BUDGET must be positive integers" ;; esac
done
for p in $parts; do
	case $p in db | smb) ;; *) die "usage: bench_cluster.sh [db] [smb]" ;; esac
done
for s in $scenarios; do
	case $s in
	one:spread:[1-9] | one:onenode:[1-9] | distinct:spread:[1-9] | distinct:onenode:[1-9]) ;;
	*) die "bad scenario '$s' (one|distinct : spread|onenode : qdepth 1-9)" ;;
	esac
done
[ "$(id -u)" = 0 ] || die "must run as root (namespaces)"
[ -x "$SMB3_BUILD/clusterd/clusterd" ] && [ -x "$TOOL" ] ||
	die "$SMB3_BUILD has no clusterd/cldb_tool (tools/dev.sh build)"
command -v corosync >/dev/null || die "corosync not installed (tools/dev.sh deps)"
# never take down a cluster somebody else has up under these names
ip netns list | grep -qE "^($SMB3C_PREFIX|${SMB3C_PREFIX}r)-" &&
	die "namespaces $SMB3C_PREFIX-* or ${SMB3C_PREFIX}r-* exist: a cluster with this prefix is up (take it down, or set BENCH_PREFIX and BENCH_NET)"

work=$(mktemp -d "/var/tmp/$SMB3C_PREFIX-bench.XXXXXX")
chmod 755 "$work"
ref=""
bg_pids=()
ours_up=0
ref_up=0

cleanup() {
	local p
	for p in "${bg_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	[ $ours_up = 1 ] && "$C" down >/dev/null 2>&1
	[ $ref_up = 1 ] && CTDB_REF_ROOT=$work/ctdb "$ref" down >/dev/null 2>&1
	if [ "${BENCH_KEEP_LOGS:-0}" = 1 ]; then
		log "logs kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check_budget() {
	[ "$(date +%s)" -lt "$deadline" ] ||
		die "BENCH_BUDGET of ${budget}s used up (raise it or lower BENCH_ROUNDS)"
}

declare -A ip=() user=() pass=() sharedir=() clns=() initpids=()

ours_start() { # N
	local i
	[ $ours_up = 1 ] && "$C" down >/dev/null 2>&1
	ours_up=1
	"$C" up "$1" >"$work/up$1.log" 2>&1 ||
		{ tail -40 "$work/up$1.log" >&2; die "cluster.sh up $1 failed"; }
	initpids[ours]=$(for i in $(seq 1 "$1"); do "$C" pid "$i"; done | paste -sd' ')
}

# cluster_cpu SLOT -> one line "COMM TICKS" per process name: CPU clock
# ticks of every process of the cluster's nodes (their PID namespaces),
# the live ones and, through their parents' cutime/cstime, those already
# reaped (so a connection process counts under smbd, an event script
# under the daemon that ran it); and "#procs N", how many are alive
cluster_cpu() {
	local nss
	nss=$(ps -o pidns= -p "$(echo "${initpids[$1]}" | tr ' ' ,)" | tr -d ' ' | paste -sd' ')
	ps -e -o pidns=,pid= | awk -v l="$nss" '
		BEGIN { n = split(l, a, " "); for (i = 1; i <= n; i++) s[a[i]] = 1 }
		($1 in s) { print "/proc/" $2 "/stat" }' | xargs cat 2>/dev/null |
		awk '{ match($0, /\(.*\)/); c = substr($0, RSTART + 1, RLENGTH - 2)
			gsub(/[^A-Za-z0-9_.-]/, "_", c)
			sub(/^[0-9]+ \(.*\) /, "")
			t[c] += $12 + $13 + $14 + $15; n++ }
			END { for (c in t) print c, t[c]; print "#procs", n + 0 }'
}

# cpu_delta BEFORE AFTER TAG: appends "TAG COMM TICKS" lines (the ticks
# each process name used between the two cluster_cpu snapshots) to
# $work/cpu and prints the total
cpu_delta() {
	awk -v tag="$3" 'NR == FNR { b[$1] = $2; next }
		$1 != "#procs" { d = $2 - b[$1]; if (d > 0) { print tag, $1, d; t += d } }
		END { print "total", t + 0 > "/dev/stderr" }' "$1" "$2" 2>&1 >>"$work/cpu" |
		awk '{ print $2 }'
}

# cpu_report SLOT-OR-NODES SCENARIO UNITS: the CPU per unit (pair or
# update) by process name, summed over the rounds
cpu_report() {
	awk -v k="$1" -v s="$2" -v units="$3" -v hz="$clk_tck" '
		$1 == k "/" s { t[$2] += $3 }
		END { out = ""; for (c in t) out = out sprintf(" %s %.0f", c, t[c] / hz * 1e6 / units); print out }' \
		"$work/cpu"
}

# ---------------------------------------------------------------- db part

# db_run NODES SCENARIO ROUND: the writers of one scenario, started at one
# moment; appends "NODES SCENARIO ROUND updates/s p50 p99 retries" to
# $work/db (p50: median of the writers' p50; p99: the largest p99)
db_run() {
	local nodes=$1 scen=$2 r=$3 at n w list=() pids=() i rc=0
	check_budget
	case $scen in
	one-writer) list=("1 1") ;;
	node1x*) for w in $(seq 1 "$writers"); do list+=("1 $w"); done ;;
	allx*) for n in $(seq 1 "$nodes"); do
		for w in $(seq 1 "$writers"); do list+=("$n $w"); done
	done ;;
	samekey) for n in $(seq 1 "$nodes"); do list+=("$n 0"); done ;;
	esac
	# every writer waits for this moment (starting a process inside a
	# node takes longer than nothing): the runs overlap
	at=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t + 1.5 }')
	cluster_cpu ours >"$work/cpu0"
	for i in "${!list[@]}"; do
		set -- ${list[$i]}
		local key=$scen.$1.$2
		[ "$scen" = samekey ] && key=samekey
		"$C" exec "$1" env CLDB_START_AT="$at" timeout $((secs + 30)) \
			"$TOOL" "$SMB3C_ROOT/node$1/clusterd/run/clusterd-db.sock" \
			bench_db bench "$key" "$secs" >"$work/db.$i.out" 2>&1 &
		pids+=($!)
		bg_pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { rc=1; log "writer $i: $(cat "$work/db.$i.out")"; }
	done
	bg_pids=()
	[ $rc = 0 ] || die "db scenario $scen on $nodes node(s) failed in round $r"
	cluster_cpu ours >"$work/cpu1"
	cpu_delta "$work/cpu0" "$work/cpu1" "$nodes/$scen" >/dev/null
	# writers' lines sorted by their p50: the middle one is the median
	cat "$work"/db.*.out | grep '^updates ' | sort -n -k6 |
		awk -v nodes="$nodes" -v s="$scen" -v r="$r" -v secs="$secs" '
		{ u += $2; rt += $4; p50[NR] = $6; if ($8 > p99) p99 = $8 }
		END { printf "%s %s %s %.0f %d %d %d\n", nodes, s, r,
			u / secs, p50[int((NR + 1) / 2)], p99, rt }' >>"$work/db"
	rm -f "$work"/db.*.out
}

db_part() {
	local nodes scen r list
	: >"$work/db"
	for nodes in 1 3; do
		log "db: starting our cluster with $nodes node(s)"
		ours_start "$nodes"
		list="one-writer node1x$writers"
		[ "$nodes" -gt 1 ] && list+=" allx$writers samekey"
		for r in $(seq 1 "$rounds"); do
			for scen in $list; do
				db_run "$nodes" "$scen" "$r"
				log "db: $(tail -1 "$work/db")"
			done
		done
	done
	echo
	echo "Replicated updates: cldb_tool bench (fetch_locked + store of a counter," \
		"retried on CAS conflict), medians of $rounds rounds of ${secs}s"
	echo "updates/s = all writers together; p50/p99 = latency of one increment in us" \
		"(p50: median writer, p99: worst writer); retries = CAS retries per round"
	printf '%-5s %-11s %7s %10s %8s %8s %8s\n' nodes scenario writers \
		updates/s p50_us p99_us retries
	for nodes in 1 3; do
		list="one-writer node1x$writers"
		[ "$nodes" -gt 1 ] && list+=" allx$writers samekey"
		for scen in $list; do
			local nw=1
			case $scen in
			node1x*) nw=$writers ;;
			allx*) nw=$((writers * nodes)) ;;
			samekey) nw=$nodes ;;
			esac
			printf '%-5s %-11s %7s' "$nodes" "$scen" "$nw"
			for f in 4 5 6 7; do
				printf ' %8s' "$(awk -v n="$nodes" -v s="$scen" -v f=$f \
					'$1 == n && $2 == s { print $f }' "$work/db" | oc_median %.0f)"
			done
			echo
		done
	done
	echo "CPU of the whole cluster per update in us, by process name (all rounds," \
		"the 1.5 s start delay and background work included):"
	for nodes in 1 3; do
		list="one-writer node1x$writers"
		[ "$nodes" -gt 1 ] && list+=" allx$writers samekey"
		for scen in $list; do
			local units
			units=$(awk -v n="$nodes" -v s="$scen" -v secs="$secs" \
				'$1 == n && $2 == s { u += $4 * secs } END { print u + 0 }' "$work/db")
			printf '  %s node(s) %-11s%s\n' "$nodes" "$scen" \
				"$(cpu_report "$nodes" "$scen" "$units")"
		done
	done
	# what the replication over corosync costs: 3 nodes against 1
	local s3 s1
	for scen in one-writer "node1x$writers"; do
		s1=$(awk -v s="$scen" '$1 == 1 && $2 == s { print $4 }' "$work/db" | oc_median %.0f)
		s3=$(awk -v s="$scen" '$1 == 3 && $2 == s { print $4 }' "$work/db" | oc_median %.0f)
		printf '3 nodes / 1 node, %s: updates/s %s\n' "$scen" \
			"$(awk -v a="$s3" -v b="$s1" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }')"
	done
}

# ---------------------------------------------------------------- smb part

find_ref() {
	local c
	for c in "${SMB3_CTDB_REF:-}" /work/shared/tools/ctdb-ref-cluster.sh \
		"$repo/../shared/tools/ctdb-ref-cluster.sh"; do
		[ -n "$c" ] && [ -f "$c" ] && { echo "$c"; return 0; }
	done
	return 1
}

# The reference script has fixed names (actl-*) and subnets (10.213.x),
# which other people's reference clusters may use at the same time: run a
# copy with our prefix and subnets instead (nothing else changes).
ref_prepare() {
	local src
	src=$(find_ref) || die "ctdb-ref-cluster.sh not found (set SMB3_CTDB_REF)"
	ref=$work/ctdb-ref-cluster.sh
	sed -e "s/actl-/${SMB3C_PREFIX}r-/g" \
		-e "s/^PRIV_NET=10\\.213\\.0\$/PRIV_NET=$SMB3C_NET.10/" \
		-e "s/^PUB_NET=10\\.213\\.1\$/PUB_NET=$SMB3C_NET.11/" "$src" >"$ref"
	chmod 755 "$ref"
	grep -q "^PRIV_NET=$SMB3C_NET.10\$" "$ref" && grep -q "^PUB_NET=$SMB3C_NET.11\$" "$ref" ||
		die "$src: cannot move it to our subnets (PRIV_NET/PUB_NET lines changed?)"
	echo "Samba+CTDB: $src, as ${SMB3C_PREFIX}r-* on $SMB3C_NET.10.x (nodes), $SMB3C_NET.11.x (public)"
}

ref_start() {
	log "smb: starting the Samba+CTDB cluster"
	ref_up=1
	# share without vfs modules: like the "plain" Samba of bench_open_close.sh
	CTDB_REF_ROOT=$work/ctdb CTDB_REF_VFS=" " "$ref" up >"$work/ref-up.log" 2>&1 ||
		{ tail -40 "$work/ref-up.log" >&2; die "Samba+CTDB cluster did not come up"; }
}

smb_setup() {
	local k i
	ip[ours]=$SMB3C_NET.1 ip[samba]=$SMB3C_NET.11
	user[ours]=$("$C" info SMB_USER) pass[ours]=$("$C" info SMB_PASS)
	sharedir[ours]=$("$C" info SHARE_DIR) clns[ours]=$SMB3C_PREFIX-cl
	user[samba]=tuser pass[samba]='tpass123!'
	sharedir[samba]=$work/ctdb/shared/share clns[samba]=${SMB3C_PREFIX}r-cl
	initpids[samba]=$(for i in 1 2 3; do CTDB_REF_ROOT=$work/ctdb "$ref" pid "$i"; done | paste -sd' ')
	for k in ours samba; do
		for i in bench.dat file_1 file_2 file_3; do
			printf 'open/close benchmark\n' >"${sharedir[$k]}/$i"
			chmod 666 "${sharedir[$k]}/$i"
		done
	done
}

# smb_run SLOT SCENARIO ROUND -> result="pairs/s cpu_us_per_pair"
smb_run() {
	local slot=$1 kind=${2%%:*} place qd=${2##*:} r=$3 k path pids=() outs=() \
		res=() one bad=0 n0 cpu1 n1 i rc
	place=${2#*:}
	place=${place%%:*}
	check_budget
	cluster_cpu "$slot" >"$work/cpu0"
	n0=$(awk '$1 == "#procs" { print $2 }' "$work/cpu0")
	for k in 1 2 3; do
		path=bench.dat
		[ "$kind" = distinct ] && path=file_$k
		local addr=${ip[$slot]}.$k
		[ "$place" = onenode ] && addr=${ip[$slot]}.1
		local out=$work/r$r-$slot-${2//:/-}-$k.log
		oc_torture_bg "$out" "//$addr/share" 445 "${user[$slot]}" \
			"${pass[$slot]}" "$path" "$conns" "$qd" "$secs" \
			ip netns exec "${clns[$slot]}"
		pids+=("$oc_pid") outs+=("$out")
		bg_pids+=("$oc_pid")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
		rc=$?
		one=$(oc_check_log "${outs[$i]}" "$rc") || bad=1
		res+=("$one")
	done
	bg_pids=()
	[ $bad = 0 ] || die "scenario $2 against $slot failed in round $r"
	# the servers' connection processes exit after the client: wait until
	# they are reaped, so that their CPU time is in their parents' cutime
	for i in $(seq 1 50); do
		cluster_cpu "$slot" >"$work/cpu1"
		n1=$(awk '$1 == "#procs" { print $2 }' "$work/cpu1")
		[ "$n1" -le "$n0" ] && break
		sleep 0.1
	done
	cpu1=$(cpu_delta "$work/cpu0" "$work/cpu1" "$slot/$2")
	result=$(printf '%s\n' "${res[@]}" | awk -v c="$cpu1" \
		-v hz="$clk_tck" -v secs="$secs" '
		{ n += $1 }
		END { printf "%d %.0f\n", n, c / hz * 1e6 / (n * secs) }')
}

smb_part() {
	local r s slot order line clustering
	ref_prepare
	if [ $ours_up = 0 ] || [ "$("$C" info N 2>/dev/null)" != 3 ]; then
		log "smb: starting our cluster with 3 nodes"
		ours_start 3
	fi
	ref_start
	smb_setup
	clustering=no
	grep -qiE '^[[:space:]]*clustering[[:space:]]*=[[:space:]]*(yes|true|1)' \
		"$SMB3C_ROOT/node1/smb.conf" && clustering=yes
	echo "ours: $SMB3C_PREFIX-* (build $SMB3_BUILD), smbd clustering = $clustering"
	[ $clustering = yes ] ||
		echo "WARNING: our smbd uses node-local databases: its figures are not those of a cluster"
	echo "$rounds rounds, ${secs}s per run, 3 clients x $conns connections, scenarios: $scenarios"
	: >"$work/smb"
	for r in $(seq 1 "$rounds"); do
		if [ $((r % 2)) = 1 ]; then order="ours samba"; else order="samba ours"; fi
		for s in $scenarios; do
			line="round $r $(printf '%-20s' "$s")"
			for slot in $order; do
				smb_run "$slot" "$s" "$r"
				set -- $result
				echo "$r $s $slot $1 $2" >>"$work/smb"
				line+=$(printf '  %-5s %6s/s (%s us cpu)' "$slot" "$1" "$2")
			done
			echo "$line"
		done
	done
	echo
	echo "Open/close through smbd on 3 nodes: medians of $rounds rounds of ${secs}s," \
		"3 clients x $conns connections (smb2.bench.path-contention-shared)"
	echo "X/s = pairs per second (all clients), ratio = ours/samba, rnd = median of" \
		"the per-round ratios, cpu = CPU of the whole cluster per pair in us"
	oc_table "$work/smb" 5 20 $scenarios
	echo "CPU per pair in us by process name (all rounds; a connection process" \
		"counts under smbd, an event script under its daemon):"
	for s in $scenarios; do
		for slot in ours samba; do
			local units
			units=$(awk -v s="$s" -v k="$slot" -v secs="$secs" \
				'$2 == s && $3 == k { u += $4 * secs } END { print u + 0 }' "$work/smb")
			printf '  %-20s %-5s%s\n' "$s" "$slot" "$(cpu_report "$slot" "$s" "$units")"
		done
	done
}

echo "bench_cluster $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "${BENCH_COMMIT:-unknown}")," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
for p in $parts; do
	"${p}_part"
done
echo
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
