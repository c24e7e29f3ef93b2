package montest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// fixedPortAddr is an address literal with a port other than 0:
// "127.0.0.1:18080", ":8080", "[::1]:6379".
var fixedPortAddr = regexp.MustCompile(`^[^:]*(:[^:]*)*:0*[1-9][0-9]*$`)

// listenFlags are command line flags of daemons that take the port (or
// host:port) to listen on as the next argument.
var listenFlags = map[string]bool{"--port": true, "-p": true, "--listen": true, "--smtp": true, "--bind-port": true}

// fixedListenPorts reports, as "file:line: what", every place in src that
// listens on a fixed port: a net.Listen/ListenPacket/tls.Listen/
// http.ListenAndServe style call with an address literal that has a port
// other than 0, a net.TCPAddr or UDPAddr literal with a Port other than 0
// passed to ListenTCP/ListenUDP, and an exec.Command of a daemon with a
// listen flag followed by such a literal ("--port", "6379").
func fixedListenPorts(fset *token.FileSet, name string, src any) ([]string, error) {
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		return nil, err
	}
	var found []string
	report := func(n ast.Node, what string) {
		found = append(found, fset.Position(n.Pos()).String()+": "+what)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch calleeName(call.Fun) {
		case "Listen", "ListenPacket", "ListenAndServe", "ListenAndServeTLS":
			for _, a := range call.Args {
				if s, ok := stringLit(a); ok && fixedPortAddr.MatchString(s) {
					report(a, "listens on the fixed address "+strconv.Quote(s))
				}
			}
		case "ListenTCP", "ListenUDP":
			for _, a := range call.Args {
				if p := addrLitPort(a); p != "" {
					report(a, "listens on the fixed port "+p)
				}
			}
		case "Command", "CommandContext":
			for i := 0; i+1 < len(call.Args); i++ {
				flag, ok := stringLit(call.Args[i])
				val, ok2 := stringLit(call.Args[i+1])
				if ok && ok2 && listenFlags[flag] && (fixedPortAddr.MatchString(val) || isPort(val)) {
					report(call.Args[i+1], "starts a daemon with "+flag+" "+strconv.Quote(val))
				}
			}
		}
		return true
	})
	return found, nil
}

// calleeName is the name of the called function or method.
func calleeName(e ast.Expr) string {
	switch f := e.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// stringLit is the value of a string literal.
func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// addrLitPort is the Port of a &net.TCPAddr{...} or net.UDPAddr{...}
// literal when it is a number other than 0.
func addrLitPort(e ast.Expr) string {
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = u.X
	}
	cl, ok := e.(*ast.CompositeLit)
	if !ok || (calleeName(cl.Type) != "TCPAddr" && calleeName(cl.Type) != "UDPAddr") {
		return ""
	}
	for _, el := range cl.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok || calleeName(kv.Key) != "Port" {
			continue
		}
		if lit, ok := kv.Value.(*ast.BasicLit); ok && lit.Kind == token.INT && isPort(lit.Value) {
			return lit.Value
		}
	}
	return ""
}

// isPort reports whether s is a port number other than 0.
func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 65536
}

func TestFixedListenPortsFinds(t *testing.T) {
	src := `package p
func f() {
	net.Listen("tcp", "127.0.0.1:18080")
	net.Listen("tcp", "127.0.0.1:0")
	net.Listen("unix", "/run/x.sock")
	lc.Listen(ctx, "tcp", ":8080")
	http.ListenAndServe("[::1]:6379", nil)
	net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: 123})
	net.ListenTCP("tcp", &net.TCPAddr{Port: 0})
	net.DialUDP("udp", nil, &net.UDPAddr{Port: 9})
	exec.Command(bin, "--port", "6379", "--bind", "127.0.0.1")
	exec.Command(bin, "--port", strconv.Itoa(port))
	exec.Command("ls", "-p", "x")
}
`
	got, err := fixedListenPorts(token.NewFileSet(), "p.go", src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`p.go:3:20: listens on the fixed address "127.0.0.1:18080"`,
		`p.go:6:24: listens on the fixed address ":8080"`,
		`p.go:7:22: listens on the fixed address "[::1]:6379"`,
		`p.go:8:23: listens on the fixed port 123`,
		`p.go:11:30: starts a daemon with --port "6379"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNoFixedListenPorts: no test and no test helper listens on, or
// starts a daemon on, a fixed port; a second test run on the machine, or
// any other program, would collide with it. Ports come from
// 127.0.0.1:0 (see StartListeners, redistest.FreePort).
func TestNoFixedListenPorts(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root: %v", err)
	}
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if !strings.HasSuffix(p, ".go") ||
			(!strings.HasSuffix(p, "_test.go") && !strings.HasPrefix(rel, "internal"+string(filepath.Separator))) {
			return nil
		}
		files++
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		found, err := fixedListenPorts(fset, rel, src)
		if err != nil {
			return err
		}
		for _, f := range found {
			t.Errorf("%s: use a free port (127.0.0.1:0, redistest.FreePort)", f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Fatalf("checked only %d files under %s: wrong root?", files, root)
	}
}

// portArg matches the port-taking check commands of the Nagios objects.
var portArg = regexp.MustCompile(`(?m)check_command\s+(check_tcp|check_https_cert|check_http|check_redis|check_ntp_time)(?:!([^!\s]*).*)?$`)

// TestConfigsUseRunPorts: every port the daemons' checks probe is a
// placeholder or constant filled in per run, not a number of its own.
func TestConfigsUseRunPorts(t *testing.T) {
	check := func(cfg fs.FS, dir string, bad func(string) []string) {
		err := fs.WalkDir(cfg, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Ext(p) == ".sh" {
				return err
			}
			b, err := fs.ReadFile(cfg, p)
			if err != nil {
				return err
			}
			for _, m := range bad(string(b)) {
				t.Errorf("%s: %s: use a port of the run", p, m)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	checks := 0
	check(nagiosConfig, "nagios4/objects", func(s string) []string {
		var bad []string
		for _, m := range portArg.FindAllStringSubmatch(s, -1) {
			checks++
			if !regexp.MustCompile(`^@[A-Z_]+_PORT@$`).MatchString(m[2]) {
				bad = append(bad, m[0])
			}
		}
		for _, m := range regexp.MustCompile(`_ALIVE_PORT\s+(\S+)`).FindAllStringSubmatch(s, -1) {
			checks++
			if !regexp.MustCompile(`^@[A-Z_]+_PORT@$`).MatchString(m[1]) {
				bad = append(bad, m[0])
			}
		}
		return bad
	})
	check(icinga2Config, "icinga2/etc/conf.d", func(s string) []string {
		var bad []string
		for _, m := range regexp.MustCompile(`vars\.\w+_port\s*=\s*(\S+)`).FindAllStringSubmatch(s, -1) {
			checks++
			if !regexp.MustCompile(`^[A-Z]\w*Port$`).MatchString(m[1]) {
				bad = append(bad, m[0])
			}
		}
		return bad
	})
	if checks < 18 { // 9 in each configuration
		t.Errorf("found only %d port settings in the configurations: the patterns miss them", checks)
	}
}
