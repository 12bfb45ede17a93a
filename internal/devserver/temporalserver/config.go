package temporalserver

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

const (
	clusterName = "active"
	storeName   = "sqlite"

	// namespaceRefreshInterval is how often every service re-reads namespaces
	// (and with them the search attribute aliases) from the database. The
	// server default is 2s; shorter makes newly added search attributes usable
	// sooner. Start waits twice this long after adding search attributes.
	namespaceRefreshInterval = time.Second

	// queueCheckpointInterval is how often the history service's task queues checkpoint (see
	// dynamicConfig); the server default is 30s.
	queueCheckpointInterval = time.Second
)

// ports holds the listen ports of the four Temporal services.
type ports struct {
	frontend, history, matching, worker int
}

// sqlConfig returns the SQLite persistence configuration. For a database
// file, it creates the parent directory and the schema when the file does not
// exist yet. An in-memory database gets a unique name so that several servers
// can live in one process; the SQLite plugin creates its schema on first use.
func sqlConfig(databaseFile string) (*config.SQL, error) {
	if databaseFile == "" {
		return &config.SQL{
			PluginName:        sqliteplugin.PluginName,
			DatabaseName:      "temporal-" + rand.Text(),
			ConnectAttributes: map[string]string{"mode": "memory", "cache": "shared"},
		}, nil
	}

	cfg := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		DatabaseName:      databaseFile,
		ConnectAttributes: sqliteFileAttributes(),
	}
	_, err := os.Stat(databaseFile)
	switch {
	case err == nil:
		return cfg, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("temporalserver: checking database file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(databaseFile), 0o755); err != nil {
		return nil, fmt.Errorf("temporalserver: creating database directory: %w", err)
	}
	if err := sqliteschema.SetupSchema(cfg); err != nil {
		// Do not leave a half-initialised file behind: the next start would
		// skip the schema setup.
		_ = os.Remove(databaseFile)
		return nil, fmt.Errorf("temporalserver: setting up schema in %s: %w", databaseFile, err)
	}
	return cfg, nil
}

// sqliteFileAttributes are the connection attributes of a database file: the SQLite plugin
// passes all but a few URI parameters (mode) as pragmas. Write-ahead logging with
// synchronous=NORMAL commits without an fsync (only checkpoints sync), where the default
// rollback journal with synchronous=FULL syncs several times per commit, and every workflow
// step commits: measured with `mcp-platform bench` (README, "Performance"). A dev server may
// lose its last transactions on a power cut, never its consistency.
func sqliteFileAttributes() map[string]string {
	return map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal", "busy_timeout": "10000"}
}

// serverConfig returns the static configuration of a single-node server with
// all services in this process. Only the frontend binds to ip; the internal
// services listen on loopback.
func serverConfig(ip string, p ports, sql *config.SQL) *config.Config {
	frontendAddr := net.JoinHostPort(dialHost(ip), strconv.Itoa(p.frontend))
	internal := func(port int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: loopback}}
	}

	var cfg config.Config
	cfg.Global.Membership.MaxJoinDuration = 30 * time.Second
	cfg.Global.Membership.BroadcastAddress = loopback
	cfg.Persistence = config.Persistence{
		DefaultStore:     storeName,
		VisibilityStore:  storeName,
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{storeName: {SQL: sql}},
	}
	cfg.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontendAddr,
			},
		},
	}
	cfg.DCRedirectionPolicy.Policy = "noop"
	cfg.Services = map[string]config.Service{
		"frontend": {RPC: config.RPC{GRPCPort: p.frontend, BindOnIP: ip}},
		"history":  internal(p.history),
		"matching": internal(p.matching),
		"worker":   internal(p.worker),
	}
	cfg.Archival.History.State = "disabled"
	cfg.Archival.Visibility.State = "disabled"
	cfg.NamespaceDefaults.Archival.History.State = "disabled"
	cfg.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// The server's internal SDK clients (worker service) connect here.
	cfg.PublicClient.HostPort = frontendAddr
	return &cfg
}

// dynamicConfig returns dynamic config values suited to a single-user dev
// server and to tests.
func dynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		// One partition per task queue, as Temporal's own dev server (temporal server
		// start-dev) runs: with the default four, a poll and a task can meet only after one
		// is forwarded to the root partition, which costs every task a hop on one host.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
		// The dev server's persistence rate limits: the defaults are sized for a shared
		// production database, and a burst of workflows in dev should not be throttled.
		dynamicconfig.FrontendPersistenceMaxQPS.Key(): 10000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key():  45000,
		// Keep the mutable state cache small; the default is sized for
		// production hosts.
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): 8192,
		// The UI and tests poll visibility a lot; the default is 10 rps.
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// Pick up namespace changes (search attribute aliases) quickly.
		dynamicconfig.NamespaceCacheRefreshInterval.Key(): namespaceRefreshInterval,
		// How often the history service's task queues checkpoint. Until a checkpoint, every
		// task read stays in the queue's tracker, acknowledged or not, and each new batch of
		// tasks walks the whole tracker to split it: with the 30s default a busy dev server
		// spends more CPU on that walk than on running the tasks (mcp-platform bench, README
		// "Performance"). A checkpoint is one small shard write.
		dynamicconfig.TransferProcessorUpdateAckInterval.Key():   queueCheckpointInterval,
		dynamicconfig.VisibilityProcessorUpdateAckInterval.Key(): queueCheckpointInterval,
		dynamicconfig.TimerProcessorUpdateAckInterval.Key():      queueCheckpointInterval,
		// Visibility tasks are normally pushed immediately; shorten the
		// fallback poll so a missed notification costs little.
		dynamicconfig.VisibilityProcessorMaxPollInterval.Key(): 5 * time.Second,
	}
}

const loopback = "127.0.0.1"

// dialHost returns a host to dial for a server bound to ip: the loopback
// address when ip is unspecified (0.0.0.0 or ::), ip otherwise.
func dialHost(ip string) string {
	if parsed := net.ParseIP(ip); parsed != nil && parsed.IsUnspecified() {
		if parsed.To4() == nil {
			return "::1"
		}
		return loopback
	}
	return ip
}

// freePort asks the kernel for a free TCP port on ip. The port is released
// before returning, so another process could take it in between; that race
// is acceptable for dev and tests.
func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// checkPortFree reports an error when ip:port cannot be bound right now.
func checkPortFree(ip string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}
