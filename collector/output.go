package collector

import (
	"sync"
)

// output is one stream of output files: the sink the connections put frames in, its writer
// goroutine and its archiver (compression, retention). A Collector has one, or, when the
// output template has %{identity}, one per sender identity, each with its own files,
// rotation and retention.
type output struct {
	identity string
	sink     *sink
	syncs    chan *syncReq
	rotate   chan struct{}
	done     chan struct{} // closed when the writer has exited
	arch     *archiver
}

// outputs creates the outputs on demand and ends them together.
type outputs struct {
	c                 *Collector
	connsDone, giveUp <-chan struct{}
	fatal             chan<- error

	mu      sync.Mutex
	byID    map[string]*output
	all     []*output
	writers sync.WaitGroup
}

func newOutputs(c *Collector, connsDone, giveUp <-chan struct{}, fatal chan<- error) *outputs {
	return &outputs{c: c, connsDone: connsDone, giveUp: giveUp, fatal: fatal, byID: map[string]*output{}}
}

// get returns the output of identity (sanitised; "" without %{identity}), starting it on first
// use. Past maxIdentities new identities share overflowIdentity's output.
func (m *outputs) get(identity string) *output {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o, ok := m.byID[identity]; ok {
		return o
	}
	if identity != "" && len(m.byID) >= maxIdentities {
		m.c.log.Warn("too many sender identities; frames go to the overflow identity", "identity", identity, "max", maxIdentities, "overflow", overflowIdentity)
		if o, ok := m.byID[overflowIdentity]; ok {
			return o
		}
		identity = overflowIdentity
	}
	cfg := m.c.cfg
	tmpl := m.c.tmpl
	if identity != "" && tmpl != nil {
		var err error
		if tmpl, err = NewTemplate(withIdentity(cfg.Output, identity), cfg.TimeNames); err != nil {
			// Cannot happen: sanitised identities are plain names, and New checked the
			// template with one.
			m.c.log.Error("output template with identity", "identity", identity, "error", err)
			tmpl = m.c.tmpl
		}
	}
	log := m.c.log
	if identity != "" {
		log = log.With("identity", identity)
	}
	o := &output{identity: identity,
		sink:   newSink(cfg.BufferBytes),
		syncs:  make(chan *syncReq),
		rotate: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	if tmpl != nil {
		o.arch = newArchiver(cfg, log, &m.c.n, tmpl)
		o.arch.recover(tmpl.Dir(cfg.Now())) // before the writer opens a file there
		go o.arch.run()
	}
	w := newWriter(cfg, log, &m.c.n, tmpl, o.arch, m.fatal)
	m.writers.Add(1)
	go func() {
		defer m.writers.Done()
		defer close(o.done)
		w.run(o, m.connsDone, m.giveUp)
	}()
	m.byID[identity] = o
	m.all = append(m.all, o)
	if identity != "" {
		m.c.log.Info("new sender identity", "identity", identity)
	}
	return o
}

// rotateAll asks every writer to close its current file.
func (m *outputs) rotateAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.all {
		select {
		case o.rotate <- struct{}{}:
		default: // one request is already pending
		}
	}
}

// wait waits, once connsDone is closed, for every writer to finish, then for the archivers.
func (m *outputs) wait() {
	m.writers.Wait()
	m.mu.Lock()
	all := m.all
	m.mu.Unlock()
	for _, o := range all {
		if o.arch != nil {
			close(o.arch.queue)
			<-o.arch.done
		}
	}
}

// outputOf returns the output a connection's frames go to: the one output, or, with
// %{identity} in the template, the output of the sender's TLS identity (tlsID) or, lacking
// one, of the dnstap identity field of its first frame (nil while frames is nil).
func (c *Collector) outputOf(tlsID string, frames []byte) *output {
	switch {
	case !hasIdentity(c.cfg.Output):
		return c.outs.Load().get("")
	case tlsID != "":
		return c.outs.Load().get(tlsID)
	case frames == nil:
		return nil
	}
	return c.outs.Load().get(frameIdentity(frames))
}

// heldBytes returns the bytes the outputs' sinks hold (0 before Serve).
func (m *outputs) heldBytes() int64 {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, o := range m.all {
		n += o.sink.heldBytes()
	}
	return n
}
