// Package agentcli is the command line of dotm-agent: its flags and its
// help, shared by the program and by the man page dotm writes for it.
package agentcli

import (
	"io"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/collect/agent"
	"github.com/lwindolf/dotm/internal/logsetup"
)

// Summary is dotm-agent's one-line description.
const Summary = "answer DOTM agent connections with this host's TCP sockets and addresses"

// Details is the longer description of --help and the man page.
const Details = `Every client that connects from an allowed address (--allow) gets this host's
hostname, its TCP sockets in netstat -antp format and its addresses in ip addr
format, read from /proc without running any program, and the connection is
closed. Nothing is read from clients. It needs no Redis and no Graphviz.

Connections are capped overall and per client network (/24, /64); give the
collector's addresses with --collector so that it is always answered, from
connections reserved for it.

Run unprivileged, it sees the owning process of its own user's sockets only;
with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE it sees all (dotm-agent.service).`

// ExitStatus is what the program's exit statuses mean.
const ExitStatus = "0 after a clean stop on SIGINT or SIGTERM, 1 when listening or serving fails, 2 on bad usage."

// Flags are dotm-agent's parsed flags.
type Flags struct {
	Config  func() (agent.Config, error)
	Logger  func(w io.Writer) (*slog.Logger, error)
	Version *bool
	Help    *bool
}

// Bind registers every flag of dotm-agent on fs.
func Bind(fs *pflag.FlagSet) Flags {
	fs.SortFlags = false
	var f Flags
	f.Config = agent.BindFlags(fs)
	f.Logger = logsetup.Bind(fs)
	f.Version = fs.Bool("version", false, "print the version and exit")
	f.Help = fs.BoolP("help", "h", false, "show this help")
	return f
}
