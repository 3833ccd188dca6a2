// Package tapct holds the Frame Streams content type of dnstap, the one fact that the
// collector, the reader and their test and bench helpers share. It is a leaf (a constant,
// no tooling), the one package under internal/ that collector/ and reader/ import.
package tapct

// ContentType is the Frame Streams content type of dnstap data (golang-dnstap's
// FSContentType), offered in READY and START and written in every file's START frame.
const ContentType = "protobuf:dnstap.Dnstap"
