package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
	"github.com/dnstapkit/dnstapkit/collector/forward/forwardtest"
	fkafka "github.com/dnstapkit/dnstapkit/collector/forward/kafka"
	"github.com/dnstapkit/dnstapkit/engine"
	ekafka "github.com/dnstapkit/dnstapkit/engine/kafka"
	enats "github.com/dnstapkit/dnstapkit/engine/nats"
	"github.com/dnstapkit/dnstapkit/internal/natstest"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// TestForwardToEngines runs dnstap-collector routers (the binary) that forward to NATS
// JetStream (Debian's nats-server, file storage, killed with SIGKILL mid-run and started
// again) and to Kafka (kfake, franz-go's Kafka-protocol fake, with produce requests failing
// NOT_LEADER_FOR_PARTITION for a while). fstrm_replay feeds them. Then the frames in the
// stream and in the topic, read back by the reader's consumers, are the frames of the
// routers' own files: none missing, none foreign; the stream holds each exactly once.
func TestForwardToEngines(t *testing.T) {
	binary(t)
	replay := testenv.LookPath(t, "fstrm_replay", "fstrm-bin")
	srv := natstest.Start(t)
	ctx := context.Background()
	if err := srv.Stream(ctx, "DNSTAP", "dnstap", 0); err != nil {
		t.Fatal(err)
	}
	kc, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(3, "dnstap"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	work := t.TempDir()
	in := filepath.Join(work, "in.fstrm")
	if _, err := collectortest.WriteCapture(in, 20000); err != nil {
		t.Fatal(err)
	}
	natsURL := srv.URL() + "/dnstap.router1"
	kafkaURL := "kafka://" + strings.Join(kc.ListenAddrs(), ",") + "/dnstap"
	router := func(name, url string) (*node, string, string) {
		dir, sock := filepath.Join(work, name), filepath.Join(work, name+".sock")
		p := startNode(t, "-u", sock, "-w", filepath.Join(dir, "cap-%Y%m%d-%H%M%S.fstrm"), "--gmtime", "-s", "1", "--metrics", "127.0.0.1:0",
			"--forward", url, "--forward-identity", name, "--forward-timeout", "5s",
			"--forward-batch-frames", "5000", "--forward-batch-interval", "200ms")
		return p, dir, sock
	}
	rn, ndir, nsock := router("router1", natsURL)
	rk, kdir, ksock := router("router2", kafkaURL)
	feed := func(sock string) {
		t.Helper()
		if out, err := exec.Command(replay, "-t", collectortest.ContentType, "-u", sock, "-r", in).CombinedOutput(); err != nil {
			t.Fatalf("fstrm_replay: %v: %s", err, out)
		}
	}
	feed(nsock)
	feed(ksock)
	waitFor(t, "frames in NATS", func() bool { return rn.forwardMetrics()["dnstap_forward_frames_total"] > 0 })
	waitFor(t, "frames in Kafka", func() bool { return rk.forwardMetrics()["dnstap_forward_frames_total"] > 0 })

	// The engines fail while the routers write on.
	srv.Kill()
	h := kc.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "dnstap", Err: kerr.NotLeaderForPartition, Count: -1})
	feed(nsock)
	feed(ksock)
	waitFor(t, "failed sends to NATS", func() bool { return rn.forwardMetrics()["dnstap_forward_batches_retried_total"] > 0 })
	waitFor(t, "failed sends to Kafka", func() bool { return rk.forwardMetrics()["dnstap_forward_batches_retried_total"] > 0 })
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	h.Remove()
	feed(nsock)
	feed(ksock)
	caughtUp := func(n *node) func() bool {
		return func() bool {
			m := n.forwardMetrics()
			return m["dnstap_forward_lag_complete"] == 1 && m["dnstap_forward_lag_frames"] == 0
		}
	}
	waitFor(t, "router1 caught up", caughtUp(rn))
	waitFor(t, "router2 caught up", caughtUp(rk))
	rn.stop(syscall.SIGTERM)
	rk.stop(syscall.SIGTERM)

	read := func(url string) (map[string]int, map[string]int) {
		u, err := engine.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		payloads, ids := map[string]int{}, map[string]int{}
		fn := func(m engine.Message) error { payloads[string(m.Value)]++; ids[m.ID]++; return nil }
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if u.Scheme == "nats" {
			err = enats.Consume(cctx, u, enats.Auth{}, engine.ConsumeOptions{}, fn)
		} else {
			err = ekafka.Consume(cctx, u, ekafka.Auth{}, engine.ConsumeOptions{}, fn)
		}
		if err != nil {
			t.Fatal(err)
		}
		return payloads, ids
	}
	for _, tc := range []struct {
		name, dir, url string
		exactlyOnce    bool
	}{
		{"NATS", ndir, natsURL, true},
		{"Kafka", kdir, kafkaURL, false},
	} {
		want, total := payloadCounts(t, tc.dir)
		got, ids := read(tc.url)
		missing, dups, alien := collectortest.CompareCounts(want, got)
		idDups := 0
		for _, n := range ids {
			idDups += n - 1
		}
		t.Logf("%s: the router wrote %d frames; %d missing, %d duplicates (%d by message id), %d foreign", tc.name, total, missing, dups, idDups, alien)
		if total != 60000 || missing > 0 || alien > 0 || (tc.exactlyOnce && (dups > 0 || idDups > 0)) {
			t.Errorf("%s: want the 60000 frames the router wrote, each once", tc.name)
		}
	}

	// A central collector archives both engines into files per router (--input), and the
	// archive holds what each router wrote.
	for _, tc := range []struct{ name, url, router, dir string }{
		{"NATS", srv.URL() + "/dnstap.>", "router1", ndir},
		{"Kafka", kafkaURL, "router2", kdir},
	} {
		cdir := filepath.Join(work, "central-"+tc.name)
		c := startNode(t, "-u", filepath.Join(work, "central-"+tc.name+".sock"), "--input", tc.url, "--metrics", "127.0.0.1:0",
			"-w", filepath.Join(cdir, "%{identity}", "%Y%m%d-%H%M%S.fstrm"), "--gmtime", "-s", "1")
		want, total := payloadCounts(t, tc.dir)
		waitFor(t, tc.name+" archived", func() bool {
			if _, err := os.Stat(filepath.Join(cdir, tc.router)); err != nil {
				return false
			}
			_, n := payloadCounts(t, filepath.Join(cdir, tc.router))
			return n >= total
		})
		waitFor(t, tc.name+" committed", func() bool { return c.forwardMetrics()["dnstap_input_frames_total"] >= float64(total) })
		m := c.forwardMetrics()
		if m["dnstap_input_frames_total"] != float64(total) || m["dnstap_input_failures_total"] != 0 {
			t.Errorf("%s --input metrics: %v frames, %v failures; want %d, 0", tc.name, m["dnstap_input_frames_total"], m["dnstap_input_failures_total"], total)
		}
		t.Logf("%s --input dropped %v duplicates (by message id)", tc.name, m["dnstap_input_duplicates_total"])
		c.stop(syscall.SIGTERM)
		got, n := payloadCounts(t, filepath.Join(cdir, tc.router))
		missing, dups, alien := collectortest.CompareCounts(want, got)
		t.Logf("%s --input: %d frames archived for %s: %d missing, %d duplicates, %d foreign", tc.name, n, tc.router, missing, dups, alien)
		if missing > 0 || dups > 0 || alien > 0 {
			t.Errorf("%s --input: the archive of %s is not what it wrote", tc.name, tc.router)
		}
	}
	_ = os.Remove(in)
}

// TestInputKafkaSASL: --input reads a topic that needs SASL SCRAM (a kfake broker with SASL on)
// with --input-sasl-user and --input-sasl-password-file, and archives every frame; with a wrong
// password it archives nothing and counts the failures.
func TestInputKafkaSASL(t *testing.T) {
	const golden = "../../reader/testdata/golden/resolver.fstrm"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "dnstap"), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "central", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	url := "kafka://" + c.ListenAddrs()[0] + "/dnstap"
	d, err := fkafka.New(fkafka.Options{URL: url, Identity: "router1", Auth: ekafka.Auth{User: "central", Password: "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	batches, err := forwardtest.Batches(golden, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := d.Send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{}
	for _, b := range batches {
		for i := range b.Len() {
			want[string(b.Payload(i))]++
		}
	}
	work := t.TempDir()
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{{"good", "s3cret\n", true}, {"wrong", "guess\n", false}} {
		pass := filepath.Join(work, tc.name+".pass")
		if err := os.WriteFile(pass, []byte(tc.password), 0o600); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(work, tc.name)
		n := startNode(t, "-u", filepath.Join(work, tc.name+".sock"), "--input", url, "--input-group", tc.name,
			"--input-sasl-user", "central", "--input-sasl-password-file", pass, "--metrics", "127.0.0.1:0",
			"-w", filepath.Join(dir, "%{identity}", "%Y%m%d-%H%M%S.fstrm"), "--gmtime")
		waitFor(t, "the metrics address", func() bool { return strings.Contains(n.logs.String(), "msg=metrics") })
		if tc.ok {
			waitFor(t, "archived", func() bool { return n.forwardMetrics()["dnstap_input_frames_total"] >= float64(sum(want)) })
			n.stop(syscall.SIGTERM)
			got, total := payloadCounts(t, filepath.Join(dir, "router1"))
			missing, dups, alien := collectortest.CompareCounts(want, got)
			if total != sum(want) || missing > 0 || dups > 0 || alien > 0 {
				t.Errorf("with the password: %d frames archived of %d; %d missing, %d duplicates, %d foreign", total, sum(want), missing, dups, alien)
			}
			continue
		}
		waitFor(t, "failures counted", func() bool { return n.forwardMetrics()["dnstap_input_failures_total"] >= 1 })
		m := n.forwardMetrics()
		n.stop(syscall.SIGTERM)
		if m["dnstap_input_frames_total"] != 0 {
			t.Errorf("with a wrong password: %v frames archived, want 0", m["dnstap_input_frames_total"])
		}
		if !strings.Contains(n.logs.String(), "input failed") {
			t.Errorf("with a wrong password: no 'input failed' in the log:\n%s", n.logs.String())
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
