//go:build unix

package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// requirePostgres skips the test when no PostgreSQL binaries are installed.
func requirePostgres(t *testing.T) {
	t.Helper()
	if _, err := findBinaries(""); errors.Is(err, ErrNoPostgres) {
		t.Skip("no PostgreSQL binaries on this machine")
	}
}

// testDataDir returns a not-yet-existing data directory below a fresh
// temporary directory that the unprivileged server account can reach.
func testDataDir(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	if os.Geteuid() == 0 {
		// t.TempDir creates its directories with mode 0700, which the
		// postgres user cannot enter.
		require.NoError(t, os.Chmod(filepath.Dir(base), 0o755))
		require.NoError(t, os.Chmod(base, 0o755))
	}
	return filepath.Join(base, ".data", "postgres")
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func startCluster(t *testing.T, opts Options) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	c, err := Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

func stopCluster(t *testing.T, c *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pid := c.cmd.Process.Pid
	require.NoError(t, c.Stop(ctx))

	require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "postmaster %d still exists", pid)
	require.ErrorIs(t, syscall.Kill(-pid, 0), syscall.ESRCH, "process group %d still has members", pid)
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port())), time.Second)
	if err == nil {
		_ = conn.Close()
	}
	require.Error(t, err, "port %d still accepts connections", c.Port())

	require.NoError(t, c.Stop(ctx), "second Stop must be a no-op")
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func TestStartStopRestartKeepsData(t *testing.T) {
	requirePostgres(t)
	dataDir := testDataDir(t)

	c := startCluster(t, Options{DataDir: dataDir})
	require.NotZero(t, c.Port())
	require.Equal(t, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/mcp?sslmode=disable", c.Port()), c.URL())
	require.Equal(t, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/temporal?sslmode=disable", c.Port()), c.DatabaseURL("temporal"))
	require.FileExists(t, filepath.Join(dataDir, "PG_VERSION"))
	require.FileExists(t, filepath.Join(dataDir, logFileName))
	if os.Geteuid() == 0 {
		account, err := serverAccount()
		require.NoError(t, err)
		for _, dir := range []string{dataDir, filepath.Dir(dataDir)} {
			st, err := os.Stat(dir)
			require.NoError(t, err)
			require.Equal(t, account.uid, st.Sys().(*syscall.Stat_t).Uid, "owner of %s", dir)
		}
	}

	ctx := t.Context()
	conn := connect(t, c.URL())
	var db, listen, buffers string
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_database(), current_setting('listen_addresses'), current_setting('shared_buffers')").Scan(&db, &listen, &buffers))
	require.Equal(t, "mcp", db)
	require.Equal(t, "127.0.0.1", listen)
	require.Equal(t, "32MB", buffers, "a new cluster gets the dev settings")
	_, err := conn.Exec(ctx, "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "INSERT INTO notes VALUES (1, 'survives restarts')")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))

	firstPort := c.Port()
	stopCluster(t, c)

	c2 := startCluster(t, Options{DataDir: dataDir})
	require.Equal(t, firstPort, c2.Port(), "the previous port is re-used when free")
	conn2 := connect(t, c2.URL())
	var body string
	require.NoError(t, conn2.QueryRow(ctx, "SELECT body FROM notes WHERE id = 1").Scan(&body))
	require.Equal(t, "survives restarts", body)
	require.NoError(t, conn2.Close(ctx))
	stopCluster(t, c2)
}

func TestStartLockedAndStaleDataDir(t *testing.T) {
	requirePostgres(t)
	dataDir := testDataDir(t)

	c := startCluster(t, Options{DataDir: dataDir, Database: "other db/x"})
	require.Contains(t, c.URL(), "/other%20db%2Fx?")
	connect(t, c.URL())

	// A second server on the same directory is refused.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := Start(ctx, Options{DataDir: dataDir, Logger: testLogger(t)})
	require.ErrorContains(t, err, "already running")
	stopCluster(t, c)

	// A postmaster.pid left by a crashed server whose process is gone is
	// removed.
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	stale := fmt.Sprintf("%d\n%s\n0\n%d\n", dead.Process.Pid, dataDir, c.Port())
	require.NoError(t, os.WriteFile(filepath.Join(dataDir, "postmaster.pid"), []byte(stale), 0o600))

	c2 := startCluster(t, Options{DataDir: dataDir, Database: "other db/x"})
	connect(t, c2.URL())
	stopCluster(t, c2)
}

func TestStartReportsServerFailure(t *testing.T) {
	requirePostgres(t)
	dataDir := testDataDir(t)
	c := startCluster(t, Options{DataDir: dataDir})
	stopCluster(t, c)

	// A port that is taken is refused up front.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	_, err = Start(t.Context(), Options{DataDir: dataDir, Port: l.Addr().(*net.TCPAddr).Port, Logger: testLogger(t)})
	require.ErrorContains(t, err, "already in use")

	// A server that cannot start is reported with its log.
	conf := filepath.Join(dataDir, "postgresql.auto.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("shared_buffers = 'plenty'\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = Start(t.Context(), Options{DataDir: dataDir, Logger: testLogger(t)})
	t.Log(err)
	require.ErrorContains(t, err, "exited during startup")
	require.ErrorContains(t, err, "see "+filepath.Join(dataDir, logFileName))
	require.ErrorContains(t, err, "shared_buffers")
}

func TestStartWithoutBinaries(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := Start(ctx, Options{DataDir: filepath.Join(t.TempDir(), "pg"), BinDir: t.TempDir()})
	require.ErrorIs(t, err, ErrNoPostgres)
	require.ErrorContains(t, err, "apt-get install postgresql")
	require.ErrorContains(t, err, "DATABASE_URL")
}

func TestStartAsRootWithoutUnprivilegedUser(t *testing.T) {
	requirePostgres(t)
	if os.Geteuid() != 0 {
		t.Skip("only relevant when running as root")
	}
	old := unprivilegedUser
	unprivilegedUser = "pgcluster-no-such-user"
	t.Cleanup(func() { unprivilegedUser = old })

	_, err := Start(t.Context(), Options{DataDir: testDataDir(t)})
	require.ErrorContains(t, err, "create an unprivileged user")
	require.ErrorContains(t, err, "DATABASE_URL")
}

func TestVersionedDirsHighestFirst(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "10", "16"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, v, "bin"), 0o755))
	}
	got := versionedDirs(filepath.Join(root, "*", "bin"), root+"/")
	want := []string{
		filepath.Join(root, "16", "bin"),
		filepath.Join(root, "15", "bin"),
		filepath.Join(root, "10", "bin"),
		filepath.Join(root, "9.6", "bin"),
	}
	require.Equal(t, want, got)
}
