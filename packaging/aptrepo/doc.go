// Package aptrepo writes a signed apt repository from .deb files: the pool, and for each
// suite dists/<suite>/Release, InRelease and Release.gpg with Packages and Packages.gz for
// each architecture of one component, main. It is what `go tool mage repo` runs on dist/.
//
// The format is the one apt has read since long before Ubuntu 18.04's apt 1.6: a
// clearsigned InRelease and a detached Release.gpg (both OpenPGP, RSA keys, SHA-512
// signatures), MD5Sum, SHA256 and SHA512 lists in Release (apt 1.6 needs SHA256 and reads
// SHA512), and the usual pool/main/<initial>/<name>/ layout. A package name may have many
// versions in one suite (several BIND series side by side); apt picks the newest unless
// told a version.
//
//	key, _ := aptrepo.LoadKey("/secure/repo-key.asc", "")
//	deb, _ := aptrepo.ReadDeb("dist/dnstap-collector_1.0.0_amd64.deb")
//	err := aptrepo.Build(aptrepo.Options{Dir: "dist/repo", Key: key,
//		Suites: []aptrepo.Suite{{Codename: "bookworm", Debs: []*aptrepo.Deb{deb}}}})
//
// A router then needs the public key (Key.PublicKeyring) and one line:
//
//	deb [signed-by=/usr/share/keyrings/dnstapkit-archive-keyring.gpg] http://repo.example.net/dnstapkit bookworm main
package aptrepo
