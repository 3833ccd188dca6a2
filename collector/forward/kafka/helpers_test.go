package kafka

import (
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func newAdmin(c *kfake.Cluster) (*kgo.Client, error) {
	return kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
}
