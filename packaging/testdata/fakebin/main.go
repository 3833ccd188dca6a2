// Command fakebin stands in for dnstap-collector and dnstap-reader in the packaging tests:
// a small static program with flags, whose -h output becomes the man page.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	fs := flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	fs.String("u", "", "unix socket path to read from")
	fs.String("w", "", "file to write output to")
	fs.Bool("version", false, "print the version and exit")
	_ = fs.Parse(os.Args[1:])
	fmt.Println("fakebin")
}
