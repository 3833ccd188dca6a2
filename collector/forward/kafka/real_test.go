package kafka

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRealCluster runs against a real Kafka cluster when KAFKA_BROKERS=host:port[,...] is
// set (kfake, which the other tests use, is a fake): it creates a topic of its own, sends
// batches, reads them back, deletes the topic, and checks that a missing topic fails the
// batch as NotDelivered. Opt-in: no Kafka broker can be installed on the build machines.
//
//	KAFKA_BROKERS=kafka1:9092 go test ./collector/forward/kafka -run TestRealCluster -v
func TestRealCluster(t *testing.T) {
	brokers := os.Getenv("KAFKA_BROKERS")
	if brokers == "" {
		t.Skip("KAFKA_BROKERS not set: no real Kafka cluster to test against (the kfake tests ran)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topic := fmt.Sprintf("dnstapkit-test-%d", time.Now().UnixNano())
	if _, err := adm.CreateTopic(ctx, 3, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
	defer adm.DeleteTopics(context.Background(), topic)
	url := "kafka://" + brokers + "/" + topic
	d, err := New(Options{URL: url, Identity: "router1"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var want []string
	for i := range 3 {
		b, w := batch(fmt.Sprint("b", i), fmt.Sprintf("/spool/b%d@x", i), 5000, 0)
		if err := d.Send(ctx, b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		want = append(want, w...)
	}
	if got := consume(t, url); values(got) != strings.Join(want, ",") {
		t.Fatalf("the topic holds %d records, want the %d frames in order", len(got), len(want))
	}
}
