package loadtest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// BindStats holds the counters of named's statistics channel that the load test uses.
type BindStats struct {
	Requests      int64 `json:"requests"`       // nsstats Requestv4 + Requestv6: queries received
	Responses     int64 `json:"responses"`      // nsstats Response: responses sent
	DnstapSuccess int64 `json:"dnstap_success"` // dnstapstats DNSTAPsuccess: frames handed to the fstrm I/O thread
	DnstapDropped int64 `json:"dnstap_dropped"` // dnstapstats DNSTAPdropped: frames dropped because an input queue was full
}

// Sub returns s - o, counter by counter.
func (s BindStats) Sub(o BindStats) BindStats {
	return BindStats{s.Requests - o.Requests, s.Responses - o.Responses,
		s.DnstapSuccess - o.DnstapSuccess, s.DnstapDropped - o.DnstapDropped}
}

// FetchStats reads /json/v1/server from named's statistics channel. BIND omits counters that
// are zero, so a missing counter reads as 0.
func FetchStats(ctx context.Context, baseURL string) (BindStats, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/json/v1/server", nil)
	if err != nil {
		return BindStats{}, fmt.Errorf("bind statistics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return BindStats{}, fmt.Errorf("bind statistics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return BindStats{}, fmt.Errorf("bind statistics %s: %s", req.URL, resp.Status)
	}
	var doc struct {
		NSStats     map[string]int64 `json:"nsstats"`
		DnstapStats map[string]int64 `json:"dnstapstats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return BindStats{}, fmt.Errorf("bind statistics %s: %w", req.URL, err)
	}
	return BindStats{
		Requests:      doc.NSStats["Requestv4"] + doc.NSStats["Requestv6"],
		Responses:     doc.NSStats["Response"],
		DnstapSuccess: doc.DnstapStats["DNSTAPsuccess"],
		DnstapDropped: doc.DnstapStats["DNSTAPdropped"],
	}, nil
}

// probe sends one UDP query for name/A to addr and reports whether an answer came back.
func probe(addr, name string) error {
	c, err := net.DialTimeout("udp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	q := []byte{0x56, 0x08, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0} // id 0x5608, QDCOUNT 1
	for l := range strings.SplitSeq(strings.TrimSuffix(name, "."), ".") {
		q = append(q, byte(len(l)))
		q = append(q, l...)
	}
	q = append(q, 0, 0, 1, 0, 1) // root, type A, class IN
	if err := c.SetDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
		return err
	}
	if _, err := c.Write(q); err != nil {
		return err
	}
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if n < 12 || binary.BigEndian.Uint16(buf) != 0x5608 || buf[2]&0x80 == 0 {
		return fmt.Errorf("%s: not a response to the probe", addr)
	}
	return nil
}
