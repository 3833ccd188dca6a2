package packaging

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// ManPage is a manual page generated from a program's -h output.
type ManPage struct {
	Name        string    // program name: "dnstap-reader"
	Section     string    // "1" for commands, "8" for daemons
	Summary     string    // the NAME line after the dash
	Version     string    // package version, shown in the footer
	Date        time.Time // shown in the footer (UTC date)
	Description []string  // paragraphs of DESCRIPTION
	Help        []byte    // the program's -h output, printed verbatim under OPTIONS
	Files       [][2]string
	SeeAlso     []string // "dnstap-read(1)"
}

// Roff renders m as a man(7) page.
func (m ManPage) Roff() []byte {
	var b bytes.Buffer
	title := "General Commands Manual"
	if m.Section == "8" {
		title = "System Manager's Manual"
	}
	fmt.Fprintf(&b, ".TH %s %s %q %q %q\n", strings.ToUpper(m.Name), m.Section,
		m.Date.UTC().Format("2006-01-02"), "dnstapkit "+m.Version, title)
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", m.Name, escape(m.Summary))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n[\\fIoptions\\fR]\n", m.Name)
	b.WriteString(".SH DESCRIPTION\n")
	for i, p := range m.Description {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		b.WriteString(escape(p) + "\n")
	}
	b.WriteString(".SH OPTIONS\nThe output of\n.B " + m.Name + " \\-h\\fR:\n.PP\n.nf\n")
	for _, line := range strings.Split(strings.TrimRight(string(m.Help), "\n"), "\n") {
		b.WriteString(escape(strings.ReplaceAll(line, "\t", "        ")) + "\n")
	}
	b.WriteString(".fi\n")
	if len(m.Files) > 0 {
		b.WriteString(".SH FILES\n")
		for _, f := range m.Files {
			fmt.Fprintf(&b, ".TP\n.I %s\n%s\n", f[0], escape(f[1]))
		}
	}
	if len(m.SeeAlso) > 0 {
		refs := make([]string, len(m.SeeAlso))
		for i, r := range m.SeeAlso {
			name, sec, _ := strings.Cut(strings.TrimSuffix(r, ")"), "(")
			refs[i] = fmt.Sprintf(".BR %s (%s)", name, sec)
		}
		b.WriteString(".SH SEE ALSO\n" + strings.Join(refs, ",\n") + "\n")
	}
	return b.Bytes()
}

// escape makes s safe as roff text: backslashes print as such, and a line cannot start a
// request or a control character.
func escape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
