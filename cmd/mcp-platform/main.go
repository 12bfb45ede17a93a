// Command mcp-platform runs MCP Platform: `dev` runs the whole stack in one process; the other
// subcommands run one role each, so production can scale them independently.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mcp-platform:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError is a mistake on the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

// cli carries what every subcommand needs from the process.
type cli struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

var commands []command

func init() {
	commands = append(devCommands[:len(devCommands):len(devCommands)], []command{
		{"api", "Run the gateway API (chat, conversations, web UI) on ORCHESTRATOR_PORT (8000)", runAPI},
		{"mcp", "Run the MCP server (tool registry, /execute, /mcp) on MCP_SERVER_PORT (8001)", runMCP},
		{"worker", "Run Temporal workers: the orchestrator and/or domain workers", runWorker},
		{"migrate", "Apply or inspect database migrations: migrate up | down | status", runMigrate},
		{"keys", "Print a new assertion key pair: MCP_ASSERTION_KEY for the API and MCP server, MCP_ASSERTION_PUBLIC_KEYS for every role", runKeys},
		{"registry", "Operate the tool registry: registry forget <domain> releases a domain so a new definition or owner may register it", runRegistry},
		{"openapi", "Print the OpenAPI 3.1 document of the gateway API or the MCP server", runOpenAPI},
		{"healthcheck", "Probe a server's /readyz (or -url) and exit 0 when it is ready (for container health checks)", runHealthcheck},
		{"version", "Print the version", runVersion},
	}...)
}

const usageHeader = `MCP Platform: chat with an assistant that acts on business systems through governed tools.

Usage:
  mcp-platform <command> [flags]

Commands:
`

const usageFooter = `
Run 'mcp-platform <command> -h' for a command's flags.
Settings come from config/settings.yaml (or MCP_CONFIG) and the environment; see README.md.
Quick start: 'mcp-platform dev', then open http://localhost:8000.
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHeader)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, usageFooter)
}

// run is the whole program, callable from tests: it dispatches to the subcommand in args.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := &cli{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return nil
	}
	for _, cmd := range commands {
		if cmd.name == args[0] {
			return cmd.run(ctx, c, args[1:])
		}
	}
	usage(stderr)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

// flags returns a flag set for a subcommand whose -h prints its usage.
func (c *cli) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: mcp-platform %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and rejects stray positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}
