package redact_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/redact"
)

type credentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// secretValuer hides its secret behind LogValue, which the handler must resolve first.
type secretValuer struct{ token string }

func (s secretValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_token", s.token), slog.String("kind", "oauth"))
}

func TestHandler(t *testing.T) {
	secrets := []string{
		"hunter2", "tok-123", "98000", "bearer-secret", "url-pass", "with-secret", "struct-pass",
		"group-token", "valuer-token", "err-pass", "bonus-777", "msg-pass",
	}

	var buf bytes.Buffer
	// Without the time, a secret number cannot show up by chance in the timestamp.
	noTime := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	log := slog.New(redact.Handler(slog.NewJSONHandler(&buf, noTime), "employee.bonus"))
	log = log.With("api_key", "with-secret", "service", "hr")
	log.WithGroup("req").Info("login password=msg-pass",
		"user", "ann",
		"password", "hunter2",
		"accessToken", "tok-123",
		"base_salary", 98000,
		"header", "Authorization: Bearer bearer-secret",
		"dsn", "postgres://app:url-pass@db/app",
		"creds", credentials{User: "ann", Password: "struct-pass"},
		slog.Group("auth", "token", "group-token", "scheme", "oauth"),
		"session", secretValuer{token: "valuer-token"},
		"err", errors.New("connect: password=err-pass rejected"),
		slog.Group("employee", "bonus", "bonus-777", "name", "Ann"),
		"attempt", 2,
	)

	out := buf.String()
	for _, s := range secrets {
		require.NotContains(t, out, s)
	}
	require.Contains(t, out, redact.Mask)

	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	require.Equal(t, "login password="+redact.Mask, rec["msg"])
	require.Equal(t, redact.Mask, rec["api_key"])
	require.Equal(t, "hr", rec["service"])
	req := rec["req"].(map[string]any)
	require.Equal(t, "ann", req["user"])
	require.Equal(t, redact.Mask, req["password"])
	require.Equal(t, redact.Mask, req["accessToken"])
	require.Equal(t, redact.Mask, req["base_salary"])
	require.Equal(t, "Authorization: "+redact.Mask, req["header"])
	require.Equal(t, "postgres://app:"+redact.Mask+"@db/app", req["dsn"])
	require.Equal(t, map[string]any{"user": "ann", "password": redact.Mask}, req["creds"])
	require.Equal(t, map[string]any{"token": redact.Mask, "scheme": "oauth"}, req["auth"])
	require.Equal(t, map[string]any{"access_token": redact.Mask, "kind": "oauth"}, req["session"])
	require.Equal(t, "connect: password="+redact.Mask+" rejected", req["err"])
	require.Equal(t, map[string]any{"bonus": redact.Mask, "name": "Ann"}, req["employee"])
	require.Equal(t, 2.0, req["attempt"])
}

func TestHandlerKeepsLevel(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(redact.Handler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	log.Info("dropped", "password", "x")
	require.Empty(t, buf.String())
	log.Warn("kept", "password", "x")
	require.Contains(t, buf.String(), `"password":"`+redact.Mask+`"`)
}

// TestHandlerDerivedChains checks that attributes and groups added in several steps are each
// redacted with the groups open where they were added, and that sibling loggers derived from
// one parent do not see each other's attributes.
func TestHandlerDerivedChains(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(redact.Handler(slog.NewJSONHandler(&buf, nil), "employee.salary"))
	parent := base.With("password", "p-secret").WithGroup("employee")
	a := parent.With("salary", 98000, "name", "Ann")
	b := parent.With("token", "b-secret")
	a.Info("a")
	b.Info("b")
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 2)
	var first, second map[string]any
	require.NoError(t, json.Unmarshal(lines[0], &first))
	require.NoError(t, json.Unmarshal(lines[1], &second))
	require.Equal(t, redact.Mask, first["password"])
	require.Equal(t, map[string]any{"salary": redact.Mask, "name": "Ann"}, first["employee"])
	require.Equal(t, map[string]any{"token": redact.Mask}, second["employee"])
	require.NotContains(t, buf.String(), "secret")
	require.NotContains(t, buf.String(), "98000")
}

// BenchmarkDerivedUnused measures what a derived logger that is never written to costs (the
// Temporal server derives one per call, and most of them log nothing at the dev stack's level).
func BenchmarkDerivedUnused(b *testing.B) {
	log := slog.New(redact.Handler(slog.NewJSONHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	b.ReportAllocs()
	for b.Loop() {
		l := log.With("wf-namespace", "default", "wf-id", "chat-0c4c1d5e-1", "wf-run-id", "8a3b2c1d-aaaa-bbbb-cccc-0123456789ab",
			"shard-id", 3, "address", "127.0.0.1:7234")
		l.Info("not written")
	}
}
