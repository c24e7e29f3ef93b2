package main

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/internal/alarm"
	"github.com/lwindolf/dotm/report"
	"github.com/lwindolf/dotm/store"
)

type reportOpts struct {
	now, format, since, from, smtp, smtpUser, smtpPasswordFile, smtpTLS, smtpCA string
	to, submit                                                                  []string
	failOnFindings                                                              bool
	smtpTimeout                                                                 time.Duration
	metricsFile                                                                 string
}

func reportCommand() *command {
	return &command{
		name:    "report",
		summary: "print or mail the findings: unused services, vanished connections, gaps",
		details: `Lists services nobody used for longer than the aging setting, connections a
node stopped showing, nodes and services without monitoring, checks that map to
nothing, and nodes that could not be fetched. --format json is a stable,
documented form for tools (see README). --format email prints a complete
message for "sendmail -t"; --mail-to with --smtp sends it. The SMTP password
comes from --smtp-password-file, the systemd credential smtp-password
($CREDENTIALS_DIRECTORY/smtp-password) or the environment variable
DOTM_SMTP_PASSWORD. Each SMTP step is bounded by --smtp-timeout.
--fail-on-findings exits with status 3 when there is anything to report.
--submit SOURCE sends each node's findings, as "dotm check --node" states
them, as a passive result of the service "dotm findings" to a Nagios command
file, the Icinga 2 API or Livestatus instead of printing (nagios_instance:
the configured source; see README, "Feeding your monitoring").`,
		bind: func(fs *pflag.FlagSet) runFunc {
			var o reportOpts
			fs.StringVar(&o.now, "now", "", "the time to report as (unix seconds or RFC 3339)")
			fs.StringVar(&o.format, "format", "text", "text, markdown, html, json or email")
			fs.StringVar(&o.since, "since", "", "only unused services and disconnections that arose since: a time (unix seconds, RFC 3339) or an age (36h, 7d)")
			fs.BoolVar(&o.failOnFindings, "fail-on-findings", false, "exit with status 3 when there is something to report (for cron alerting)")
			fs.StringArrayVar(&o.to, "mail-to", nil, "e-mail the report to this address (repeatable): sent through --smtp, or the To of --format email")
			fs.StringVar(&o.from, "mail-from", "", "sender address (default dotm@HOSTNAME)")
			fs.StringVar(&o.smtp, "smtp", "", "SMTP server HOST:PORT to send through")
			fs.StringVar(&o.smtpUser, "smtp-user", "", "SMTP user name (password from --smtp-password-file or DOTM_SMTP_PASSWORD)")
			fs.StringVar(&o.smtpPasswordFile, "smtp-password-file", "", "file holding the SMTP password")
			fs.StringVar(&o.smtpTLS, "smtp-tls", "starttls", "starttls (required), tls (implicit, e.g. port 465) or none (plain, local relays only)")
			fs.DurationVar(&o.smtpTimeout, "smtp-timeout", report.DefaultSMTPTimeout, "time each SMTP step may take (connect, greeting, TLS, each command); the whole sending at most 5 times that")
			fs.StringArrayVar(&o.submit, "submit", nil, "send each node's findings as a passive check result to this monitoring source instead of printing (repeatable; nagios_instance: the configured one; see README)")
			fs.StringVar(&o.smtpCA, "smtp-ca", "", "PEM file of the CA that signed the SMTP server's certificate (default: the system's)")
			metricsFlag(fs, &o.metricsFile)
			return func(ctx context.Context, e *env, args []string) error { return runReport(ctx, e, args, o) }
		},
	}
}

// findingsError ends a --fail-on-findings run that found something: exit
// status 3.
type findingsError struct{ n int }

func (f findingsError) Error() string {
	return fmt.Sprintf("%d findings (--fail-on-findings)", f.n)
}

func runReport(ctx context.Context, e *env, args []string, o reportOpts) (err error) {
	const path = "dotm report"
	rec := startMetrics(o.metricsFile, "report")
	defer func() { err = rec.done(err) }()
	if err := noArgs(path, args); err != nil {
		return err
	}
	now, err := parseNow(o.now)
	if err != nil {
		return usagef(path, "%v", err)
	}
	if !slices.Contains(report.Formats(), o.format) {
		return usagef(path, "--format %q: want %s", o.format, strings.Join(report.Formats(), ", "))
	}
	since, err := parseSince(o.since, now)
	if err != nil {
		return usagef(path, "%v", err)
	}
	if o.smtp != "" && len(o.to) == 0 || len(o.to) > 0 && o.smtp == "" && o.format != "email" {
		return usagef(path, "--mail-to and --smtp go together: whom to send to, and through which server "+
			"(--format email with --mail-to alone prints the message for sendmail -t)")
	}
	if o.smtpTimeout <= 0 {
		return usagef(path, "--smtp-timeout must be positive, not %s", o.smtpTimeout)
	}
	if !slices.Contains([]string{"starttls", "tls", "none"}, o.smtpTLS) {
		return usagef(path, "--smtp-tls %q: want starttls, tls or none", o.smtpTLS)
	}
	if len(o.submit) > 0 && (o.smtp != "" || len(o.to) > 0) {
		return usagef(path, "--submit sends passive check results instead of a report; mail the report in a run of its own")
	}
	var m *analyze.Model
	err = e.withStore(ctx, func(s *store.Store) error {
		m, err = analyze.Load(ctx, s, now)
		return err
	})
	if err != nil {
		return err
	}
	f := analyze.FindingsOf(m, since)
	rec.reported(f)
	if o.from == "" {
		host, _ := os.Hostname()
		o.from = "dotm@" + cmp.Or(host, "localhost")
	}
	if len(o.submit) > 0 {
		err = alarm.Submit(ctx, m, o.submit)
	} else if o.smtp != "" {
		err = sendReport(ctx, e, f, o)
	} else {
		err = report.Write(e.stdout, f, o.format, o.from, o.to)
	}
	if err != nil {
		return err
	}
	if n := f.Count(); o.failOnFindings && n > 0 {
		return findingsError{n}
	}
	return nil
}

// sendReport mails the report through --smtp.
func sendReport(ctx context.Context, e *env, f *analyze.Findings, o reportOpts) error {
	host, portStr, err := net.SplitHostPort(o.smtp)
	port, perr := strconv.Atoi(portStr)
	if err != nil || perr != nil || host == "" {
		return usagef("dotm report", "--smtp %q: want HOST:PORT, e.g. mail.example.com:587", o.smtp)
	}
	s := report.SMTP{Host: host, Port: port, TLS: o.smtpTLS, Timeout: o.smtpTimeout, User: o.smtpUser}
	if o.smtpCA != "" {
		pem, err := os.ReadFile(o.smtpCA)
		if err != nil {
			return fmt.Errorf("--smtp-ca: %w", err)
		}
		s.RootCAs = x509.NewCertPool()
		if !s.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--smtp-ca %s: no PEM certificate in it", o.smtpCA)
		}
	}
	if o.smtpUser != "" {
		if s.Password, err = smtpPassword(e, o); err != nil {
			return err
		}
	}
	return report.Send(ctx, f, o.from, o.to, s)
}

// smtpPassword reads the password from --smtp-password-file, else from
// the systemd credential smtp-password (LoadCredential= in the unit), else
// from DOTM_SMTP_PASSWORD: never from the command line, where ps shows it.
func smtpPassword(e *env, o reportOpts) (string, error) {
	file, what := o.smtpPasswordFile, "--smtp-password-file"
	if dir := e.getenv("CREDENTIALS_DIRECTORY"); file == "" && dir != "" {
		cred := filepath.Join(dir, "smtp-password")
		if _, err := os.Stat(cred); err == nil {
			file, what = cred, "the systemd credential smtp-password"
		}
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if pw := e.getenv("DOTM_SMTP_PASSWORD"); pw != "" {
		return pw, nil
	}
	return "", errors.New("--smtp-user is set but no password: give --smtp-password-file FILE, the systemd credential smtp-password or DOTM_SMTP_PASSWORD")
}

// parseSince reads --since: a time, or an age before now ("36h", "7d").
func parseSince(s string, now time.Time) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour).Unix(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).Unix(), nil
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return 0, fmt.Errorf("--since %q: want a time (unix seconds, RFC 3339) or an age (36h, 7d)", s)
		}
	}
	t, err := parseTime("--since", s, time.Now())
	if err != nil {
		return 0, err
	}
	return t.Unix(), nil
}
