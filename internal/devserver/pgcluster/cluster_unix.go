//go:build unix

package pgcluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// superuser is the name of the cluster's superuser, created by initdb.
	superuser = "postgres"
	// defaultDatabase is the database created when Options.Database is empty.
	defaultDatabase = "mcp"
	// logFileName is the server log written inside the data directory.
	logFileName = "postgres.log"
	// defaultReadyTimeout bounds the wait for the server to accept
	// connections when the caller's context has no deadline.
	defaultReadyTimeout = 30 * time.Second
	// defaultStopTimeout bounds a fast shutdown when the caller's context has
	// no deadline; after it the process group is killed.
	defaultStopTimeout = 60 * time.Second
	// maxSocketPath is the longest Unix socket path accepted everywhere
	// (sizeof(sun_path) - 1 is 107 on Linux and 103 on macOS and the BSDs).
	maxSocketPath = 103
)

// unprivilegedUser is the system account used to run PostgreSQL when this
// process runs as root. It is a variable so tests can exercise the error path.
var unprivilegedUser = "postgres"

// Cluster is a running private PostgreSQL server started by Start. Call Stop
// to shut it down.
type Cluster struct {
	dataDir  string
	logPath  string
	port     int
	database string
	logger   *slog.Logger

	cmd     *exec.Cmd
	done    chan struct{} // closed once the postmaster has been reaped
	waitErr error         // result of cmd.Wait, valid after done is closed

	stopMu  sync.Mutex
	stopped bool
}

// binaries holds the paths of the server programs Start needs.
type binaries struct {
	initdb   string
	postgres string
}

// runAs describes the account the server programs run as. A nil *runAs
// means the current user.
type runAs struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32
}

// Start initialises the cluster in opts.DataDir if needed, starts the
// PostgreSQL server as a child process, waits until it accepts connections
// and creates opts.Database if it does not exist. The caller must call Stop
// to shut the server down. If ctx has no deadline, Start waits at most about
// 30 seconds for the server to become ready.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	database := opts.Database
	if database == "" {
		database = defaultDatabase
	}
	if strings.ContainsRune(database, 0) {
		return nil, fmt.Errorf("pgcluster: invalid database name %q", database)
	}
	if opts.DataDir == "" {
		return nil, errors.New("pgcluster: Options.DataDir is required")
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("pgcluster: invalid port %d", opts.Port)
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: resolve data directory: %w", err)
	}

	bins, err := findBinaries(opts.BinDir)
	if err != nil {
		return nil, err
	}
	account, err := serverAccount()
	if err != nil {
		return nil, err
	}
	if err := prepareDataDir(dataDir, account); err != nil {
		return nil, err
	}

	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		logger.Info("initialising PostgreSQL cluster in "+dataDir, "initdb", bins.initdb)
		if err := initCluster(ctx, bins.initdb, dataDir, account); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	} else if err := removeStalePid(dataDir, logger); err != nil {
		return nil, err
	}

	port, err := choosePort(dataDir, opts.Port)
	if err != nil {
		return nil, err
	}

	c := &Cluster{
		dataDir:  dataDir,
		logPath:  filepath.Join(dataDir, logFileName),
		port:     port,
		database: database,
		logger:   logger,
		done:     make(chan struct{}),
	}
	if err := c.startServer(bins.postgres, account); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		c.kill()
		return nil, err
	}
	logger.Info(fmt.Sprintf("PostgreSQL ready on 127.0.0.1:%d", port),
		"database", database, "data", dataDir, "log", c.logPath, "pid", c.cmd.Process.Pid)
	return c, nil
}

// URL returns the connection URL of the cluster's database, in the form
// postgres://postgres@127.0.0.1:<port>/<db>?sslmode=disable.
func (c *Cluster) URL() string {
	return c.urlFor(c.database)
}

// DatabaseURL returns the connection URL of database db on the cluster, in the form of URL.
// The database is not created.
func (c *Cluster) DatabaseURL(db string) string {
	return c.urlFor(db)
}

// Port returns the TCP port the cluster listens on at 127.0.0.1.
func (c *Cluster) Port() int {
	return c.port
}

// Stop shuts the server down with a fast shutdown (open sessions are
// terminated, the server checkpoints and exits) and waits until the server
// process and its children are gone. If ctx ends first, or after about a
// minute when ctx has no deadline, the whole process group is killed, Stop
// still waits for it to disappear, and the context's error is returned. Stop
// is idempotent: calls after the first return nil.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true

	select {
	case <-c.done:
		// The server died on its own before Stop was called.
		return fmt.Errorf("pgcluster: PostgreSQL had already exited (%v); see %s", c.waitErr, c.logPath)
	default:
	}

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStopTimeout)
		defer cancel()
	}
	pid := c.cmd.Process.Pid
	c.logger.Info("stopping PostgreSQL", "pid", pid)
	// SIGINT asks the postmaster for a "fast" shutdown, like pg_ctl stop -m fast.
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
		c.kill()
		return fmt.Errorf("pgcluster: signal PostgreSQL (pid %d): %w", pid, err)
	}
	select {
	case <-c.done:
		c.logger.Info("PostgreSQL stopped")
		return nil
	case <-ctx.Done():
		c.logger.Warn("PostgreSQL did not stop in time; killing it", "pid", pid)
		c.kill()
		return fmt.Errorf("pgcluster: fast shutdown of PostgreSQL (pid %d) did not finish, killed it: %w", pid, ctx.Err())
	}
}

// urlFor returns the connection URL for database db.
func (c *Cluster) urlFor(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(superuser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawPath:  "/" + url.PathEscape(db),
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// startServer launches the postmaster with its output appended to the log
// file in the data directory.
func (c *Cluster) startServer(postgresBin string, account *runAs) error {
	logFile, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pgcluster: open server log: %w", err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	if account != nil {
		if err := os.Chown(c.logPath, int(account.uid), int(account.gid)); err != nil {
			return fmt.Errorf("pgcluster: chown server log: %w", err)
		}
	}
	fmt.Fprintf(logFile, logMarker+" PostgreSQL on 127.0.0.1:%d at %s ----\n",
		c.port, time.Now().Format(time.RFC3339))

	// Keep the Unix socket inside the data directory so it never collides
	// with a system cluster in /var/run/postgresql. Socket paths are limited
	// in length; for a deeply nested data directory use TCP only.
	socketDir := c.dataDir
	if len(socketDir)+len("/.s.PGSQL.65535.lock") > maxSocketPath {
		c.logger.Debug("data directory path too long for a Unix socket; using TCP only", "dir", c.dataDir)
		socketDir = ""
	}
	args := []string{
		"-D", c.dataDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port=" + strconv.Itoa(c.port),
		"-c", "unix_socket_directories=" + socketDir,
		"-c", "logging_collector=off",
	}
	cmd := exec.Command(postgresBin, args...)
	cmd.Dir = c.dataDir
	cmd.Env = serverEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a Ctrl-C in the terminal reaches only us, and we
		// stop the server cleanly.
		Setpgid: true,
	}
	setParentDeathSignal(cmd.SysProcAttr)
	if account != nil {
		cmd.SysProcAttr.Credential = account.credential()
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgcluster: start %s: %w", postgresBin, err)
	}
	c.cmd = cmd
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	return nil
}

// waitReady polls the server until it accepts connections, then creates the
// database if it is missing.
func (c *Cluster) waitReady(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultReadyTimeout)
		defer cancel()
	}
	adminURL := c.urlFor(superuser)
	var lastErr error
	for {
		select {
		case <-c.done:
			return fmt.Errorf("pgcluster: PostgreSQL exited during startup (%v); see %s%s",
				c.waitErr, c.logPath, logTail(c.logPath))
		default:
		}
		attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attemptCtx, adminURL)
		cancel()
		if err == nil {
			err = ensureDatabase(ctx, conn, c.database)
			_ = conn.Close(context.WithoutCancel(ctx))
			if err != nil {
				return fmt.Errorf("pgcluster: create database %q: %w", c.database, err)
			}
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: PostgreSQL did not accept connections on 127.0.0.1:%d (%w; last error: %v); see %s%s",
				c.port, ctx.Err(), lastErr, c.logPath, logTail(c.logPath))
		case <-c.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// kill terminates the server's whole process group immediately and waits
// until the postmaster has been reaped.
func (c *Cluster) kill() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	pid := c.cmd.Process.Pid
	// The postmaster leads its own process group (Setpgid), so this also
	// reaches its backends and auxiliary processes.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-c.done
	// Children that were not reached (none expected) would exit on their
	// own once they notice the postmaster is gone; give them a moment.
	for range 50 {
		if err := syscall.Kill(-pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ensureDatabase creates database db unless it exists.
func ensureDatabase(ctx context.Context, conn *pgx.Conn, db string) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database
		return nil
	}
	return err
}

// findBinaries locates initdb and postgres. Both must live in the same
// directory so their versions match.
func findBinaries(binDir string) (binaries, error) {
	if binDir != "" {
		b, ok := binariesIn(binDir)
		if !ok {
			return binaries{}, fmt.Errorf("pgcluster: no initdb and postgres in %s: %w", binDir, ErrNoPostgres)
		}
		return b, nil
	}
	candidates := filepath.SplitList(os.Getenv("PATH"))
	candidates = append(candidates, versionedDirs("/usr/lib/postgresql/*/bin", "/usr/lib/postgresql/")...)
	candidates = append(candidates, versionedDirs("/usr/pgsql-*/bin", "/usr/pgsql-")...)
	candidates = append(candidates, "/usr/local/pgsql/bin")
	for _, dir := range candidates {
		if dir == "" {
			continue
		}
		if b, ok := binariesIn(dir); ok {
			return b, nil
		}
	}
	return binaries{}, fmt.Errorf("pgcluster: %w", ErrNoPostgres)
}

// binariesIn reports whether dir contains executable initdb and postgres.
func binariesIn(dir string) (binaries, bool) {
	b := binaries{
		initdb:   filepath.Join(dir, "initdb"),
		postgres: filepath.Join(dir, "postgres"),
	}
	if !isExecutable(b.initdb) || !isExecutable(b.postgres) {
		return binaries{}, false
	}
	if abs, err := filepath.Abs(dir); err == nil {
		b.initdb = filepath.Join(abs, "initdb")
		b.postgres = filepath.Join(abs, "postgres")
	}
	return b, true
}

// isExecutable reports whether path is a regular file with an execute bit.
func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// versionedDirs expands pattern and orders the matches by the version number
// that follows prefix, highest first.
func versionedDirs(pattern, prefix string) []string {
	matches, _ := filepath.Glob(pattern)
	version := func(p string) []int {
		rest := strings.TrimPrefix(p, prefix)
		rest, _, _ = strings.Cut(rest, "/")
		var v []int
		for part := range strings.SplitSeq(rest, ".") {
			n, err := strconv.Atoi(part)
			if err != nil {
				n = -1
			}
			v = append(v, n)
		}
		return v
	}
	slices.SortStableFunc(matches, func(a, b string) int {
		return slices.Compare(version(b), version(a))
	})
	return matches
}

// serverAccount decides which account runs initdb and postgres. PostgreSQL
// refuses to run as root, so root hands over to the unprivileged user.
func serverAccount() (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(unprivilegedUser)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: PostgreSQL refuses to run as root and the unprivileged user %q was not found (%v): "+
			"create an unprivileged user (e.g. useradd --system %s) or set DATABASE_URL to an existing server",
			unprivilegedUser, err, unprivilegedUser)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: user %q has non-numeric uid %q", u.Username, u.Uid)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: user %q has non-numeric gid %q", u.Username, u.Gid)
	}
	if uid == 0 {
		return nil, fmt.Errorf("pgcluster: user %q has uid 0; PostgreSQL needs an unprivileged user: "+
			"create one or set DATABASE_URL to an existing server", u.Username)
	}
	a := &runAs{name: u.Username, uid: uint32(uid), gid: uint32(gid), groups: []uint32{uint32(gid)}}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil && !slices.Contains(a.groups, uint32(g)) {
				a.groups = append(a.groups, uint32(g))
			}
		}
	}
	return a, nil
}

// credential returns the process credential for a.
func (a *runAs) credential() *syscall.Credential {
	return &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups}
}

// canSearch reports whether a may traverse directory info by its mode bits.
func (a *runAs) canSearch(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := info.Mode().Perm()
	switch {
	case st.Uid == a.uid:
		return mode&0o100 != 0
	case slices.Contains(a.groups, st.Gid):
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}

// prepareDataDir creates the data directory (mode 0700) and any missing
// parents (mode 0755). When the server runs as another account, every
// existing ancestor must be traversable by it, and the directories created
// here and the data directory are handed over to it.
func prepareDataDir(dataDir string, account *runAs) error {
	var missing []string // innermost first
	existing := dataDir
	for {
		if _, err := os.Stat(existing); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pgcluster: %w", err)
		}
		missing = append(missing, existing)
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		existing = parent
	}
	if account != nil {
		if err := checkTraversable(existing, dataDir, account); err != nil {
			return err
		}
	}

	slices.Reverse(missing) // outermost first
	for _, dir := range missing {
		mode := fs.FileMode(0o755)
		if dir == dataDir {
			mode = 0o700
		}
		if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("pgcluster: create data directory: %w", err)
		}
		if err := os.Chmod(dir, mode); err != nil { // undo the umask
			return fmt.Errorf("pgcluster: %w", err)
		}
		if account != nil {
			if err := os.Chown(dir, int(account.uid), int(account.gid)); err != nil {
				return fmt.Errorf("pgcluster: chown %s to %s: %w", dir, account.name, err)
			}
		}
	}

	info, err := os.Stat(dataDir)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("pgcluster: data directory %s is not a directory", dataDir)
	}
	// PostgreSQL insists on 0700 or 0750.
	if perm := info.Mode().Perm(); perm != 0o700 && perm != 0o750 {
		if err := os.Chmod(dataDir, 0o700); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	// Hand an existing data directory over to the server account (for
	// example one created or copied in by root).
	if st, ok := info.Sys().(*syscall.Stat_t); ok && account != nil && st.Uid != account.uid {
		err := filepath.WalkDir(dataDir, func(path string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, int(account.uid), int(account.gid))
		})
		if err != nil {
			return fmt.Errorf("pgcluster: chown %s to %s: %w", dataDir, account.name, err)
		}
	}
	return nil
}

// checkTraversable verifies that account can enter dir and each of its
// ancestors, so that it can reach dataDir below dir.
func checkTraversable(dir, dataDir string, account *runAs) error {
	for {
		info, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if !account.canSearch(info) {
			return fmt.Errorf("pgcluster: PostgreSQL refuses to run as root, so it runs as user %q, "+
				"but that user cannot reach %s because it cannot enter %s (mode %#o): "+
				"make that directory traversable (chmod o+x %s), put the data directory elsewhere, "+
				"or set DATABASE_URL to an existing server",
				account.name, dataDir, dir, uint32(info.Mode().Perm()), dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// initCluster runs initdb on the (empty) data directory.
func initCluster(ctx context.Context, initdbBin, dataDir string, account *runAs) error {
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("pgcluster: %s is not empty but holds no PostgreSQL cluster (no PG_VERSION): "+
			"remove it or choose another data directory", dataDir)
	}
	cmd := exec.CommandContext(ctx, initdbBin,
		"-D", dataDir,
		"-A", "trust",
		"-U", superuser,
		"--encoding=UTF8",
		"--no-locale",
	)
	cmd.Dir = dataDir
	cmd.Env = serverEnv()
	cmd.WaitDelay = 5 * time.Second
	if account != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: account.credential()}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		// Leave an empty directory behind so the next start initialises
		// again instead of tripping over a half-written cluster.
		if entries, rerr := os.ReadDir(dataDir); rerr == nil {
			for _, e := range entries {
				_ = os.RemoveAll(filepath.Join(dataDir, e.Name()))
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("pgcluster: initdb interrupted: %w", ctx.Err())
		}
		return fmt.Errorf("pgcluster: initdb failed (%v):\n%s", err, strings.TrimSpace(string(out)))
	}
	return writeDevSettings(dataDir)
}

// devSettings are appended to a new cluster's postgresql.conf: a development database is
// small, so a smaller buffer cache than the 128MB default holds it and keeps the stack's memory
// down, and the dev stack uses no logical replication, whose launcher is one process less.
// They are defaults, written once: what the user changes in the file later wins.
const devSettings = `
# mcp-platform dev defaults (internal/devserver/pgcluster); edit freely.
shared_buffers = 32MB
max_logical_replication_workers = 0
`

// writeDevSettings appends devSettings to the cluster's postgresql.conf.
func writeDevSettings(dataDir string) error {
	f, err := os.OpenFile(filepath.Join(dataDir, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: write dev settings: %w", err)
	}
	if _, err := f.WriteString(devSettings); err != nil {
		f.Close()
		return fmt.Errorf("pgcluster: write dev settings: %w", err)
	}
	return f.Close()
}

// serverEnv returns the environment for initdb and postgres: ours without
// PG* variables, which could otherwise change the server's behaviour.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// removeStalePid deletes postmaster.pid (and socket lock files) left behind
// by a server that crashed. It fails if a live server owns the directory.
func removeStalePid(dataDir string, logger *slog.Logger) error {
	pidFile := filepath.Join(dataDir, "postmaster.pid")
	data, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err == nil && pid > 0 && postmasterAlive(pid, dataDir) {
		return fmt.Errorf("pgcluster: PostgreSQL (pid %d) is already running on data directory %s; "+
			"stop it first (kill -INT %d, or pg_ctl -D %s stop -m fast) or use another data directory",
			pid, dataDir, pid, dataDir)
	}
	logger.Info("removing stale postmaster.pid left by a previous run", "file", pidFile, "pid", first)
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pgcluster: remove stale %s: %w", pidFile, err)
	}
	locks, _ := filepath.Glob(filepath.Join(dataDir, ".s.PGSQL.*"))
	for _, l := range locks {
		_ = os.Remove(l)
	}
	return nil
}

// postmasterAlive reports whether pid is a live PostgreSQL server serving
// dataDir. On Linux it uses /proc to tell a re-used pid (common after a
// reboot or container restart) from a real server; elsewhere any live
// process counts.
func postmasterAlive(pid int, dataDir string) bool {
	if pid == os.Getpid() || pid == os.Getppid() {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	procDir := "/proc/" + strconv.Itoa(pid)
	comm, err := os.ReadFile(procDir + "/comm")
	if err != nil {
		return true
	}
	name := strings.TrimSpace(string(comm))
	if !strings.HasPrefix(name, "postgres") && !strings.HasPrefix(name, "postmaster") {
		return false
	}
	// The postmaster changes into its data directory.
	cwd, err := os.Readlink(procDir + "/cwd")
	if err != nil {
		return true
	}
	want := dataDir
	if r, err := filepath.EvalSymlinks(dataDir); err == nil {
		want = r
	}
	return filepath.Clean(cwd) == want
}

// optsPortRE finds the port we passed on the previous start in the
// postmaster.opts file the server writes.
var optsPortRE = regexp.MustCompile(`"port=(\d+)"`)

// choosePort returns the port to listen on: the requested one (which must be
// free), else the previous start's port if it is free, else a free port.
func choosePort(dataDir string, requested int) (int, error) {
	if requested != 0 {
		if !portFree(requested) {
			return 0, fmt.Errorf("pgcluster: port %d on 127.0.0.1 is already in use; choose another port or set DATABASE_URL", requested)
		}
		return requested, nil
	}
	if data, err := os.ReadFile(filepath.Join(dataDir, "postmaster.opts")); err == nil {
		if m := optsPortRE.FindSubmatch(data); m != nil {
			if p, err := strconv.Atoi(string(m[1])); err == nil && p > 0 && p <= 65535 && portFree(p) {
				return p, nil
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree reports whether a TCP listener can be opened on 127.0.0.1:port.
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// logMarker starts the line written to the server log before each start, so
// error messages quote only the current run's output.
const logMarker = "---- pgcluster: starting"

// logTail returns the last lines the current run wrote to the server log,
// formatted to be appended to an error message, or "" if there are none.
func logTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const maxBytes = 4096
	if st, err := f.Stat(); err == nil && st.Size() > maxBytes {
		_, _ = f.Seek(st.Size()-maxBytes, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	if i := bytes.LastIndex(data, []byte(logMarker)); i >= 0 {
		data = data[i:]
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			data = data[nl+1:]
		} else {
			data = nil
		}
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return ":\n    " + strings.Join(lines, "\n    ")
}
