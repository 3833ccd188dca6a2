package loadtest

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
)

// Zone is the generated authoritative zone named serves and the query mix dnsperf sends.
type Zone struct {
	Origin string // without the trailing dot, e.g. "load.test"
	Names  int    // number of owner names that exist (besides the apex)
}

// WriteZone writes a zone file with z.Names owner names. Every name has an A record; every 4th
// also an AAAA, every 7th a TXT, every 10th an MX (whose target is a name with an A, never a
// CNAME); every 13th name is a CNAME instead.
func (z Zone) WriteZone(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "$ORIGIN %s.\n$TTL 3600\n", z.Origin)
	fmt.Fprintf(bw, "@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 127.0.56.1\n")
	for i := range z.Names {
		if i%13 == 12 {
			fmt.Fprintf(bw, "h%d IN CNAME h%d\n", i, i-1)
			continue
		}
		fmt.Fprintf(bw, "h%d IN A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
		if i%4 == 0 {
			fmt.Fprintf(bw, "h%d IN AAAA fd00::%x\n", i, i)
		}
		if i%7 == 0 {
			fmt.Fprintf(bw, "h%d IN TXT \"load test record %d\"\n", i, i)
		}
		if i%10 == 0 {
			fmt.Fprintf(bw, "h%d IN MX 10 h%d\n", i, i-i%13)
		}
	}
	return bw.Flush()
}

// QueryMix says which share of the generated queries (in percent) ask for names that do not
// exist (NXDOMAIN) and for types a name does not have (NODATA); the rest get an answer.
type QueryMix struct {
	NXDomainPct int
	NoDataPct   int
}

// DefaultMix is the query mix of the load test: 80% answers, 15% NXDOMAIN, 5% NODATA.
var DefaultMix = QueryMix{NXDomainPct: 15, NoDataPct: 5}

// WriteQueries writes n lines of dnsperf input ("name type"), drawn with a fixed seed so every
// run sends the same queries.
func (z Zone) WriteQueries(w io.Writer, n int, mix QueryMix) error {
	if z.Names < 13 {
		return fmt.Errorf("zone has %d names: need at least 13 for the query mix", z.Names)
	}
	rng := rand.New(rand.NewPCG(8, 56))
	bw := bufio.NewWriter(w)
	for range n {
		i := rng.IntN(z.Names)
		p := rng.IntN(100)
		switch {
		case p < mix.NXDomainPct:
			fmt.Fprintf(bw, "nx%d.%s A\n", i, z.Origin)
		case p < mix.NXDomainPct+mix.NoDataPct:
			// h(4k+1) has an A but never an AAAA, and is never a CNAME when not 12 mod 13.
			j := i - i%4 + 1
			if j >= z.Names || j%13 == 12 {
				j = 1
			}
			fmt.Fprintf(bw, "h%d.%s AAAA\n", j, z.Origin)
		default:
			fmt.Fprintf(bw, "h%d.%s %s\n", i, z.Origin, z.typeOf(i, rng.IntN(4)))
		}
	}
	return bw.Flush()
}

// typeOf picks a type that name i has, from its record set.
func (z Zone) typeOf(i, pick int) string {
	if i%13 == 12 {
		return "CNAME"
	}
	types := []string{"A"}
	if i%4 == 0 {
		types = append(types, "AAAA")
	}
	if i%7 == 0 {
		types = append(types, "TXT")
	}
	if i%10 == 0 {
		types = append(types, "MX")
	}
	return types[pick%len(types)]
}
