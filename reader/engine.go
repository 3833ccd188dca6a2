package reader

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"strings"
	"sync"

	"github.com/dnstapkit/dnstapkit/engine"
	ekafka "github.com/dnstapkit/dnstapkit/engine/kafka"
	enats "github.com/dnstapkit/dnstapkit/engine/nats"
)

// IsURL reports whether input names a Kafka topic or a NATS subject (kafka://, nats://)
// rather than a file.
func IsURL(input string) bool {
	return strings.HasPrefix(input, "kafka://") || strings.HasPrefix(input, "nats://")
}

// URLOptions say how to read a kafka:// or nats:// input.
type URLOptions struct {
	engine.ConsumeOptions
	Kafka ekafka.Auth
	NATS  enats.Auth
	// KeepDuplicates keeps a frame the engine holds twice (the same router, spool file and
	// offset, sent again after a failure); by default the second copy is dropped and counted
	// (among the last engine.SeenIDs message ids: a resent batch follows its first copy closely).
	KeepDuplicates bool
}

// URLStream is the Frame Streams form of a topic or subject: START, each message's frame,
// STOP. Decode it with NewDecoder(s, s.Name()); Close it when done.
type URLStream struct {
	name   string
	pr     *io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	messages   int
	duplicates int
	perID      map[string]int // messages per identity (duplicates not counted)
}

// OpenURL starts reading the topic or subject named by raw (kafka://broker/topic,
// nats://server/subject) and returns it as a Frame Streams stream.
func OpenURL(ctx context.Context, raw string, o URLOptions) (*URLStream, error) {
	u, err := engine.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	s := &URLStream{name: u.String(), pr: pr, cancel: cancel, done: make(chan struct{}), perID: map[string]int{}}
	go func() {
		defer close(s.done)
		bw := bufio.NewWriterSize(pw, 256<<10)
		_, _ = bw.Write(fsControl(controlStart, ContentType))
		seen := engine.NewSeen(engine.SeenIDs)
		var hdr [4]byte
		fn := func(m engine.Message) error {
			if err := m.CheckContentType(ContentType); err != nil {
				return err
			}
			if m.ID != "" && !o.KeepDuplicates {
				if !seen.Add(m.ID) {
					s.mu.Lock()
					s.duplicates++
					s.mu.Unlock()
					return nil
				}
			}
			s.mu.Lock()
			s.messages++
			s.perID[m.Identity]++
			s.mu.Unlock()
			binary.BigEndian.PutUint32(hdr[:], uint32(len(m.Value)))
			if _, err := bw.Write(hdr[:]); err != nil {
				return err
			}
			_, err := bw.Write(m.Value)
			if err == nil && o.Follow {
				err = bw.Flush() // a live reader shows each message at once
			}
			return err
		}
		switch u.Scheme {
		case "kafka":
			err = ekafka.Consume(ctx, u, o.Kafka, o.ConsumeOptions, fn)
		default:
			err = enats.Consume(ctx, u, o.NATS, o.ConsumeOptions, fn)
		}
		if err == nil {
			_, _ = bw.Write(fsControl(controlStop, ""))
			err = bw.Flush()
		}
		if err != nil {
			_ = pw.CloseWithError(err)
			return
		}
		_ = pw.Close()
	}()
	return s, nil
}

// Name is the URL without options.
func (s *URLStream) Name() string { return s.name }

// Read reads the Frame Streams bytes.
func (s *URLStream) Read(p []byte) (int, error) { return s.pr.Read(p) }

// Close stops the reading and waits for it to end.
func (s *URLStream) Close() error {
	s.cancel()
	_ = s.pr.Close()
	<-s.done
	return nil
}

// Counts returns the messages passed on, the duplicates dropped, and the messages per
// router identity.
func (s *URLStream) Counts() (messages, duplicates int, perIdentity map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	per := make(map[string]int, len(s.perID))
	for k, v := range s.perID {
		per[k] = v
	}
	return s.messages, s.duplicates, per
}

// fsControl encodes an escaped Frame Streams control frame with an optional content type.
func fsControl(typ uint32, contentType string) []byte {
	body := binary.BigEndian.AppendUint32(nil, typ)
	if contentType != "" {
		body = binary.BigEndian.AppendUint32(body, controlFieldContentType)
		body = binary.BigEndian.AppendUint32(body, uint32(len(contentType)))
		body = append(body, contentType...)
	}
	b := binary.BigEndian.AppendUint32(nil, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}
