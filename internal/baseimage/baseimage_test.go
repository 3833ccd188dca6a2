package baseimage

import (
	"strings"
	"testing"
)

func TestParseDistro(t *testing.T) {
	tests := []struct {
		in      string
		tag     string
		suite   string
		wantErr string
	}{
		{in: "debian:bookworm", tag: "debian-bookworm", suite: "bookworm"},
		{in: "Debian:Bullseye", tag: "debian-bullseye", suite: "bullseye"},
		{in: "debian:trixie", tag: "debian-trixie", suite: "trixie"},
		{in: "ubuntu:18.04", tag: "ubuntu-18.04", suite: "bionic"},
		{in: "ubuntu:bionic", tag: "ubuntu-18.04", suite: "bionic"},
		{in: "debian:sid", wantErr: "known are debian:bookworm, debian:bullseye, debian:trixie, ubuntu:18.04"},
		{in: "", wantErr: "unknown distro"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDistro(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDistro(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Tag() != tt.tag || d.Suite != tt.suite {
				t.Errorf("ParseDistro(%q) = tag %q suite %q, want %q %q", tt.in, d.Tag(), d.Suite, tt.tag, tt.suite)
			}
		})
	}
}

func TestHostMirrors(t *testing.T) {
	bookworm, _ := ParseDistro("debian:bookworm")
	bionic, _ := ParseDistro("ubuntu:18.04")
	tests := []struct {
		name    string
		root    string
		distro  Distro
		env     map[string]string
		want    Mirrors
		wantErr string
	}{
		{name: "deb822", root: "testdata/deb822", distro: bookworm,
			want: Mirrors{"http://mirror.invalid/debian", "http://mirror.invalid/debian-security"}},
		{name: "one-line with options", root: "testdata/oneline", distro: bookworm,
			want: Mirrors{"http://one.invalid/debian", "http://one.invalid/debian-security"}},
		{name: "env wins", root: "testdata/deb822", distro: bookworm, env: map[string]string{"DEBIAN_MIRROR": "http://env.invalid/debian/"},
			want: Mirrors{Archive: "http://env.invalid/debian"}},
		{name: "no source", root: "testdata/empty", distro: bookworm, wantErr: "set DEBIAN_MIRROR"},
		{name: "ubuntu needs a mirror", root: "testdata/deb822", distro: bionic, wantErr: "set UBUNTU_MIRROR"},
		{name: "ubuntu from env", root: "testdata/deb822", distro: bionic, env: map[string]string{"UBUNTU_MIRROR": "http://u.invalid/ubuntu"},
			want: Mirrors{Archive: "http://u.invalid/ubuntu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DEBIAN_MIRROR", "")
			t.Setenv("UBUNTU_MIRROR", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := HostMirrors(tt.distro, tt.root)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("HostMirrors = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSourcesList(t *testing.T) {
	bullseye, _ := ParseDistro("debian:bullseye")
	bionic, _ := ParseDistro("ubuntu:18.04")
	tests := []struct {
		name   string
		distro Distro
		m      Mirrors
		src    bool
		want   string
	}{
		{"debian with security", bullseye, Mirrors{"http://m/debian", "http://m/debian-security"}, false,
			"deb http://m/debian bullseye main\ndeb http://m/debian bullseye-updates main\ndeb http://m/debian-security bullseye-security main\n"},
		{"debian without security, with sources", bullseye, Mirrors{Archive: "http://m/debian"}, true,
			"deb http://m/debian bullseye main\ndeb http://m/debian bullseye-updates main\n" +
				"deb-src http://m/debian bullseye main\ndeb-src http://m/debian bullseye-updates main\n"},
		{"ubuntu", bionic, Mirrors{Archive: "http://m/ubuntu"}, false,
			"deb http://m/ubuntu bionic main universe\ndeb http://m/ubuntu bionic-updates main universe\ndeb http://m/ubuntu bionic-security main universe\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SourcesList(tt.distro, tt.m, tt.src); got != tt.want {
				t.Errorf("SourcesList =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
