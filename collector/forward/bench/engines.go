package bench

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dnstapkit/dnstapkit/internal/natstest"
)

// EngineResult is what shipping the spool to one engine took.
type EngineResult struct {
	Engine    string
	Frames    int
	Wall      time.Duration
	RouterCPU time.Duration // the forwarding dnstap-collector
	EngineCPU time.Duration // nats-server; 0 for kfake (it runs inside this process)
}

// RunEngines ships a spool of o.Frames real BIND frames from a dnstap-collector with
// --forward nats://... to Debian's nats-server (JetStream, file storage, on loopback), then
// with --forward kafka://... to kfake (franz-go's in-memory Kafka-protocol fake, in this
// process: not a Kafka broker, so its figure is the client's side, not Kafka's).
func RunEngines(ctx context.Context, o Options, natsServer string) ([]EngineResult, error) {
	if o.Frames == 0 {
		o.Frames = 1_000_000
	}
	if o.FilesOf == 0 {
		o.FilesOf = 500_000
	}
	if len(o.Golden) == 0 {
		o.Golden, _ = filepath.Glob("reader/testdata/golden/*.fstrm")
	}
	frames, err := goldenFrames(o.Golden)
	if err != nil {
		return nil, err
	}
	var out []EngineResult
	for _, eng := range []string{"nats", "kafka"} {
		work := filepath.Join(o.Work, eng)
		routerDir := filepath.Join(work, "router")
		n, _, err := writeSpool(routerDir, frames, o.Frames, o.FilesOf)
		if err != nil {
			return out, err
		}
		var url string
		var enginePID int
		switch eng {
		case "nats":
			srv, err := natstest.StartIn(natsServer, work)
			if err != nil {
				return out, err
			}
			defer srv.Kill()
			if err := srv.Stream(ctx, "DNSTAP", "dnstap", 0); err != nil {
				return out, err
			}
			url, enginePID = srv.URL()+"/dnstap.router1", srv.PID()
		case "kafka":
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "dnstap"))
			if err != nil {
				return out, err
			}
			defer c.Close()
			url = "kafka://" + c.ListenAddrs()[0] + "/dnstap"
		}
		args := []string{"-u", filepath.Join(work, "router.sock"), "-w", filepath.Join(routerDir, "cap.fstrm"), "--metrics", "127.0.0.1:0",
			"--forward", url, "--forward-identity", "router1"}
		if o.BatchFrames > 0 {
			args = append(args, "--forward-batch-frames", strconv.Itoa(o.BatchFrames))
		}
		e0 := time.Duration(0)
		if enginePID != 0 {
			e0, _ = cpu(enginePID)
		}
		t0 := time.Now()
		router, err := start(ctx, o.Collector, args...)
		if err != nil {
			return out, err
		}
		for {
			m, err := router.metrics()
			if err != nil {
				router.kill()
				return out, err
			}
			if m["dnstap_forward_frames_total"] >= float64(n) {
				break
			}
			if ctx.Err() != nil {
				router.kill()
				return out, ctx.Err()
			}
			time.Sleep(20 * time.Millisecond)
		}
		r := EngineResult{Engine: eng, Frames: n, Wall: time.Since(t0)}
		r.RouterCPU, _ = cpu(router.cmd.Process.Pid)
		if enginePID != 0 {
			e1, _ := cpu(enginePID)
			r.EngineCPU = e1 - e0
		}
		router.term()
		fmt.Fprintf(o.Out, "%s: %d frames shipped in %v\n", eng, n, r.Wall.Round(time.Millisecond))
		out = append(out, r)
	}
	ReportEngines(o.Out, out)
	return out, nil
}

// ReportEngines prints the engines' figures and the goal.
func ReportEngines(w io.Writer, rs []EngineResult) {
	fmt.Fprintf(w, "\n%-52s %12s %14s %14s\n", "", "frames/s", "router CPU/f", "engine CPU/f")
	for _, r := range rs {
		name := "--forward nats:// (nats-server, JetStream file store)"
		eng := fmt.Sprint(perFrame(r.EngineCPU, r.Frames))
		if r.Engine == "kafka" {
			name, eng = "--forward kafka:// (kfake in-process: a fake)", "n/a"
		}
		fmt.Fprintf(w, "%-52s %12.0f %14v %14s\n", name, perSec(r.Frames, r.Wall), perFrame(r.RouterCPU, r.Frames), eng)
	}
	for _, r := range rs {
		fmt.Fprintf(w, "goal 500,000 frames/s into %s: %s (%.0f frames/s)\n", r.Engine, verdict(perSec(r.Frames, r.Wall) >= 500_000), perSec(r.Frames, r.Wall))
	}
}

// MainEngines is bench:forward's engine part: build dnstap-collector, run RunEngines.
func MainEngines(ctx context.Context, w io.Writer, frames, batch int) error {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, serr := exec.LookPath("/usr/sbin/nats-server"); serr != nil {
			return fmt.Errorf("bench: nats-server not found (apt-get install nats-server)")
		}
		bin = "/usr/sbin/nats-server"
	}
	work, cleanup, bin2, err := buildCollector(ctx)
	if err != nil {
		return err
	}
	defer cleanup()
	_, err = RunEngines(ctx, Options{Frames: frames, BatchFrames: batch, Collector: bin2, Work: work, Out: w}, bin)
	return err
}
