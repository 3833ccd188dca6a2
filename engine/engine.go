// Package engine holds what the Kafka and NATS JetStream sides of dnstapkit share: the URL
// form (kafka://broker1:9092,broker2:9092/topic, nats://server:4222/subject), the headers that
// travel with each frame and the message identity that lets the far side drop a frame sent
// twice. The forwarder's destinations (collector/forward/kafka, collector/forward/nats)
// publish with it; the consumers (engine/kafka, engine/nats) read the frames back for
// dnstap-reader and dnstap-collector --input. Frames are never decoded here: a message's
// value is one dnstap protobuf frame exactly as BIND wrote it.
package engine

import (
	"context"
	"fmt"
	"hash/maphash"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Headers that travel with each frame (Kafka record headers, NATS message headers).
const (
	// HeaderContentType is the Frame Streams content type of the value
	// (protobuf:dnstap.Dnstap).
	HeaderContentType = "Content-Type"
	// HeaderFile and HeaderOffset name the spool file and byte offset the frame was read
	// from on the router.
	HeaderFile   = "Dnstap-File"
	HeaderOffset = "Dnstap-Offset"
	// HeaderIdentity is the router's identity (also the Kafka record key).
	HeaderIdentity = "Dnstap-Identity"
	// HeaderMsgID is JetStream's deduplication header: MsgID(identity, fileID, offset).
	HeaderMsgID = "Nats-Msg-Id"
)

// URL is a parsed kafka:// or nats:// URL.
type URL struct {
	Scheme  string     // kafka or nats
	Servers []string   // host:port, at least one
	Name    string     // the Kafka topic or the NATS subject
	Query   url.Values // options after ?
}

// Default ports when a server has none.
var defaultPort = map[string]string{"kafka": "9092", "nats": "4222"}

// ParseURL parses scheme://host[:port][,host[:port]...]/name[?options]. A user or password
// in the URL is refused (give credentials in files, not on a command line).
func ParseURL(raw string) (URL, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || defaultPort[scheme] == "" {
		return URL{}, fmt.Errorf("URL %q: want kafka://HOST[:PORT][,HOST[:PORT]...]/TOPIC or nats://HOST[:PORT][,...]/SUBJECT", raw)
	}
	hosts, path, _ := strings.Cut(rest, "/")
	path, query, _ := strings.Cut(path, "?")
	u := URL{Scheme: scheme, Name: path}
	q, err := url.ParseQuery(query)
	if err != nil {
		return URL{}, fmt.Errorf("URL %q: %w", raw, err)
	}
	u.Query = q
	if strings.Contains(hosts, "@") {
		return URL{}, fmt.Errorf("URL %q: no user or password in the URL (use a credentials file)", raw)
	}
	for _, h := range strings.Split(hosts, ",") {
		if h == "" {
			return URL{}, fmt.Errorf("URL %q: an empty server name", raw)
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			host, port = strings.Trim(h, "[]"), defaultPort[scheme]
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" || strings.ContainsAny(host, "/[]") {
			return URL{}, fmt.Errorf("URL %q: bad server %q", raw, h)
		}
		u.Servers = append(u.Servers, net.JoinHostPort(host, port))
	}
	if err := u.checkName(); err != nil {
		return URL{}, fmt.Errorf("URL %q: %w", raw, err)
	}
	return u, nil
}

func (u URL) checkName() error {
	switch {
	case u.Name == "":
		if u.Scheme == "kafka" {
			return fmt.Errorf("no topic: want kafka://BROKER/TOPIC")
		}
		return fmt.Errorf("no subject: want nats://SERVER/SUBJECT")
	case u.Scheme == "kafka":
		// Kafka's rule: 1 to 249 of [a-zA-Z0-9._-].
		if len(u.Name) > 249 || strings.IndexFunc(u.Name, func(r rune) bool {
			return !(r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) >= 0 {
			return fmt.Errorf("topic %q: Kafka topics are 1-249 of a-z A-Z 0-9 . _ -", u.Name)
		}
	default:
		// A NATS subject: tokens separated by dots, no spaces; wildcards only to read.
		if strings.ContainsAny(u.Name, " \t\r\n") || strings.HasPrefix(u.Name, ".") || strings.HasSuffix(u.Name, ".") || strings.Contains(u.Name, "..") {
			return fmt.Errorf("subject %q: not a NATS subject", u.Name)
		}
	}
	return nil
}

// String is the URL without options (which may name files).
func (u URL) String() string {
	return u.Scheme + "://" + strings.Join(u.Servers, ",") + "/" + u.Name
}

// MsgID is the identity of a frame that is the same every time it is sent (after a retry,
// after a restart) and never shared by another frame: the router's identity, the spool
// file's identity (forward.Frame.FileID: its path and creation time) and the frame's byte
// offset in it. JetStream's duplicate window drops a message whose Nats-Msg-Id it has seen.
func MsgID(identity, fileID string, offset int64) string {
	return identity + "/" + fileID + "/" + strconv.FormatInt(offset, 10)
}

// DestinationURL parses the --forward URL of a scheme's destination (kafka or nats), which
// takes no options after ?, and checks the router's identity.
func DestinationURL(raw, scheme, identity string) (URL, error) {
	u, err := ParseURL(raw)
	if err != nil {
		return URL{}, fmt.Errorf("forward %w", err)
	}
	if u.Scheme != scheme {
		return URL{}, fmt.Errorf("forward URL %q: not %s://", raw, scheme)
	}
	if len(u.Query) > 0 {
		return URL{}, fmt.Errorf("forward URL %q: no options are known after ?", raw)
	}
	if err := CheckIdentity(identity); err != nil {
		return URL{}, fmt.Errorf("forward to %s: %w", u, err)
	}
	return u, nil
}

// IdentityOf returns the identity part of a MsgID ("" when id is not one).
func IdentityOf(id string) string {
	i, _, ok := strings.Cut(id, "/")
	if !ok {
		return ""
	}
	return i
}

// CheckIdentity refuses an identity that cannot start a MsgID (it names the router: the Kafka
// key, the first part of Nats-Msg-Id).
func CheckIdentity(id string) error {
	if id == "" || strings.ContainsAny(id, "/\r\n") || len(id) > 255 {
		return fmt.Errorf("identity %q: want 1-255 bytes without / or line breaks", id)
	}
	return nil
}

// Message is a frame read back from Kafka or JetStream.
type Message struct {
	// Value is the dnstap frame (the protobuf message) exactly as the router's spool held it.
	Value []byte
	// Identity is the router's identity (the Dnstap-Identity header, else the Kafka key or the
	// first part of the message id); "" when the message has none.
	Identity string
	// ID is the message's identity as the router gave it (engine.MsgID), "" when none.
	ID string
	// Time is when the engine stored the message.
	Time time.Time
	// Where names the message in the engine, for errors: topic/partition@offset or
	// stream#sequence.
	Where string
	// ContentType is the Content-Type header ("" when the message has none).
	ContentType string
}

// ContentTypeJSON is the Content-Type of a value that is the reader's JSON object of the frame
// (dnstap-collector --forward-format json), not the frame.
const ContentTypeJSON = "application/json"

// CheckContentType refuses a message whose Content-Type header names something other than
// want (the frames' content type): a topic or stream filled with --forward-format json holds
// JSON objects, which no dnstap decoder reads. A message without the header passes.
func (m Message) CheckContentType(want string) error {
	if m.ContentType == "" || m.ContentType == want {
		return nil
	}
	hint := ""
	if m.ContentType == ContentTypeJSON {
		hint = " (written with --forward-format json: read it with a JSON consumer)"
	}
	return fmt.Errorf("message %s holds %q, not %q%s", m.Where, m.ContentType, want, hint)
}

// ConsumeOptions say where to start and whether to wait for more.
type ConsumeOptions struct {
	// Since: the first message stored at or after this time (zero: the oldest kept).
	Since time.Time
	// Follow: after the last message, wait for new ones until the context ends. Without it,
	// Consume returns once it has read what was stored when it started.
	Follow bool
}

// Source is a durable consumer: a Kafka consumer group or a JetStream durable consumer that
// remembers, in the engine, how far its reader has stored the messages. dnstap-collector
// --input reads batches from it and commits each once the batch is written and fsync'd.
type Source interface {
	// Next returns the next messages (at most max), waiting at most wait for the first; none
	// (and no error) when nothing came. The messages are valid until the next call.
	Next(ctx context.Context, max int, wait time.Duration) ([]Message, error)
	// Commit records in the engine that every message Next returned is stored: a restart
	// resumes after them.
	Commit(ctx context.Context) error
	// Close releases the consumer (without committing).
	Close() error
}

// SeenIDs is how many message ids a Seen remembers by default: a resent batch follows its
// first copy closely, and a reader following a topic for days must not grow without end.
const SeenIDs = 1 << 20

// Seen remembers the last message ids added (a 64-bit hash of each), to drop a frame the
// engine holds twice. Not safe for concurrent use.
type Seen struct {
	seed maphash.Seed
	m    map[uint64]struct{}
	ring []uint64
	next int
}

// NewSeen returns a Seen of the last n ids.
func NewSeen(n int) *Seen {
	return &Seen{seed: maphash.MakeSeed(), m: make(map[uint64]struct{}), ring: make([]uint64, 0, n)}
}

// Add adds id and reports whether it was new (not among the last n added).
func (s *Seen) Add(id string) bool {
	return s.add(maphash.String(s.seed, id))
}

func (s *Seen) add(h uint64) bool {
	if _, ok := s.m[h]; ok {
		return false
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, h)
	} else {
		delete(s.m, s.ring[s.next])
		s.ring[s.next] = h
		s.next = (s.next + 1) % len(s.ring)
	}
	s.m[h] = struct{}{}
	return true
}
