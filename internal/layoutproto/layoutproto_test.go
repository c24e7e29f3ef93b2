package layoutproto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	frames := []struct{ kind, payload string }{{Hello, Version}, {DOT, "digraph { a -> b }"}, {Err, ""}, {SVG, "x\ny 12\n"}}
	for _, f := range frames {
		if err := Write(w, f.kind, []byte(f.payload)); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(&buf)
	for _, f := range frames {
		kind, payload, err := Read(r)
		if err != nil || kind != f.kind || string(payload) != f.payload {
			t.Fatalf("read %q %q, %v; want %q %q", kind, payload, err, f.kind, f.payload)
		}
	}
	if _, _, err := Read(r); err != io.EOF {
		t.Errorf("at the end: %v, want io.EOF", err)
	}
}

func TestBadFrames(t *testing.T) {
	for _, in := range []string{"dot\n", "dot x\n", "dot -1\n", "dot 01\n", " 3\nabc", "dot 10\nabc",
		"dot 999999999999\n", strings.Repeat("d", 100) + " 1\nx", "dot 3", "dot 268435457\n"} {
		_, _, err := Read(bufio.NewReader(strings.NewReader(in)))
		if err == nil || err == io.EOF {
			t.Errorf("%.40q: %v, want an error", in, err)
		}
	}
	_, _, err := Read(bufio.NewReader(strings.NewReader("dot 10\nabc")))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut frame: %v, want io.ErrUnexpectedEOF", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("dot 3\nabc"))
	f.Add([]byte("svg 0\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for {
			kind, payload, err := Read(r)
			if err != nil {
				return
			}
			var buf bytes.Buffer
			w := bufio.NewWriter(&buf)
			if err := Write(w, kind, payload); err != nil {
				t.Fatal(err)
			}
			k2, p2, err := Read(bufio.NewReader(&buf))
			if err != nil || k2 != kind || !bytes.Equal(p2, payload) {
				t.Fatalf("round trip of %q: %q %v", kind, k2, err)
			}
		}
	})
}
