package collector

import (
	"bytes"
	"encoding/binary"

	fs "github.com/farsightsec/golang-framestream"
)

func startFrame() fs.ControlFrame {
	return fs.ControlFrame{ControlType: fs.CONTROL_START, ContentTypes: [][]byte{ctDnstap}}
}
func stopFrame() fs.ControlFrame { return fs.ControlFrame{ControlType: fs.CONTROL_STOP} }
func readyFrame(ct string) fs.ControlFrame {
	return fs.ControlFrame{ControlType: fs.CONTROL_READY, ContentTypes: [][]byte{[]byte(ct)}}
}

func writeFrame(b *bytes.Buffer, p []byte) {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(p)))
	b.Write(hdr[:])
	b.Write(p)
}

func acceptFrame() fs.ControlFrame {
	return fs.ControlFrame{ControlType: fs.CONTROL_ACCEPT, ContentTypes: [][]byte{ctDnstap}}
}

func readyTypes(cts ...string) fs.ControlFrame {
	cf := fs.ControlFrame{ControlType: fs.CONTROL_READY}
	for _, ct := range cts {
		cf.ContentTypes = append(cf.ContentTypes, []byte(ct))
	}
	return cf
}

func startTypes(ct string) fs.ControlFrame {
	return fs.ControlFrame{ControlType: fs.CONTROL_START, ContentTypes: [][]byte{[]byte(ct)}}
}
