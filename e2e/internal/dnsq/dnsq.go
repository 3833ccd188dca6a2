// Package dnsq sends the DNS queries of the e2e suite with miekg/dns and reports, for each,
// the address and port it left from, so the suite can predict the exact dnstap messages named
// logs for it. The test process uses it directly (IPv4, over the Docker bridge); the dnsq
// program (cmd/dnsq) runs the same code inside the container for IPv6 over ::1.
package dnsq

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"
)

// Query is one DNS query to send.
type Query struct {
	Net         string `json:"net"`    // "udp" or "tcp"
	Server      string `json:"server"` // host:port
	Name        string `json:"name"`   // fully qualified
	Type        uint16 `json:"type"`
	RD          bool   `json:"rd,omitempty"`
	EDNS        bool   `json:"edns,omitempty"` // add an OPT record (UDP size 1232)
	DO          bool   `json:"do,omitempty"`   // set the DO bit (implies EDNS)
	EDNSVersion uint8  `json:"edns_version,omitempty"`
}

// Result is what happened to a Query.
type Result struct {
	Query     Query  `json:"query"`
	Local     string `json:"local"` // the address:port the query was sent from
	Rcode     int    `json:"rcode"` // extended rcode, e.g. 16 (BADVERS)
	Truncated bool   `json:"truncated"`
	Answers   int    `json:"answers"`
	DO        bool   `json:"do"` // the response's OPT has the DO bit
	Err       string `json:"err,omitempty"`
}

// String names the query for messages: "udp www.example.test./A to 172.17.0.2:53".
func (q Query) String() string {
	return fmt.Sprintf("%s %s/%s to %s", q.Net, q.Name, dns.TypeToString[q.Type], q.Server)
}

// Msg returns the DNS message of q.
func (q Query) Msg() *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(q.Name), q.Type)
	m.RecursionDesired = q.RD
	if q.EDNS || q.DO || q.EDNSVersion != 0 {
		m.SetEdns0(1232, q.DO)
		m.IsEdns0().SetVersion(q.EDNSVersion)
	}
	return m
}

// Do sends q on a connection of its own and waits up to timeout for the answer. A transport
// error is returned in Result.Err with Local set when the query left.
func Do(ctx context.Context, q Query, timeout time.Duration) Result {
	res := Result{Query: q}
	c := &dns.Client{Net: q.Net, Timeout: timeout, UDPSize: 4096}
	conn, err := c.Dial(q.Server)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer conn.Close()
	res.Local = conn.LocalAddr().String()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	r, _, err := c.ExchangeWithConn(q.Msg(), conn)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	res.Rcode, res.Truncated, res.Answers = r.Rcode, r.Truncated, len(r.Answer)
	if opt := r.IsEdns0(); opt != nil {
		res.DO = opt.Do()
	}
	return res
}

// LocalAddrPort splits Result.Local into address and port.
func (r Result) LocalAddrPort() (net.IP, uint32, error) {
	host, port, err := net.SplitHostPort(r.Local)
	if err != nil {
		return nil, 0, fmt.Errorf("local address %q: %w", r.Local, err)
	}
	var p uint32
	if _, err := fmt.Sscan(port, &p); err != nil {
		return nil, 0, fmt.Errorf("local port %q: %w", port, err)
	}
	return net.ParseIP(host), p, nil
}

// DecodeResults parses the dnsq program's output: one JSON Result a line.
func DecodeResults(out []byte) ([]Result, error) {
	var rs []Result
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var r Result
		if err := dec.Decode(&r); err != nil {
			return rs, fmt.Errorf("dnsq output: %w", err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}
