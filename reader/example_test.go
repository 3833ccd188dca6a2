package reader_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dnstapkit/dnstapkit/reader"
)

// Print a capture the way BIND's dnstap-read does: here only the client queries (CQ) for
// fwd.test and names below it, from a capture of named 9.18 as a resolver, in UTC.
func Example() {
	d, err := reader.Open("testdata/golden/resolver.fstrm")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	err = reader.Render(d, os.Stdout, reader.RenderOptions{
		Mode:     reader.ModeText,
		Location: time.UTC,
		Filter:   &reader.Filter{Types: []reader.MessageType{reader.ClientQuery}, QNames: []string{"fwd.test"}},
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 01-Dec-2026 02:24:50.191 CQ 127.0.53.1:57107 -> 127.0.53.1:53 UDP 49b fwd.test/IN/A
	// 01-Dec-2026 02:24:50.223 CQ 127.0.53.1:41605 -> 127.0.53.1:53 TCP 49b fwd.test/IN/TXT
}

// Decode messages one by one and read their fields; Message.DNS summarises the DNS message
// (header, first question, EDNS) without a full parse.
func ExampleDecoder_Next() {
	d, err := reader.Open("testdata/golden/resolver.fstrm")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	for i := 0; i < 2; i++ {
		m, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		q := m.DNS()
		fmt.Printf("%s %s %s rcode %s\n", m.Type.Mnemonic(), q.QName, reader.TypeString(q.QType), reader.RcodeString(q.Rcode()))
	}
	// Output:
	// CQ local.test SOA rcode NOERROR
	// RQ . NS rcode NOERROR
}
