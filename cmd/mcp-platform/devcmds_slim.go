//go:build slim

package main

import (
	"context"
	"errors"
)

// devCommands, in the slim production build, only explain where dev and temporal went: the
// embedded Temporal server and UI are not in this binary.
var devCommands = []command{
	{"dev", "Not in this build: the slim production binary has no embedded dev stack (use the full build)", notInSlim},
	{"temporal", "Not in this build: the slim production binary has no embedded Temporal server (use the full build)", notInSlim},
	{"bench", "Not in this build: the slim production binary has no benchmark (use the full build)", notInSlim},
}

func notInSlim(context.Context, *cli, []string) error {
	return errors.New("this is the slim production build of mcp-platform: it has no embedded Temporal server or dev stack; build without -tags slim (make build) for dev and temporal")
}
