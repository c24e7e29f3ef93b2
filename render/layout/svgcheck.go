package layout

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// svgNS is the namespace of SVG elements.
const svgNS = "http://www.w3.org/2000/svg"

// graphvizDoctype is the one document type declaration Graphviz writes,
// with its white space collapsed.
const graphvizDoctype = `DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"`

// svgElements are the elements Graphviz's SVG output is made of. Anything
// else (script, foreignObject, iframe, embed, object, use, animate, style,
// ...) is not something dotm's layout writes.
var svgElements = map[string]bool{
	"svg": true, "g": true, "title": true, "desc": true, "text": true, "tspan": true,
	"polygon": true, "polyline": true, "ellipse": true, "circle": true, "rect": true,
	"path": true, "line": true, "a": true, "defs": true, "linearGradient": true,
	"radialGradient": true, "stop": true,
}

// checkSVG tells whether svg is what dotm's layout writes and so safe to
// inline into a page: one well-formed SVG document of Graphviz's elements,
// in the SVG namespace, no event attributes, no references outside the
// document or the site (only #fragments and relative links), no entity
// declarations or document type but Graphviz's own, no processing
// instruction but the XML declaration. It tokenises with encoding/xml,
// as a page's reader would parse it, rather than searching for patterns.
func checkSVG(svg []byte) error {
	if bytes.Contains(svg, []byte("<![CDATA[")) {
		return errors.New("CDATA section")
	}
	d := xml.NewDecoder(bytes.NewReader(svg))
	d.Strict = true
	depth, roots := 0, 0
	for {
		offset := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if roots++; roots > 1 || t.Name.Local != "svg" {
					return fmt.Errorf("root element <%s>: want one <svg>", t.Name.Local)
				}
				// a page inlines the document from its first "<svg" on
				if int64(bytes.Index(svg, []byte("<svg"))) != offset {
					return errors.New(`"<svg" before the root element`)
				}
			}
			depth++
			if err := checkElement(t); err != nil {
				return err
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text outside <svg>")
			}
		case xml.Comment:
			// an HTML parser ends comments differently (<!-->, --!>)
			if bytes.ContainsAny(t, "<>") || bytes.HasPrefix(t, []byte("-")) || bytes.HasSuffix(t, []byte("-")) {
				return errors.New("markup in a comment")
			}
		case xml.ProcInst:
			if t.Target != "xml" {
				return fmt.Errorf("processing instruction <?%s", t.Target)
			}
		case xml.Directive:
			if strings.Join(strings.Fields(string(t)), " ") != graphvizDoctype {
				return fmt.Errorf("declaration <!%.40s>", t)
			}
		}
	}
	if roots != 1 {
		return errors.New("no <svg> element")
	}
	return nil
}

// checkElement checks one start tag: a Graphviz element in the SVG
// namespace, and attributes that run nothing and load nothing.
func checkElement(t xml.StartElement) error {
	if t.Name.Space != svgNS || !svgElements[t.Name.Local] {
		return fmt.Errorf("element <%s> (namespace %q)", t.Name.Local, t.Name.Space)
	}
	for _, a := range t.Attr {
		name := strings.ToLower(a.Name.Local)
		switch {
		case strings.HasPrefix(name, "on"):
			return fmt.Errorf("<%s %s>: event attribute", t.Name.Local, a.Name.Local)
		case a.Name.Space == "xml" || a.Name.Space == "http://www.w3.org/XML/1998/namespace":
			if name != "space" && name != "lang" {
				return fmt.Errorf("<%s xml:%s>", t.Name.Local, a.Name.Local)
			}
		case name == "href" || name == "src" || name == "action" || name == "formaction":
			if !localLink(a.Value) {
				return fmt.Errorf("<%s %s=%q>: external reference", t.Name.Local, a.Name.Local, a.Value)
			}
		}
		if name == "title" {
			continue // a link's tooltip (xlink:title): text, which no CSS reads
		}
		if err := checkURLs(a.Value); err != nil {
			return fmt.Errorf("<%s %s>: %w", t.Name.Local, a.Name.Local, err)
		}
	}
	return nil
}

// localLink tells a #fragment or a relative link within the site (as dotm
// writes them: no scheme, no host, no absolute path) from anything else.
func localLink(v string) bool {
	if strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == '\\' || r == 0x7f }) {
		return false
	}
	if strings.HasPrefix(v, "#") {
		return true
	}
	if v == "" || strings.HasPrefix(v, "/") {
		return false
	}
	i := strings.IndexAny(v, "/?#")
	if i < 0 {
		i = len(v)
	}
	return !strings.Contains(v[:i], ":")
}

// checkURLs refuses CSS in an attribute value that loads something:
// url() other than url(#fragment) (Graphviz's gradients), @import, CSS
// escapes and expression().
func checkURLs(v string) error {
	low := strings.ToLower(v)
	if strings.Contains(low, "@import") || strings.Contains(low, "expression(") || strings.Contains(v, `\`) {
		return fmt.Errorf("CSS in %q", v)
	}
	for rest := low; ; {
		i := strings.Index(rest, "url(")
		if i < 0 {
			return nil
		}
		rest = strings.TrimLeft(rest[i+4:], " \t\n\r\f'\"")
		if !strings.HasPrefix(rest, "#") {
			return fmt.Errorf("url() outside the document in %q", v)
		}
	}
}
