package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/internal/agentcli"
	"github.com/lwindolf/dotm/internal/buildinfo"
	"github.com/lwindolf/dotm/internal/clidoc"
)

func manCommand() *command {
	return &command{
		name:    "man",
		summary: "write the man pages: dotm(1), one per command, and dotm-agent(8)",
		details: `Writes dotm.1, dotm-COMMAND.1 for every command (dotm-nodes-add.1, ...) and
dotm-agent.8 (also "dotm agent") into --dir, from the same definitions as --help. The pages are
dated SOURCE_DATE_EPOCH when set, else by the build's commit time.`,
		bind: func(fs *pflag.FlagSet) runFunc {
			dir := fs.String("dir", "", "directory to write the pages to (required; created if missing)")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("dotm man", args); err != nil {
					return err
				}
				if *dir == "" {
					return usagef("dotm man", "--dir DIR is required")
				}
				return writeManPages(e, *dir)
			}
		},
	}
}

func writeManPages(e *env, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pages, err := manPages(e)
	if err != nil {
		return err
	}
	for _, p := range pages {
		var b bytes.Buffer
		if err := clidoc.WriteMan(&b, p); err != nil {
			return err
		}
		name := filepath.Join(dir, fmt.Sprintf("%s.%d", p.Name, p.Section))
		if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// manDate is the pages' date: SOURCE_DATE_EPOCH (reproducible builds),
// else the build's commit time, else today.
func manDate(e *env) (time.Time, error) {
	if s := e.getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: want unix seconds", s)
		}
		return time.Unix(n, 0), nil
	}
	if t, err := time.Parse(time.RFC3339, buildinfo.Get().Date); err == nil {
		return t, nil
	}
	return time.Now(), nil
}

func manPages(e *env) ([]clidoc.Page, error) {
	date, err := manDate(e)
	if err != nil {
		return nil, err
	}
	source := "dotm " + buildinfo.Get().Version
	global := docGlobalFlags()
	var pages []clidoc.Page
	walkCommands(root(), "dotm", func(c *command, path string, own *pflag.FlagSet) {
		name := strings.ReplaceAll(path, " ", "-")
		if path == "dotm agent" {
			return // the same program as dotm-agent(8), whose page it is
		}
		synopsis := path
		if c.subs != nil {
			synopsis += " COMMAND"
		}
		if c.args != "" {
			synopsis += " " + c.args
		}
		p := clidoc.Page{Name: name, Section: 1, Summary: c.summary, Synopsis: synopsis + " [flags]", Body: c.details,
			Flags: own, GlobalFlags: global, Date: date, Source: source, ManualHeader: "dotm manual"}
		for _, s := range c.subs {
			ref := name + "-" + s.name + "(1)"
			if ref == "dotm-agent(1)" {
				ref = "dotm-agent(8)"
			}
			p.Commands = append(p.Commands, [2]string{s.name, s.summary + " (" + ref + ")"})
		}
		if path == "dotm" {
			p.GlobalFlags, p.Flags = nil, own
			own.AddFlagSet(global)
			p.Environment = [][2]string{
				{"DOTM_REDIS", "the default of --redis"}, {"DOTM_DATA_DIR", "the default of --data-dir"},
				{"DOTM_SMTP_PASSWORD", "the SMTP password of dotm report, when no --smtp-password-file or credential is given"},
				{"SOURCE_DATE_EPOCH", "the date of the pages dotm man writes"}}
			p.Files = [][2]string{
				{"/var/lib/dotm", "the embedded store and the git archive of the architecture (the dotm user's)"},
				{"/var/cache/dotm", "laid-out graphs, reused while their DOT is unchanged"},
				{"/etc/default/dotm", "settings of dotm-cron and the systemd units"},
				{"/var/www/dotm", "the site dotm-cron renders (DOTM_SITE)"}}
			p.ExitStatus = "0 success, 1 failure, 2 bad usage, 3 dotm report --fail-on-findings found something."
			p.SeeAlso = []string{"dotm-agent(8)"}
		} else {
			p.SeeAlso = []string{"dotm(1)"}
		}
		pages = append(pages, p)
	})
	afs := pflag.NewFlagSet("dotm-agent", pflag.ContinueOnError)
	agentcli.Bind(afs)
	pages = append(pages, clidoc.Page{Name: "dotm-agent", Section: 8, Summary: agentcli.Summary,
		Synopsis: "dotm-agent [flags]", Body: agentcli.Details, Flags: afs, ExitStatus: agentcli.ExitStatus,
		Files:   [][2]string{{"/lib/systemd/system/dotm-agent.service", "the sandboxed unit, listening on port 4848"}},
		SeeAlso: []string{"dotm(1)"}, Date: date, Source: source, ManualHeader: "dotm manual"})
	return pages, nil
}
