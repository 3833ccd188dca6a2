// Command dnsq sends the queries given as a JSON array (dnsq.Query) in its only argument, one
// after the other, and prints one JSON dnsq.Result a line. The e2e suite copies it into the
// BIND container to query over ::1, which the Docker bridge does not route from the host.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/dnstapkit/dnstapkit/e2e/internal/dnsq"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dnsq '[{\"net\":\"udp\",\"server\":\"[::1]:53\",\"name\":\"example.\",\"type\":1}]'")
		os.Exit(2)
	}
	var qs []dnsq.Query
	if err := json.Unmarshal([]byte(os.Args[1]), &qs); err != nil {
		fmt.Fprintln(os.Stderr, "dnsq:", err)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	for _, q := range qs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r := dnsq.Do(ctx, q, 5*time.Second)
		cancel()
		if err := enc.Encode(r); err != nil {
			os.Exit(1)
		}
	}
}
