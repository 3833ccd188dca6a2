package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
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
			env:  map[string]string{"DNSTAP_SYSTEMD_SOCKET": "true", "DNSTAP_WRITE": "/tmp/x", "DNSTAP_SOCKET_GROUP": "root"},
			check: func(t *testing.T, s settings) {
				if !s.systemd || s.socket.Group != "root" {
					t.Errorf("%+v", s)
				}
			},
		},
		{
			name: "fd store: off by default, on by flag or env",
			args: strings.Fields("--systemd-socket --systemd-fdstore -w /x"),
			check: func(t *testing.T, s settings) {
				if !s.fdstore || !s.systemd {
					t.Errorf("--systemd-fdstore: fdstore %v systemd %v", s.fdstore, s.systemd)
				}
				if d, err := resolve(nil, env(map[string]string{"DNSTAP_SYSTEMD_FDSTORE": "true", "DNSTAP_WRITE": "/x"}), &bytes.Buffer{}); err != nil || !d.fdstore {
					t.Errorf("DNSTAP_SYSTEMD_FDSTORE=true: %v %v", d.fdstore, err)
				}
				if d, err := resolve(strings.Fields("-w /x"), env(nil), &bytes.Buffer{}); err != nil || d.fdstore {
					t.Errorf("default: fdstore %v %v", d.fdstore, err)
				}
			},
		},
		{
			name: "idle timeout: default, and 0 for never",
			args: strings.Fields("-w /x"),
			check: func(t *testing.T, s settings) {
				if s.cfg.IdleTimeout != time.Hour {
					t.Errorf("idle timeout %v, want 1h", s.cfg.IdleTimeout)
				}
				if s, _ := resolve(strings.Fields("-w /x --idle-timeout 0"), env(nil), &bytes.Buffer{}); s.cfg.IdleTimeout >= 0 {
					t.Errorf("--idle-timeout 0: %v, want never (negative)", s.cfg.IdleTimeout)
				}
			},
		},
		{name: "negative idle timeout", args: strings.Fields("-w /x --idle-timeout -1s"), wantErr: "--idle-timeout: -1s, must not be negative"},
		{name: "unknown socket group", args: strings.Fields("-w /x -u /tmp/s --socket-group no-such-group-dnstapkit"), wantErr: `--socket-owner/--socket-group: socket group "no-such-group-dnstapkit"`},
		{name: "unknown socket owner", env: map[string]string{"DNSTAP_WRITE": "/x", "DNSTAP_SOCKET_OWNER": "no-such-user-dnstapkit"}, wantErr: `socket owner "no-such-user-dnstapkit"`},
		{name: "buffer smaller than a frame", args: strings.Fields("-w /x --buffer 1M --max-frame-size 2M"), wantErr: "buffer: 1048576 bytes, must be at least 2097156"},
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
	if code := exitCode(runEnv(context.Background(), []string{"--help"}, env(nil), &out, &errOut), &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"-t, --type", "-u, --unix", "-a, --tcp", "-p, --port", "-b, --buffersize", "-c, --maxconns", "-w, --write", "-s, --split", "--gmtime", "--localtime", "[env DNSTAP_WRITE]"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("help lacks %q", f)
		}
	}
	out.Reset()
	if code := exitCode(runEnv(context.Background(), []string{"--version"}, env(nil), &out, &errOut), &errOut); code != 0 || !strings.HasPrefix(out.String(), "dnstap-collector ") {
		t.Errorf("--version: %d %q", code, out.String())
	}
	if code := exitCode(runEnv(context.Background(), []string{"-s", "x"}, env(nil), &out, &errOut), &errOut); code != exitUsage {
		t.Errorf("bad flag: exit %d, want %d", code, exitUsage)
	}
}

// TestUnknownSocketOwnerOrGroupExits2: an owner or group that does not exist is a
// configuration error (exit 2), found before anything listens.
func TestUnknownSocketOwnerOrGroupExits2(t *testing.T) {
	for _, flag := range []string{"--socket-group", "--socket-owner"} {
		dir := t.TempDir()
		var out, errOut bytes.Buffer
		args := []string{"-u", dir + "/s", "-w", dir + "/o.fstrm", flag, "no-such-name-dnstapkit"}
		if code := exitCode(runEnv(context.Background(), args, env(nil), &out, &errOut), &errOut); code != exitUsage {
			t.Errorf("%s no-such-name-dnstapkit: exit %d, want %d\n%s", flag, code, exitUsage, errOut.String())
		}
		if !strings.Contains(errOut.String(), `"no-such-name-dnstapkit"`) {
			t.Errorf("%s: the error does not name the value:\n%s", flag, errOut.String())
		}
	}
}

func TestOutputHint(t *testing.T) {
	systemd := env(map[string]string{"INVOCATION_ID": "x"})
	tests := []struct {
		err    error
		getenv func(string) string
		want   string
	}{
		{fmt.Errorf("mkdir /srv/x: %w", syscall.EROFS), systemd, "the directory is read-only for this process; dnstap-collector.service may write only below its ReadWritePaths="},
		{fmt.Errorf("access: %w", syscall.EACCES), systemd, "may not create files there; dnstap-collector.service may write only below its ReadWritePaths="},
		{fmt.Errorf("access: %w", syscall.EACCES), env(nil), "may not create files there: give the directory to this user"},
		{errors.New("other"), systemd, "check -w/DNSTAP_WRITE"},
	}
	for _, tc := range tests {
		if got := outputHint(tc.err, tc.getenv); !strings.Contains(got, tc.want) {
			t.Errorf("outputHint(%v) = %q, want it to hold %q", tc.err, got, tc.want)
		}
	}
}
