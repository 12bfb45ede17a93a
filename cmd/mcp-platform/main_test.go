package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/authz"
	"mcp-platform/internal/testutil/dbtest"
)

// runCLI runs the program as a user would, with env as the whole environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	dataDir := t.TempDir() // dev keeps generated keys there, never in the source tree
	getenv := func(k string) string {
		if v, ok := env[k]; ok || k != "MCP_DATA_DIR" {
			return v
		}
		return dataDir
	}
	err := run(context.Background(), args, getenv, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestRun(t *testing.T) {
	t.Run("OK help lists every command", func(t *testing.T) {
		out, _, err := runCLI(t, nil, "--help")
		require.NoError(t, err)
		for _, c := range commands {
			require.Contains(t, out, c.name)
		}
	})
	t.Run("OK version", func(t *testing.T) {
		out, _, err := runCLI(t, nil, "version")
		require.NoError(t, err)
		require.Contains(t, out, "mcp-platform")
	})
	t.Run("ErrNoCommand", func(t *testing.T) {
		_, errOut, err := runCLI(t, nil)
		require.Error(t, err)
		require.Equal(t, 2, exitCode(err))
		require.Contains(t, errOut, "Commands:")
	})
	t.Run("ErrUnknownCommand", func(t *testing.T) {
		_, _, err := runCLI(t, nil, "serve")
		require.ErrorContains(t, err, `unknown command "serve"`)
		require.Equal(t, 2, exitCode(err))
	})
	t.Run("ErrCommandHelp", func(t *testing.T) {
		_, errOut, err := runCLI(t, nil, "migrate", "-h")
		require.ErrorIs(t, err, flag.ErrHelp)
		require.Contains(t, errOut, "migrate up|down|status")
	})
	t.Run("ErrBadSetting names the variable", func(t *testing.T) {
		_, _, err := runCLI(t, map[string]string{"MCP_SERVER_PORT": "http"}, "openapi")
		require.NoError(t, err, "openapi needs no settings")
		_, _, err = runCLI(t, map[string]string{"MCP_SERVER_PORT": "http", "DATABASE_URL": "postgres://x/y"}, "migrate", "status")
		require.ErrorContains(t, err, "MCP_SERVER_PORT")
	})
	t.Run("ErrRoleWithoutDatabase", func(t *testing.T) {
		_, _, err := runCLI(t, nil, "api")
		require.ErrorContains(t, err, "DATABASE_URL is not set")
	})
	t.Run("ErrRoleWithDatabaseDown", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		_, _, err = runCLI(t, map[string]string{"DATABASE_URL": fmt.Sprintf("postgres://u:secret@127.0.0.1:%d/db", port)}, "mcp")
		require.ErrorContains(t, err, "cannot connect to PostgreSQL")
		require.NotContains(t, err.Error(), "secret")
	})
	production := map[string]string{"MCP_ENVIRONMENT": "production", "DATABASE_URL": "postgres://x/y", "JWT_SECRET": "0123456789abcdef0123456789abcdef",
		"TEMPORAL_CODEC_KEYS": "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	t.Run("ErrProductionRefusesDev", func(t *testing.T) {
		_, _, err := runCLI(t, production, "dev")
		require.ErrorContains(t, err, "development only")
	})
	t.Run("ErrProductionRefusesInProcessBench", func(t *testing.T) {
		_, _, err := runCLI(t, production, "bench", "-quick")
		require.ErrorContains(t, err, "development only")
	})
	t.Run("ErrBenchBadConcurrency", func(t *testing.T) {
		_, _, err := runCLI(t, nil, "bench", "-c", "1,zero")
		require.ErrorContains(t, err, `"zero" is not a positive number`)
		require.Equal(t, 2, exitCode(err))
	})
	t.Run("ErrBenchHalfATarget", func(t *testing.T) {
		_, _, err := runCLI(t, nil, "bench", "-api", "http://127.0.0.1:8000")
		require.ErrorContains(t, err, "both -api and -mcp")
	})
	t.Run("ErrProductionWithoutCodecKeys", func(t *testing.T) {
		env := maps.Clone(production)
		delete(env, "TEMPORAL_CODEC_KEYS")
		for _, role := range []string{"api", "mcp", "worker"} {
			_, _, err := runCLI(t, env, role)
			require.ErrorContains(t, err, "TEMPORAL_CODEC_KEYS", role)
			require.ErrorContains(t, err, "required outside dev", role)
		}
	})
}

func TestMigrateCommand(t *testing.T) {
	db := dbtest.NewEmpty(t)
	env := map[string]string{"DATABASE_URL": db.URL}

	out, _, err := runCLI(t, env, "migrate", "status")
	require.NoError(t, err)
	require.Contains(t, out, "pending")
	require.NotContains(t, out, "applied ")

	out, _, err = runCLI(t, env, "migrate", "up")
	require.NoError(t, err)
	require.Regexp(t, `applied [1-9]\d* migration`, out)

	out, _, err = runCLI(t, env, "migrate", "status")
	require.NoError(t, err)
	require.NotContains(t, out, "pending")

	out, _, err = runCLI(t, env, "migrate", "down")
	require.NoError(t, err)
	require.Contains(t, out, "rolled back migration")

	_, _, err = runCLI(t, env, "migrate", "sideways")
	require.ErrorContains(t, err, `unknown action "sideways"`)
}

func TestKeysCommand(t *testing.T) {
	out, _, err := runCLI(t, nil, "keys", "-kid", "k1")
	require.NoError(t, err)
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, line)
		env[k] = v
	}
	signer, err := authz.ParseSigner(env["MCP_ASSERTION_KEY"])
	require.NoError(t, err)
	ring, err := authz.ParseKeyring(env["MCP_ASSERTION_PUBLIC_KEYS"])
	require.NoError(t, err)
	tok, err := signer.SignPrincipal(authz.Principal{Subject: "a"}, "wf", time.Minute)
	require.NoError(t, err)
	_, err = ring.VerifyPrincipal(tok, "wf", time.Now())
	require.NoError(t, err, "the printed public key verifies what the printed private key signs")
	_, _, err = runCLI(t, nil, "keys", "-kid", "bad kid")
	require.Error(t, err)
}

func TestRegistryCommand(t *testing.T) {
	db := dbtest.New(t)
	env := map[string]string{"DATABASE_URL": db.URL}
	_, err := db.Pool.Exec(context.Background(), `INSERT INTO domains (name, kind, task_queue, key_hash) VALUES ('crm', 'http', 'domain-crm', 'abc')`)
	require.NoError(t, err)

	out, _, err := runCLI(t, env, "registry", "forget", "crm")
	require.NoError(t, err)
	require.Contains(t, out, "forgot domain crm")
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM domains WHERE name = 'crm'`).Scan(&n))
	require.Zero(t, n)

	_, _, err = runCLI(t, env, "registry", "forget", "crm")
	require.ErrorContains(t, err, `no domain "crm"`)
	_, _, err = runCLI(t, env, "registry", "remember", "crm")
	require.ErrorContains(t, err, "forget <domain>")
}

// TestOpenAPIUpToDate fails when the committed OpenAPI documents (from which clients are
// generated) differ from what the code serves. Run `make openapi` to refresh them.
func TestOpenAPIUpToDate(t *testing.T) {
	for server, file := range map[string]string{"api": "gateway.json", "mcp": "mcp-server.json"} {
		t.Run(server, func(t *testing.T) {
			out, _, err := runCLI(t, nil, "openapi", "-server", server)
			require.NoError(t, err)
			committed, err := os.ReadFile(filepath.Join("..", "..", "openapi", file))
			require.NoError(t, err)
			require.Equal(t, string(committed), out, "openapi/%s is stale: run `make openapi` and commit it", file)
		})
	}
}

// TestSlimBuildLeavesOutTheDevServers: the production binary (-tags slim, as the Dockerfile
// builds it) links neither the embedded Temporal server nor its UI.
func TestSlimBuildLeavesOutTheDevServers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "-tags", "slim", ".").CombinedOutput()
	require.NoError(t, err, string(out))
	deps := string(out)
	require.Contains(t, deps, "go.temporal.io/sdk/client", "the roles still talk to Temporal")
	for _, dev := range []string{"go.temporal.io/server/temporal", "github.com/temporalio/ui-server/v2/server", "mcp-platform/platform/devstack"} {
		require.NotContains(t, deps, dev+"\n")
	}
	full, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, string(full))
	require.Contains(t, string(full), "go.temporal.io/server/temporal\n", "the full build keeps dev")
}
