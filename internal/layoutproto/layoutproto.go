// Package layoutproto is the framing between dotm and its layout program,
// dotm-layout, on the program's standard input and output.
//
// Every message is a frame: a header line of a kind and a decimal length,
// then that many bytes of payload:
//
//	KIND SP LENGTH LF PAYLOAD
//
// dotm-layout first sends a hello frame (payload "dotm-layout 1", the
// protocol version) once Graphviz is ready. Then dotm sends dot frames
// (one DOT graph each) and reads, for each in order, an svg frame (the
// laid-out graph) or an err frame (a UTF-8 message: this graph could not be
// laid out; the next one may be sent as usual). At the end of its input
// dotm-layout exits with status 0. A frame that does not follow this format
// ends the stream with an err frame and exit status 2; a Graphviz failure
// that leaves its memory in doubt is answered with an err frame, then exit
// status 3, and the caller starts a fresh process.
package layoutproto

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Frame kinds.
const (
	Hello = "hello"
	DOT   = "dot"
	SVG   = "svg"
	Err   = "err"
)

// Version is the hello frame's payload.
const Version = "dotm-layout 1"

// MaxPayload is the largest payload either side accepts.
const MaxPayload = 256 << 20

// maxHeader is the longest header line: a kind and a length.
const maxHeader = 32

// Write writes one frame and flushes it.
func Write(w *bufio.Writer, kind string, payload []byte) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("%s frame of %d bytes: more than the %d allowed", kind, len(payload), MaxPayload)
	}
	if _, err := fmt.Fprintf(w, "%s %d\n", kind, len(payload)); err != nil {
		return fmt.Errorf("write %s frame: %w", kind, err)
	}
	if _, err := w.Write(payload); err != nil {
		return fmt.Errorf("write %s frame: %w", kind, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s frame: %w", kind, err)
	}
	return nil
}

// Read reads one frame. It returns io.EOF only at the end of input between
// frames; a stream cut inside a frame is io.ErrUnexpectedEOF.
func Read(r *bufio.Reader) (kind string, payload []byte, err error) {
	var header []byte
	for len(header) <= maxHeader {
		b, err := r.ReadByte()
		if err == io.EOF && len(header) == 0 {
			return "", nil, io.EOF
		}
		if err == io.EOF {
			return "", nil, fmt.Errorf("frame header %q: %w", header, io.ErrUnexpectedEOF)
		}
		if err != nil {
			return "", nil, fmt.Errorf("read frame header: %w", err)
		}
		if b == '\n' {
			break
		}
		header = append(header, b)
	}
	kind, size, ok := strings.Cut(string(header), " ")
	n, err := strconv.Atoi(size)
	if !ok || len(header) > maxHeader || err != nil || n < 0 || kind == "" || strconv.Itoa(n) != size {
		return "", nil, fmt.Errorf("bad frame header %q: want KIND LENGTH", header[:min(len(header), maxHeader)])
	}
	if n > MaxPayload {
		return "", nil, fmt.Errorf("%s frame of %d bytes: more than the %d allowed", kind, n, MaxPayload)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", nil, fmt.Errorf("read %s frame of %d bytes: %w", kind, n, err)
	}
	return kind, payload, nil
}
