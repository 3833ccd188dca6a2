#!/usr/bin/env bash
# Re-creates the golden captures under reader/testdata/golden/:
#   <name>.fstrm              Frame Streams files written by Debian's named (dnstap { all; })
#   <name>.fstrm.<mode>.txt   what Debian's dnstap-read prints for it, TZ=UTC,
#                             mode = default, x (-x), p (-p), y (-y)
#   resolver.fstrm.default.tz-<zone>.txt  the same in a non-UTC time zone
#
# Two private named instances on 127.0.53.0/24 (the reader's loopback range):
#   upstream 127.0.53.2:53  a fake root zone "." with the "example.test" data, authoritative;
#                           logs auth messages over a unix socket to fstrm_capture
#                           (-> upstream.fstrm, a file written by fstrm_capture).
#   resolver 127.0.53.1:53 and [::1]:5301  recursive, root hints -> upstream; authoritative
#                           for "local.test" (many types) and "signed.test" (DNSSEC);
#                           forwards "fwd.test" (and "fail.test", which upstream refuses:
#                           SERVFAIL) to upstream; "refused.test" allows no query (REFUSED);
#                           writes dnstap-output file (-> resolver.fstrm): client, auth,
#                           resolver and forwarder messages.
# dig sends the queries over UDP and TCP, IPv4 and IPv6, with and without EDNS/DO, and a
# large TXT answer truncated over UDP. named is stopped with SIGTERM (a clean shutdown that
# writes the STOP frame).
#
# Needs root (port 53), bind9, bind9-utils, bind9-dnsutils, fstrm-bin. Usage:
#   reader/testdata/mkgolden.sh [outdir]     (default: the directory of this script/golden)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/golden}
mkdir -p "$out"
work=$(mktemp -d /tmp/mkgolden.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
R=127.0.53.1 U=127.0.53.2 P6=5301

mkdir -p "$work/up" "$work/res"
# named listens only on addresses configured on an interface: add ours to lo (idempotent).
for a in $R $U; do ip -4 addr show dev lo | grep -q "inet $a/" || ip addr add $a/32 dev lo; done

# --- upstream: fake root + example.test ------------------------------------------------
cat >"$work/up/root.zone" <<Z
\$TTL 3600
.               IN SOA ns.root. hostmaster.root. 1 3600 600 86400 300
.               IN NS  ns.root.
ns.root.        IN A   $U
example.test.   IN A   192.0.2.10
example.test.   IN AAAA 2001:db8::10
www.example.test. IN CNAME example.test.
example.test.   IN MX  10 mail.example.test.
mail.example.test. IN A 192.0.2.25
example.test.   IN TXT "upstream text"
fwd.test.       IN A   192.0.2.53
fwd.test.       IN TXT "forwarded"
Z
cat >"$work/up/named.conf" <<C
options {
	directory "$work/up";
	pid-file "$work/up/named.pid";
	listen-on port 53 { $U; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	allow-query { any; };
	dnstap { auth; };
	dnstap-output unix "$work/up/dnstap.sock";
	dnstap-identity "upstream.golden";
	dnstap-version "BIND 9.18 golden";
};
zone "." { type primary; file "root.zone"; };
zone "fail.test" { type primary; file "root.zone"; allow-query { none; }; };
C

# --- resolver ------------------------------------------------------------------------------
cat >"$work/res/root.hints" <<Z
.        3600000 IN NS ns.root.
ns.root. 3600000 IN A  $U
Z
big=$(printf '"%0250d" ' $(seq 1 12))
cat >"$work/res/local.zone" <<Z
\$TTL 300
@        IN SOA ns1.local.test. hostmaster.local.test. 2026120101 3600 600 86400 300
@        IN NS   ns1
ns1      IN A    $R
@        IN A    192.0.2.1
@        IN AAAA 2001:db8::1
@        IN MX   10 mail
mail     IN A    192.0.2.2
www      IN CNAME @
@        IN TXT  "v=spf1 -all" "second string"
big      IN TXT  $big
_sip._udp IN SRV 10 5 5060 sip
sip      IN A    192.0.2.3
1        IN PTR  host.local.test.
@        IN CAA  0 issue "ca.example"
@        IN HINFO "PC" "Linux"
@        IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
@        IN SSHFP 1 1 123456789abcdef67890123456789abcdef67890
@        IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
@        IN LOC  52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
dname    IN DNAME example.test.
odd\\.label IN A 192.0.2.99
Z
cat >"$work/res/signed.zone" <<Z
\$TTL 300
@        IN SOA ns1.local.test. hostmaster.local.test. 1 3600 600 86400 300
@        IN NS   ns1.local.test.
@        IN A    192.0.2.7
www      IN A    192.0.2.8
Z
(cd "$work/res" && dnssec-keygen -q -a ECDSAP256SHA256 -f KSK signed.test >/dev/null \
	&& dnssec-keygen -q -a ECDSAP256SHA256 signed.test >/dev/null \
	&& cat Ksigned.test.*.key >>signed.zone \
	&& dnssec-signzone -q -o signed.test -e +31536000 -S -K . signed.zone >/dev/null)
cat >"$work/res/named.conf" <<C
options {
	directory "$work/res";
	pid-file "$work/res/named.pid";
	listen-on port 53 { $R; };
	listen-on-v6 port $P6 { ::1; };
	query-source address $R;
	recursion yes;
	allow-recursion { any; };
	dnssec-validation no;
	notify no;
	minimal-responses no;
	check-names primary ignore;
	dnstap { all; };
	dnstap-output file "$work/res/resolver.fstrm";
	dnstap-identity "resolver.golden";
	dnstap-version "BIND 9.18 golden";
};
zone "." { type hint; file "root.hints"; };
zone "local.test" { type primary; file "local.zone"; };
zone "signed.test" { type primary; file "signed.zone.signed"; };
zone "refused.test" { type primary; file "local.zone"; allow-query { none; }; };
zone "fwd.test" { type forward; forward only; forwarders { $U; }; };
zone "fail.test" { type forward; forward only; forwarders { $U; }; };
C

fstrm_capture -t protobuf:dnstap.Dnstap -u "$work/up/dnstap.sock" -w "$work/up/upstream.fstrm" >"$work/fstrm_capture.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/up/dnstap.sock" ] && break; sleep 0.1; done
named -g -n 1 -c "$work/up/named.conf" >"$work/up/named.log" 2>&1 &
up=$!; pids+=($up)
named -g -n 1 -c "$work/res/named.conf" >"$work/res/named.log" 2>&1 &
res=$!; pids+=($res)
for _ in $(seq 100); do
	dig +short +time=1 +tries=1 @$R -p 53 local.test SOA >/dev/null 2>&1 \
		&& dig +short +time=1 +tries=1 @$U example.test A >/dev/null 2>&1 && break
	sleep 0.2
done

q() { dig +time=3 +tries=1 "$@" >/dev/null 2>&1 || true; }
# client + auth, UDP and TCP, IPv4 and IPv6, many types
for t in SOA NS A AAAA MX TXT CAA HINFO NAPTR SSHFP TLSA LOC ANY; do q @$R local.test $t; done
q @$R _sip._udp.local.test SRV
q @$R 1.local.test PTR
q @$R www.local.test A +tcp
q @$R 'odd\.label.local.test' A
q @$R x.dname.local.test A
q @::1 -p $P6 local.test AAAA
q @::1 -p $P6 www.local.test A +tcp
q @$R nonexistent.local.test A          # NXDOMAIN
q @$R local.test TYPE65000              # NOERROR/NODATA, unknown type
q @$R local.test A +noedns +norec
q @$R local.test A +dnssec +bufsize=1232
q @$R local.test A +nsid +cookie
q @$R refused.test A                    # REFUSED
q @$R signed.test A +dnssec             # DNSSEC records
q @$R signed.test DNSKEY +dnssec
q @$R nonexistent.signed.test A +dnssec # NSEC
q @$R big.local.test TXT +ignore +bufsize=512 # truncated over UDP (TC)
q @$R big.local.test TXT +bufsize=512         # retried over TCP by dig
q @$R big.local.test TXT +tcp
q @$R . NS +norec
q @$R local.test CH A
q @$R version.bind CH TXT
# resolver and forwarder messages
q @$R example.test A
q @$R www.example.test A
q @::1 -p $P6 example.test MX
q @$R nonexistent.example.test AAAA     # NXDOMAIN from upstream
q @$R fwd.test A
q @$R fwd.test TXT +tcp
q @$R fail.test A                       # upstream refuses: SERVFAIL
sleep 2 # named flushes dnstap about a second after the queries
kill -TERM $res $up
wait $res $up || true
sleep 0.5
kill -TERM "${pids[0]}"
wait "${pids[0]}" || true

cp "$work/res/resolver.fstrm" "$work/up/upstream.fstrm" "$out/"
for f in resolver upstream; do
	TZ=UTC dnstap-read "$out/$f.fstrm" >"$out/$f.fstrm.default.txt"
	TZ=UTC dnstap-read -x "$out/$f.fstrm" >"$out/$f.fstrm.x.txt"
	TZ=UTC dnstap-read -p "$out/$f.fstrm" >"$out/$f.fstrm.p.txt"
	TZ=UTC dnstap-read -y "$out/$f.fstrm" >"$out/$f.fstrm.y.txt"
done
TZ=Asia/Kolkata dnstap-read "$out/resolver.fstrm" >"$out/resolver.fstrm.default.tz-Asia_Kolkata.txt"
wc -l "$out"/*.txt
