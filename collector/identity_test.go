package collector

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tap "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/proto"
)

func TestSanitizeIdentity(t *testing.T) {
	long := strings.Repeat("r", 100)
	for _, tc := range []struct{ in, want string }{
		{"router1", "router1"},
		{"edge-01.example.net", "edge-01.example.net"},
		{"", "unknown"},
		{".", "_"},
		{"..", "__"},
		{"../../etc", "______etc"},
		{"a/b", "a_b"},
		{"/abs", "_abs"},
		{".hidden", "_hidden"},
		{"_.x", "__x"},
		{"a..b", "a..b"}, // dots inside a name are harmless: no slash can follow
		{"tab\there\x00nul\nnl", "tab_here_nul_nl"},
		{"routér", "rout__r"},
		{"sp ace", "sp_ace"},
		{long, long[:64]},
	} {
		if got := SanitizeIdentity([]byte(tc.in)); got != tc.want {
			t.Errorf("SanitizeIdentity(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func marshalTap(t testing.TB, m *tap.Dnstap) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDnstapIdentity(t *testing.T) {
	msg := &tap.Message{Type: tap.Message_CLIENT_QUERY.Enum(), QueryTimeSec: proto.Uint64(1), QueryMessage: []byte{1, 2, 3}}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"identity first", marshalTap(t, &tap.Dnstap{Identity: []byte("router7"), Version: []byte("9.18"), Type: tap.Dnstap_MESSAGE.Enum(), Message: msg}), "router7"},
		{"no identity", marshalTap(t, &tap.Dnstap{Version: []byte("9.18"), Type: tap.Dnstap_MESSAGE.Enum(), Message: msg}), ""},
		// Fields may come in any order: the identity after the message and the type.
		{"identity last", append(marshalTap(t, &tap.Dnstap{Type: tap.Dnstap_MESSAGE.Enum(), Message: msg}), 0x0a, 3, 'a', 'b', 'c'), "abc"},
		{"fixed64 and fixed32 skipped", []byte{0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x2d, 1, 2, 3, 4, 0x0a, 1, 'x'}, "x"},
		{"empty", nil, ""},
		{"truncated length", []byte{0x0a, 10, 'a'}, ""},
		{"truncated varint", []byte{0x80}, ""},
		{"group wire type", []byte{0x0b, 0x0a, 1, 'x'}, ""},
		{"huge length", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'}, ""},
		{"identity as varint is not it", []byte{0x08, 5}, ""},
	} {
		if got := string(dnstapIdentity(tc.in)); got != tc.want {
			t.Errorf("%s: dnstapIdentity = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// FuzzDnstapIdentity: on any bytes, dnstapIdentity does not panic and returns a part of its
// input or nil; the sanitised name is always a safe, bounded, non-empty path element; on a
// well-formed message it returns exactly the identity field.
func FuzzDnstapIdentity(f *testing.F) {
	f.Add([]byte("router1"), []byte{})
	f.Add([]byte("../x"), []byte{0x0a, 1})
	f.Add([]byte{}, []byte{0x21, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, identity, junk []byte) {
		got := dnstapIdentity(junk)
		if got != nil && !bytes.Contains(junk, got) {
			t.Fatalf("identity %q is not part of the input", got)
		}
		name := SanitizeIdentity(junk)
		if name == "" || len(name) > maxIdentityLen || strings.ContainsAny(name, "/\x00") || name[0] == '.' || name != filepath.Base(name) {
			t.Fatalf("unsafe name %q from %q", name, junk)
		}
		m := &tap.Dnstap{Identity: identity, Type: tap.Dnstap_MESSAGE.Enum(), Extra: junk}
		b, err := proto.Marshal(m)
		if err != nil {
			return
		}
		if got := dnstapIdentity(b); !bytes.Equal(got, identity) {
			t.Fatalf("identity %q read back as %q", identity, got)
		}
	})
}

// tapFrames returns n dnstap frames of identity (wire form: length, payload), each with a
// distinct query time.
func tapFrames(t testing.TB, identity string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = marshalTap(t, &tap.Dnstap{Identity: []byte(identity), Type: tap.Dnstap_MESSAGE.Enum(),
			Message: &tap.Message{Type: tap.Message_CLIENT_QUERY.Enum(), QueryTimeSec: proto.Uint64(uint64(i)), QueryMessage: []byte{byte(i), 1}}})
	}
	return out
}

// TestIdentityFromFirstFrame: with %{identity} in the template and no TLS, each sender's
// files go to the directory named by the dnstap identity of its first frame, sanitised.
func TestIdentityFromFirstFrame(t *testing.T) {
	sock, ln := unixListener(t)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, IdentityVar, "cap.fstrm")}, ln)
	senders := map[string]string{"router1": "router1", "../evil": "___evil", "": "unknown"}
	want := map[string][][]byte{}
	for id, name := range senders {
		frames := tapFrames(t, id, 500)
		want[name] = frames
		if err := sendFrames("unix", sock, frames); err != nil {
			t.Fatalf("sender %q: %v", id, err)
		}
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(senders) {
		t.Errorf("%d entries in %s, want %d directories", len(ents), dir, len(senders))
	}
	for name, frames := range want {
		got := allFrames(t, filepath.Join(dir, name))
		if len(got) != len(frames) {
			t.Fatalf("%s: %d frames, want %d", name, len(got), len(frames))
		}
		for i := range got {
			if !bytes.Equal(got[i], frames[i]) {
				t.Fatalf("%s: frame %d differs", name, i)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "evil")); err == nil {
		t.Error("an identity escaped the output directory")
	}
}

// TestIdentityTemplateValidated: %{identity} is accepted with and without strftime, refused
// with -w -.
func TestIdentityTemplateValidated(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{Output: "/var/log/dnstap/%{identity}/%Y%m%d-%H%M.fstrm", TimeNames: NamesUTC}, true},
		{Config{Output: "/var/log/dnstap/%{identity}.fstrm"}, true},
		{Config{Output: "/var/log/dnstap/%{other}/%Y.fstrm", TimeNames: NamesUTC}, false},
	} {
		err := tc.cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.cfg.Output, err, tc.ok)
		}
	}
}
