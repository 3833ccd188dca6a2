package input

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dnstapkit/dnstapkit/collector"
	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/collector/forward/forwardtest"
	fkafka "github.com/dnstapkit/dnstapkit/collector/forward/kafka"
	fnats "github.com/dnstapkit/dnstapkit/collector/forward/nats"
	"github.com/dnstapkit/dnstapkit/engine"
	ekafka "github.com/dnstapkit/dnstapkit/engine/kafka"
	enats "github.com/dnstapkit/dnstapkit/engine/nats"
	"github.com/dnstapkit/dnstapkit/internal/natstest"
	"github.com/dnstapkit/dnstapkit/reader"
)

const golden = "../../reader/testdata/golden/"

// frames returns the payloads of the Frame Streams files matching glob, in file order.
func frames(t *testing.T, glob string) []string {
	t.Helper()
	paths, _ := filepath.Glob(glob)
	sort.Strings(paths)
	var out []string
	for _, p := range paths {
		bs, err := forwardtest.Batches(p, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			for i := range b.Len() {
				out = append(out, string(b.Payload(i)))
			}
		}
	}
	return out
}

// engineCase publishes through a destination and consumes with a durable source.
type engineCase struct {
	dest   func(identity string) forward.Destination
	source func(t *testing.T) engine.Source
}

func cases(t *testing.T) map[string]engineCase {
	srv := natstest.Start(t)
	if err := srv.Stream(context.Background(), "DNSTAP", "dnstap", 0); err != nil {
		t.Fatal(err)
	}
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "dnstap"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	nu, _ := engine.ParseURL(srv.URL() + "/dnstap.>")
	ku, _ := engine.ParseURL("kafka://" + kc.ListenAddrs()[0] + "/dnstap")
	return map[string]engineCase{
		"nats": {
			dest: func(id string) forward.Destination {
				d, err := fnats.New(fnats.Options{URL: srv.URL() + "/dnstap." + id, Identity: id})
				if err != nil {
					t.Fatal(err)
				}
				return d
			},
			source: func(t *testing.T) engine.Source {
				s, err := enats.NewSource(context.Background(), nu, enats.Auth{}, "archive")
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
		},
		"kafka": {
			dest: func(id string) forward.Destination {
				d, err := fkafka.New(fkafka.Options{URL: ku.String(), Identity: id})
				if err != nil {
					t.Fatal(err)
				}
				return d
			},
			source: func(t *testing.T) engine.Source {
				s, err := ekafka.NewSource(ku, ekafka.Auth{}, "archive")
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
		},
	}
}

// run runs a collector writing per-identity files under dir fed by an Input on src until
// the input has moved n frames in total (counting earlier runs: done).
func runCollector(t *testing.T, dir, name string, src engine.Source, until func(Stats) bool) Stats {
	t.Helper()
	c, err := collector.New(collector.Config{Output: filepath.Join(dir, collector.IdentityVar, name+".fstrm")}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	in, err := New(Config{Source: src, Name: "test", BatchFrames: 300, BatchWait: 200 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- c.Serve(ctx, in.Listener()) }()
	ran := make(chan error, 1)
	go func() { ran <- in.Run(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for !until(in.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("input stats %+v after 60s", in.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	return in.Stats()
}

// TestInputToFiles: two routers' frames published to NATS (Debian's nats-server) and to
// Kafka (kfake) land in one file per router, each frame once and in the router's order;
// a second run of the input with the same durable consumer finds nothing new (the first
// committed what it wrote), and after more frames are published it takes only those.
func TestInputToFiles(t *testing.T) {
	for name, ec := range cases(t) {
		t.Run(name, func(t *testing.T) {
			r1, r2 := ec.dest("router1"), ec.dest("router2")
			defer r1.Close()
			defer r2.Close()
			for _, p := range []struct {
				d    forward.Destination
				file string
			}{{r1, "resolver.fstrm"}, {r2, "upstream.fstrm"}} {
				bs, err := forwardtest.Batches(golden+p.file, 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range bs {
					if err := p.d.Send(context.Background(), b); err != nil {
						t.Fatal(err)
					}
				}
			}
			want1, want2 := frames(t, golden+"resolver.fstrm"), frames(t, golden+"upstream.fstrm")
			dir := t.TempDir()
			total := uint64(len(want1) + len(want2))
			runCollector(t, dir, "run1", ec.source(t), func(s Stats) bool { return s.Frames >= total })
			check := func(id string, want []string) {
				t.Helper()
				got := frames(t, filepath.Join(dir, id, "run*.fstrm"))
				if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
					t.Errorf("%s: %d frames in its files, want the %d published, in order", id, len(got), len(want))
				}
			}
			check("router1", want1)
			check("router2", want2)

			// Again, with more frames for router1: only those are added.
			bs, _ := forwardtest.Batches(golden+"upstream.fstrm", 100)
			for _, b := range bs {
				for i := range b.Frames {
					b.Frames[i].FileID = "second@x" // other frames for the engine's dedupe
				}
				if err := r1.Send(context.Background(), b); err != nil {
					t.Fatal(err)
				}
			}
			st := runCollector(t, dir, "run2", ec.source(t), func(s Stats) bool { return s.Frames >= uint64(len(want2)) })
			if st.Frames != uint64(len(want2)) {
				t.Errorf("second run moved %d frames, want the %d new ones", st.Frames, len(want2))
			}
			check("router1", append(want1, want2...))
			check("router2", want2)
			// The files are ordinary dnstap files.
			paths, _ := filepath.Glob(filepath.Join(dir, "router1", "run*.fstrm"))
			for _, p := range paths {
				d, err := reader.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				for {
					if _, err := d.Next(); err != nil {
						if !errors.Is(err, io.EOF) {
							t.Errorf("%s: %v", p, err)
						}
						break
					}
				}
				d.Close()
			}
		})
	}
}

// fakeSource hands out fixed batches; its first Commit fails. After a failure it would give
// the next batch if asked: the Input must not ask, but take the failed batch again.
type fakeSource struct {
	batches [][]engine.Message
	next    int
	commits int
}

func (f *fakeSource) Next(ctx context.Context, max int, wait time.Duration) ([]engine.Message, error) {
	if f.next == len(f.batches) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
			return nil, nil
		}
	}
	f.next++
	return f.batches[f.next-1], nil
}

func (f *fakeSource) Commit(context.Context) error {
	f.commits++
	if f.commits == 1 {
		return errors.New("commit refused (test)")
	}
	return nil
}

func (f *fakeSource) Close() error { return nil }

// TestFailedBatchTakenAgain: a batch whose commit fails is handed over again (not skipped for
// the next one, which a later commit would cover); the copy it writes the second time is the
// only duplicate, and a frame whose message id was read already is dropped.
func TestFailedBatchTakenAgain(t *testing.T) {
	msg := func(id, v string) engine.Message {
		return engine.Message{Value: []byte(v), Identity: "r1", ID: "r1/f/" + id}
	}
	src := &fakeSource{batches: [][]engine.Message{
		{msg("1", "one"), msg("2", "two")},
		{msg("3", "three"), msg("2", "two")}, // two again: a resent frame
	}}
	dir := t.TempDir()
	st := runCollector(t, dir, "run", src, func(s Stats) bool { return s.Batches == 2 })
	got := strings.Join(frames(t, filepath.Join(dir, "r1", "run*.fstrm")), ",")
	if got != "one,two,one,two,three" || st.Failures != 1 || st.Duplicates != 1 || st.Frames != 3 || src.next != 2 {
		t.Errorf("files %q, stats %+v, batches read %d; want the first batch twice (its commit failed once), then three", got, st, src.next)
	}
}

// TestJSONTopicStops: a message holding a --forward-format json object cannot become a frame;
// the input stops with an error naming the message and the flag, after writing and committing
// the batch before it (so nothing is skipped silently and nothing committed is unwritten).
func TestJSONTopicStops(t *testing.T) {
	src := &fakeSource{batches: [][]engine.Message{
		{{Value: []byte("one"), Identity: "r1", ID: "r1/f/1"}},
		{{Value: []byte(`{"type":"CQ"}`), Identity: "r1", ID: "r1/f/2", ContentType: "application/json", Where: "dnstap/0@1"}},
	}, commits: 1} // the first commit succeeds
	c, err := collector.New(collector.Config{Output: filepath.Join(t.TempDir(), collector.IdentityVar, "run.fstrm")}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	in, err := New(Config{Source: src, Name: "test", BatchWait: 50 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- c.Serve(ctx, in.Listener()) }()
	err = in.Run(ctx)
	cancel()
	if serr := <-served; serr != nil { // the collector has closed its files before the test's cleanup
		t.Errorf("Serve: %v", serr)
	}
	if err == nil || !strings.Contains(err.Error(), "dnstap/0@1") || !strings.Contains(err.Error(), "--forward-format json") {
		t.Fatalf("Run: %v, want an error naming the message and --forward-format json", err)
	}
	if st := in.Stats(); st.Frames != 1 || st.Batches != 1 || src.commits != 2 {
		t.Errorf("stats %+v, commits %d: want the first batch written and committed, nothing after", st, src.commits)
	}
}
