#!/bin/bash
# cluster.sh - a test cluster of smb3cluster nodes on one machine, built
# from Linux namespaces: for cluster tests, benchmarks and people.
#
# Usage (as root):
#   cluster.sh up [N]            build N nodes (default 3) + client, start
#                                corosync (+ clusterd) + smbd on each, wait
#                                until healthy, print smbclient command lines
#   cluster.sh down              stop everything, delete the namespaces
#                                (also after a failed "up")
#   cluster.sh status            per-node processes and links, then the status
#                                CLI (clusterctl) or, without clusterd,
#                                corosync's membership and quorum
#   cluster.sh kill NODE [--hard]  kill -9 the node's corosync, clusterd and
#                                smbd (every process of the node); --hard
#                                instead cuts its link (bridge port down) and
#                                leaves the processes running (a partition)
#   cluster.sh kill NODE --only corosync|clusterd|smbd
#                                kill -9 of that one daemon of the node
#   cluster.sh start NODE        restart a killed node / heal a cut one /
#                                restart the node's daemons that are not
#                                running
#   cluster.sh wait [SECS]       wait (default 60 s) until every running node
#                                is healthy (see "up")
#   cluster.sh exec NODE CMD...  run CMD inside node NODE (all its namespaces)
#   cluster.sh client CMD...     run CMD in the client namespace
#   cluster.sh ctl NODE ARGS...  clusterctl with node NODE's cluster.conf,
#                                inside the node (e.g. ctl 2 status --json)
#   cluster.sh info [KEY]        print the cluster's settings (N, user,
#                                password, addresses...) as KEY=VALUE lines
#   cluster.sh pid NODE          host pid of the node's init (pid 1 inside)
# "wait-healthy" is "wait": the commands match those of the Samba+CTDB
# reference script, so that one benchmark can drive either cluster.
#
# Topology (docs/cluster-testing.md has the picture).  PREFIX defaults to
# "smb3c" and NET to "10.214"; both can be changed so that several clusters
# (and ../shared/tools/ctdb-ref-cluster.sh on 10.213) run side by side:
#   PREFIX-sw   the "switch": bridge br0, one veth port nK per node, port cl
#   PREFIX-nK   node K: eth0 NET.0.K/24; own network, mount, UTS and PID
#               namespaces; private tmpfs on /run and /dev/shm, private
#               /var/lib/corosync; corosync + clusterd + smbd
#   PREFIX-cl   the client: eth0 NET.0.100/24, on-link route to NET.1.0/24
#   public IPs  NET.1.K/24 on eth0 (public_addresses of every node); the
#               harness never assigns them: clusterd's event scripts do.
# No address, interface or socket of the cluster exists in the host's
# namespaces.  Nothing here kills by process name: a node's processes are
# found through its network namespace ("ip netns pids").
#
# Environment:
#   SMB3_BUILD       build directory with smbd/, tools/, clusterd/ binaries
#                    (default ./build; built with tools/dev.sh if missing)
#   SMB3C_ROOT       state root (default /var/tmp/PREFIX)
#   SMB3C_PREFIX     namespace name prefix (default smb3c)
#   SMB3C_NET        first two octets of the subnets (default 10.214)
#   SMB3C_UP_TIMEOUT seconds "up" waits for health (default 60)
#   SMB3C_TOKEN      corosync totem token timeout in ms (default 500)
#   SMB3C_TRANSPORT  knet (default) or udpu
#   SMB3C_CRYPTO     knet's crypto: none (default: a private network) or
#                    aes256 (crypto_cipher aes256, crypto_hash sha256)
#   SMB3C_NO_CLUSTERD=1  do not start clusterd even if it was built
#   SMB3C_CLUSTERING=no  clusterd runs, but smbd keeps its local databases
#                    (default: "clustering = yes" whenever clusterd runs)
#   SMB3C_LOGLEVEL   smbd "log level" (default 1)
#   SMB3C_CLUSTERD_LOGLEVEL  clusterd "log level" (default 1)
#   SMB3C_MONITOR_INTERVAL   clusterd "monitor interval" (default: its own)
#   SMB3C_VACUUM_INTERVAL    clusterd "vacuum interval" (default: its own)
#   SMB3C_EXTRA_GLOBAL, SMB3C_EXTRA_SHARE  extra smb.conf lines
set -u

SELF=$(readlink -f "$0")
REPO=$(cd "$(dirname "$SELF")/../.." && pwd)
PREFIX=${SMB3C_PREFIX:-smb3c}
NET=${SMB3C_NET:-10.214}
ROOT=${SMB3C_ROOT:-/var/tmp/$PREFIX}
BUILD=$(readlink -f "${SMB3_BUILD:-$REPO/build}")
NS_SW=$PREFIX-sw
NS_CL=$PREFIX-cl
PRIV_NET=$NET.0
PUB_NET=$NET.1
CLIENT_IP=$PRIV_NET.100
SMB_USER=${SMB3C_USER:-smb3cuser}
SHARE=share
MAX_NODES=9

log() { echo "cluster.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ns_node() { echo "$PREFIX-n$1"; }
node_dir() { echo "$ROOT/node$1"; }
node_ip() { echo "$PRIV_NET.$1"; }
public_ip() { echo "$PUB_NET.$1"; }

# The cluster's size and password, written by "up" and read by every
# other subcommand (they run as separate processes).
load_env() {
	[ -r "$ROOT/cluster.env" ] || return 1
	# shellcheck disable=SC1091
	. "$ROOT/cluster.env"
}

nodes() { seq 1 "${N:-0}"; }

check_node() {
	load_env || die "no cluster set up under $ROOT (run: $0 up)"
	case "${1:-}" in
	[1-9]) [ "$1" -le "$N" ] && return 0 ;;
	esac
	die "node must be 1..$N (got '${1:-}')"
}

have_clusterd() {
	[ -z "${SMB3C_NO_CLUSTERD:-}" ] && [ -x "$BUILD/clusterd/clusterd" ]
}

# ---------------------------------------------------------------- build
ensure_build() {
	command -v corosync >/dev/null ||
		die "corosync is not installed (./tools/dev.sh deps installs it)"
	if [ ! -x "$BUILD/smbd/smbd" ] || [ ! -x "$BUILD/tools/smbuser" ]; then
		log "building in $BUILD"
		SMB3_BUILD=$BUILD "$REPO/tools/dev.sh" build >&2 ||
			die "build in $BUILD failed"
	fi
	[ -x "$BUILD/smbd/smbd" ] || die "$BUILD/smbd/smbd missing"
}

# ---------------------------------------------------------------- network
net_up() {
	local n ns
	ip netns add "$NS_SW" || return 1
	ip -n "$NS_SW" link set lo up
	ip -n "$NS_SW" link add br0 type bridge || return 1
	ip -n "$NS_SW" link set br0 up
	for n in $(nodes); do
		ns=$(ns_node "$n")
		ip netns add "$ns" || return 1
		# both ends are created inside namespaces: the host never sees
		# either of them
		ip -n "$NS_SW" link add "n$n" type veth peer name eth0 netns "$ns" ||
			return 1
		ip -n "$NS_SW" link set "n$n" master br0 up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$(node_ip "$n")/24" dev eth0
		# Public IPs share one /24: the first one added is the primary
		# address, and deleting a primary deletes its secondaries too
		# unless they are promoted (what every CTDB admin sets).
		ip netns exec "$ns" sysctl -q -w \
			net.ipv4.conf.all.promote_secondaries=1 \
			net.ipv4.conf.eth0.promote_secondaries=1 || return 1
		ip -n "$ns" link set eth0 up
	done
	ip netns add "$NS_CL" || return 1
	ip -n "$NS_SW" link add cl type veth peer name eth0 netns "$NS_CL" ||
		return 1
	ip -n "$NS_SW" link set cl master br0 up
	ip -n "$NS_CL" link set lo up
	ip -n "$NS_CL" addr add "$CLIENT_IP/24" dev eth0
	ip -n "$NS_CL" link set eth0 up
	# public addresses sit on the same segment as the nodes
	ip -n "$NS_CL" route add "$PUB_NET.0/24" dev eth0
}

our_namespaces() {
	ip netns list 2>/dev/null | awk -v p="$PREFIX" \
		'$1 == p "-sw" || $1 == p "-cl" || $1 ~ "^" p "-n[0-9]+$" { print $1 }'
}

# ---------------------------------------------------------------- config
gen_password() {
	head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16
}

write_cluster() {
	local n=$1 pass
	mkdir -p "$ROOT" || return 1
	chmod 700 "$ROOT"
	pass=$(gen_password)
	cat >"$ROOT/cluster.env" <<EOF
# written by cluster.sh up: the settings every subcommand reads
N=$n
SMB_USER=$SMB_USER
SMB_PASS=$pass
BUILD=$BUILD
PREFIX=$PREFIX
NET=$NET
CLUSTERD=$(have_clusterd && echo yes || echo no)
EOF
	chmod 600 "$ROOT/cluster.env"
	# one authkey for the whole cluster (knet encrypts and signs with it)
	head -c 256 /dev/urandom >"$ROOT/authkey"
	chmod 400 "$ROOT/authkey"
	# the one "shared file system" of all nodes
	mkdir -p "$ROOT/shared/$SHARE"
	if ! id "$SMB_USER" >/dev/null 2>&1; then
		useradd -M -d /nonexistent -s /usr/sbin/nologin "$SMB_USER" ||
			id "$SMB_USER" >/dev/null 2>&1 || return 1
	fi
	chmod 755 "$ROOT/shared"
	chown "$SMB_USER": "$ROOT/shared/$SHARE"
	chmod 0775 "$ROOT/shared/$SHARE"
}

write_corosync_conf() {
	local n=$1 d=$2 k
	cat <<EOF
# generated by cluster.sh for node $n - rewritten by every "up"
totem {
	version: 2
	cluster_name: $PREFIX
	transport: ${SMB3C_TRANSPORT:-knet}
	token: ${SMB3C_TOKEN:-500}
	# the token timeout does not grow with the node count: failure
	# detection is token + consensus (1.2 x token), about 1.1 s
	token_coefficient: 0
	keyfile: $ROOT/authkey
EOF
	# knet without crypto by default: the cluster's network is private
	# (docs/cluster.md "Running it"); encryption and authentication
	# cost ~30 % of corosync's CPU per message
	if [ "${SMB3C_TRANSPORT:-knet}" = knet ]; then
		if [ "${SMB3C_CRYPTO:-none}" = none ]; then
			printf '\tcrypto_cipher: none\n\tcrypto_hash: none\n'
		else
			printf '\tcrypto_cipher: aes256\n\tcrypto_hash: sha256\n'
		fi
	fi
	cat <<EOF
}
nodelist {
EOF
	for k in $(nodes); do
		printf '\tnode {\n\t\tname: %s\n\t\tnodeid: %d\n\t\tring0_addr: %s\n\t}\n' \
			"$(ns_node "$k")" "$k" "$(node_ip "$k")"
	done
	cat <<EOF
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_stderr: no
	to_syslog: no
	to_logfile: yes
	logfile: $d/log/corosync.log
	timestamp: hires
	fileline: off
}
EOF
}

# With clusterd, smbd runs on it (docs/cluster.md "smbd in a cluster"):
# its replicated databases, node id and messaging; SMB3C_CLUSTERING=no
# keeps every node's smbd on its own local databases.
smb_conf_clustering() {
	if [ "${CLUSTERD:-no}" = yes ] && [ "${SMB3C_CLUSTERING:-yes}" != no ]; then
		printf '\tclustering = yes\n\tclusterd socket = %s\n' \
			"$1/clusterd/run/clusterd.sock"
	fi
}

write_smb_conf() {
	local n=$1 d=$2
	cat <<EOF
# generated by cluster.sh for node $n - rewritten by every "up"
[global]
	netbios name = $(echo "$PREFIX" | tr a-z A-Z)
	smb ports = 445
	state directory = $d/state
	private dir = $d/private
	lock directory = $d/lock
	pid directory = $d/run
	log file = $d/log/smbd.log
	log level = ${SMB3C_LOGLEVEL:-1}
	server signing = auto
	server min protocol = SMB2_02
	server max protocol = SMB3_11
	map to guest = never
$(smb_conf_clustering "$d")
${SMB3C_EXTRA_GLOBAL:-}

[$SHARE]
	path = $ROOT/shared/$SHARE
	read only = no
	guest ok = no
${SMB3C_EXTRA_SHARE:-}
EOF
}

# clusterd's own file (clusterd/cluster_conf.h): everything of the node
# under its state dir, the control socket reachable from the host too
write_cluster_conf() {
	local n=$1 d=$2
	cat <<EOF
# generated by cluster.sh for node $n - rewritten by every "up"
[clusterd]
	state dir = $d/clusterd
	run dir = $d/clusterd/run
	public addresses = $d/public_addresses
	event script dir = $REPO/ctdb-scripts
	smbd port = 445
	log file = $d/log/clusterd.log
	log level = ${SMB3C_CLUSTERD_LOGLEVEL:-1}
	messaging dir = $d/lock/msg.sock
EOF
	if [ -n "${SMB3C_MONITOR_INTERVAL:-}" ]; then
		echo "	monitor interval = $SMB3C_MONITOR_INTERVAL"
	fi
	if [ -n "${SMB3C_VACUUM_INTERVAL:-}" ]; then
		echo "	vacuum interval = $SMB3C_VACUUM_INTERVAL"
	fi
}

# smbd listens on 0.0.0.0 and :: inside the node (no "bind interfaces
# only"): the namespace holds only the node's own addresses, and public IPs
# that clusterd adds later are served without a restart.
write_node() {
	local n=$1 d k
	d=$(node_dir "$n")
	mkdir -p "$d"/{log,state,lock,run,private,corosync,clusterd/run} ||
		return 1
	chmod 700 "$d/private"
	write_corosync_conf "$n" "$d" >"$d/corosync.conf"
	write_cluster_conf "$n" "$d" >"$d/cluster.conf"
	write_smb_conf "$n" "$d" >"$d/smb.conf"
	# CTDB's formats: the node list, and "address/prefix interface" lines
	for k in $(nodes); do node_ip "$k"; done >"$d/nodes"
	for k in $(nodes); do echo "$(public_ip "$k")/24 eth0"; done \
		>"$d/public_addresses"
	# the SMB user, in this node's own user database; a clustered smbd
	# shares one (the replicated passdb): add_cluster_user, once, in up
	grep -q "clustering = yes" "$d/smb.conf" && return 0
	add_user "$n"
}

# the SMB user through node N's configuration (its own user database, or
# with clustering the cluster's through its clusterd)
add_user() {
	local d
	d=$(node_dir "$1")
	printf '%s\n' "$SMB_PASS" | "$BUILD/tools/smbuser" -s "$d/smb.conf" \
		add "$SMB_USER" --unix-user "$SMB_USER" --password-stdin \
		>>"$d/log/smbuser.log" 2>&1 ||
		printf '%s\n' "$SMB_PASS" | "$BUILD/tools/smbuser" -s "$d/smb.conf" \
			passwd "$SMB_USER" --password-stdin >>"$d/log/smbuser.log" 2>&1
}

# ---------------------------------------------------------------- node init
# pid 1 of node N's PID namespace, inside its network namespace and its own
# mount and UTS namespaces.  Gives the node private /run, /dev/shm (libqb's
# IPC rings) and /var/lib/corosync, then reaps orphans until killed.
node_init() {
	local n=$1 d
	d=$(node_dir "$n")
	mount --make-rprivate / || exit 1
	mount -t tmpfs -o mode=0755 tmpfs /run || exit 1
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm || exit 1
	mkdir -p /var/lib/corosync /run/corosync
	mount --bind "$d/corosync" /var/lib/corosync || exit 1
	hostname "$(ns_node "$n")"
	touch "$d/init.ready"
	trap '' TERM INT HUP
	while :; do
		sleep 3600 &
		wait $! 2>/dev/null
	done
}

# host pid of node N's init, if it is alive
init_pid() {
	local f pid
	f=$(node_dir "$1")/init.pid
	[ -s "$f" ] || return 1
	pid=$(cat "$f")
	[ -d "/proc/$pid" ] || return 1
	# a recycled pid is not our init: ours is pid 1 of its namespace
	awk '/^NSpid:/ { exit !($NF == 1) }' "/proc/$pid/status" 2>/dev/null ||
		return 1
	echo "$pid"
}

node_exec() {
	local n=$1 pid
	shift
	pid=$(init_pid "$n") || { log "node $n is not running"; return 1; }
	nsenter -t "$pid" -m -u -n -p -- "$@"
}

# node_spawn N NAME CMD... : start CMD in the background inside node N,
# output appended to log/NAME.out; records its pid (in the node's PID
# namespace) in run/NAME.pid.
node_spawn() {
	local n=$1 name=$2 d
	shift 2
	d=$(node_dir "$n")
	node_exec "$n" /bin/sh -c \
		'out=$1; shift; setsid "$@" </dev/null >>"$out" 2>&1 & echo $!' \
		sh "$d/log/$name.out" "$@" >"$d/run/$name.pid" ||
		return 1
}

# clusterd's and clusterctl's command lines, in one place (adjust here
# if their options change): -c names clusterd's cluster.conf (as in
# clusterd/cluster_conf.h), -F keeps clusterd in the foreground so that
# the harness records its pid.
clusterd_cmd() {
	echo "$BUILD/clusterd/clusterd" -c "$(node_dir "$1")/cluster.conf" -F
}

# clusterctl N ARGS... : the status CLI, run inside node N
clusterctl() {
	local n=$1
	shift
	node_exec "$n" timeout 10 "$BUILD/clusterd/clusterctl" \
		-c "$(node_dir "$n")/cluster.conf" "$@"
}

start_node() {
	local n=$1 d ns upid pid="" i
	d=$(node_dir "$n")
	ns=$(ns_node "$n")
	if pid=$(init_pid "$n"); then
		log "node $n already running (init pid $pid)"
		return 0
	fi
	# whatever is left of an earlier incarnation goes first
	kill_ns_procs "$ns"
	drop_public_ips "$n"
	rm -f "$d/init.ready" "$d/init.pid" "$d"/run/*.pid
	ip -n "$NS_SW" link set "n$n" up 2>/dev/null
	ip netns exec "$ns" unshare --mount --uts --pid --fork --mount-proc \
		/bin/bash "$SELF" __init "$n" </dev/null >>"$d/log/init.log" 2>&1 &
	upid=$!
	pid=""
	for i in $(seq 1 100); do
		if [ -e "$d/init.ready" ]; then
			pid=$(ps -o pid= --ppid "$upid" | tr -d ' ')
			[ -n "$pid" ] && break
		fi
		sleep 0.05
	done
	[ -n "$pid" ] || { log "node $n: init did not come up ($d/log/init.log)"; return 1; }
	echo "$pid" >"$d/init.pid"
	start_daemons "$n" >/dev/null || return 1
	log "node $n started (init pid $pid)"
}

# Start those of node N's daemons that are not running, in order:
# corosync, clusterd, smbd.  Prints their names.
start_daemons() {
	local n=$1 d i started=""
	d=$(node_dir "$n")
	if ! proc_pid "$n" corosync >/dev/null; then
		node_spawn "$n" corosync corosync -f -c "$d/corosync.conf" ||
			{ log "node $n: corosync did not start"; return 1; }
		started="$started corosync"
	fi
	# clusterd connects once at start: wait (bounded) until corosync's
	# IPC answers, as a service manager would
	for i in $(seq 1 50); do
		node_exec "$n" timeout 2 corosync-cmapctl -g totem.cluster_name \
			>/dev/null 2>&1 && break
		[ "$i" = 50 ] && { log "node $n: corosync does not answer"; return 1; }
		sleep 0.2
	done
	if [ "${CLUSTERD:-no}" = yes ] && ! proc_pid "$n" clusterd >/dev/null; then
		# shellcheck disable=SC2046
		node_spawn "$n" clusterd $(clusterd_cmd "$n") ||
			{ log "node $n: clusterd did not start"; return 1; }
		started="$started clusterd"
	fi
	if ! proc_pid "$n" smbd >/dev/null; then
		node_spawn "$n" smbd "$BUILD/smbd/smbd" -s "$d/smb.conf" -F ||
			{ log "node $n: smbd did not start"; return 1; }
		started="$started smbd"
	fi
	echo "${started# }"
}

# SIGKILL every process in network namespace NS, and wait (bounded) until
# they are gone
kill_ns_procs() {
	local ns=$1 pids i
	for i in $(seq 1 50); do
		pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
		[ -n "${pids// /}" ] || return 0
		# shellcheck disable=SC2086
		kill -9 $pids 2>/dev/null
		sleep 0.1
	done
	log "processes left in $ns: $pids"
	return 1
}

# Drop every address of node N's eth0 but its own: what a crashed machine
# answers for is nothing.  Without this, the dead node's network stack (it
# outlives the processes) would keep answering ARP for the public IPs its
# clusterd had taken, and clients could flip back to it.
drop_public_ips() {
	local ns a
	ns=$(ns_node "$1")
	for a in $(ip -n "$ns" -o -4 addr show dev eth0 2>/dev/null |
		awk '{ print $4 }'); do
		[ "$a" = "$(node_ip "$1")/24" ] && continue
		ip -n "$ns" addr del "$a" dev eth0
	done
}

# ---------------------------------------------------------------- health
# "members quorate" as corosync on node N sees them
corosync_view() {
	local out
	out=$(node_exec "$1" timeout 5 corosync-quorumtool -s 2>/dev/null)
	[ -n "$out" ] || return 1
	echo "$out" | awk -F: '
		/^Nodes:/ { gsub(/ /, "", $2); m = $2 }
		/^Quorate:/ { gsub(/ /, "", $2); q = $2 }
		END { if (m == "") exit 1; print m, q }'
}

smb_reachable() {
	ip netns exec "$NS_CL" timeout 2 bash -c "exec 3<>/dev/tcp/$1/445" \
		2>/dev/null
}

# The addresses clients use: the public IPs once clusterd moves them,
# else the node addresses.
client_addresses() {
	local n
	for n in $(nodes); do
		if [ "${CLUSTERD:-no}" = yes ]; then
			public_ip "$n"
		else
			node_ip "$n"
		fi
	done
}

# Healthy: every running node's corosync sees all running, connected nodes
# with quorum; with clusterd, clusterctl on each running node says so too;
# every running node's smbd accepts TCP.  Prints what is missing.
check_healthy() {
	local n up=0 view why="" ip
	for n in $(nodes); do
		init_pid "$n" >/dev/null || continue
		link_cut "$n" && continue
		up=$((up + 1))
	done
	[ "$up" -gt 0 ] || { echo "no node running"; return 1; }
	for n in $(nodes); do
		init_pid "$n" >/dev/null || continue
		link_cut "$n" && continue
		view=$(corosync_view "$n") || { why="$why node$n:corosync-not-answering"; continue; }
		[ "$view" = "$up Yes" ] || why="$why node$n:corosync($view)"
		if [ "${CLUSTERD:-no}" = yes ]; then
			clusterctl "$n" status >/dev/null 2>&1 ||
				why="$why node$n:clusterctl"
		fi
		if [ "${CLUSTERD:-no}" != yes ]; then
			smb_reachable "$(node_ip "$n")" || why="$why node$n:smbd"
		fi
	done
	# with clusterd every public IP is served, whatever nodes are down
	if [ "${CLUSTERD:-no}" = yes ]; then
		for ip in $(client_addresses); do
			smb_reachable "$ip" || why="$why $ip:no-smb"
		done
	fi
	[ -z "$why" ] && return 0
	echo "${why# }"
	return 1
}

wait_healthy() {
	local limit=$1 t0 why=""
	t0=$SECONDS
	while [ $((SECONDS - t0)) -lt "$limit" ]; do
		why=$(check_healthy) && {
			log "healthy after $((SECONDS - t0)) s"
			return 0
		}
		sleep 0.5
	done
	log "not healthy after $limit s: $why"
	return 1
}

show_log_tails() {
	local n f
	for n in $(nodes); do
		for f in "$(node_dir "$n")"/log/{corosync.log,corosync.out,clusterd.log,clusterd.out,smbd.out,smbd.log,init.log}; do
			[ -s "$f" ] || continue
			echo "---- $f (last 15 lines)"
			tail -n 15 "$f"
		done
	done >&2
}

link_cut() {
	ip -n "$NS_SW" -o link show "n$1" 2>/dev/null | grep -q 'state DOWN'
}

# ---------------------------------------------------------------- commands
cmd_up() {
	local n=${1:-3} k ip
	[ "$(id -u)" = 0 ] || die "must run as root"
	case "$n" in [1-9]) ;; *) die "up: N must be 1..$MAX_NODES" ;; esac
	[ -z "$(our_namespaces)" ] ||
		die "namespaces $PREFIX-* exist: run '$0 down' first"
	ensure_build
	# a fresh cluster: earlier node state (databases, logs) goes - but
	# only from a directory that is a state root of ours
	case "$ROOT" in /?*/?*) ;; *) die "SMB3C_ROOT=$ROOT: too short a path" ;; esac
	if [ -e "$ROOT" ] && [ ! -e "$ROOT/cluster.env" ] &&
		[ -n "$(ls -A "$ROOT" 2>/dev/null)" ]; then
		die "$ROOT exists and is not a cluster state root (no cluster.env)"
	fi
	rm -rf "$ROOT"
	N=$n
	write_cluster "$n" || die "cannot write $ROOT"
	load_env || die "cannot read $ROOT/cluster.env"
	for k in $(nodes); do
		write_node "$k" || die "node $k: cannot write its configuration"
	done
	net_up || die "network setup failed (run '$0 down')"
	for k in $(nodes); do
		start_node "$k" || { show_log_tails; die "node $k failed to start (run '$0 down')"; }
	done
	if ! wait_healthy "${SMB3C_UP_TIMEOUT:-60}"; then
		show_log_tails
		cmd_status >&2
		die "cluster not healthy (left running for inspection; '$0 down' removes it)"
	fi
	# clustered smbd: one user database for all nodes, so the user is
	# added once, on node 1, when its clusterd is in sync
	if grep -q "clustering = yes" "$(node_dir 1)/smb.conf"; then
		add_user 1 || die "cannot add $SMB_USER to the cluster's user database ($(node_dir 1)/log/smbuser.log)"
	fi
	echo
	if [ "$CLUSTERD" = yes ]; then
		echo "Cluster of $N nodes is up. One command line per public IP:"
	else
		echo "Cluster of $N nodes is up (corosync + smbd; clusterd not built, so no"
		echo "public IPs are assigned). One command line per node address:"
	fi
	echo
	for ip in $(client_addresses); do
		echo "$SELF client smbclient //$ip/$SHARE -U $SMB_USER%$SMB_PASS"
	done
	echo
	echo "State and logs: $ROOT/node<K>/log/   shared directory: $ROOT/shared/$SHARE"
}

cmd_down() {
	local ns n pid
	load_env 2>/dev/null
	for ns in $(our_namespaces); do
		kill_ns_procs "$ns"
	done
	# inits whose network namespace is already gone (should not happen)
	for n in $(seq 1 $MAX_NODES); do
		pid=$(init_pid "$n" 2>/dev/null) && kill -9 "$pid" 2>/dev/null
		rm -f "$(node_dir "$n")/init.pid"
	done
	for ns in $(our_namespaces); do
		ip netns del "$ns" || log "cannot delete namespace $ns"
	done
	[ -z "$(our_namespaces)" ] || die "namespaces left: $(our_namespaces | tr '\n' ' ')"
	log "down (state kept in $ROOT)"
}

proc_pid() {
	# host pid of node N's process NAME (from its recorded namespace pid)
	local n=$1 name=$2 nspid p
	nspid=$(cat "$(node_dir "$n")/run/$name.pid" 2>/dev/null) || return 1
	for p in $(ip netns pids "$(ns_node "$n")" 2>/dev/null); do
		awk -v w="$nspid" '/^NSpid:/ { exit !($NF == w) }' \
			"/proc/$p/status" 2>/dev/null && { echo "$p"; return 0; }
	done
	return 1
}

cmd_status() {
	local n pid state name procs first="" view
	load_env || die "no cluster set up under $ROOT (run: $0 up)"
	for n in $(nodes); do
		if pid=$(init_pid "$n"); then
			state=running
			link_cut "$n" && state="running, link CUT"
			[ -n "$first" ] || first=$n
		else
			state=DOWN
		fi
		procs=""
		if [ "$state" != DOWN ]; then
			for name in corosync clusterd smbd; do
				procs="$procs $name=$(proc_pid "$n" "$name" || echo -)"
			done
			view=$(corosync_view "$n" || echo "? ?")
			procs="$procs members=${view% *} quorate=${view#* }"
		fi
		echo "node $n $(node_ip "$n") [$state]$procs"
		echo "  eth0: $(ip -n "$(ns_node "$n")" -o -4 addr show dev eth0 2>/dev/null |
			awk '{ printf "%s ", $4 }')"
	done
	[ -n "$first" ] || return 1
	if [ "$CLUSTERD" = yes ]; then
		echo "--- clusterctl status (node $first)"
		clusterctl "$first" status
	else
		echo "--- corosync-quorumtool -s (node $first; clusterd not built)"
		node_exec "$first" timeout 5 corosync-quorumtool -s
		echo "--- corosync-cfgtool -s (node $first)"
		node_exec "$first" timeout 5 corosync-cfgtool -s
	fi
}

cmd_kill() {
	local n=$1 mode=${2:-} pids
	check_node "$n"
	case "$mode" in
	""|--hard) ;;
	--only)
		case "${3:-}" in corosync|clusterd|smbd) ;;
		*) die "kill --only corosync|clusterd|smbd" ;;
		esac ;;
	*) die "kill: unknown option $mode" ;;
	esac
	init_pid "$n" >/dev/null || die "node $n is not running"
	if [ "$mode" = --only ]; then
		# one daemon's main process (smbd's connection children live on,
		# as after a crash of the parent)
		pids=$(proc_pid "$n" "$3") || die "node $n: no $3 running"
		kill -9 "$pids" || die "kill $3 ($pids)"
		echo "killed $3 of node $n at $EPOCHREALTIME (pid $pids)"
		return 0
	fi
	if [ "$mode" = --hard ]; then
		# the bridge port goes down: the node's processes keep running
		# but no frame reaches or leaves it (a partition)
		ip -n "$NS_SW" link set "n$n" down || die "cannot cut node $n"
		echo "cut node $n at $EPOCHREALTIME"
		return 0
	fi
	# every process of the node in one kill(2) sweep: corosync, clusterd,
	# smbd with its children, and the node's init
	pids=$(ip netns pids "$(ns_node "$n")" | tr '\n' ' ')
	echo "killed node $n at $EPOCHREALTIME (pids $pids)"
	kill_ns_procs "$(ns_node "$n")"
	drop_public_ips "$n"
	rm -f "$(node_dir "$n")/init.pid"
}

cmd_start() {
	local n=$1
	check_node "$n"
	local started
	if init_pid "$n" >/dev/null; then
		if link_cut "$n"; then
			ip -n "$NS_SW" link set "n$n" up || die "cannot heal node $n"
			log "node $n link restored"
		fi
		started=$(start_daemons "$n") || die "node $n: restart failed"
		[ -z "$started" ] || log "node $n: restarted $started"
		return 0
	fi
	start_node "$n" || die "node $n failed to start"
}

cmd_info() {
	load_env || die "no cluster set up under $ROOT"
	local line
	{
		echo "N=$N"
		echo "SMB_USER=$SMB_USER"
		echo "SMB_PASS=$SMB_PASS"
		echo "SHARE=$SHARE"
		echo "SHARE_DIR=$ROOT/shared/$SHARE"
		echo "ROOT=$ROOT"
		echo "BUILD=$BUILD"
		echo "CLUSTERD=$CLUSTERD"
		echo "CLIENT_IP=$CLIENT_IP"
		echo "NODE_IPS=$(for n in $(nodes); do node_ip "$n"; done | tr '\n' ' ' | sed 's/ $//')"
		echo "PUBLIC_IPS=$(for n in $(nodes); do public_ip "$n"; done | tr '\n' ' ' | sed 's/ $//')"
	} | while read -r line; do
		if [ -z "${1:-}" ]; then
			echo "$line"
		elif [ "${line%%=*}" = "$1" ]; then
			echo "${line#*=}"
		fi
	done
}

case "${1:-}" in
up) shift; cmd_up "$@" ;;
down) cmd_down ;;
status) cmd_status ;;
kill) shift; cmd_kill "$@" ;;
start) shift; cmd_start "${1:-}" ;;
wait|wait-healthy)
	shift
	load_env || die "no cluster set up under $ROOT"
	wait_healthy "${1:-60}" ;;
exec) shift; check_node "${1:-}"; n=$1; shift; node_exec "$n" "$@" ;;
client) shift; ip netns exec "$NS_CL" "$@" ;;
ctl)
	shift
	check_node "${1:-}"
	[ -x "$BUILD/clusterd/clusterctl" ] || die "$BUILD/clusterd/clusterctl not built"
	n=$1
	shift
	clusterctl "$n" "$@" ;;
info) shift; cmd_info "$@" ;;
pid) shift; check_node "${1:-}"; init_pid "$1" ;;
__init) shift; node_init "$1" ;;
*)
	sed -n '/^# Usage/,/^#$/p' "$SELF" | sed 's/^# \{0,1\}//' >&2
	exit 2 ;;
esac
