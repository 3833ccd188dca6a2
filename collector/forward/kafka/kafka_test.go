package kafka

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/collector/forward/forwardtest"
	"github.com/dnstapkit/dnstapkit/engine"
	ekafka "github.com/dnstapkit/dnstapkit/engine/kafka"
	"github.com/dnstapkit/dnstapkit/reader"
)

// batch makes a batch of n frames "tag-i" (each size bytes at least) from spool file fileID.
func batch(tag, fileID string, n, size int) (*forward.Batch, []string) {
	b := &forward.Batch{Seq: 1, Attempt: 1}
	var want []string
	for i := range n {
		p := fmt.Sprintf("%s-%05d", tag, i)
		if len(p) < size {
			p += strings.Repeat("x", size-len(p))
		}
		want = append(want, p)
		b.Wire = binary.BigEndian.AppendUint32(b.Wire, uint32(len(p)))
		start := len(b.Wire)
		b.Wire = append(b.Wire, p...)
		b.Frames = append(b.Frames, forward.Frame{Start: start, End: len(b.Wire), File: "/spool/" + tag, FileID: fileID, Offset: int64(start - 4)})
	}
	return b, want
}

// cluster is a kfake cluster (franz-go's Kafka-protocol fake, not Kafka) with the topic
// "dnstap" of three partitions.
func cluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(3), kfake.SeedTopics(3, "dnstap")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func brokersURL(addrs []string, topic string) string {
	return "kafka://" + strings.Join(addrs, ",") + "/" + topic
}

// consume reads the whole topic back with the reader's consumer.
func consume(t *testing.T, url string) []engine.Message {
	t.Helper()
	u, err := engine.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []engine.Message
	err = ekafka.Consume(ctx, u, ekafka.Auth{}, engine.ConsumeOptions{}, func(m engine.Message) error {
		m.Value = append([]byte(nil), m.Value...)
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func values(ms []engine.Message) string {
	var s []string
	for _, m := range ms {
		s = append(s, string(m.Value))
	}
	return strings.Join(s, ",")
}

// TestProduce: every frame is a record, key = identity (so one partition, in order), value
// = the frame, headers naming its file and offset; the consumer reads them back.
func TestProduce(t *testing.T) {
	c := cluster(t)
	url := brokersURL(c.ListenAddrs(), "dnstap")
	d, err := New(Options{URL: url, Identity: "router1"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var want []string
	for i := range 3 {
		b, w := batch(fmt.Sprint("b", i), fmt.Sprintf("/spool/b%d@x", i), 3000, 0)
		if err := d.Send(context.Background(), b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		want = append(want, w...)
	}
	got := consume(t, url)
	if values(got) != strings.Join(want, ",") {
		t.Fatalf("the topic holds %d records, want the %d frames in order", len(got), len(want))
	}
	m := got[3001]
	if m.Identity != "router1" || m.ID != "router1//spool/b1@x/12" { // frame 1: 4+8 bytes in
		t.Errorf("record 3001: identity %q id %q", m.Identity, m.ID)
	}
}

// TestFailures: each failure has a documented outcome (docs/fleet.md). The batch fails
// with an error that says what to do; what the broker cannot have stored is NotDelivered;
// once the cause is gone the same batch goes through and the topic holds every frame.
func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name         string
		setup        func(t *testing.T, c *kfake.Cluster) (undo func())
		url          func(c *kfake.Cluster) string
		size         int
		wantErr      string // "" when the client's own retries get the batch through
		notDelivered bool
	}{
		{
			name: "topic missing",
			url:  func(c *kfake.Cluster) string { return brokersURL(c.ListenAddrs(), "nosuch") },
			setup: func(t *testing.T, c *kfake.Cluster) func() {
				return func() {
					if err := c.CreateTopic("nosuch", 1, nil); err != nil {
						t.Fatal(err)
					}
				}
			},
			wantErr: "the topic does not exist", notDelivered: true,
		},
		{
			name: "message too large",
			setup: func(t *testing.T, c *kfake.Cluster) func() {
				if err := alterTopic(c, "dnstap", "max.message.bytes", "1000"); err != nil {
					t.Fatal(err)
				}
				return func() {
					if err := alterTopic(c, "dnstap", "max.message.bytes", "1048588"); err != nil {
						t.Fatal(err)
					}
				}
			},
			size: 2000, wantErr: "larger than the topic's max.message.bytes", notDelivered: true,
		},
		{
			name: "leader changes (NOT_LEADER_OR_FOLLOWER twice): retried by the client",
			setup: func(t *testing.T, c *kfake.Cluster) func() {
				h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "dnstap", Err: kerr.NotLeaderForPartition, Count: 2})
				t.Cleanup(func() { mustHit(t, h) })
				return func() {}
			},
		},
		{
			name: "acknowledgement lost after the append (NOT_ENOUGH_REPLICAS_AFTER_APPEND): idempotence drops the copy",
			setup: func(t *testing.T, c *kfake.Cluster) func() {
				h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "dnstap", Err: kerr.NotEnoughReplicasAfterAppend, Count: 1})
				t.Cleanup(func() { mustHit(t, h) })
				return func() {}
			},
		},
		{
			name: "leader keeps failing: retries bounded, then the batch fails",
			setup: func(t *testing.T, c *kfake.Cluster) func() {
				h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "dnstap", Err: kerr.NotLeaderForPartition, Count: -1})
				t.Cleanup(func() { mustHit(t, h) })
				return h.Remove
			},
			wantErr: "NOT_LEADER_FOR_PARTITION",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cluster(t)
			url := brokersURL(c.ListenAddrs(), "dnstap")
			if tc.url != nil {
				url = tc.url(c)
			}
			undo := tc.setup(t, c)
			d, err := New(Options{URL: url, Identity: "r1", Timeout: 5 * time.Second, RecordRetries: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			b, want := batch("f", "/spool/f@x", 50, tc.size)
			err = d.Send(context.Background(), b)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || forward.IsNotDelivered(err) != tc.notDelivered {
					t.Fatalf("Send: %v; want an error with %q, not delivered %v", err, tc.wantErr, tc.notDelivered)
				}
				if d.FailedRecords() == 0 {
					t.Errorf("no failed record counted")
				}
				undo()
				if err := d.Send(context.Background(), b); err != nil {
					t.Fatalf("Send after the cause is gone: %v", err)
				}
			}
			got := consume(t, url)
			if tc.notDelivered || tc.wantErr == "" {
				if values(got) != strings.Join(want, ",") {
					t.Fatalf("the topic holds %d records, want the %d frames once each", len(got), len(want))
				}
				return
			}
			// A failure after records may have been appended: at least once.
			seen := map[string]int{}
			for _, m := range got {
				seen[string(m.Value)]++
			}
			for _, w := range want {
				if seen[w] == 0 {
					t.Fatalf("frame %s lost", w)
				}
			}
			t.Logf("%d records for %d frames", len(got), len(want))
		})
	}
}

// alterTopic sets a topic config on the cluster.
func alterTopic(c *kfake.Cluster, topic, key, value string) error {
	cl, err := newAdmin(c)
	if err != nil {
		return err
	}
	defer cl.Close()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	cfg := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	cfg.Name, cfg.Value = key, &value
	r.Configs = append(r.Configs, cfg)
	req.Resources = append(req.Resources, r)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		return err
	}
	for _, r := range resp.Resources {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return fmt.Errorf("alter %s: %w", topic, err)
		}
	}
	return nil
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct{ url, identity string }{
		{"kafka://h:9092", "r"},
		{"kafka://h:9092/bad topic", "r"},
		{"nats://h:4222/t", "r"},
		{"kafka://h:9092/t", ""},
		{"kafka://h:9092/t?acks=1", "r"},
	} {
		if _, err := New(Options{URL: tc.url, Identity: tc.identity}); err == nil {
			t.Errorf("New accepted %q identity %q", tc.url, tc.identity)
		}
	}
}

func mustHit(t *testing.T, h *kfake.FaultHandle) {
	if h.Hits() == 0 {
		t.Error("the fault was never hit: the test tested nothing")
	}
}

// TestBrokerDown: the broker goes away (the whole cluster: kfake with its data in a
// directory) and comes back on the same port with its data; the batch sent meanwhile fails
// (counted, retried by the forwarder), then goes through; the topic holds every frame once.
func TestBrokerDown(t *testing.T) {
	data := t.TempDir()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "dnstap"), kfake.DataDir(data))
	if err != nil {
		t.Fatal(err)
	}
	addr := c.ListenAddrs()[0]
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	url := brokersURL([]string{addr}, "dnstap")
	d, err := New(Options{URL: url, Identity: "r1", Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b1, want := batch("one", "/spool/one@x", 1000, 0)
	if err := d.Send(context.Background(), b1); err != nil {
		t.Fatal(err)
	}
	c.Close()
	b2, w2 := batch("two", "/spool/two@x", 1000, 0)
	want = append(want, w2...)
	if err := d.Send(context.Background(), b2); err == nil {
		t.Fatal("Send succeeded with the broker down")
	} else {
		t.Logf("broker down: %v", err)
	}
	c, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(p), kfake.DataDir(data))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := d.Send(context.Background(), b2); err != nil {
		t.Fatalf("Send after the broker came back: %v", err)
	}
	if got := consume(t, url); values(got) != strings.Join(want, ",") {
		t.Fatalf("the topic holds %d records, want the %d frames once each, in order", len(got), len(want))
	}
}

// TestLeaderMoves: the partition's leader moves to another broker between and during
// batches (kfake's MoveTopicPartition, a real change of the metadata, not an injected error);
// every batch is acknowledged and the topic holds every frame once, in order.
func TestLeaderMoves(t *testing.T) {
	c := cluster(t)
	url := brokersURL(c.ListenAddrs(), "dnstap")
	d, err := New(Options{URL: url, Identity: "r1", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var want []string
	moves := 0
	for i := range 12 {
		b, w := batch(fmt.Sprint("m", i), fmt.Sprintf("/spool/m%d@x", i), 2000, 0)
		done := make(chan error, 1)
		go func() { done <- d.Send(context.Background(), b) }()
		if i%3 == 1 {
			for p := int32(0); p < 3; p++ {
				to := (c.LeaderFor("dnstap", p) + 1) % 3
				if err := c.MoveTopicPartition("dnstap", p, to); err != nil {
					t.Fatal(err)
				}
				if c.LeaderFor("dnstap", p) != to {
					t.Fatalf("partition %d: the leader did not move to %d", p, to)
				}
			}
			moves++
		}
		if err := <-done; err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		want = append(want, w...)
	}
	if got := consume(t, url); values(got) != strings.Join(want, ",") {
		t.Fatalf("the topic holds %d records, want the %d frames once each, in order", len(got), len(want))
	}
	t.Logf("%d leader moves, %d producer sessions", moves, d.Sessions())
}

// TestProduceJSON: with JSON, each record of a real BIND capture holds the object
// dnstap-reader --json prints for its frame, marked application/json; the reader refuses to
// decode such a topic as dnstap, naming the record and the flag.
func TestProduceJSON(t *testing.T) {
	const path = "../../../reader/testdata/golden/resolver.fstrm"
	c := cluster(t)
	url := brokersURL(c.ListenAddrs(), "dnstap")
	d, err := New(Options{URL: url, Identity: "router1", JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	batches, err := forwardtest.Batches(path, 50)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range batches {
		if err := d.Send(context.Background(), b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	want, err := forwardtest.ReaderJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	got := consume(t, url)
	var lines []byte
	for _, m := range got {
		if m.ContentType != "application/json" {
			t.Fatalf("record %s: Content-Type %q", m.Where, m.ContentType)
		}
		lines = append(append(lines, m.Value...), '\n')
	}
	if len(got) < 100 || !bytes.Equal(lines, want) {
		t.Fatalf("%d records: not the reader's JSON lines of %s\ngot  %.200s\nwant %.200s", len(got), path, lines, want)
	}

	s, err := reader.OpenURL(context.Background(), url, reader.URLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = reader.Render(reader.NewDecoder(s, s.Name()), io.Discard, reader.RenderOptions{})
	if err == nil || !strings.Contains(err.Error(), "dnstap/") || !strings.Contains(err.Error(), "--forward-format json") {
		t.Fatalf("reading a JSON topic as dnstap: %v, want an error naming the record and --forward-format json", err)
	}
}
