package chain

import "strings"

// The zones the e2e named serves. example.test and refused.test are its own (refused.test
// answers no one); fwd.test is forwarded to the upstream named on 127.0.0.1#5300.
const (
	ZoneExample  = "example.test."
	ZoneRefused  = "refused.test."
	ZoneForward  = "fwd.test."
	UpstreamAddr = "127.0.0.1"
	UpstreamPort = 5300
)

// BigTXTName holds a TXT RRset of about 2 KB: larger than 512 bytes (UDP without EDNS), so its
// UDP answer is truncated and the client retries over TCP.
const BigTXTName = "big." + ZoneExample

// RecursionClients is where named allows recursion (and so the forward zone): only ::1. A
// query with RD from elsewhere is an authoritative one (AQ, then CR).
var RecursionClients = []string{"::1"}

// namedConf is the e2e named.conf of the named under test: dnstap of every message type
// BIND has (so a type it does not use, like FQ, would show up), reconnecting to the
// collector every second. statsConf is added where named has a statistics channel.
const namedConf = `options {
	directory "/var/cache/bind";
	pid-file "/run/named/named-e2e.pid";
	lock-file "/run/named/named-e2e.lock";
	session-keyfile "/run/named/session-e2e.key";
	listen-on port 53 { any; };
	listen-on-v6 port 53 { ::1; };
	recursion yes;
	allow-recursion { ::1; };
	allow-query-cache { ::1; };
	dnssec-validation no;
	notify no;
	minimal-responses no;
	dnstap { all; };
	dnstap-output unix "/var/cache/bind/dnstap.sock";
	dnstap-identity "e2e";
	fstrm-set-flush-timeout 1;
	fstrm-set-reopen-interval 1;
	fstrm-set-input-queue-size 4096;
	fstrm-set-output-queue-size 1024;
};
controls { };
zone "example.test" { type primary; file "/etc/dnstapkit-e2e/example.test.db"; allow-transfer { any; }; };
zone "refused.test" { type primary; file "/etc/dnstapkit-e2e/refused.test.db"; allow-query { none; }; };
zone "fwd.test" { type forward; forward only; forwarders { 127.0.0.1 port 5300; }; };
`

// upstreamConf is the named that fwd.test is forwarded to; it logs no dnstap.
const upstreamConf = `options {
	directory "/var/cache/bind-upstream";
	pid-file "/run/named/upstream.pid";
	lock-file "/run/named/upstream.lock";
	session-keyfile "/run/named/session-upstream.key";
	listen-on port 5300 { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
};
controls { };
zone "fwd.test" { type primary; file "/etc/dnstapkit-e2e/fwd.test.db"; };
`

const soa = `$TTL 300
@	IN SOA	ns hostmaster 1 3600 600 86400 300
@	IN NS	ns
ns	IN A	192.0.2.53
`

func exampleZone() string {
	var b strings.Builder
	b.WriteString(soa)
	b.WriteString("@\tIN MX\t10 mail\nmail\tIN A\t192.0.2.25\nwww\tIN A\t192.0.2.1\nwww\tIN AAAA\t2001:db8::1\n*.burst\tIN A\t192.0.2.2\n")
	for i := 0; i < 10; i++ {
		b.WriteString("big\tIN TXT\t\"" + strings.Repeat(string(rune('a'+i)), 200) + "\"\n")
	}
	return b.String()
}

// statsConf is the statistics channel, for named built with libxml2 or json-c (a named
// without them refuses the statement).
const statsConf = "statistics-channels { inet 0.0.0.0 port 8053 allow { any; }; };\n"

// configFiles returns the configuration files for a named with a statistics channel (stats)
// that knows lock-file (lockFile: BIND 9.20 removed it and refuses the option; before, two
// nameds in one container each need their own).
func configFiles(stats, lockFile bool) map[string]string {
	conf, upstream := namedConf, upstreamConf
	if stats {
		conf += statsConf
	}
	if !lockFile {
		conf = dropLine(conf, "lock-file")
		upstream = dropLine(upstream, "lock-file")
	}
	return map[string]string{
		"named.conf":      conf,
		"upstream.conf":   upstream,
		"example.test.db": exampleZone(),
		"refused.test.db": soa,
		"fwd.test.db":     soa + "www\tIN A\t192.0.2.80\n",
	}
}

// dropLine removes the lines of s that contain word.
func dropLine(s, word string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.Contains(l, word) {
			b.WriteString(l)
		}
	}
	return b.String()
}
