package ratelimit_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"
	"github.com/stretchr/testify/require"

	"mcp-platform/api/httpapi"
	"mcp-platform/api/ratelimit"
	"mcp-platform/authz"
)

// clock is a hand-moved time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLimiter(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
		l := ratelimit.PerMinute(3)
		l.Now = c.now
		for i := range 3 {
			ok, _ := l.Allow("alice")
			require.True(t, ok, "request %d of the first minute", i+1)
		}
		ok, wait := l.Allow("alice")
		require.False(t, ok)
		require.Equal(t, 20*time.Second, wait, "one request refills every 60/3 s")
		require.Equal(t, "20", ratelimit.RetryAfter(wait))

		ok, _ = l.Allow("bob")
		require.True(t, ok, "another user has a bucket of their own")

		c.advance(19 * time.Second)
		ok, wait = l.Allow("alice")
		require.False(t, ok, "a refused request takes nothing, so the wait only shrinks")
		require.Equal(t, "1", ratelimit.RetryAfter(wait))
		c.advance(time.Second)
		ok, _ = l.Allow("alice")
		require.True(t, ok)
	})

	t.Run("IdleBucketsForgotten", func(t *testing.T) {
		c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
		l := ratelimit.PerMinute(1)
		l.Now = c.now
		ok, _ := l.Allow("alice")
		require.True(t, ok)
		c.advance(2 * time.Minute)
		ok, _ = l.Allow("bob") // sweeps alice's full bucket
		require.True(t, ok)
		ok, _ = l.Allow("alice")
		require.True(t, ok)
		ok, _ = l.Allow("alice")
		require.False(t, ok, "a forgotten bucket comes back as a full one, no fuller")
	})

	t.Run("Unlimited", func(t *testing.T) {
		l := ratelimit.PerMinute(0)
		require.Nil(t, l)
		for range 1000 {
			ok, _ := l.Allow("alice")
			require.True(t, ok)
		}
	})

	t.Run("RetryAfterRoundsUp", func(t *testing.T) {
		require.Equal(t, "1", ratelimit.RetryAfter(time.Millisecond))
		require.Equal(t, "2", ratelimit.RetryAfter(1100*time.Millisecond))
	})
}

func TestMiddleware(t *testing.T) {
	_, api := humatest.New(t)
	// As RequireAuth does: the principal, here named by a test header.
	api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
		if sub := ctx.Header("X-Test-User"); sub != "" {
			ctx = huma.WithContext(ctx, httpapi.WithPrincipal(ctx.Context(), authz.Principal{Subject: sub}))
		}
		next(ctx)
	})
	l := ratelimit.PerMinute(2)
	api.UseMiddleware(ratelimit.Middleware(api, l))
	huma.Register(api, huma.Operation{OperationID: "ping", Method: http.MethodGet, Path: "/ping"},
		func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })

	for range 2 {
		require.Equal(t, http.StatusNoContent, api.Get("/ping", "X-Test-User: alice").Code)
	}
	resp := api.Get("/ping", "X-Test-User: alice")
	require.Equal(t, http.StatusTooManyRequests, resp.Code)
	require.Equal(t, "30", resp.Header().Get("Retry-After"))
	require.Contains(t, resp.Body.String(), "Too many requests: each user may send 2 a minute. Try again in 30 s.")
	require.True(t, strings.HasPrefix(resp.Header().Get("Content-Type"), "application/problem+json"))

	require.Equal(t, http.StatusNoContent, api.Get("/ping", "X-Test-User: bob").Code, "other users are not affected")
	for range 5 {
		require.Equal(t, http.StatusNoContent, api.Get("/ping").Code, "requests without a principal are not limited here")
	}
}
