package usageapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mcp-platform/api/httpapi"
	"mcp-platform/api/usageapi"
	"mcp-platform/authz"
	"mcp-platform/internal/testutil/dbtest"
	"mcp-platform/internal/usage"
)

var now = time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC)

// newAPI serves the usage routes on a real store; X-Test-User and X-Test-Roles name the
// caller, as RequireAuth's principal would.
func newAPI(t *testing.T, store *usage.Store, budget int64) humatest.TestAPI {
	t.Helper()
	enf, err := authz.NewEnforcer()
	require.NoError(t, err)
	_, api := humatest.New(t)
	api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
		if sub := ctx.Header("X-Test-User"); sub != "" {
			p := authz.Principal{Subject: sub}
			if r := ctx.Header("X-Test-Roles"); r != "" {
				p.Roles = []string{r}
			}
			ctx = huma.WithContext(ctx, httpapi.WithPrincipal(ctx.Context(), p))
		}
		next(ctx)
	})
	usageapi.Register(api, usageapi.Deps{Usage: store, Authz: enf, TokensPerDay: budget,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }})
	return api
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var out map[string]any
	require.NoError(t, json.Unmarshal(body, &out), string(body))
	return out
}

func TestUsageRoutes(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	store := usage.NewStore(db.Pool)
	record := func(user string, prompt, completion int, at time.Time) {
		require.NoError(t, store.Record(ctx, usage.Entry{UserID: user, ConversationID: uuid.NewString(), Turn: 1, Step: 1,
			Model: "gpt-4o-mini", PromptTokens: prompt, CompletionTokens: completion, At: at}))
	}
	record("alice", 600, 200, now.Add(-time.Hour))
	record("alice", 50, 50, now.AddDate(0, 0, -3))
	record("bob", 3000, 1000, now.Add(-2*time.Hour))
	api := newAPI(t, store, 1000)

	t.Run("OK own usage with the budget", func(t *testing.T) {
		resp := api.Get("/usage", "X-Test-User: alice")
		require.Equal(t, http.StatusOK, resp.Code, resp.Body.String())
		body := decode(t, resp.Body.Bytes())
		require.Equal(t, "alice", body["user_id"])
		require.Equal(t, float64(800), body["today"].(map[string]any)["total_tokens"])
		require.Equal(t, float64(900), body["period"].(map[string]any)["total_tokens"])
		require.Len(t, body["days"], 2)
		require.Equal(t, map[string]any{"tokens_per_day": float64(1000), "remaining": float64(200), "exceeded": false,
			"resets_at": "2026-12-02T00:00:00Z"}, body["budget"])
	})

	t.Run("OK spent budget", func(t *testing.T) {
		body := decode(t, api.Get("/usage?days=1", "X-Test-User: bob").Body.Bytes())
		require.Equal(t, true, body["budget"].(map[string]any)["exceeded"])
		require.Equal(t, float64(0), body["budget"].(map[string]any)["remaining"])
		require.Equal(t, "2026-12-01T00:00:00Z", body["since"])
	})

	t.Run("OK admins read everyone's", func(t *testing.T) {
		resp := api.Get("/usage/users", "X-Test-User: root", "X-Test-Roles: admin")
		require.Equal(t, http.StatusOK, resp.Code, resp.Body.String())
		users := decode(t, resp.Body.Bytes())["users"].([]any)
		require.Len(t, users, 2)
		require.Equal(t, "bob", users[0].(map[string]any)["user_id"], "the most tokens first")
		require.Equal(t, "alice", users[1].(map[string]any)["user_id"])
	})

	t.Run("ErrForbidden for everyone else", func(t *testing.T) {
		for _, role := range []string{"employee", "auditor", "operator"} {
			resp := api.Get("/usage/users", "X-Test-User: alice", "X-Test-Roles: "+role)
			require.Equal(t, http.StatusForbidden, resp.Code, role)
			require.Contains(t, resp.Body.String(), "GET /usage shows your own")
		}
	})

	t.Run("ErrBadDays", func(t *testing.T) {
		resp := api.Get("/usage?days=365", "X-Test-User: alice")
		require.Equal(t, http.StatusUnprocessableEntity, resp.Code)
	})

	t.Run("ErrNoPrincipal", func(t *testing.T) {
		require.Equal(t, http.StatusUnauthorized, api.Get("/usage").Code)
	})
}
