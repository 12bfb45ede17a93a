package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"mcp-platform/api/codecapi"
	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/internal/config"
	"mcp-platform/internal/store"
	"mcp-platform/internal/temporalx"
	"mcp-platform/internal/testutil/temporaltest"
	"mcp-platform/platform"
	"mcp-platform/platform/devstack"
	"mcp-platform/platform/platformtest"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// devConfig is the settings of a dev stack on free ports with the repository's domains, loaded
// as `mcp-platform dev` loads them, from the environment plus extra.
func devConfig(t *testing.T, dataDir string, extra map[string]string) config.Config {
	t.Helper()
	env := map[string]string{
		"MCP_DATA_DIR":         dataDir,
		"MCP_DOMAINS_DIR":      filepath.Join(platformtest.RepoRoot(), "config", "domains"),
		"ORCHESTRATOR_PORT":    strconv.Itoa(freePort(t)),
		"MCP_SERVER_PORT":      strconv.Itoa(freePort(t)),
		"TEMPORAL_ADDRESS":     "127.0.0.1:" + strconv.Itoa(freePort(t)),
		"TEMPORAL_UI_PORT":     strconv.Itoa(freePort(t)),
		"MCP_SHUTDOWN_TIMEOUT": "5s",
	}
	maps.Copy(env, extra)
	t.Chdir(t.TempDir()) // no config/settings.yaml here: the defaults and env apply
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	return cfg
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

// demoToken signs in as a demo user through the dev token endpoint.
func demoToken(t *testing.T, api, user string) string {
	t.Helper()
	code, _, body := platformtest.Do(t, api, http.MethodPost, "/auth/token", "", map[string]any{"user": user})
	require.Equal(t, http.StatusOK, code, body)
	return body["access_token"].(string)
}

// printed receives what the stack prints, one Write at a time.
type printed chan string

func (p printed) Write(b []byte) (int, error) {
	select {
	case p <- string(b):
	default: // nobody is listening any more
	}
	return len(b), nil
}

// startServing runs the stack's servers and workers (every builtin domain) in the background
// and returns what it printed once ready, and a function that stops them and the stack, as
// Ctrl-C does.
func startServing(t *testing.T, cfg config.Config) (*devstack.Stack, string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := devstack.Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), platform.BuiltinAdapters())
	require.NoError(t, err)
	out := make(printed, 1)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, out) }()
	stop := func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, s.Stop())
	}
	var urls string
	select {
	case urls = <-out:
	case err := <-done:
		t.Fatalf("the stack stopped before it was ready: %v", err)
	case <-time.After(3 * time.Minute):
		stop()
		t.Fatal("the stack never said it was ready")
	}
	return s, urls, stop
}

// builtinTools are the tool names of every enabled builtin domain in the repository's
// configuration.
func builtinTools(t *testing.T) []string {
	t.Helper()
	cfgs, errs := domainconfig.LoadDir(filepath.Join(platformtest.RepoRoot(), "config", "domains"))
	require.Empty(t, errs)
	var names []string
	for _, c := range cfgs {
		if c.IsEnabled() && c.Kind == domains.KindBuiltin {
			for _, tool := range c.Tools {
				names = append(names, tool.Name)
			}
		}
	}
	require.NotEmpty(t, names)
	slices.Sort(names)
	return names
}

func postmasterPID(t *testing.T, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "postgres", "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	require.NoError(t, err)
	return pid
}

// TestDevStack starts the whole dev stack on a private PostgreSQL, checks every endpoint a new
// user is told about, stops it, and starts it again on the same data.
func TestDevStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and Temporal")
	}
	// PostgreSQL runs as user postgres when the tests run as root: it must reach the data dir.
	dataDir := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(dataDir), 0o755))
	require.NoError(t, os.Chmod(dataDir, 0o755))
	const uiURL = "https://temporal.example.test"
	cfg := devConfig(t, dataDir, map[string]string{"TEMPORAL_UI_URL": uiURL})

	s, urls, stop := startServing(t, cfg)
	api := fmt.Sprintf("http://127.0.0.1:%d", cfg.Server.APIPort)
	mcp := fmt.Sprintf("http://127.0.0.1:%d", cfg.Server.MCPPort)

	// The README's first commands, run the moment the URLs are printed, see everything.
	t.Run("OK ready when the URLs are printed: /readyz and every builtin tool", func(t *testing.T) {
		require.Contains(t, urls, "MCP Platform is running")
		for _, base := range []string{api, mcp} {
			code, body := getJSON(t, base+"/readyz")
			require.Equal(t, http.StatusOK, code, body)
		}
		token := demoToken(t, api, "admin")
		code, _, body := platformtest.Do(t, mcp, http.MethodGet, "/tools", token, nil)
		require.Equal(t, http.StatusOK, code, body)
		var got []string
		for _, tool := range body["tools"].([]any) {
			got = append(got, tool.(map[string]any)["name"].(string))
		}
		slices.Sort(got)
		require.Equal(t, builtinTools(t), got)
	})

	t.Run("OK health of both servers", func(t *testing.T) {
		for _, base := range []string{api, mcp} {
			code, body := getJSON(t, base+"/health")
			require.Equal(t, http.StatusOK, code, body)
			require.Equal(t, "ok", body["status"])
			require.Len(t, body["checks"], 3, "postgres, temporal, domains")
		}
	})

	t.Run("OK turns link to the TEMPORAL_UI_URL the user set", func(t *testing.T) {
		require.Equal(t, uiURL, s.Env.Cfg.Temporal.UIURL)
		require.Contains(t, urls, uiURL+" (served on "+s.TemporalUI+")")
		code, _, body := platformtest.Do(t, api, http.MethodPost, "/chat", demoToken(t, api, "alice"), map[string]any{"message": "hello"})
		require.Equal(t, http.StatusAccepted, code, body)
		require.True(t, strings.HasPrefix(body["temporal_url"].(string), uiURL+"/namespaces/default/workflows/chat-"), body)
	})

	t.Run("OK Temporal UI answers", func(t *testing.T) {
		require.NotEmpty(t, s.TemporalUI)
		resp, err := http.Get(s.TemporalUI)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})

	t.Run("OK OpenAPI 3.1 served", func(t *testing.T) {
		for _, base := range []string{api, mcp} {
			code, doc := getJSON(t, base+"/openapi.json")
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, "3.1.0", doc["openapi"])
		}
	})

	var storedInput *commonpb.Payload
	t.Run("OK the Temporal UI decodes through the gateway's codec server, for operators only", func(t *testing.T) {
		storedInput = uiDecodesForOperators(t, s, api)
	})

	t.Run("OK dev payload key is private to the user", func(t *testing.T) {
		fi, err := os.Stat(filepath.Join(dataDir, temporalx.DevKeyFile))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	})

	t.Run("OK data written survives a restart", func(t *testing.T) {
		_, err := s.Env.Pool.Exec(context.Background(), `INSERT INTO domains (name, kind, task_queue) VALUES ('survivor', 'builtin', 'domain-survivor')`)
		require.NoError(t, err)
	})

	pid := postmasterPID(t, dataDir)
	stop()

	t.Run("OK stop leaves no PostgreSQL behind", func(t *testing.T) {
		require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH)
		_, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.Server.APIPort), time.Second)
		require.Error(t, err, "the API port is closed")
	})

	s2, _, stop2 := startServing(t, cfg)
	defer stop2()
	t.Run("OK restart finds the data", func(t *testing.T) {
		var n int
		require.NoError(t, s2.Env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM domains WHERE name = 'survivor'`).Scan(&n))
		require.Equal(t, 1, n)
	})
	t.Run("OK restart reuses the dev payload key", func(t *testing.T) {
		require.NotNil(t, storedInput)
		out, err := s2.Env.Codec.Decode([]*commonpb.Payload{storedInput})
		require.NoError(t, err, "histories written before the restart stay readable")
		require.Contains(t, string(out[0].GetData()), "conversation_id")
	})
}

func TestDevStackErrDatabaseDown(t *testing.T) {
	cfg := devConfig(t, t.TempDir(), nil)
	cfg.Database.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/mcp?sslmode=disable", freePort(t))
	_, err := devstack.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), platform.Adapters{})
	require.ErrorIs(t, err, store.ErrUnreachable)
	require.Contains(t, err.Error(), "DATABASE_URL")
	require.NoFileExists(t, filepath.Join(cfg.DataDir, "temporal.db"), "fails before starting Temporal")
}

// uiDecodesForOperators starts a chat turn, reads its history through the Temporal UI's own API
// as the browser does, and decodes its input through the codec server the UI is configured
// with: refused to an anonymous browser, decoded for an operator's codec session. It returns
// the stored (encrypted) input.
func uiDecodesForOperators(t *testing.T, s *devstack.Stack, api string) *commonpb.Payload {
	t.Helper()
	_, settings := getJSON(t, s.TemporalUI+"/api/v1/settings")
	codec := settings["Codec"].(map[string]any)
	require.Equal(t, api+"/codec", codec["Endpoint"], "the UI decodes with the gateway's codec server")
	require.Equal(t, true, codec["IncludeCredentials"], "with the browser's codec session cookie")

	token := func(user string) string {
		code, _, body := platformtest.Do(t, api, http.MethodPost, "/auth/token", "", map[string]any{"user": user})
		require.Equal(t, http.StatusOK, code, body)
		return body["access_token"].(string)
	}
	code, _, body := platformtest.Do(t, api, http.MethodPost, "/chat", token("alice"), map[string]any{"message": "hello"})
	require.Equal(t, http.StatusAccepted, code, body)
	workflowID := body["workflow_id"].(string)

	// What the browser gets from the UI: ciphertext.
	var history struct {
		History struct {
			Events []json.RawMessage `json:"events"`
		} `json:"history"`
	}
	code, raw := getRaw(t, s.TemporalUI+"/api/v1/namespaces/"+s.Env.Cfg.Temporal.Namespace+"/workflows/"+workflowID+"/history")
	require.Equal(t, http.StatusOK, code, string(raw))
	require.NoError(t, json.Unmarshal(raw, &history))
	require.NotEmpty(t, history.History.Events)
	var first historypb.HistoryEvent
	require.NoError(t, protojson.Unmarshal(history.History.Events[0], &first))
	input := first.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
	for _, p := range temporaltest.Payloads(&first) { // input (principal included), summary
		require.Equal(t, temporalx.EncodingEncrypted, string(p.GetMetadata()["encoding"]))
	}

	decode := func(cookie *http.Cookie) (int, []byte) {
		b, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{input}})
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, codec["Endpoint"].(string)+"/decode", bytes.NewReader(b))
		require.NoError(t, err)
		req.Header.Set("Origin", s.TemporalUI)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", s.Env.Cfg.Temporal.Namespace)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, s.TemporalUI, resp.Header.Get("Access-Control-Allow-Origin"))
		out, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, out
	}
	code, _ = decode(nil)
	require.Equal(t, http.StatusUnauthorized, code, "an anonymous browser sees ciphertext only")

	code, h, _ := platformtest.Do(t, api, http.MethodPost, "/codec/session", token("oscar"), nil)
	require.Equal(t, http.StatusNoContent, code)
	var session *http.Cookie
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == codecapi.SessionCookie {
			session = c
		}
	}
	require.NotNil(t, session)
	code, out := decode(session)
	require.Equal(t, http.StatusOK, code, string(out))
	var decoded commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(out, &decoded))
	require.Contains(t, string(decoded.GetPayloads()[0].GetData()), `"sub":"alice"`, "the operator reads the turn's input")
	return input
}

func getRaw(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}
