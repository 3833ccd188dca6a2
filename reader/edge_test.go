package reader

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	tap "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/proto"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// edgeFrames are frames real servers rarely write, to check that this package prints (or
// skips) them exactly as dnstap-read does.
func edgeFrames(t testing.TB) [][]byte {
	t.Helper()
	mt := tap.Dnstap_MESSAGE
	typ := func(v tap.Message_Type) *tap.Message_Type { return &v }
	inet, inet6 := tap.SocketFamily_INET, tap.SocketFamily_INET6
	udp, tcp, dot := tap.SocketProtocol_UDP, tap.SocketProtocol_TCP, tap.SocketProtocol_DOT
	q := func(name []byte, qtype, qclass uint16) []byte {
		b := []byte{0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
		b = append(b, name...)
		return append(b, byte(qtype>>8), byte(qtype), byte(qclass>>8), byte(qclass))
	}
	www := []byte{3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0}
	odd := []byte{5, 'a', ' ', '"', '@', 0xff, 2, '$', ';', 0}
	v4 := []byte{192, 0, 2, 1}
	mapped := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}
	v6 := []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}
	now := proto.Uint64(1764555521)
	ns := proto.Uint32(987654321)
	msgs := []*tap.Dnstap{
		// Every field, client query.
		{Type: &mt, Identity: []byte("id"), Version: []byte("v"), Message: &tap.Message{Type: typ(tap.Message_CLIENT_QUERY),
			SocketFamily: &inet, SocketProtocol: &udp, QueryAddress: v4, ResponseAddress: v4,
			QueryPort: proto.Uint32(1), ResponsePort: proto.Uint32(53), QueryTimeSec: now, QueryTimeNsec: ns,
			QueryMessage: q(www, 1, 1), QueryZone: []byte{7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0}}},
		// Response without a response time but with a query time; IPv6, TCP.
		{Type: &mt, Message: &tap.Message{Type: typ(tap.Message_RESOLVER_RESPONSE), SocketFamily: &inet6,
			SocketProtocol: &tcp, QueryAddress: v6, ResponseAddress: mapped, QueryPort: proto.Uint32(5353),
			ResponsePort: proto.Uint32(53), QueryTimeSec: now, QueryTimeNsec: ns, ResponseMessage: q(odd, 65000, 3)}},
		// No addresses, no ports, no message, DoT (printed as UDP by BIND).
		{Type: &mt, Message: &tap.Message{Type: typ(tap.Message_FORWARDER_QUERY), SocketProtocol: &dot,
			QueryTimeSec: now, QueryTimeNsec: proto.Uint32(0)}},
		// A message that does not parse as DNS: "?/?/?".
		{Type: &mt, Message: &tap.Message{Type: typ(tap.Message_STUB_RESPONSE), ResponseTimeSec: now,
			ResponseTimeNsec: ns, ResponseMessage: []byte{1, 2, 3}}},
		// A DNS message without a question: skipped by dnstap-read.
		{Type: &mt, Message: &tap.Message{Type: typ(tap.Message_AUTH_RESPONSE), ResponseTimeSec: now,
			ResponseTimeNsec: ns, ResponseMessage: []byte{0, 1, 0x84, 0, 0, 0, 0, 0, 0, 0, 0, 0}}},
		// The epoch: "???" timestamps.
		{Type: &mt, Message: &tap.Message{Type: typ(tap.Message_TOOL_QUERY), QueryTimeSec: proto.Uint64(0),
			QueryTimeNsec: proto.Uint32(0), QueryMessage: q([]byte{0}, 255, 255)}},
		// Update messages and a query sent by the server itself as the root.
		{Type: &mt, Message: &tap.Message{Type: typ(tap.Message_UPDATE_QUERY), QueryTimeSec: now, QueryTimeNsec: ns,
			QueryAddress: []byte{127, 0, 0, 1}, QueryPort: proto.Uint32(0), QueryMessage: q(www, 6, 1)}},
		{Type: &mt, Message: &tap.Message{Type: typ(tap.Message_UPDATE_RESPONSE), ResponseTimeSec: now,
			ResponseTimeNsec: ns, ResponseMessage: q(www, 6, 254)}},
		// Both messages present: the query type shows the query, the response type the response.
		{Type: &mt, Message: &tap.Message{Type: typ(tap.Message_AUTH_QUERY), QueryTimeSec: now, QueryTimeNsec: ns,
			ResponseTimeSec: now, ResponseTimeNsec: ns, QueryMessage: q(www, 28, 1), ResponseMessage: q(odd, 1, 1)}},
		{Type: &mt, Message: &tap.Message{Type: typ(tap.Message_AUTH_RESPONSE), QueryTimeSec: now, QueryTimeNsec: ns,
			ResponseTimeSec: now, ResponseTimeNsec: ns, QueryMessage: q(www, 28, 1), ResponseMessage: q(odd, 1, 1)}},
	}
	var frames [][]byte
	for _, m := range msgs {
		frames = append(frames, marshal(t, m))
	}
	// A frame that is not a protobuf: dnstap-read skips it.
	frames = append(frames[:3], append([][]byte{{0xff, 0xff, 0xff}}, frames[3:]...)...)
	return frames
}

func TestEdgeFramesLikeDnstapRead(t *testing.T) {
	bin := testenv.LookPath(t, "dnstap-read", "bind9-dnsutils")
	path := filepath.Join(t.TempDir(), "edge.fstrm")
	if err := os.WriteFile(path, writeStream(t, edgeFrames(t)...), 0o644); err != nil {
		t.Fatal(err)
	}
	for flag, mode := range map[string]Mode{"": ModeText, "-x": ModeHex, "-p": ModePrint, "-y": ModeYAML} {
		t.Run(modeSuffix[mode], func(t *testing.T) {
			args := []string{path}
			if flag != "" {
				args = []string{flag, path}
			}
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "TZ=UTC")
			want, err := cmd.Output()
			if err != nil {
				t.Fatalf("dnstap-read: %v", err)
			}
			diffLines(t, render(t, readFile(t, path), mode, time.UTC), want)
		})
	}
}
