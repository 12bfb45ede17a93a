//go:build !unix

package pgcluster

import (
	"context"
	"errors"
)

// errUnsupported is returned by Start on systems without Unix process
// control.
var errUnsupported = errors.New("pgcluster: a private PostgreSQL cluster is only supported on Unix-like systems; set DATABASE_URL to an existing server")

// Cluster is a running private PostgreSQL server started by Start. On this
// system Start always fails, so no Cluster is ever returned.
type Cluster struct{}

// Start always fails on this system: set DATABASE_URL instead.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	return nil, errUnsupported
}

// URL returns the connection URL of the cluster's database.
func (c *Cluster) URL() string { return "" }

// DatabaseURL returns the connection URL of database db on the cluster.
func (c *Cluster) DatabaseURL(db string) string { return "" }

// Port returns the TCP port the cluster listens on at 127.0.0.1.
func (c *Cluster) Port() int { return 0 }

// Stop shuts the server down; on this system there is never one to stop.
func (c *Cluster) Stop(ctx context.Context) error { return nil }
