// Command dotm-layout lays out Graphviz DOT graphs as SVG with the Graphviz
// built into it (goccy/go-graphviz, WebAssembly run by wazero). dotm starts
// it for --layout embedded, so that dotm itself never loads Graphviz: a
// command that needs no layout does not touch it at all.
//
// It reads a stream of graphs on standard input and answers each on
// standard output, in order, with length-prefixed frames (package
// internal/layoutproto describes them).
// A graph that cannot be laid out is an error for that graph; the next one
// is laid out as usual.
//
// The WebAssembly is compiled when the program starts, through a
// compilation cache in $TMPDIR/go-graphviz: whoever starts dotm-layout
// must point TMPDIR at a directory only they can write (dotm uses one
// inside its layout cache, or a fresh private temporary directory).
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/goccy/go-graphviz"
	"github.com/lwindolf/dotm/internal/layoutproto"
)

func main() { os.Exit(run(context.Background(), os.Stdin, os.Stdout, os.Stderr)) }

// run serves graphs from in until it ends. Its exit status is 0 at the end
// of input, 2 for a broken stream and 3 when Graphviz failed in a way that
// leaves its memory in doubt (the caller starts a fresh process).
func run(ctx context.Context, in io.Reader, out, stderr io.Writer) int {
	if len(os.Args) > 1 {
		fmt.Fprintln(stderr, "usage: dotm-layout < frames (started by dotm render --layout embedded; see its README)")
		return 2
	}
	r := bufio.NewReader(in)
	w := bufio.NewWriter(out)
	if err := layoutproto.Write(w, layoutproto.Hello, []byte(layoutproto.Version)); err != nil {
		fmt.Fprintf(stderr, "dotm-layout: %v\n", err)
		return 2
	}
	var gv *graphviz.Graphviz
	defer func() {
		if gv != nil {
			_ = gv.Close()
		}
	}()
	for {
		kind, dot, err := layoutproto.Read(r)
		if err == io.EOF {
			return 0
		}
		if err == nil && kind != layoutproto.DOT {
			err = fmt.Errorf("%s frame: want a dot frame", kind)
		}
		if err != nil {
			_ = layoutproto.Write(w, layoutproto.Err, []byte(err.Error()))
			fmt.Fprintf(stderr, "dotm-layout: %v\n", err)
			return 2
		}
		if gv == nil {
			if gv, err = graphviz.New(ctx); err != nil {
				_ = layoutproto.Write(w, layoutproto.Err, []byte("start graphviz: "+err.Error()))
				return 3
			}
		}
		svg, err, fatal := layout(ctx, gv, dot)
		if err != nil {
			err = layoutproto.Write(w, layoutproto.Err, []byte(err.Error()))
		} else {
			err = layoutproto.Write(w, layoutproto.SVG, svg)
		}
		if err != nil {
			fmt.Fprintf(stderr, "dotm-layout: %v\n", err)
			return 2
		}
		if fatal {
			return 3
		}
	}
}

// layouts are the Graphviz layouts a graph's layout attribute may name.
var layouts = []graphviz.Layout{graphviz.DOT, graphviz.SFDP, graphviz.NEATO, graphviz.FDP,
	graphviz.CIRCO, graphviz.TWOPI, graphviz.OSAGE, graphviz.PATCHWORK}

// layout lays out one graph with the layout its layout attribute names
// (dot by default). fatal says Graphviz panicked: its memory is suspect.
func layout(ctx context.Context, gv *graphviz.Graphviz, dot []byte) (svg []byte, err error, fatal bool) {
	defer func() {
		if r := recover(); r != nil {
			svg, err, fatal = nil, fmt.Errorf("graphviz failed: %v", r), true
		}
	}()
	g, err := graphviz.ParseBytes(dot)
	if err != nil {
		return nil, fmt.Errorf("parse DOT: %s", strings.TrimSpace(err.Error())), false
	}
	defer g.Close()
	name := graphviz.Layout(cmp.Or(g.GetStr("layout"), "dot"))
	known := false
	for _, l := range layouts {
		known = known || l == name
	}
	if !known {
		return nil, fmt.Errorf("unknown layout %q", name), false
	}
	gv.SetLayout(name)
	var buf bytes.Buffer
	if err := gv.Render(ctx, g, graphviz.SVG, &buf); err != nil {
		return nil, fmt.Errorf("graphviz: %w", err), false
	}
	return buf.Bytes(), nil, false
}
