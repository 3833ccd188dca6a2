package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/collector"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, s settings)
		wantErr string
	}{
		{
			name: "fstrm_capture command line",
			args: strings.Fields("-t protobuf:dnstap.Dnstap -u /var/cache/bind/dnstap.sock -w /var/log/dnstap/%Y%m%d.fstrm -s 86400 --gmtime -b 131072 -c 10"),
			check: func(t *testing.T, s settings) {
				c := s.cfg
				if c.ContentType != collector.DefaultContentType || s.units[0] != "/var/cache/bind/dnstap.sock" || c.Output != "/var/log/dnstap/%Y%m%d.fstrm" ||
					c.RotateEvery != 24*time.Hour || c.TimeNames != collector.NamesUTC || c.ReadBufferSize != 131072 || c.MaxConns != 10 {
					t.Errorf("%+v", s)
				}
			},
		},
		{
			name: "long fstrm_capture names and tcp",
			args: strings.Fields("--type protobuf:dnstap.Dnstap --tcp 127.0.55.1 --port 6000 --write - --localtime"),
			check: func(t *testing.T, s settings) {
				if s.tcp != "127.0.55.1:6000" || s.cfg.Output != "-" || s.cfg.Stream == nil || s.cfg.TimeNames != collector.NamesLocal {
					t.Errorf("%+v", s)
				}
			},
		},
		{
			name: "flag beats env beats default",
			args: strings.Fields("-w /tmp/flag.fstrm"),
			env:  map[string]string{"DNSTAP_WRITE": "/tmp/env.fstrm", "DNSTAP_UNIX": "/run/a.sock /run/b.sock", "DNSTAP_KEEP_FILES": "30", "DNSTAP_COMPRESS": "zstd", "DNSTAP_ROTATE_SIZE": "100M"},
			check: func(t *testing.T, s settings) {
				if s.cfg.Output != "/tmp/flag.fstrm" || len(s.units) != 2 || s.cfg.KeepFiles != 30 || s.cfg.Compress != "zstd" ||
					s.cfg.RotateBytes != 100<<20 || s.cfg.MaxConns != 64 || s.socket.Mode != 0o660 {
					t.Errorf("%+v", s)
				}
				joined := strings.Join(s.effective, "\n")
				for _, want := range []string{"write=/tmp/flag.fstrm (flag)", "keep-files=30 (env DNSTAP_KEEP_FILES)", "maxconns=64 (default)"} {
					if !strings.Contains(joined, want) {
						t.Errorf("effective config lacks %q:\n%s", want, joined)
					}
				}
			},
		},
		{
			name: "systemd socket from env",
			env:  map[string]string{"DNSTAP_SYSTEMD_SOCKET": "true", "DNSTAP_WRITE": "/tmp/x", "DNSTAP_SOCKET_GROUP": "bind"},
			check: func(t *testing.T, s settings) {
				if !s.systemd || s.socket.Group != "bind" {
					t.Errorf("%+v", s)
				}
			},
		},
		{name: "no output", args: []string{"-u", "/tmp/s"}, wantErr: "output: no output path (fstrm_capture -w)"},
		{name: "split not a number", args: strings.Fields("-w /x -s soon"), wantErr: `-s: "soon" is not a number of seconds`},
		{name: "gmtime and localtime", args: strings.Fields("-w /x --gmtime --localtime"), wantErr: "--gmtime and --localtime exclude each other"},
		{name: "port without address", args: strings.Fields("-w /x -p 53"), wantErr: "-a and -p go together"},
		{name: "bad env size", args: strings.Fields("-w /x"), env: map[string]string{"DNSTAP_BUFFER": "lots"}, wantErr: `--buffer: "lots" is not a size`},
		{name: "bad mode", args: strings.Fields("-w /x --socket-mode 999"), wantErr: `--socket-mode: "999" is not an octal mode`},
		{name: "unknown flag", args: strings.Fields("-w /x --frobnicate"), wantErr: "flag provided but not defined: -frobnicate"},
		{name: "argument", args: strings.Fields("-w /x extra"), wantErr: `unexpected argument "extra"`},
		{name: "bad strftime", args: strings.Fields("-w /x/%Q --gmtime"), wantErr: "unsupported conversion %Q"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := resolve(tc.args, env(tc.env), &bytes.Buffer{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}

func TestHelpListsFstrmCaptureFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--help"}, env(nil), &out, &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"-t, --type", "-u, --unix", "-a, --tcp", "-p, --port", "-b, --buffersize", "-c, --maxconns", "-w, --write", "-s, --split", "--gmtime", "--localtime", "[env DNSTAP_WRITE]"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("help lacks %q", f)
		}
	}
	out.Reset()
	if code := run([]string{"--version"}, env(nil), &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "dnstap-collector ") {
		t.Errorf("--version: %d %q", code, out.String())
	}
	if code := run([]string{"-s", "x"}, env(nil), &out, &errOut); code != exitUsage {
		t.Errorf("bad flag: exit %d, want %d", code, exitUsage)
	}
}
