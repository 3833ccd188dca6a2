package nats

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/collector/forward/forwardtest"
	"github.com/dnstapkit/dnstapkit/engine"
	"github.com/dnstapkit/dnstapkit/internal/natstest"
)

// batch makes a batch of n frames "tag-i" from spool file fileID.
func batch(tag, fileID string, n int) (*forward.Batch, []string) {
	b := &forward.Batch{Seq: 1, Attempt: 1}
	var want []string
	for i := range n {
		p := fmt.Sprintf("%s-%05d", tag, i)
		want = append(want, p)
		b.Wire = binary.BigEndian.AppendUint32(b.Wire, uint32(len(p)))
		start := len(b.Wire)
		b.Wire = append(b.Wire, p...)
		b.Frames = append(b.Frames, forward.Frame{Start: start, End: len(b.Wire), File: "/spool/x", FileID: fileID, Offset: int64(start - 4)})
	}
	return b, want
}

func data(ms []natstest.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Data))
	}
	return out
}

// TestPublish: every frame is a message of the stream, in order, with its id, identity and
// content type; a batch sent again is dropped by the duplicate window, frame by frame.
func TestPublish(t *testing.T) {
	srv := natstest.Start(t)
	ctx := context.Background()
	if err := srv.Stream(ctx, "DNSTAP", "dnstap", 0); err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{URL: srv.URL() + "/dnstap.router1", Identity: "router1"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var want []string
	for i := range 3 {
		b, w := batch(fmt.Sprint("b", i), fmt.Sprintf("/spool/f%d@x", i), 2000)
		if err := d.Send(ctx, b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		want = append(want, w...)
	}
	again, _ := batch("b1", "/spool/f1@x", 2000)
	if err := d.Send(ctx, again); err != nil {
		t.Fatalf("batch 1 again: %v", err)
	}
	if d.Duplicates() != 2000 {
		t.Errorf("the batch sent again: %d duplicates acknowledged, want 2000", d.Duplicates())
	}
	ms, err := srv.Messages(ctx, "DNSTAP")
	if err != nil {
		t.Fatal(err)
	}
	if got := data(ms); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("the stream holds %d messages, want the %d frames sent once each, in order", len(got), len(want))
	}
	m := ms[2001]
	for h, v := range map[string]string{
		engine.HeaderMsgID:       "router1//spool/f1@x/" + fmt.Sprint(again.Frames[1].Offset),
		engine.HeaderIdentity:    "router1",
		engine.HeaderContentType: "protobuf:dnstap.Dnstap",
	} {
		if got := m.Header.Get(h); got != v {
			t.Errorf("header %s: %q, want %q", h, got, v)
		}
	}
}

// TestSendFailures: a server that is not there and a subject no stream takes are errors
// after which the stream cannot hold any frame (NotDelivered, so no duplicate is counted).
func TestSendFailures(t *testing.T) {
	srv := natstest.Start(t)
	ctx := context.Background()
	if err := srv.Stream(ctx, "DNSTAP", "dnstap", 0); err != nil {
		t.Fatal(err)
	}
	dead := natstest.Start(t)
	dead.Kill()
	b, _ := batch("f", "/spool/f@x", 10)
	for _, tc := range []struct {
		name, url, errorContains string
	}{
		{"server down", dead.URL() + "/dnstap", "connect"},
		{"no stream for the subject", srv.URL() + "/elsewhere", "no JetStream stream takes subject \"elsewhere\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(Options{URL: tc.url, Identity: "r", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			err = d.Send(ctx, b)
			if err == nil || !forward.IsNotDelivered(err) || !strings.Contains(err.Error(), tc.errorContains) {
				t.Fatalf("Send: %v; want a NotDelivered error with %q", err, tc.errorContains)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct{ url, identity string }{
		{"nats://h:4222", "r"},       // no subject
		{"nats://h:4222/a..b", "r"},  // not a subject
		{"kafka://h:9092/t", "r"},    // another scheme
		{"nats://u:p@h:4222/s", "r"}, // a password in the URL
		{"nats://h:4222/s?x=1", "r"}, // unknown option
		{"nats://h:4222/s", ""},      // no identity
		{"nats://h:4222/s", "a/b"},   // / in the identity
		{"nats://h:99999/s", "r"},    // port
		{"nats://h:4222,/s", "r"},    // empty server
	} {
		if _, err := New(Options{URL: tc.url, Identity: tc.identity}); err == nil {
			t.Errorf("New accepted %q identity %q", tc.url, tc.identity)
		}
	}
}

// TestServerKilledMidRun: the forwarder ships a spool of three files to JetStream (file
// storage); nats-server is killed (SIGKILL) in the middle and started again on the same
// storage; in the end the stream holds every frame of the spool exactly once, in order: the
// batches in flight at the kill were sent again and the duplicate window dropped what the
// stream had already stored.
func TestServerKilledMidRun(t *testing.T) {
	srv := natstest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Stream(ctx, "DNSTAP", "dnstap", 0); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	var want []string
	for i := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("spool-%d.fstrm", i))
		frames, err := collectortest.WriteCapture(p, 40000)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
		for _, f := range frames {
			want = append(want, string(f))
		}
	}
	d, err := New(Options{URL: srv.URL() + "/dnstap.router1", Identity: "router1", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fw, err := forward.New(forward.Config{
		Destination: d, Name: d.String(), State: filepath.Join(dir, "state"),
		List:        func() ([]string, error) { return files, nil },
		BatchFrames: 2000, BackoffMin: 100 * time.Millisecond, BackoffMax: 500 * time.Millisecond,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.Run(ctx) }()

	waitFor(t, "a third of the frames acknowledged", func() bool { return fw.Stats().FramesShipped >= uint64(len(want)/3) })
	srv.Kill()
	killedAt := fw.Stats().FramesShipped
	time.Sleep(time.Second)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every frame acknowledged", func() bool { return fw.Stats().FramesShipped == uint64(len(want)) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := fw.Stats()
	t.Logf("killed after %d frames; %d sends failed and were retried, %d frames possibly sent twice, %d dropped by JetStream as duplicates",
		killedAt, st.BatchesRetried, st.DuplicatesPossible, d.Duplicates())
	if killedAt == uint64(len(want)) || st.BatchesRetried == 0 {
		t.Fatalf("the kill did not interrupt the run (killed after %d of %d frames, %d retries)", killedAt, len(want), st.BatchesRetried)
	}
	ms, err := srv.Messages(context.Background(), "DNSTAP")
	if err != nil {
		t.Fatal(err)
	}
	got := data(ms)
	ids := map[string]bool{}
	for _, m := range ms {
		id := m.Header.Get(engine.HeaderMsgID)
		if ids[id] {
			t.Errorf("message id %s twice in the stream", id)
		}
		ids[id] = true
	}
	if len(got) != len(want) {
		t.Fatalf("the stream holds %d messages, want %d (every frame once)", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("message %d is not frame %d of the spool: the stream is out of order or has lost a frame", i, i)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPublishJSON: with JSON, each message of a real BIND capture holds the object
// dnstap-reader --json prints for its frame, marked application/json, still deduplicated by
// its Nats-Msg-Id.
func TestPublishJSON(t *testing.T) {
	const path = "../../../reader/testdata/golden/upstream.fstrm"
	srv := natstest.Start(t)
	ctx := context.Background()
	if err := srv.Stream(ctx, "DNSTAP", "dnstap", 0); err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{URL: srv.URL() + "/dnstap.router1", Identity: "router1", JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	batches, err := forwardtest.Batches(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range batches {
		if err := d.Send(ctx, b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if err := d.Send(ctx, batches[0]); err != nil { // sent again: the duplicate window drops it
		t.Fatal(err)
	}
	want, err := forwardtest.ReaderJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := srv.Messages(ctx, "DNSTAP")
	if err != nil {
		t.Fatal(err)
	}
	var lines []byte
	for _, m := range ms {
		if ct := m.Header.Get(engine.HeaderContentType); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		lines = append(append(lines, m.Data...), '\n')
	}
	if len(ms) < 20 || !bytes.Equal(lines, want) {
		t.Fatalf("%d messages: not the reader's JSON lines of %s, once each\ngot  %.200s\nwant %.200s", len(ms), path, lines, want)
	}
}
