package main

import (
	"flag"
	"strings"
)

// splitArgs separates flags from operands so that flags may also follow the file names, as
// GNU tools allow: "--" ends the flags, "-" is an operand (standard input), and a group of
// single-letter boolean flags ("-py") is split into its letters, as in dnstap-read. A flag
// that takes a value keeps the next argument with it, whatever that argument looks like.
func splitArgs(fs *flag.FlagSet, args []string) (flags, operands []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(operands, args[i+1:]...)
		}
		if a == "-" || !strings.HasPrefix(a, "-") {
			operands = append(operands, a)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if strings.Contains(name, "=") {
			flags = append(flags, a)
			continue
		}
		f := fs.Lookup(name)
		if f == nil && !strings.HasPrefix(a, "--") {
			if letters, ok := shortGroup(fs, name); ok {
				flags = append(flags, letters...)
				continue
			}
		}
		flags = append(flags, a)
		if f != nil && !isBool(f) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, operands
}

// shortGroup splits "py" into "-p", "-y" when each letter is a boolean flag of fs.
func shortGroup(fs *flag.FlagSet, name string) ([]string, bool) {
	if len(name) < 2 {
		return nil, false
	}
	out := make([]string, 0, len(name))
	for _, c := range name {
		f := fs.Lookup(string(c))
		if f == nil || !isBool(f) {
			return nil, false
		}
		out = append(out, "-"+string(c))
	}
	return out, true
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parseArgs parses args with fs, flags anywhere, and returns the operands.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	flags, operands := splitArgs(fs, args)
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	return append(operands, fs.Args()...), nil
}

// closest returns the name among names nearest to s by edit distance, when it is near enough
// to be a typo (at most 2 edits, or s a prefix of it); "" otherwise.
func closest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		d := editDistance(s, n)
		if len(s) >= 2 && strings.HasPrefix(n, s) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
