// Package bind builds BIND 9 from source with --enable-dnstap, in containers, and packages
// it as the bind9-dnstap .deb.
//
// The version table (Versions, Lookup) gives each known release's tarball URL at ISC, its
// SHA-256, the Debian suite whose source package carries the same tarball, the configure
// flags and the build dependencies. FetchSource finds a tarball (a local one, ISC, or
// Debian's source package) and refuses one whose checksum is not the table's. Build runs
// the recipe (recipe/build.sh) in a builder container made from internal/baseimage plus
// the build dependencies, copies the installed tree out and calls BuildDeb, which packages
// it with nfpm together with the default named.conf (NamedConf, with DnstapSnippet in its
// options), named.service and the maintainer scripts in debian/.
//
// Everything is cached by its inputs under .cache/bind: a Build with nothing changed only
// writes the package again.
package bind
