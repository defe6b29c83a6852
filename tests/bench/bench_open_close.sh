#!/bin/bash
# bench_open_close.sh - open/close pairs per second, our smbd against
# Debian's Samba, with several client connections.
#
# The client is smbtorture's smb2.bench.path-contention-shared (Samba 4.17),
# started and read by open_close_client.sh (shared with bench_cluster.sh):
# nprocs connections keep qdepth CREATE+CLOSE loops in flight on one path
# for timelimit seconds; no open ever conflicts, so what is measured is the
# cost of an open and a close, with their share-mode bookkeeping, between
# processes.
#
# Scenarios (BENCH_SCENARIOS, words "KIND:QDEPTH"):
#   one:Q       one smbtorture, BENCH_CONNS connections, all on bench.dat:
#               every open and close of every process touches the same
#               file (the same share-mode record).
#   distinct:Q  BENCH_CONNS smbtorture processes in parallel, each with one
#               connection on its own file (file_1 ... file_N); the figure
#               is the sum of their open/s.  smbtorture has no option to
#               give each connection of one run its own path, hence one
#               process per connection; their start times differ by a few
#               tens of ms (connect + session setup), which the script
#               measures (the spread of their end times) and prints.
# Default "one:1 distinct:1 one:4": qdepth 1 is the plain request/response
# latency per connection; qdepth 4 shows how a server overlaps several
# requests of one connection.
#
# Both servers run on loopback with one share "share" and "server signing
# = auto" (smbtarget.py --signing auto; Samba's profile "plain", Debian
# defaults otherwise).  smbtorture does not require signing, so SMB 3.1.1
# signs the session setup and tree connect (AES-128-GMAC) and nothing
# after: the open/close traffic is unsigned and unencrypted on both.
#
# Each round runs every scenario on both servers, in alternating order
# (ours first in odd rounds, Samba first in even ones); then the medians
# and the ratio ours/Samba are printed per scenario, with the median of
# the per-round ratios (the two runs of a round saw the same load).
# Client and servers share the machine's cores, and on a busy machine the
# rates swing by 2x between rounds; so each run also records the server's
# CPU time per pair (all processes of its session, from /proc: the live
# ones and, through cutime/cstime, the connection processes that exited),
# which depends much less on the load than the rate does.
#
# Environment: SMB3_BUILD (default ./build), BENCH_ROUNDS (5),
# BENCH_SECONDS (timelimit per run, 5), BENCH_CONNS (4),
# BENCH_SCENARIOS ("one:1 distinct:1 one:4"), BENCH_DIR (/var/tmp),
# BENCH_BUDGET (seconds for the whole run, 600; the script stops with an
# error when it is used up), BENCH_SAMBA_PROFILE (plain),
# BENCH_OURS_KIND (ours; samba = dry run of the script with two Sambas),
# BENCH_KEEP_LOGS (1 = keep the work directory with every smbtorture log).
# It is a measurement, not a test: it exits 0 unless a server cannot
# start, smbtorture reports an error (a failed open or close, a lost
# connection) or a server dies; then it prints the log and fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export SMB3_BUILD=${SMB3_BUILD:-$repo/build}
rounds=${BENCH_ROUNDS:-5}
secs=${BENCH_SECONDS:-5}
conns=${BENCH_CONNS:-4}
scenarios=${BENCH_SCENARIOS:-one:1 distinct:1 one:4}
budget=${BENCH_BUDGET:-600}
samba_profile=${BENCH_SAMBA_PROFILE:-plain}
ours_kind=${BENCH_OURS_KIND:-ours}
smbtarget=$repo/tests/integration/smbtarget.py
deadline=$(( $(date +%s) + budget ))
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/smb3bench-open.XXXXXX")
chmod 755 "$work"   # the session users walk through it to their share
bg_pids=()
running=()

cleanup() {
	local p r
	for p in "${bg_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for r in "${running[@]}"; do
		/usr/bin/python3 "$smbtarget" stop --target "${r%%:*}" \
			--root "${r#*:}" >/dev/null 2>&1
	done
	if [ "${BENCH_KEEP_LOGS:-0}" = 1 ]; then
		log "logs kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$here/open_close_client.sh"

log() { printf '%s\n' "$*" >&2; }
die() { log "bench_open_close: $*"; exit 1; }

for v in "$rounds" "$secs" "$conns" "$budget"; do
	case $v in '' | *[!0-9]* | 0) die "BENCH_ROUNDS/SECONDS/CONNS/BUDGET must be positive integers" ;; esac
done
for s in $scenarios; do
	case $s in
	one:[1-9] | one:[1-9][0-9] | distinct:[1-9] | distinct:[1-9][0-9]) ;;
	*) die "bad scenario '$s' (one:Q or distinct:Q)" ;;
	esac
done
clk_tck=$(getconf CLK_TCK)
command -v smbtorture >/dev/null || die "smbtorture not installed (samba-testsuite)"

declare -A port=() user=() pass=() spid=() sroot=() share=()

# start KIND: KIND is the slot (ours|samba); BENCH_OURS_KIND=samba puts a
# second Samba in our slot, to check this script while ours is unusable
start() {
	local slot=$1 kind=$1 root=$work/$1 vars
	[ "$slot" = ours ] && kind=$ours_kind
	vars=$(/usr/bin/python3 "$smbtarget" start --target "$kind" \
		--root "$root" --signing auto --profile "$samba_profile") || return 1
	running+=("$kind:$root")
	eval "$vars"
	port[$slot]=$SMB3_PORT user[$slot]=$SMB3_USER pass[$slot]=$SMB3_PASS
	spid[$slot]=$SMB3_PID sroot[$slot]=$root share[$slot]=$SMB3_SHARE_PATH
	# the files the benchmark opens; created on disk, readable by all
	local i
	for i in bench.dat $(seq -f 'file_%g' 1 "$conns"); do
		printf 'open/close benchmark\n' >"${share[$slot]}/$i"
		chmod 666 "${share[$slot]}/$i"
	done
}

server_alive() {
	local slot=$1 kind=$1
	[ "$slot" = ours ] && kind=$ours_kind
	/usr/bin/python3 - "$repo/tests/integration" "$kind" "${sroot[$slot]}" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import smbtarget
sys.exit(0 if smbtarget.make_target(sys.argv[2], sys.argv[3]).pid() else 1)
EOF
}

server_log_tail() {
	local slot=$1 f
	for f in "${sroot[$slot]}/smbd.log" "${sroot[$slot]}/log/log.smbd"; do
		[ -f "$f" ] && { log "---- tail of $f"; tail -30 "$f" >&2; }
	done
}

# torture_bg SLOT PATH NPROCS QDEPTH LOGFILE: one smbtorture in the
# background (its pid appended to bg_pids)
torture_bg() {
	oc_torture_bg "$5" "//127.0.0.1/share" "${port[$1]}" "${user[$1]}" \
		"${pass[$1]}" "$2" "$3" "$4" "$secs"
	bg_pids+=("$oc_pid")
}

check_log() { oc_check_log "$@"; }

# session_procs SID -> "ticks count": CPU clock ticks used by the processes
# of session SID (both servers run in a session of their own: smbtarget's
# start_new_session, Samba's smbd -D), the live ones (utime+stime) and
# those already reaped (their parents' cutime+cstime), and how many live
session_procs() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v s="$1" '
		{ sub(/^[0-9]+ \(.*\) /, "") }
		$4 == s { t += $12 + $13 + $14 + $15; n++ }
		END { printf "%d %d\n", t, n }'
}

# run SLOT SCENARIO ROUND -> sets result="open/s avslat_ms spread_ms
# cpu_us_per_pair" (in this shell, not a subshell: cleanup must see
# bg_pids)
run() {
	local slot=$1 what=${2%%:*} qdepth=${2#*:} r=$3 i rc res=() \
		pids=() outs=() out cpu0 n0 cpu1 n1
	[ "$(date +%s)" -lt "$deadline" ] ||
		die "BENCH_BUDGET of ${budget}s used up (raise it or lower BENCH_ROUNDS)"
	read -r cpu0 n0 < <(session_procs "${spid[$slot]}")
	if [ "$what" = one ]; then
		out=$work/r$r-$slot-$what-q$qdepth.log
		torture_bg "$slot" bench.dat "$conns" "$qdepth" "$out"
		pids+=("${bg_pids[-1]}") outs+=("$out")
	else
		for i in $(seq 1 "$conns"); do
			out=$work/r$r-$slot-$what-q$qdepth-$i.log
			torture_bg "$slot" "file_$i" 1 "$qdepth" "$out"
			pids+=("${bg_pids[-1]}") outs+=("$out")
		done
	fi
	local bad=0 one
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
		rc=$?
		one=$(check_log "${outs[$i]}" "$rc") || bad=1
		res+=("$one")
	done
	bg_pids=()
	# the connections' processes exit (and are reaped) once smbtorture has
	# gone: then their CPU time is in their parent's cutime/cstime
	for i in $(seq 1 50); do
		read -r cpu1 n1 < <(session_procs "${spid[$slot]}")
		[ "$n1" -le "$n0" ] && break
		sleep 0.1
	done
	if ! server_alive "$slot"; then
		log "the $slot server died during $2 (round $r)"
		bad=1
	fi
	if [ $bad = 1 ]; then
		log "scenario $2 against $slot failed in round $r"
		server_log_tail "$slot"
		return 1
	fi
	# sum of the rates, mean of the latencies, spread of the end times
	# and the server's CPU time per pair (connection setup included)
	result=$(printf '%s\n' "${res[@]}" | awk -v c=$((cpu1 - cpu0)) \
		-v hz="$clk_tck" -v secs="$secs" '
		{ n += $1; lat += $2; if (NR == 1 || $3 < lo) lo = $3; if ($3 > hi) hi = $3 }
		END { printf "%d %.3f %.0f %.0f\n", n, lat / NR * 1000, (hi - lo) * 1000,
			c / hz * 1e6 / (n * secs) }')
}

median() { oc_median "$@"; }

for slot in samba ours; do
	start "$slot" || die "cannot start the $slot server"
done
echo "ours: $ours_kind on port ${port[ours]} (build $SMB3_BUILD); samba: port ${port[samba]} (profile $samba_profile)"
echo "$rounds rounds, ${secs}s per run, $conns connections, scenarios: $scenarios"

: >"$work/samples"
for r in $(seq 1 "$rounds"); do
	if [ $((r % 2)) = 1 ]; then order="ours samba"; else order="samba ours"; fi
	for s in $scenarios; do
		line="round $r $(printf '%-11s' "$s")"
		for slot in $order; do
			run "$slot" "$s" "$r" || exit 1
			set -- $result
			echo "$r $s $slot $1 $2 $4" >>"$work/samples"
			line+=$(printf '  %-5s %6s/s (%s ms, %s us cpu' "$slot" "$1" "$2" "$4")
			if [ "${s%%:*}" = distinct ]; then
				line+=", spread $3 ms"
				# the processes' windows overlap by less than 90 %
				[ "$3" -gt $((secs * 100)) ] &&
					log "warning: round $r $s $slot: end times spread by $3 ms; the sum overstates the parallel rate"
			fi
			line+=")"
		done
		echo "$line"
	done
done


echo
echo "Medians of $rounds rounds of ${secs}s, $conns connections" \
	"(smb2.bench.path-contention-shared):"
echo "X/s = open/close pairs per second (all connections), ratio = ours/samba,"
echo "rnd = median of the per-round ratios ours/samba,"
echo "cpu = the server's CPU time per pair in us (all its processes)"
oc_table "$work/samples" 6 11 $scenarios
