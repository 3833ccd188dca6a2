#!/bin/sh
# Regenerates the golden files of package bindtext from the real programs:
# starts Debian's named (bind9) on 127.0.54.1 with dnstap to a file, serves three zones
# (one with many record types, one signed with NSEC, one with NSEC3), sends queries
# with dig and nsupdate, stops named, and records dnstap-read -p and -y output.
#
#   sh reader/internal/bindtext/testdata/gen.sh
#
# Needs: bind9 (named, rndc), bind9-utils (dnssec-keygen, dnssec-signzone),
# bind9-dnsutils (dig, nsupdate, dnstap-read). Runs as root or a user that may bind
# 127.0.54.1:5354. Writes capture.fstrm, capture.p.txt and capture.y.txt here.
set -eu
out=$(cd "$(dirname "$0")" && pwd)
PATH=$PATH:/usr/sbin:/sbin
ip=127.0.54.1
port=5354
ctlport=5355
# named only listens on addresses that are on an interface.
ip -4 addr show dev lo | grep -q "inet $ip/" || ip addr add "$ip/32" dev lo
work=$(mktemp -d)
cleanup() {
	if [ -e "$work/named.pid" ]; then kill "$(cat "$work/named.pid")" 2>/dev/null || true; sleep 1; fi
	[ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

cat > rndc.conf <<RNDC
key rndc-key { algorithm hmac-sha256; secret "YmluZHRleHQtcm5kYy1rZXktZm9yLXRlc3RzLW9ubHk="; };
options { default-key rndc-key; default-server $ip; default-port $ctlport; };
RNDC

# A zone with many record types (and escapes, long and multi-string TXT).
cat > bt.example.db <<'ZONE'
$TTL 3600
@	IN SOA ns1.bt.example. hostmaster.bt.example. 2026120101 7200 3600 1209600 300
	IN NS ns1
	IN NS ns2.bt.example.
	IN MX 10 mail
	IN MX 20 mail2.example.net.
ns1	IN A 192.0.2.53
ns2	IN AAAA 2001:db8::53
www	300 IN A 192.0.2.80
www	300 IN A 192.0.2.81
www	300 IN AAAA 2001:db8::80
WwW2	IN CNAME www
alias	IN CNAME www.example.net.
dn	IN DNAME example.net.
mail	IN A 192.0.2.25
txt	IN TXT "hello world"
txt	IN TXT "quote \" backslash \\ semicolon ; tab\009 nul \000 high \255 utf8 é"
txt	IN TXT "one" "two" "three"
txt	IN TXT ""
txt	IN TXT "it's ok"
long	IN TXT "012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234" "second string after a full 255"
_sip._tcp	IN SRV 10 60 5060 sip.bt.example.
_sip._tcp	IN SRV 0 0 0 .
2.0.192.in-addr	IN PTR www.bt.example.
naptr	IN NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .
naptr	IN NAPTR 102 10 "S" "SIP+D2T" "" _sip._tcp.bt.example.
caa	IN CAA 0 issue "letsencrypt.org"
caa	IN CAA 128 iodef "mailto:security@bt.example"
caa	IN CAA 0 issuewild ";"
sshfp	IN SSHFP 4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789
tlsa	IN TLSA 3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
_443._tcp.smimea	IN SMIMEA 3 0 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
hinfo	IN HINFO "PC-Intel-700mhz" "NetBSD 1.4"
loc	IN LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
loc2	IN LOC 60 9 0.510 S 24 39 0.000 W 10.00m 1m 2m 3m
rp	IN RP admin.bt.example. txt.bt.example.
uri	IN URI 10 1 "https://www.bt.example/path?q=1"
svcb	IN SVCB 1 . alpn="h2,h3" port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEX+DQBBAQAgACDmJfZKyXtvKgGW ipv6hint=2001:db8::1 mandatory=alpn
svcb	IN SVCB 0 www.bt.example.
https	IN HTTPS 1 . alpn=h2 no-default-alpn key65000="opaque\001value"
https	IN HTTPS 2 svc.example.net. port=443 alpn="h3,a\\,b" dohpath=/dns-query{?dns}
openpgpkey	IN OPENPGPKEY mQENBFLdUVsBCADBMfRuOcSo1d63Hl2p4NIcU4UkmvmBFaMN9kCPRkg9HbuFMvn6b3PgW2uLW9xE6k3UJcdbq4Eu6j9kQIkCjk0vOnmZ+6m1ugkdqmvdT53bRDuGQN2v3bLgIgNTldx0nWXczqbDJEBfqozFWZAFWJ5v16Rw9LIAzQxT52XdJGspmMXQ2wDVY1QYRVnKXr1LkEcAcvgGUuSzyVyyIIdhSx8BjB+r0+aq3CxWpXPZhZ4+q6cwShHsPz0+uz7rRrtjL4yPbbS9WqNhTWpc/SsCF6JlqKT9nxBGIn5yuaSpTZAR7gTlW7z1D3Fv4WO9uPt1ytiJMPX7X3Q2Egx+m9pRqAUJABEBAAG0D2Jvb0BleGFtcGxlLmNvbYkBOAQTAQIAIgUCUt1RWwIbAwYLCQgHAwIGFQgCCQoLBBYCAwECHgECF4AACgkQ
cds	IN CDS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
cdnskey	IN CDNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
cdnskey0	IN CDNSKEY 0 3 0 AA==
afsdb	IN AFSDB 1 afs.bt.example.
rt	IN RT 10 relay.bt.example.
kx	IN KX 10 kx.bt.example.
px	IN PX 10 map822.bt.example. mapx400.bt.example.
minfo	IN MINFO rmail.bt.example. email.bt.example.
mb	IN MB mailbox.bt.example.
mg	IN MG mgroup.bt.example.
mr	IN MR renamed.bt.example.
x25	IN X25 "311061700956"
isdn	IN ISDN "150862028003217" "004"
gpos	IN GPOS -32.6882 116.8652 10.0
nsap	IN NSAP 0x47000580005a0000000001e133ffffff00016100
eui48	IN EUI48 00-00-5e-00-53-2a
eui64	IN EUI64 00-00-5e-ef-10-00-00-2a
nid	IN NID 10 0014:4fff:ff20:ee64
l32	IN L32 10 10.1.2.0
l64	IN L64 10 2001:0db8:1140:1000
lp	IN LP 10 l64-subnet.bt.example.
apl	IN APL 1:192.168.32.0/21 !1:192.168.38.0/28 2:2001:db8::/32
dhcid	IN DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=
ipseckey	IN IPSECKEY 10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
ipseckey	IN IPSECKEY 10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
ipseckey	IN IPSECKEY 10 3 2 gw.bt.example. AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
cert	IN CERT PGP 0 0 MxFcby9k/yvedMfQgKzhH5er0Mu/vILz45IkskceFGgiWCn/GxHhai6VAuHAoNUz4YoU1tVfSCSqQYn6//11U6Nld80jEeC8aTrO+KKmCaY=
hip	IN HIP 2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D rvs.bt.example.
ninfo	IN NINFO "just some info"
spf	IN SPF "v=spf1 -all"
csync	IN CSYNC 66 3 A NS AAAA
zonemd	IN ZONEMD 2026120101 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
amtrelay	IN AMTRELAY 10 0 1 203.0.113.15
amtrelay	IN AMTRELAY 10 1 3 amtrelays.bt.example.
doa	IN DOA 0 1 2 "image/pgn" aHR0cHM6Ly93d3cuaXNjLm9yZy8=
avc	IN AVC "app-name:WOLFGANG|app-class:OAM"
ta	IN TA 30795 1 1 310D27F4D82C1FC2400704EA9939FE6E1CEAA3B9
wks	IN WKS 192.0.2.1 TCP ( smtp ftp 1 )
atma	IN ATMA 39246f00e7c9c0312000100100001234567800
eid	IN EID 12 89 AB
nimloc	IN NIMLOC 32 10 AB
a6	IN A6 0 2001:db8::1
unknown	IN TYPE65000 \# 6 0102030405ff
unknown0	IN TYPE65001 \# 0
null	IN TYPE10 \# 4 deadbeef
sink	IN SINK 1 0 0 AQID
talink	IN TALINK prev.bt.example. next.bt.example.
rkey	IN RKEY 0 3 8 AwEAAbdxyhNu
esc\.dot\\slash	IN A 192.0.2.9
sp\032ace\"q	IN A 192.0.2.10
@	IN TXT "root txt"
big	IN TXT "big-0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big	IN TXT "big-1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big	IN TXT "big-2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big	IN TXT "big-3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
*.wild	IN A 192.0.2.99
ZONE

# A signed zone (NSEC) and a signed zone with NSEC3.
for z in signed.example nsec3.example; do
	cat > $z.db <<ZONE
\$TTL 3600
@	IN SOA ns1.$z. hostmaster.$z. 1 7200 3600 1209600 300
	IN NS ns1
ns1	IN A 192.0.2.53
www	IN A 192.0.2.80
www	IN AAAA 2001:db8::80
sub	IN NS ns.sub
ns.sub	IN A 192.0.2.54
sub	IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ZONE
	dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -K . $z >/dev/null
	dnssec-keygen -q -a ECDSAP256SHA256 -K . $z >/dev/null
	if [ $z = nsec3.example ]; then n3="-3 - -H 0"; else n3=""; fi
	dnssec-signzone -q -S -K . -o $z $n3 -f $z.db.signed $z.db >/dev/null
done

cat > tsig.key <<'KEY'
key "bt-tsig" { algorithm hmac-sha256; secret "dGhpcyBpcyBhIHRlc3Qga2V5IGZvciBiaW5kdGV4dA=="; };
KEY

cat > named.conf <<CONF
include "$work/rndc.conf.key";
include "$work/tsig.key";
controls { inet $ip port $ctlport allow { 127.0.0.0/8; } keys { rndc-key; }; };
options {
	directory "$work";
	pid-file "$work/named.pid";
	listen-on port $port { $ip; };
	listen-on-v6 { none; };
	recursion no;
	check-names primary ignore;
	server-id "bindtext-nsid";
	dnssec-validation no;
	dnstap { all; };
	dnstap-output file "$work/capture.fstrm";
	dnstap-identity "bindtext";
	dnstap-version "9.18-test";
	fstrm-set-output-queue-size 1024;
	fstrm-set-output-queue-model mpsc;
	notify no;
	allow-update { none; };
	tcp-advertised-timeout 300;
};
zone "bt.example" { type primary; file "bt.example.db"; };
zone "signed.example" { type primary; file "signed.example.db.signed"; };
zone "nsec3.example" { type primary; file "nsec3.example.db.signed"; };
CONF
sed -n '1p' rndc.conf > rndc.conf.key

named-checkconf "$work/named.conf"
named -c "$work/named.conf" -u "$(id -un)" -n 1 >named.out 2>&1 || { cat named.out; exit 1; }
i=0
until dig -p $port @$ip +short +tries=1 +time=1 bt.example SOA >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 20 ] || { echo "named did not answer" >&2; exit 1; }
	sleep 0.5
done

q() { dig -p $port @$ip +tries=1 +time=2 "$@" >dig.out 2>&1 || true; grep -q "status:" dig.out || { echo "no answer: $*" >&2; cat dig.out >&2; }; }
for t in SOA NS MX TXT; do q bt.example $t; done
q www.bt.example A; q www.bt.example AAAA; q www.bt.example ANY
q WwW2.bt.example A; q alias.bt.example A; q x.dn.bt.example A
q txt.bt.example TXT; q long.bt.example TXT; q _sip._tcp.bt.example SRV
q 2.0.192.in-addr.bt.example PTR; q naptr.bt.example NAPTR; q caa.bt.example CAA
q sshfp.bt.example SSHFP; q tlsa.bt.example TLSA; q _443._tcp.smimea.bt.example SMIMEA
q hinfo.bt.example HINFO; q loc.bt.example LOC; q loc2.bt.example LOC; q rp.bt.example RP
q uri.bt.example URI; q svcb.bt.example SVCB; q https.bt.example HTTPS
q openpgpkey.bt.example OPENPGPKEY; q cds.bt.example CDS; q cdnskey.bt.example CDNSKEY
q cdnskey0.bt.example CDNSKEY
for n in afsdb rt kx px minfo mb mg mr x25 isdn gpos nsap eui48 eui64 nid l32 l64 lp apl \
	dhcid ipseckey cert hip ninfo spf csync zonemd amtrelay doa avc ta wks atma eid nimloc \
	a6 sink talink rkey; do
	q $n.bt.example "$(echo $n | tr a-z A-Z)"
done
q unknown.bt.example TYPE65000; q unknown0.bt.example TYPE65001; q null.bt.example NULL
q 'esc\.dot\\slash.bt.example' A; q 'sp\032ace\"q.bt.example' A
q foo.wild.bt.example A; q Mixed.Case.WiLD.bt.example A
q nx.bt.example A; q www.bt.example SRV; q refused.example A; q bt.example CH TXT
q version.bind CH TXT; q hostname.bind CH TXT
q big.bt.example TXT +noedns +ignore; q big.bt.example TXT +bufsize=512 +ignore
q big.bt.example TXT +tcp; q big.bt.example TXT +tcp +keepalive
q www.bt.example A +nsid; q www.bt.example A +expire; q www.bt.example A +nocookie
q www.bt.example A +subnet=192.0.2.0/24; q www.bt.example A +subnet=2001:db8::/48
q www.bt.example A +subnet=0/0; q www.bt.example A +ednsopt=65001:c0ffee +ednsopt=65002
q www.bt.example A +ednsflags=0x20; q www.bt.example A +edns=1; q www.bt.example A +noedns
q www.bt.example A +zflag +adflag +cdflag; q www.bt.example A +norecurse
q www.bt.example A +padding=128; q www.bt.example A +ednsopt=key-tag:1234
q www.bt.example A +ednsopt=12:0000000000 +ednsopt=15:0012616263
q www.bt.example A +header-only; q www.bt.example A +opcode=status +header-only
q bt.example SOA +opcode=notify
q -y hmac-sha256:bt-tsig:dGhpcyBpcyBhIHRlc3Qga2V5IGZvciBiaW5kdGV4dA== www.bt.example A
for z in signed.example nsec3.example; do
	q $z DNSKEY +dnssec; q $z SOA +dnssec; q www.$z A +dnssec; q nx.$z A +dnssec
	q www.$z MX +dnssec; q x.sub.$z A +dnssec +norecurse; q sub.$z DS +dnssec
	q $z NSEC3PARAM +dnssec; q www.$z AAAA +dnssec +multiline +cd
done
dig -p $port @$ip +tries=1 +time=2 signed.example AXFR >/dev/null 2>&1 || true
dig -p $port @$ip +tries=1 +time=2 bt.example IXFR=1 >/dev/null 2>&1 || true
printf 'server %s %s\nzone bt.example\nupdate add new.bt.example 300 A 192.0.2.7\nupdate delete www.bt.example AAAA\nsend\n' \
	$ip $port | nsupdate -t 2 >/dev/null 2>&1 || true
printf 'server %s %s\nzone bt.example\nprereq nxdomain nope.bt.example\nprereq yxrrset www.bt.example A\nupdate delete old.bt.example\nsend\n' \
	$ip $port | nsupdate -t 2 >/dev/null 2>&1 || true

sleep 1.5
rndc -c rndc.conf stop
i=0
while [ -e named.pid ]; do
	i=$((i + 1)); [ $i -lt 40 ] || { echo "named did not stop" >&2; exit 1; }
	sleep 0.25
done
cp capture.fstrm "$out/capture.fstrm"
TZ=UTC dnstap-read -p capture.fstrm >"$out/capture.p.txt"
TZ=UTC dnstap-read -y capture.fstrm >"$out/capture.y.txt"
echo "wrote $out/capture.fstrm ($(wc -l <"$out/capture.p.txt") lines of -p)"
