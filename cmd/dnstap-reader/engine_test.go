package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/collector/forward/forwardtest"
	fkafka "github.com/dnstapkit/dnstapkit/collector/forward/kafka"
	fnats "github.com/dnstapkit/dnstapkit/collector/forward/nats"
	ekafka "github.com/dnstapkit/dnstapkit/engine/kafka"
	"github.com/dnstapkit/dnstapkit/internal/natstest"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// engines returns, per engine, the URL of an empty topic or subject and a function that
// makes a destination (a new producer each call) that publishes to it.
func engines(t *testing.T) map[string]struct {
	url  string
	dest func(identity string) forward.Destination
} {
	srv := natstest.Start(t)
	if err := srv.Stream(context.Background(), "DNSTAP", "dnstap", 0); err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "dnstap"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	out := map[string]struct {
		url  string
		dest func(identity string) forward.Destination
	}{}
	natsURL := srv.URL() + "/dnstap.fleet"
	out["nats"] = struct {
		url  string
		dest func(identity string) forward.Destination
	}{natsURL, func(id string) forward.Destination {
		d, err := fnats.New(fnats.Options{URL: natsURL, Identity: id})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}}
	kafkaURL := "kafka://" + c.ListenAddrs()[0] + "/dnstap"
	out["kafka"] = struct {
		url  string
		dest func(identity string) forward.Destination
	}{kafkaURL, func(id string) forward.Destination {
		d, err := fkafka.New(fkafka.Options{URL: kafkaURL, Identity: id})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}}
	return out
}

// publish sends every frame of the files through d.
func publish(t *testing.T, d forward.Destination, files ...string) {
	t.Helper()
	for _, f := range files {
		bs, err := forwardtest.Batches(f, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if err := d.Send(context.Background(), b); err != nil {
				t.Fatalf("publish %s: %v", f, err)
			}
		}
	}
}

// TestReadFromEngines: dnstap-reader prints a Kafka topic or a NATS subject exactly as it
// prints the files whose frames were published to it, in every mode and with filters; stats
// (also --by identity) report the same; a frame the engine holds twice is printed once and
// the copy reported.
func TestReadFromEngines(t *testing.T) {
	files := []string{golden + "resolver.fstrm", golden + "upstream.fstrm"}
	// What was published is one stream: the reference is the files concatenated (one
	// Frame Streams input, so -y has no document separator between the files).
	cat := concat(t, files...)
	for name, e := range engines(t) {
		t.Run(name, func(t *testing.T) {
			publish(t, e.dest("router1"), files...)
			// The same frames again from a new producer (a router that failed after the
			// engine stored them): Kafka keeps the copies, JetStream's window drops them.
			publish(t, e.dest("router1"), files[0])
			for _, args := range [][]string{nil, {"-y"}, {"-x"}, {"-p"}, {"--json"}, {"--type", "CQ,RR", "--qtype", "A"}, {"--format", "9.20"}} {
				want, _, code := runCLI(t, append(append([]string{}, args...), cat)...)
				if code != 0 {
					t.Fatalf("%v on the files: exit %d", args, code)
				}
				got, errs, code := runCLI(t, append(append([]string{}, args...), e.url)...)
				if code != 0 || got != want {
					t.Fatalf("%v %s: exit %d, %d bytes, want the %d bytes of the files\nstderr: %s", args, e.url, code, len(got), len(want), errs)
				}
				if name == "kafka" && !strings.Contains(errs, "duplicate frames dropped") {
					t.Errorf("%v: the copies in the topic were not reported: stderr %q", args, errs)
				}
				if name == "nats" && errs != "" {
					t.Errorf("%v: stderr %q", args, errs)
				}
			}
			want, _, _ := runCLI(t, append([]string{"stats", "--by", "identity", "--json"}, files...)...)
			got, errs, code := runCLI(t, "stats", "--by", "identity", "--json", e.url)
			var w, g byIdentityJSON
			if code != 0 || json.Unmarshal([]byte(want), &w) != nil || json.Unmarshal([]byte(got), &g) != nil {
				t.Fatalf("stats --by identity: exit %d, stderr %s", code, errs)
			}
			if g.Total.Messages != w.Total.Messages || len(g.ByIdentity) != len(w.ByIdentity) || g.Total.Messages == 0 {
				t.Errorf("stats --by identity of %s: %d messages, %d identities; of the files: %d, %d",
					e.url, g.Total.Messages, len(g.ByIdentity), w.Total.Messages, len(w.ByIdentity))
			}
		})
	}
}

// TestFollowEngine: -f prints what is published while it runs, until stopped.
func TestFollowEngine(t *testing.T) {
	for name, e := range engines(t) {
		t.Run(name, func(t *testing.T) {
			first, _, _ := runCLI(t, "--json", golden+"resolver.fstrm")
			both, _, _ := runCLI(t, "--json", concat(t, golden+"resolver.fstrm", golden+"upstream.fstrm"))
			d := e.dest("router1")
			publish(t, d, golden+"resolver.fstrm")
			ctx, cancel := context.WithCancel(context.Background())
			var out, errb testenv.SyncBuffer
			done := make(chan error, 1)
			go func() { done <- run(ctx, []string{"-f", "--json", e.url}, &out, &errb) }()
			waitOutput(t, &out, first)
			publish(t, d, golden+"upstream.fstrm")
			waitOutput(t, &out, both)
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("-f stopped with %v; stderr %s", err, errb.String())
			}
		})
	}
}

func waitOutput(t *testing.T, out *testenv.SyncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for out.String() != want {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s the output has %d bytes, want %d", len(out.String()), len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// concat writes the files one after the other into one file and returns its path.
func concat(t *testing.T, files ...string) string {
	t.Helper()
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	p := filepath.Join(t.TempDir(), "all.fstrm")
	if err := os.WriteFile(p, all, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReadKafkaSASL: a broker that requires SASL SCRAM-SHA-512 (kfake): the forwarder's
// destination publishes with the credentials, the reader reads with --kafka-sasl-*, and
// without them, or with a wrong password, the reader fails (exit 1) and says why.
func TestReadKafkaSASL(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "dnstap"), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "router", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	url := "kafka://" + c.ListenAddrs()[0] + "/dnstap"
	d, err := fkafka.New(fkafka.Options{URL: url, Identity: "router1", Auth: ekafka.Auth{User: "router", Password: "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	publish(t, d, golden+"resolver.fstrm")
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	if err := os.WriteFile(good, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("guess\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want, _, _ := runCLI(t, golden+"resolver.fstrm")
	got, errs, code := runCLI(t, "--kafka-sasl-user", "router", "--kafka-sasl-password-file", good, url)
	if code != 0 || got != want {
		t.Fatalf("with the credentials: exit %d, %d bytes (want %d)\n%s", code, len(got), len(want), errs)
	}
	for _, args := range [][]string{{url}, {"--kafka-sasl-user", "router", "--kafka-sasl-password-file", bad, url}} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var out, errb testenv.SyncBuffer
		code := exitCode(run(ctx, args, &out, &errb), &errb)
		cancel()
		if code != 1 || out.String() != "" || !strings.Contains(errb.String(), url) {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q; want exit 1 and an error naming the URL", args, code, len(out.String()), errb.String())
		}
	}
	if _, _, code := runCLI(t, "--kafka-sasl-user", "router", url); code != 2 {
		t.Errorf("--kafka-sasl-user alone: exit %d, want 2", code)
	}
}
