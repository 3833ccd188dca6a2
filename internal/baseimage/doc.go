// Package baseimage makes the local container base images that every dnstapkit container
// build and test starts from, on machines where no container registry may be reachable.
//
// Ensure(ctx, "debian:bookworm") returns a local image reference such as
// "dnstapkit/base:debian-bookworm", building the image when it is missing or was made from
// other inputs. It first tries `docker pull` of the distro image with a short timeout (the
// fast path where a registry answers); otherwise it runs `debootstrap --variant=minbase`
// from an apt mirror and `docker import`s the tree. The mirror is read at run time, never
// written into the repository:
//
//   - DEBIAN_MIRROR or UBUNTU_MIRROR (for example http://host/debian), when set;
//   - otherwise, for Debian, the first `deb` source of the host
//     (/etc/apt/sources.list.d/*.sources in deb822 form, then /etc/apt/sources.list).
//
// An Ubuntu image (ubuntu:18.04) needs a pullable image or UBUNTU_MIRROR.
//
// The image's /etc/apt/sources.list points to the same mirror (plus the distro's -updates
// and -security suites where the host has a security mirror), so containers on the default
// bridge can apt-get install. Recommends are off, DEBIAN_FRONTEND=noninteractive is set and
// /usr/sbin/policy-rc.d stops maintainer scripts from starting services.
//
// WithSystemd() makes a second image on top ("dnstapkit/base:debian-bookworm-systemd")
// with systemd as PID 1 and no policy-rc.d, for tests of units and maintainer scripts. Run
// it without --privileged but with
//
//	--tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:ro
//
// (RunArgsSystemd lists these flags, SystemdTmpfs and SystemdMounts give them to
// testcontainers-go).
//
// Images carry the label org.dnstapkit.inputs, a hash of everything that went into them
// (distro, mirror, recipe); an image whose label matches is reused as it is. A file lock
// in the temporary directory keeps two processes from building the same image at once.
package baseimage
