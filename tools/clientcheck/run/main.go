// Command run starts `mcp-platform dev` on free ports with a temporary data folder (as
// web/e2e/run.mjs does), waits until it serves and every domain has a live worker, runs each
// client check program given as an argument against it, and stops the stack.
//
//	run -bin bin/mcp-platform tools/clientcheck/bin/oapi tools/clientcheck/bin/ogen
//
// Run it from the repository root (the stack reads config/ from there). With
// CLIENTCHECK_API_URL and CLIENTCHECK_MCP_URL set it starts nothing and checks that stack;
// CLIENTCHECK_KEEP_DATA=1 keeps the data folder and the stack's log.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "clientcheck:", err)
		os.Exit(1)
	}
}

// run parses the flags, starts the stack unless one is given, and runs the checks.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "bin/mcp-platform", "the mcp-platform binary")
	startTimeout := fs.Duration("start-timeout", 4*time.Minute, "how long the stack may take to start")
	checkTimeout := fs.Duration("check-timeout", 3*time.Minute, "how long each check may take")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("name the check programs to run")
	}
	apiURL, mcpURL := getenv("CLIENTCHECK_API_URL"), getenv("CLIENTCHECK_MCP_URL")
	var s *stack
	if apiURL == "" || mcpURL == "" {
		var err error
		if s, err = startStack(ctx, *bin, *startTimeout, getenv("CLIENTCHECK_KEEP_DATA") != "", stderr); err != nil {
			return err
		}
		defer s.stop(stderr)
		apiURL, mcpURL = s.api, s.mcp
	}
	var failed []string
	for _, prog := range fs.Args() {
		if err := runCheck(ctx, prog, apiURL, mcpURL, *checkTimeout, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "clientcheck: %s: %v\n", prog, err)
			failed = append(failed, filepath.Base(prog))
		}
	}
	if len(failed) > 0 {
		if s != nil {
			fmt.Fprintf(stderr, "the stack's log (%s) ends with:\n%s\n", s.logFile, tail(s.logFile, 30))
		}
		return fmt.Errorf("client checks failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// runCheck runs one check program against the stack.
func runCheck(ctx context.Context, prog, apiURL, mcpURL string, timeout time.Duration, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog)
	cmd.Env = append(os.Environ(), "CLIENTCHECK_API_URL="+apiURL, "CLIENTCHECK_MCP_URL="+mcpURL)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

// stack is a running `mcp-platform dev`.
type stack struct {
	api, mcp string
	cmd      *exec.Cmd
	exited   chan struct{}
	dir      string
	logFile  string
	keep     bool
}

// startStack starts `bin dev` on free ports with a fresh data folder and waits until it is ready.
func startStack(ctx context.Context, bin string, timeout time.Duration, keep bool, stderr io.Writer) (*stack, error) {
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	// PostgreSQL runs as the unprivileged postgres user when we are root: it must reach the folder.
	dir, err := os.MkdirTemp("", "mcp-clients-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := errors.Join(os.Mkdir(data, 0o755), os.Chmod(dir, 0o755)); err != nil {
		return nil, err
	}
	logFile := filepath.Join(dir, "dev.log")
	out, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	s := &stack{api: "http://127.0.0.1:" + strconv.Itoa(ports[0]), mcp: "http://127.0.0.1:" + strconv.Itoa(ports[1]),
		exited: make(chan struct{}), dir: dir, logFile: logFile, keep: keep}
	s.cmd = exec.Command(bin, "dev")
	s.cmd.Env = append(os.Environ(),
		"MCP_DATA_DIR="+data,
		"ORCHESTRATOR_PORT="+strconv.Itoa(ports[0]),
		"MCP_SERVER_PORT="+strconv.Itoa(ports[1]),
		"TEMPORAL_ADDRESS=127.0.0.1:"+strconv.Itoa(ports[2]),
		"TEMPORAL_UI_PORT="+strconv.Itoa(ports[3]),
		"LLM_PROVIDER=mock",
		"MCP_ENVIRONMENT=dev",
	)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	fmt.Fprintf(stderr, "clientcheck: starting %s dev (api %s, mcp %s, log %s)\n", bin, s.api, s.mcp, logFile)
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start the stack: %w", err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, timeout); err != nil {
		fmt.Fprintf(stderr, "the stack's log (%s) ends with:\n%s\n", logFile, tail(logFile, 30))
		s.stop(stderr)
		return nil, err
	}
	fmt.Fprintln(stderr, "clientcheck: the stack is ready")
	return s, nil
}

// waitReady waits until both servers answer /health and every domain has a live worker, so
// that the checks' tool calls find one.
func (s *stack) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.After(timeout)
	var last error
	for {
		select {
		case <-s.exited:
			return errors.New("mcp-platform dev exited while starting")
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("the stack was not ready after %s: %v", timeout, last)
		case <-time.After(time.Second):
		}
		if last = s.ready(ctx); last == nil {
			return nil
		}
	}
}

// ready reports what is not ready yet, or nil.
func (s *stack) ready(ctx context.Context) error {
	for _, base := range []string{s.api, s.mcp} {
		if _, err := call(ctx, http.MethodGet, base+"/health", "", nil); err != nil {
			return err
		}
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	body, err := call(ctx, http.MethodPost, s.mcp+"/auth/token", "", map[string]string{"user": "admin"})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return err
	}
	var list struct {
		Domains []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"domains"`
	}
	if body, err = call(ctx, http.MethodGet, s.mcp+"/domains", tok.AccessToken, nil); err != nil {
		return err
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return err
	}
	if len(list.Domains) == 0 {
		return errors.New("no domain registered yet")
	}
	for _, d := range list.Domains {
		if d.Status != "up" {
			return fmt.Errorf("domain %s is %s", d.Name, d.Status)
		}
	}
	return nil
}

// call sends one request and returns the body of a 200 answer.
func call(ctx context.Context, method, url, token string, body any) ([]byte, error) {
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		in = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, in)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s %s: status %d", method, url, resp.StatusCode)
	}
	return b, err
}

// stop interrupts the stack, as Ctrl-C would, and kills it if it has not stopped within a
// minute; then it removes the data folder unless asked to keep it.
func (s *stack) stop(stderr io.Writer) {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(time.Minute):
			fmt.Fprintln(stderr, "clientcheck: the stack did not stop within a minute; killing it")
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if s.keep {
		fmt.Fprintln(stderr, "clientcheck: kept", s.dir)
		return
	}
	_ = os.RemoveAll(s.dir)
}

// freePorts returns n ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// tail is the last n lines of a file.
func tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
