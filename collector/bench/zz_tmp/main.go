package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/dnstapkit/dnstapkit/collector/bench"
)

func main() {
	frames, _ := strconv.Atoi(os.Args[1])
	work, _ := os.MkdirTemp("", "zz")
	defer os.RemoveAll(work)
	col, dt, err := bench.Tools(context.Background(), "/work/main", work)
	if err != nil {
		fmt.Println(err)
		return
	}
	if len(os.Args) > 2 {
		dt = ""
	}
	_, err = bench.Run(context.Background(), bench.Options{Frames: frames, Rounds: 1, Collector: col, Dnstap: dt, Work: work, Out: os.Stdout, Record: 3e9})
	fmt.Println(err)
}
