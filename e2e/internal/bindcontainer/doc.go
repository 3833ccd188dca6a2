// Package bindcontainer runs the bind9-dnstap package in a container for the e2e suite, in
// the shape of a testcontainers-go module:
//
//	ctr, err := bindcontainer.Run(ctx, baseImage, bindcontainer.WithDeb("dist/bind9-dnstap_....deb"))
//	testcontainers.CleanupContainer(t, ctr)
//	require no error...
//	msg, err := ctr.Query(ctx, "localhost.", dns.TypeA)
//	capture, err := ctr.StopCapture(ctx) // a Frame Streams file of named's dnstap messages
//
// The container starts from a plain distro image (internal/baseimage), installs the .deb
// with `apt-get install ./x.deb` (so its dependencies come from the distro's archive, as on
// a real machine), starts a dnstap collector on /var/cache/bind/dnstap.sock as the bind user
// (fstrm_capture from fstrm-bin, or the binary given to WithCollector, which takes the same
// flags), then named in the foreground of the log. Ports 53/udp and 53/tcp are mapped.
package bindcontainer
