package bindtext

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	tap "github.com/dnstap/golang-dnstap"
	fs "github.com/farsightsec/golang-framestream"
	"google.golang.org/protobuf/proto"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// frame is one dnstap frame of a capture: the DNS message dnstap-read renders and
// whether it is a query (query_message) or a response.
type frame struct {
	wire  []byte
	query bool
	isMsg bool
	mtype string
}

// readFrames decodes a Frame Streams file of dnstap frames the way dnstap-read picks the
// message: query_message for *_QUERY types, response_message otherwise.
func readFrames(t testing.TB, path string) []frame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := fs.NewReader(f, &fs.ReaderOptions{ContentTypes: [][]byte{[]byte("protobuf:dnstap.Dnstap")}})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []frame
	buf := make([]byte, 1<<20)
	for {
		n, err := r.ReadFrame(buf)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: frame %d: %v", path, len(out), err)
		}
		var d tap.Dnstap
		if err := proto.Unmarshal(buf[:n], &d); err != nil {
			t.Fatalf("%s: frame %d: %v", path, len(out), err)
		}
		fr := frame{}
		if d.GetType() == tap.Dnstap_MESSAGE && d.Message != nil {
			m := d.Message
			fr.isMsg = true
			fr.mtype = m.GetType().String()
			fr.query = strings.HasSuffix(fr.mtype, "_QUERY")
			if fr.query {
				fr.wire = m.QueryMessage
			} else {
				fr.wire = m.ResponseMessage
			}
		}
		out = append(out, fr)
	}
}

var summaryLine = regexp.MustCompile(`(?m)^\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d\.\d{3} [A-Z][A-Z] .*\n`)

// splitPrint splits dnstap-read -p output into the message text after each summary line.
func splitPrint(t testing.TB, out []byte) [][]byte {
	t.Helper()
	idx := summaryLine.FindAllIndex(out, -1)
	parts := make([][]byte, len(idx))
	for i, loc := range idx {
		end := len(out)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		parts[i] = out[loc[1]:end]
	}
	return parts
}

// splitYAML returns, for each YAML document of dnstap-read -y, the part from the
// "query_message_data:"/"response_message_data:" key to the end (empty if none).
func splitYAML(out []byte) [][]byte {
	docs := bytes.Split(out, []byte("---\n"))
	parts := make([][]byte, len(docs))
	for i, d := range docs {
		for _, key := range []string{"  query_message_data:\n", "  response_message_data:\n"} {
			if j := bytes.Index(d, []byte(key)); j >= 0 {
				parts[i] = d[j:]
				break
			}
		}
	}
	return parts
}

// compareCapture renders every frame of capture and compares with dnstap-read's -p and
// -y outputs, message by message.
func compareCapture(t *testing.T, capture string, printOut, yamlOut []byte) {
	t.Helper()
	var frames []frame
	for _, fr := range readFrames(t, capture) {
		if !errors.Is(Check(fr.wire), ErrSkipFrame) {
			frames = append(frames, fr)
		}
	}
	pp := splitPrint(t, printOut)
	yp := splitYAML(yamlOut)
	if len(yp) != len(frames) {
		t.Fatalf("%d frames but %d YAML documents", len(frames), len(yp))
	}
	if len(pp) != len(frames) {
		t.Fatalf("%d frames but %d -p messages", len(frames), len(pp))
	}
	summaries := summaryLine.FindAll(printOut, -1)
	var buf, one []byte
	var msg Message // reused: the parse-once path must give the same bytes
	for i, fr := range frames {
		perr := msg.Parse(fr.wire)
		one, _ = msg.AppendQuestion(one[:0])
		one, _ = msg.Append(one, StylePrint)
		one, _ = msg.AppendYAML(one, fr.query)
		if (perr == nil) != (Check(fr.wire) == nil) {
			t.Errorf("frame %d: Message.Parse %v, Check %v", i, perr, Check(fr.wire))
		}
		// The summary line ends with the question as dns_dt_datatotext prints it.
		line := strings.TrimSuffix(string(summaries[i]), "\n")
		wantQ := line[strings.LastIndexByte(line, ' ')+1:]
		gotQ, qerr := AppendQuestion(nil, fr.wire)
		if qerr != nil {
			gotQ = []byte("?/?/?")
		}
		if string(gotQ) != wantQ {
			t.Errorf("frame %d: question %q, dnstap-read shows %q (wire %x)", i, gotQ, wantQ, fr.wire)
		}
		var err error
		buf, err = AppendMessage(buf[:0], fr.wire, StylePrint)
		if err != nil {
			buf = buf[:0]
		}
		if !bytes.Equal(buf, pp[i]) {
			t.Errorf("frame %d (%s) -p differs (err %v):\n got: %q\nwant: %q", i, fr.mtype, err, buf, pp[i])
		}
		buf, err = AppendYAML(buf[:0], fr.wire, fr.query)
		if err != nil {
			buf = buf[:0]
		}
		if !bytes.Equal(buf, yp[i]) {
			t.Errorf("frame %d (%s) -y differs (err %v):\n got: %q\nwant: %q", i, fr.mtype, err, buf, yp[i])
		}
		if perr == nil && string(one) != string(gotQ)+string(pp[i])+string(yp[i]) {
			t.Errorf("frame %d: Message renders differently from the package functions", i)
		}
	}
}

// TestGolden compares with the dnstap-read outputs recorded by testdata/gen.sh.
func TestGolden(t *testing.T) {
	p, err := os.ReadFile("testdata/capture.p.txt")
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile("testdata/capture.y.txt")
	if err != nil {
		t.Fatal(err)
	}
	compareCapture(t, "testdata/capture.fstrm", p, y)
}

// TestLiveDnstapRead runs the installed dnstap-read on the committed capture (and on any
// extra captures in testdata/*.fstrm) and compares with this package's rendering.
func TestLiveDnstapRead(t *testing.T) {
	bin := testenv.LookPath(t, "dnstap-read", "bind9-dnsutils")
	files, _ := filepath.Glob("testdata/*.fstrm")
	for _, capture := range files {
		t.Run(filepath.Base(capture), func(t *testing.T) {
			run := func(flag string) []byte {
				cmd := exec.Command(bin, flag, capture)
				cmd.Env = append(os.Environ(), "TZ=UTC")
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("dnstap-read %s %s: %v", flag, capture, err)
				}
				return out
			}
			compareCapture(t, capture, run("-p"), run("-y"))
		})
	}
}
