package aptrepo

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// Field is one field of a Debian control paragraph. Value is as written after the colon,
// without the leading space: continuation lines keep their newline and leading space.
type Field struct {
	Name, Value string
}

// Paragraph is a Debian control paragraph (deb-control(5)), its fields in order.
type Paragraph []Field

// Get returns the value of the field name (case-insensitive, as dpkg compares them) and
// whether it is there.
func (p Paragraph) Get(name string) (string, bool) {
	for _, f := range p {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// String returns the paragraph as it is written in a control file, ending in a newline.
func (p Paragraph) String() string {
	var b strings.Builder
	for _, f := range p {
		b.WriteString(f.Name)
		b.WriteString(":")
		if f.Value != "" && !strings.HasPrefix(f.Value, "\n") {
			b.WriteString(" ")
		}
		b.WriteString(f.Value)
		b.WriteString("\n")
	}
	return b.String()
}

// ParseParagraph parses the first paragraph of a control file. It refuses what dpkg
// refuses: a line that is neither a field nor a continuation, a continuation before any
// field, a field given twice, and an empty paragraph.
func ParseParagraph(data []byte) (Paragraph, error) {
	var p Paragraph
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20) // a Description line can be long; 1 MiB is plenty
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		switch {
		case strings.TrimSpace(text) == "":
			if len(p) > 0 {
				return p, nil
			}
		case text[0] == ' ' || text[0] == '\t':
			if len(p) == 0 {
				return nil, fmt.Errorf("control line %d: continuation line before any field", line)
			}
			p[len(p)-1].Value += "\n" + text
		default:
			name, value, ok := strings.Cut(text, ":")
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				return nil, fmt.Errorf("control line %d: %q is not a field", line, text)
			}
			if seen[strings.ToLower(name)] {
				return nil, fmt.Errorf("control line %d: field %s given twice", line, name)
			}
			seen[strings.ToLower(name)] = true
			p = append(p, Field{Name: name, Value: strings.TrimSpace(value)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("control: no field")
	}
	return p, nil
}
