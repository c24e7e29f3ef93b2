package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/bintest"
	"github.com/lwindolf/dotm/internal/redistest"

	"github.com/lwindolf/dotm/collect"
	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/internal/montest"
)

// historyAging is the aging the history tests set: the second round runs
// exactly this much after the first.
const historyAging = 600

// agedFleet collects a simulated fleet twice, historyAging seconds apart
// from t0; before the second round web01 stops talking to the first app
// server it used. It returns the store's data directory, the fleet as of
// round two and that app server.
func agedFleet(t *testing.T, t0 int64) (dataDir string, fleet *simfleet.Fleet, dropped string) {
	t.Helper()
	dataDir = t.TempDir()
	aging := strconv.Itoa(historyAging)
	runCLI(t, "--data-dir", dataDir, "config", "set", "aging", `{"Services":"`+aging+`","Connections":"`+aging+`"}`)
	runCLI(t, "--data-dir", dataDir, "config", "set", "unused", `{"Services":"0"}`) // unused after aging too
	runCLI(t, "--data-dir", dataDir, "config", "set", "history", `{"enabled":"1","interval":"`+aging+`","expire":"604800"}`)
	ctx := context.Background()
	st := openEmbedded(t, dataDir)
	defer st.Close()
	// Its own agent port: other packages' tests serve fleets at the same time.
	fleet = simfleet.Generate(12, 7, montest.FleetPort(t))
	if err := fleet.Register(ctx, st); err != nil {
		t.Fatal(err)
	}
	dropped = fleet.Lookup("web01").Out[0].To.Name
	for round := range 2 {
		if round == 1 {
			fleet.Disconnect("web01", dropped)
		}
		sctx, cancel := context.WithCancel(ctx)
		wait, err := fleet.Serve(sctx)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := collect.Run(ctx, st, collect.Options{Now: time.Unix(t0+int64(round)*historyAging, 0)})
		cancel()
		wait()
		if err != nil || sum.Problems() || !sum.Snapshot {
			t.Fatalf("round %d: %s (snapshot taken: %v), %v", round+1, sum, sum.Snapshot, err)
		}
	}
	return dataDir, fleet, dropped
}

type reportDoc struct {
	Generated      string `json:"generated"`
	UnusedServices []struct {
		Node, Process, FirstSeen string
		Port                     int
		LastConnection           *string `json:"last_connection"`
	} `json:"unused_services"`
	Disconnected []struct {
		Node, Direction, Port, Remote, Process string
		LastSeen                               string `json:"last_seen"`
		FirstSeen                              string `json:"first_seen"`
	} `json:"disconnected"`
	FetchErrors []any `json:"fetch_errors"`
}

func TestReportAfterAging(t *testing.T) {
	const t0 = 1795000000
	dataDir, fleet, dropped := agedFleet(t, t0)
	out := runCLI(t, "--data-dir", dataDir, "report", "--format", "json", "--now", strconv.Itoa(t0+historyAging))
	var doc reportDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	stampOf := func(ts int64) string { return time.Unix(ts, 0).UTC().Format(time.RFC3339) }
	if doc.Generated != stampOf(t0+historyAging) {
		t.Errorf("generated = %q", doc.Generated)
	}

	// Exactly the connection web01 dropped, counted once (not also as the
	// app server's incoming twin).
	if len(doc.Disconnected) != 1 {
		t.Fatalf("disconnected = %+v, want only web01 → %s", doc.Disconnected, dropped)
	}
	d := doc.Disconnected[0]
	if d.Node != "web01" || d.Direction != "out" || d.Port != "8080" || d.Remote != dropped || d.Process != "nginx" ||
		d.LastSeen != stampOf(t0) || d.FirstSeen != stampOf(t0) {
		t.Errorf("disconnected = %+v, want web01 out 8080 %s nginx last seen at round 1", d, dropped)
	}

	// Unused: every service the fleet declares without a client in round
	// two; "never" when it had none in round one either.
	clients := func(h *simfleet.Host, port uint16) bool {
		return slices.ContainsFunc(h.In, func(e *simfleet.Edge) bool { return e.Port == port })
	}
	want := map[string]bool{} // "node:port" → never used
	for _, h := range fleet.Hosts {
		for _, sv := range h.Services {
			if !clients(h, sv.Port) {
				key := fmt.Sprintf("%s:%d", h.Name, sv.Port)
				want[key] = !(h.Name == dropped && sv.Port == 8080)
			}
		}
	}
	got := map[string]bool{}
	for _, u := range doc.UnusedServices {
		got[fmt.Sprintf("%s:%d", u.Node, u.Port)] = u.LastConnection == nil
	}
	for k, never := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("unused service %s missing from the report", k)
		case g != never:
			t.Errorf("unused service %s: never used = %v, want %v", k, g, never)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s reported unused, but it has clients", k)
		}
	}
	if len(want) == 0 {
		t.Fatal("the fleet has no unused service: the test proves nothing")
	}

	// --since after both findings arose leaves them out; --fail-on-findings
	// exits 3.
	late := runCLI(t, "--data-dir", dataDir, "report", "--format", "json", "--now", strconv.Itoa(t0+historyAging),
		"--since", strconv.Itoa(t0+historyAging+1))
	var lateDoc reportDoc
	if err := json.Unmarshal([]byte(late), &lateDoc); err != nil || len(lateDoc.Disconnected)+len(lateDoc.UnusedServices) != 0 {
		t.Errorf("--since after the findings: %s", late)
	}
	code, _, _ := runCLICode("--data-dir", dataDir, "report", "--fail-on-findings", "--now", strconv.Itoa(t0+historyAging))
	if code != exitFindings {
		t.Errorf("--fail-on-findings: exit %d, want %d", code, exitFindings)
	}

	// The site's history: the second snapshot's page shows the vanished
	// connection, the history list the counts.
	site := filepath.Join(t.TempDir(), "site")
	runCLI(t, "--data-dir", dataDir, "render", "--out", site, "--now", strconv.Itoa(t0+historyAging), "--cache", t.TempDir())
	files := readTree(t, site)
	snap := string(files[fmt.Sprintf("history/%d.html", t0+historyAging)])
	if !strings.Contains(snap, "-1 connection") ||
		!strings.Contains(snap, `<td>vanished</td><td><a href="../nodes/web01.html">web01</a></td><td>out</td><td>8080</td><td><a href="../nodes/`+dropped+`.html">`+dropped+`</a></td><td>nginx</td>`) {
		t.Errorf("snapshot page lacks the vanished connection:\n%s", snap)
	}
	if hist := string(files["history.html"]); !strings.Contains(hist, "-1 connection") || !strings.Contains(hist, "first snapshot") {
		t.Errorf("history.html lacks the change summary")
	}
	unused := string(files["unused.html"])
	if !strings.Contains(unused, ">"+dropped+"</a></td><td>nginx</td>") {
		t.Errorf("unused.html lacks the disconnected connection to %s", dropped)
	}
}

// mailpit is a real SMTP server (github.com/axllent/mailpit, a tool of
// the tools module internal/tools) started for one test, with STARTTLS required and a user
// "dotm" whose password is "s3cret"; messages are read back over its API.
type mailpit struct {
	SMTP, API string
	CAFile    string
}

func startMailpit(t *testing.T) *mailpit {
	t.Helper()
	bin, err := bintest.Tool("mailpit")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca, cert, key := writeTLS(t, dir)
	auth := filepath.Join(dir, "auth")
	if err := os.WriteFile(auth, []byte("dotm:s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &mailpit{SMTP: fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t)),
		API: fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t)), CAFile: ca}
	cmd := exec.Command(bin, "--smtp", m.SMTP, "--listen", m.API,
		"--database", filepath.Join(dir, "mail.db"), "--smtp-tls-cert", cert, "--smtp-tls-key", key,
		"--smtp-require-starttls", "--smtp-auth-file", auth, "--disable-version-check", "--quiet")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("mailpit output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get("http://" + m.API + "/api/v1/messages"); err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", m.SMTP); err == nil {
				c.Close()
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start within 30s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get decodes a JSON answer of mailpit's API.
func (m *mailpit) get(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get("http://" + m.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}

// writeTLS writes a CA and a certificate for 127.0.0.1 signed by it.
func writeTLS(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dotm test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caTmpl, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(leafKey)
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, block := range map[string]*pem.Block{caFile: {Type: "CERTIFICATE", Bytes: caDER},
		certFile: {Type: "CERTIFICATE", Bytes: leafDER}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return caFile, certFile, keyFile
}

func TestReportByMail(t *testing.T) {
	const t0 = 1795100000
	dataDir, _, dropped := agedFleet(t, t0)
	mp := startMailpit(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--data-dir", dataDir, "report", "--now", strconv.Itoa(t0 + historyAging),
		"--mail-to", "ops@example.com", "--mail-from", "dotm@example.com", "--smtp", mp.SMTP,
		"--smtp-user", "dotm", "--smtp-ca", mp.CAFile}

	// A wrong password and an untrusted certificate are refused, clearly.
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("wrong"), 0o600)
	if code, _, errOut := runCLICode(append(args, "--smtp-password-file", bad)...); code != exitFailure ||
		!strings.Contains(errOut, "send the report through "+mp.SMTP) {
		t.Errorf("wrong password: exit %d, %s", code, errOut)
	}
	noCA := slices.Clone(args[:len(args)-2])
	if code, _, errOut := runCLICode(append(noCA, "--smtp-password-file", pwFile)...); code != exitFailure ||
		!strings.Contains(errOut, "certificate") {
		t.Errorf("untrusted certificate: exit %d, %s", code, errOut)
	}

	runCLI(t, append(args, "--smtp-password-file", pwFile)...)
	var list struct {
		Messages []struct {
			ID      string
			Subject string
		} `json:"messages"`
	}
	mp.get(t, "/api/v1/messages", &list)
	if len(list.Messages) != 1 {
		t.Fatalf("mailpit holds %d messages, want 1", len(list.Messages))
	}
	var msg struct {
		Subject string
		To      []struct{ Address string }
		Text    string
		HTML    string
	}
	mp.get(t, "/api/v1/message/"+list.Messages[0].ID, &msg)
	if !strings.Contains(msg.Subject, "1 disconnected connection") || !strings.Contains(msg.Subject, "unused service") {
		t.Errorf("subject %q lacks the counts", msg.Subject)
	}
	if len(msg.To) != 1 || msg.To[0].Address != "ops@example.com" {
		t.Errorf("to = %+v", msg.To)
	}
	row := regexp.MustCompile(`web01\s+out\s+8080\s+` + dropped + `\s+nginx`)
	if !row.MatchString(msg.Text) {
		t.Errorf("text part lacks the disconnected connection:\n%s", msg.Text)
	}
	if !strings.Contains(msg.HTML, "<table>") || !strings.Contains(msg.HTML, "<td>"+dropped+"</td>") ||
		!strings.Contains(msg.HTML, "<h2>Suddenly disconnected (1)</h2>") {
		t.Errorf("HTML part lacks the tables:\n%s", msg.HTML)
	}

	// --format email prints the same message for sendmail -t.
	out := runCLI(t, "--data-dir", dataDir, "report", "--format", "email", "--mail-to", "ops@example.com",
		"--now", strconv.Itoa(t0+historyAging))
	m, err := mail.ReadMessage(strings.NewReader(out))
	if err != nil {
		t.Fatalf("--format email is no RFC 5322 message: %v\n%s", err, out)
	}
	if m.Header.Get("To") != "<ops@example.com>" || m.Header.Get("Subject") != msg.Subject ||
		m.Header.Get("Date") != time.Unix(t0+historyAging, 0).UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700") {
		t.Errorf("headers: %v", m.Header)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q", m.Header.Get("Content-Type"))
	}
	var types []string
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
	}
	if !slices.Equal(types, []string{"text/plain", "text/html"}) {
		t.Errorf("parts %v, want text/plain then text/html", types)
	}
}
