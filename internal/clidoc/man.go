package clidoc

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/pflag"
)

// Page is one man page.
type Page struct {
	Name     string // "dotm-collect"
	Section  int    // 1 for commands, 8 for daemons
	Summary  string // the NAME line's text after the dash
	Synopsis string // "dotm collect [flags]"
	Body     string // the DESCRIPTION: paragraphs separated by empty lines
	// Commands lists sub-commands: name → summary, in order.
	Commands     [][2]string
	Flags        *pflag.FlagSet
	FlagsTitle   string // default "OPTIONS"
	GlobalFlags  *pflag.FlagSet
	Environment  [][2]string // variable → meaning
	Files        [][2]string // path → meaning
	SeeAlso      []string    // "dotm(1)"
	ExitStatus   string
	Date         time.Time
	Source       string // "dotm 1.2.0"
	ManualHeader string // "dotm manual"
}

// WriteMan writes p as a roff man page (man(7) macros).
func WriteMan(w io.Writer, p Page) error {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s %d %s %s %s\n", quote(strings.ToUpper(p.Name)), p.Section,
		quote(p.Date.UTC().Format("2006-01-02")), quote(p.Source), quote(p.ManualHeader))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", escape(p.Name), escape(p.Summary))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n", escape(p.Synopsis))
	if body := strings.TrimSpace(p.Body); body != "" {
		b.WriteString(".SH DESCRIPTION\n")
		for i, para := range strings.Split(body, "\n\n") {
			if i > 0 {
				b.WriteString(".PP\n")
			}
			b.WriteString(text(para) + "\n")
		}
	}
	if len(p.Commands) > 0 {
		b.WriteString(".SH COMMANDS\n")
		for _, c := range p.Commands {
			fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", escape(c[0]), text(c[1]))
		}
	}
	title := p.FlagsTitle
	if title == "" {
		title = "OPTIONS"
	}
	writeFlags(&b, title, p.Flags)
	writeFlags(&b, "GLOBAL OPTIONS", p.GlobalFlags)
	writeList(&b, "ENVIRONMENT", p.Environment)
	writeList(&b, "FILES", p.Files)
	if p.ExitStatus != "" {
		fmt.Fprintf(&b, ".SH EXIT STATUS\n%s\n", text(p.ExitStatus))
	}
	if len(p.SeeAlso) > 0 {
		parts := make([]string, len(p.SeeAlso))
		for i, s := range p.SeeAlso {
			name, sec, _ := strings.Cut(s, "(")
			parts[i] = fmt.Sprintf(".BR %s (%s", escape(name), escape(sec))
		}
		fmt.Fprintf(&b, ".SH SEE ALSO\n%s\n", strings.Join(parts, " ,\n"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFlags(b *strings.Builder, title string, fs *pflag.FlagSet) {
	if fs == nil || !fs.HasAvailableFlags() {
		return
	}
	fmt.Fprintf(b, ".SH %s\n", title)
	for _, f := range Flags(fs) {
		head := "\\fB\\-\\-" + escape(f.Name) + "\\fR"
		if f.Short != "" {
			head = "\\fB\\-" + escape(f.Short) + "\\fR, " + head
		}
		if f.Arg != "" {
			head += " \\fI" + escape(f.Arg) + "\\fR"
		}
		usage := f.Usage
		if f.Default != "" {
			usage += " (default " + f.Default + ")"
		}
		fmt.Fprintf(b, ".TP\n%s\n%s\n", head, text(usage))
	}
}

func writeList(b *strings.Builder, title string, items [][2]string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, ".SH %s\n", title)
	for _, it := range items {
		fmt.Fprintf(b, ".TP\n.I %s\n%s\n", escape(it[0]), text(it[1]))
	}
}

// escape makes s literal roff text: backslashes and hyphens escaped,
// and every character beyond ASCII as its Unicode escape, so the page
// reads the same whatever input encoding troff assumes.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > unicode.MaxASCII:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		case r < ' ' && r != '\n' && r != '\t':
			// control characters are no text
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// text is escaped running text whose lines never start with a control
// character ("." or "'"), which roff would take for a request.
func text(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		l = escape(strings.TrimSpace(l))
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = `\&` + l
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

func quote(s string) string { return `"` + strings.ReplaceAll(escape(s), `"`, `\(dq`) + `"` }
