// Package packaging builds the Debian packages of dnstapkit (dnstap-collector and
// dnstap-reader) in-process with nfpm, from the definitions beside it (dnstap-collector.yaml,
// dnstap-reader.yaml), the maintainer scripts in scripts/ and the units in ../systemd.
//
// A build is reproducible: the same binaries, version and time give the same bytes. The time
// is SOURCE_DATE_EPOCH, or the commit time of HEAD (CommitTime); it sets every mtime in the
// package and the date of the generated man pages.
//
//	t, err := packaging.CommitTime(ctx, ".")
//	path, err := packaging.BuildDeb(ctx, packaging.Spec{
//		Name: "dnstap-collector", Version: "0.1.0", Arch: "amd64",
//		Root: ".", BinDir: "dist", OutDir: "dist", Time: t,
//	})
package packaging
