package reader_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/collector/forward/forwardtest"
	fkafka "github.com/dnstapkit/dnstapkit/collector/forward/kafka"
	fnats "github.com/dnstapkit/dnstapkit/collector/forward/nats"
	"github.com/dnstapkit/dnstapkit/engine"
	"github.com/dnstapkit/dnstapkit/internal/natstest"
	"github.com/dnstapkit/dnstapkit/reader"
)

// TestOpenURLSince: --since starts at the first message the engine stored at or after it;
// without it, at the oldest. Both engines, read through OpenURL and the Decoder.
func TestOpenURLSince(t *testing.T) {
	srv := natstest.Start(t)
	if err := srv.Stream(context.Background(), "DNSTAP", "dnstap", 0); err != nil {
		t.Fatal(err)
	}
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "dnstap"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	for name, url := range map[string]string{"nats": srv.URL() + "/dnstap.r1", "kafka": "kafka://" + kc.ListenAddrs()[0] + "/dnstap"} {
		t.Run(name, func(t *testing.T) {
			var d forward.Destination
			if name == "nats" {
				d, err = fnats.New(fnats.Options{URL: url, Identity: "r1"})
			} else {
				d, err = fkafka.New(fkafka.Options{URL: url, Identity: "r1"})
			}
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			send := func(file string) int {
				bs, err := forwardtest.Batches(file, 1000)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, b := range bs {
					if err := d.Send(context.Background(), b); err != nil {
						t.Fatal(err)
					}
					n += b.Len()
				}
				return n
			}
			first := send("testdata/golden/resolver.fstrm")
			time.Sleep(50 * time.Millisecond)
			since := time.Now()
			time.Sleep(50 * time.Millisecond)
			second := send("testdata/golden/upstream.fstrm")
			for _, tc := range []struct {
				since time.Time
				want  int
			}{{time.Time{}, first + second}, {since, second}, {time.Now().Add(time.Hour), 0}} {
				s, err := reader.OpenURL(context.Background(), url, reader.URLOptions{ConsumeOptions: engine.ConsumeOptions{Since: tc.since}})
				if err != nil {
					t.Fatal(err)
				}
				dec := reader.NewDecoder(s, s.Name())
				n := 0
				for {
					if _, err := dec.Next(); err != nil {
						if !errors.Is(err, io.EOF) {
							t.Fatal(err)
						}
						break
					}
					n++
				}
				s.Close()
				if n != tc.want {
					t.Errorf("since %v: %d messages, want %d", tc.since, n, tc.want)
				}
			}
		})
	}
}
