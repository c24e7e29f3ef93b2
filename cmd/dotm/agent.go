package main

import (
	"context"

	"github.com/lwindolf/dotm/collect/agent"
	"github.com/lwindolf/dotm/internal/logsetup"
	"github.com/spf13/pflag"
)

func agentCommand() *command {
	return &command{
		name:    "agent",
		summary: "answer DOTM agent connections with this host's sockets (as dotm-agent does)",
		details: `Serves the DOTM agent protocol: each allowed client gets the hostname, the
TCP socket table in netstat -antp format and the interfaces in ip addr format,
read from /proc, and the connection is closed. Nothing is read from clients and
nothing is executed. Clients outside --allow are closed before a byte is sent.
Connections are capped overall and per client network (/24, /64); give the
collector's addresses with --collector so that it is always answered, from
connections reserved for it.
Unprivileged, process names of other users' sockets show as "-"; grant
CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE to see all (cmd/dotm-agent/dotm-agent.service).`,
		bind: func(fs *pflag.FlagSet) runFunc {
			config := agent.BindFlags(fs)
			logger := logsetup.Bind(fs)
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("dotm agent", args); err != nil {
					return err
				}
				c, err := config()
				if err != nil {
					return usagef("dotm agent", "%v", err)
				}
				log, err := logger(e.stderr)
				if err != nil {
					return usagef("dotm agent", "%v", err)
				}
				return agent.Run(ctx, c, log)
			}
		},
	}
}
