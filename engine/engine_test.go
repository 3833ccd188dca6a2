package engine

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw, want, err string
	}{
		{raw: "kafka://k1:9092,k2/dnstap", want: "kafka://k1:9092,k2:9092/dnstap"},
		{raw: "nats://n1/dnstap.>", want: "nats://n1:4222/dnstap.>"},
		{raw: "nats://[::1]:4223/a.b", want: "nats://[::1]:4223/a.b"},
		{raw: "kafka://k/t?x=1", want: "kafka://k:9092/t"},
		{raw: "kafka://k", err: "no topic"},
		{raw: "nats://n/", err: "no subject"},
		{raw: "kafka://k/bad topic", err: "Kafka topics are"},
		{raw: "nats://n/a..b", err: "not a NATS subject"},
		{raw: "nats://u:p@n/s", err: "no user or password"},
		{raw: "nats://n:0/s", err: "bad server"},
		{raw: "nats://n,,m/s", err: "empty server"},
		{raw: "http://h/x", err: "want kafka://"},
		{raw: "/var/log/dnstap/x.fstrm", err: "want kafka://"},
	} {
		u, err := ParseURL(tc.raw)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.raw, err, tc.err)
			}
			continue
		}
		if err != nil || u.String() != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.raw, u.String(), err, tc.want)
		}
	}
}

func TestMsgID(t *testing.T) {
	id := MsgID("router1", "/var/log/dnstap/d.fstrm@1abc", 4096)
	if id != "router1//var/log/dnstap/d.fstrm@1abc/4096" || IdentityOf(id) != "router1" || IdentityOf("noslash") != "" {
		t.Errorf("MsgID %q, identity %q", id, IdentityOf(id))
	}
	for _, bad := range []string{"", "a/b", "a\nb", strings.Repeat("x", 256)} {
		if CheckIdentity(bad) == nil {
			t.Errorf("CheckIdentity accepted %q", bad)
		}
	}
	if CheckIdentity("router-1.example") != nil {
		t.Error("CheckIdentity refused a host name")
	}
}

func TestSeen(t *testing.T) {
	s := NewSeen(3)
	for _, tc := range []struct {
		id  string
		new bool
	}{{"a", true}, {"b", true}, {"a", false}, {"c", true}, {"d", true}, {"a", true}, {"c", false}, {"b", true}} {
		if got := s.Add(tc.id); got != tc.new {
			t.Errorf("Add(%s) = %v, want %v", tc.id, got, tc.new)
		}
	}
}
