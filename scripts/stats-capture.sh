#!/bin/bash
# stats-capture.sh OUTDIR: capture real BIND dnstap traffic with known content for the tests of
# dnstap-reader stats (reader/stats/testdata). Two named instances on 127.0.57.0/24: an
# authoritative root (127.0.57.2) that serves every name, and a recursive resolver
# (127.0.57.1, dnstap { all; }) that the clients query with dig from their own addresses.
#
#   normal.fstrm  3 clients (127.0.57.11-13), the same 20 ordinary queries each, one typo.
#   mixed.fstrm   the same normal traffic, then a DGA-like client (127.0.57.21: 40 random
#                 18-letter .com names, all NXDOMAIN) and a tunnelling-like client
#                 (127.0.57.22: 250 TXT queries for 52-char base32 labels under
#                 t.tunnel-c2.net).
#   auth.fstrm    an authoritative server's own traffic (127.0.57.3, dnstap { auth; client; },
#                 zone lab.test of 547 names): clients 127.0.57.31-33 ask 250 names each,
#                 A, AAAA and MX, 490 distinct names in all; one query in 50 is a typo
#                 (15 NXDOMAIN).
#   auth-tunnel.fstrm  the same, then a tunnelling-like client (127.0.57.34: 250 TXT
#                 queries for 52-char base32 labels under t.lab.test, answered by a
#                 wildcard): the tunnel is in the server's own zone.
# Random-looking labels are derived from sha256 of a counter, so a rerun asks the same names.
# Needs root (named), bind9, bind9-dnsutils. PORT defaults to 5357.
set -euo pipefail
out=${1:?usage: stats-capture.sh OUTDIR}
port=${PORT:-5357}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/stats-capture.XXXXXX)
added=()
cleanup() {
	kill $(cat "$work"/*/named.pid 2>/dev/null) 2>/dev/null || true
	for a in "${added[@]}"; do ip addr del "$a/32" dev lo; done
	rm -rf "$work"
}
trap cleanup EXIT
# named listens only on addresses of an interface: give lo the server addresses (the
# clients' addresses need no such thing to bind).
for a in 127.0.57.1 127.0.57.2 127.0.57.3; do
	if ! ip -4 addr show dev lo | grep -q "inet $a/"; then
		ip addr add "$a/32" dev lo
		added+=("$a")
	fi
done

mkdir -p "$work/auth" "$work/res"
cat > "$work/auth/root.db" <<ZONE
\$TTL 300
.                  SOA  ns.root. hostmaster.root. 1 3600 600 86400 60
.                  NS   ns.root.
ns.root.           A    127.0.57.2
example.org.       MX   10 mail.example.org.
example.org.       TXT  "v=spf1 mx -all"
www.example.org.   A    192.0.2.10
www.example.org.   AAAA 2001:db8::10
mail.example.org.  A    192.0.2.25
www.example.net.   CNAME web.example.net.
web.example.net.   A    198.51.100.7
api.example.net.   A    198.51.100.8
www.example.co.uk. A    203.0.113.5
*.t.tunnel-c2.net. TXT  "ok"
ZONE
cat > "$work/auth/named.conf" <<CONF
options {
	directory "$work/auth";
	pid-file "$work/auth/named.pid";
	port $port; # also the port named queries other servers on
	listen-on { 127.0.57.2; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
};
controls { };
zone "." { type primary; file "root.db"; };
CONF
printf '.\t3600000\tNS\tns.root.\nns.root.\t3600000\tA\t127.0.57.2\n' > "$work/res/root.hint"
cat > "$work/res/named.conf" <<CONF
options {
	directory "$work/res";
	pid-file "$work/res/named.pid";
	port $port;
	listen-on { 127.0.57.1; };
	listen-on-v6 { none; };
	query-source address 127.0.57.1;
	recursion yes;
	allow-query { any; };
	allow-recursion { any; };
	dnssec-validation no;
	qname-minimization off;
	dnstap { all; };
	dnstap-output file "$work/res/capture.fstrm";
	dnstap-identity "resolver";
	dnstap-version "dnstapkit-test";
};
controls { };
zone "." { type hint; file "root.hint"; };
CONF

normal_queries=(
	"www.example.org A" "www.example.org AAAA" "example.org MX" "mail.example.org A"
	"example.org TXT" "www.example.net A" "api.example.net A" "www.example.co.uk A"
	"www.example.org A" "www.example.net A" "wwww.example.org A" "www.example.org A"
	"api.example.net AAAA" "www.example.co.uk AAAA" "example.org MX" "www.example.org AAAA"
	"mail.example.org A" "www.example.net A" "api.example.net A" "www.example.org A"
)

q() { # q SRC NAME TYPE [dig options]
	dig -p "$port" -b "$1" @127.0.57.1 "$2" "$3" +tries=1 +time=3 "${@:4}" > /dev/null
}

normal() {
	for c in 11 12 13; do
		i=0
		for nt in "${normal_queries[@]}"; do
			read -r name type <<< "$nt"
			opt=+notcp
			if [ $((i % 10)) = 9 ]; then opt=+tcp; fi # every tenth query over TCP
			q 127.0.57.$c "$name" "$type" $opt
			i=$((i + 1))
			sleep 0.05
		done
	done
}

label() { printf '%s' "$1" | sha256sum | xxd -r -p | base32 | tr 'A-Z' 'a-z' | tr -d '='; }

dga() {
	for i in $(seq 1 40); do q 127.0.57.21 "$(label "dga$i" | cut -c1-18).com" A; done
}

tunnel() {
	for i in $(seq 1 250); do q 127.0.57.22 "$(label "tun$i" | cut -c1-52).$i.t.tunnel-c2.net" TXT; done
}

# capture NAME "SERVERS" FUNCS...: start named in each directory of SERVERS (under $work; the
# first writes the capture), run FUNCS, stop named so the file ends with STOP, and keep the
# capture as OUT/NAME.fstrm.
capture() {
	local capname=$1 servers=$2; shift 2
	local first=${servers%% *}
	rm -f "$work/$first/capture.fstrm"
	for s in $servers; do named -c "$work/$s/named.conf" -g -n 1 2> "$work/$s/log" & done
	# Wait for each to say "running" (a probe query would show up in the capture).
	for s in $servers; do
		for _ in $(seq 100); do
			grep -q ' running$' "$work/$s/log" && break
			sleep 0.1
		done
	done
	for f in "$@"; do "$f"; done
	sleep 2 # named sends dnstap frames about a second after the query
	for s in $servers; do kill -TERM "$(cat "$work/$s/named.pid")"; done
	for s in $servers; do while [ -e "$work/$s/named.pid" ]; do sleep 0.2; done; done
	wait
	cp "$work/$first/capture.fstrm" "$out/$capname.fstrm"
	echo "$out/$capname.fstrm: $(dnstap-read "$out/$capname.fstrm" | wc -l) messages"
}

capture normal "res auth" normal
capture mixed "res auth" normal dga tunnel

# An authoritative server and its clients.
mkdir -p "$work/lab"
{
	printf '$TTL 300\n@ SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 60\n@ NS ns\n'
	printf '@ MX 10 mail\nns A 127.0.57.3\nwww A 192.0.2.80\nmail A 192.0.2.25\n'
	for i in $(seq 1 480); do printf 'host%d A 10.0.%d.%d\n' "$i" $((i / 250)) $((i % 250 + 1)); done
	for i in $(seq 1 62); do printf 'printer%d.floor%d A 10.1.0.%d\n' "$i" $((i % 6)) "$i"; done
	printf '*.t TXT "ok"\n'
} > "$work/lab/lab.test.db"
cat > "$work/lab/named.conf" <<CONF
options {
	directory "$work/lab";
	pid-file "$work/lab/named.pid";
	port $port;
	listen-on { 127.0.57.3; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	dnstap { auth; client; };
	dnstap-output file "$work/lab/capture.fstrm";
	dnstap-identity "lab";
	dnstap-version "dnstapkit-test";
};
controls { };
zone "lab.test" { type primary; file "lab.test.db"; };
CONF

# qlab SRC FILE: the queries of FILE (dig -f lines: NAME TYPE) from SRC to the lab server.
qlab() {
	dig -p "$port" -b "$1" @127.0.57.3 -f "$2" +tries=1 +time=3 > /dev/null
}

lab_clients() {
	for c in 1 2 3; do
		for k in $(seq 0 249); do
			i=$(((k * 37 + c * 101) % 542 + 1))
			if [ "$i" -le 480 ]; then name=host$i; else name=printer$((i - 480)).floor$(((i - 480) % 6)); fi
			case $((k % 10)) in 7) type=AAAA ;; 8) name=www type=A ;; 9) name=@ type=MX ;; *) type=A ;; esac
			if [ $((k % 50)) = 23 ]; then name=hots$i; fi # a typo: NXDOMAIN
			if [ "$name" = @ ]; then echo "lab.test $type"; else echo "$name.lab.test $type"; fi
		done > "$work/lab/client$c.q"
		qlab 127.0.57.3$c "$work/lab/client$c.q"
	done
}

lab_tunnel() {
	for i in $(seq 1 250); do echo "$(label "labtun$i" | cut -c1-52).$i.t.lab.test TXT"; done > "$work/lab/tunnel.q"
	qlab 127.0.57.34 "$work/lab/tunnel.q"
}

capture auth lab lab_clients
capture auth-tunnel lab lab_clients lab_tunnel
