package bindtext

import (
	"strings"
	"testing"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr string
	}{
		{in: "9.18", want: Format918},
		{in: "9.14", want: Format914},
		{in: "9.14.12", want: Format914},
		{in: "9.20", want: Format920},
		{in: "9.16", wantErr: `unknown dnstap-read format "9.16": known are 9.14, 9.18, 9.20`},
		{in: "", wantErr: "unknown dnstap-read format"},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseFormat(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != strings.Join(strings.Split(tt.in, ".")[:2], ".") {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestFormatTypes: 9.14 has no code for the types after ZONEMD; the others name them.
func TestFormatTypes(t *testing.T) {
	tests := []struct {
		f    Format
		typ  uint16
		want string
	}{
		{Format918, 65, "HTTPS"},
		{Format920, 64, "SVCB"},
		{Format914, 65, "TYPE65"},
		{Format914, 261, "TYPE261"},
		{Format914, 63, "ZONEMD"},
		{Format914, 65000, "TYPE65000"},
	}
	for _, tt := range tests {
		if got := string(tt.f.AppendType(nil, tt.typ)); got != tt.want {
			t.Errorf("Format%s.AppendType(%d) = %q, want %q", tt.f, tt.typ, got, tt.want)
		}
	}
}
