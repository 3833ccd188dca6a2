// Package bindcontainer runs the bind9-dnstap package under systemd in a container for the
// e2e suite, the way a router runs it, in the shape of a testcontainers-go module:
//
//	img, err := bindcontainer.Image(ctx, "debian:bullseye", res.Depends, log)
//	ctr, err := bindcontainer.Run(ctx, img,
//		bindcontainer.WithDeb(collectorDeb, readerDeb), // first: the socket before named
//		bindcontainer.WithDeb(res.Deb))
//	testcontainers.CleanupContainer(t, ctr)
//	msg, err := ctr.QueryNet(ctx, "udp", "localhost.", dns.TypeA)
//	file, err := ctr.Rotate(ctx) // a finished capture of named's dnstap messages
//
// Image is a systemd image of the distro (internal/baseimage, booted without --privileged)
// with the package's dependencies already installed, cached by its inputs. Run boots it,
// installs the packages with apt-get in the order of the WithDeb options (their maintainer
// scripts run under systemd: the collector's socket is enabled and started, then
// bind9-dnstap's postinst enables and starts named.service), and waits for named to be
// active. named's default configuration sends dnstap to /var/cache/bind/dnstap.sock, the
// collector's socket; the collector writes /var/log/dnstap. Ports 53/udp and 53/tcp are
// mapped.
package bindcontainer
