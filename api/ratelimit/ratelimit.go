// Package ratelimit limits how many requests each user sends one server per minute: a token
// bucket per user (golang.org/x/time/rate) holding a minute's worth of requests, refilled
// evenly. A refused request is answered 429 Too Many Requests with a Retry-After header saying
// when the next one will pass.
//
// The buckets live in the process: each API or MCP server replica counts its own, so behind a
// load balancer spreading a user over N replicas the user may reach up to N times the limit.
// That keeps the check off the database on every request; the budget that must hold across
// replicas, LLM tokens per day, is counted in Postgres (internal/usage).
package ratelimit

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/time/rate"

	"mcp-platform/api/httpapi"
)

// Limiter keeps one token bucket per key (a user's subject). It is safe for concurrent use; a
// nil *Limiter allows everything.
type Limiter struct {
	perMinute int
	every     rate.Limit
	// Now is the clock (time.Now when nil); tests move it.
	Now func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// PerMinute returns a limiter allowing each key n requests a minute, n of them at once; nil
// (no limit) when n ≤ 0.
func PerMinute(n int) *Limiter {
	if n <= 0 {
		return nil
	}
	return &Limiter{perMinute: n, every: rate.Limit(float64(n) / 60), buckets: map[string]*bucket{}}
}

// Limit is the requests per minute the limiter allows each key (0 for a nil limiter).
func (l *Limiter) Limit() int {
	if l == nil {
		return 0
	}
	return l.perMinute
}

// Allow takes one request from key's bucket. When the bucket is empty it takes nothing and
// returns false with how long until a request will pass.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	l.mu.Lock()
	l.sweep(now)
	b, found := l.buckets[key]
	if !found {
		b = &bucket{lim: rate.NewLimiter(l.every, l.perMinute)}
		l.buckets[key] = b
	}
	b.seen = now
	l.mu.Unlock()

	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets buckets idle for a minute, once a minute: they have refilled, so a new bucket
// is the same. The caller holds mu.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	for k, b := range l.buckets {
		if now.Sub(b.seen) >= time.Minute {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// RetryAfter is the Retry-After value of a wait: whole seconds, rounded up, at least 1.
func RetryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// Message tells a refused caller the limit and when to retry.
func (l *Limiter) Message(retryAfter time.Duration) string {
	return fmt.Sprintf("Too many requests: each user may send %d a minute. Try again in %s s.", l.Limit(), RetryAfter(retryAfter))
}

// Middleware returns a Huma middleware that limits each authenticated user (the principal
// httpapi.RequireAuth put in the context, so it must come after it). Operations without a
// principal (health, dev sign-in) pass; so does everything when l is nil.
func Middleware(api huma.API, l *Limiter) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		p, ok := httpapi.PrincipalFrom(ctx.Context())
		if !ok || l == nil {
			next(ctx)
			return
		}
		if allowed, wait := l.Allow(p.Subject); !allowed {
			ctx.SetHeader("Retry-After", RetryAfter(wait))
			_ = huma.WriteErr(api, ctx, http.StatusTooManyRequests, l.Message(wait))
			return
		}
		next(ctx)
	}
}
