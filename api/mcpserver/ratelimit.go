package mcpserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"mcp-platform/api/ratelimit"
	"mcp-platform/authz"
)

// rateLimitedCode is the JSON-RPC error code of a request refused by the rate limit: a
// server error of the implementation-defined range (-32000 to -32099).
const rateLimitedCode = -32000

// limitMCP applies the per-user rate limit to /mcp, behind the bearer check. A refused request
// gets HTTP 429 with Retry-After, as MCP clients see it at the transport (and the TypeScript
// and Go SDKs surface it as an error naming the status), and a JSON-RPC error body answering
// the request's id whose message and data.retry_after_seconds say when to retry, for clients
// that only read the body.
//
// who finds the principal the bearer check put in the request's context.
func limitMCP(l *ratelimit.Limiter, who func(context.Context) (authz.Principal, bool), next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := who(r.Context())
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		allowed, wait := l.Allow(p.Subject)
		if allowed {
			next.ServeHTTP(w, r)
			return
		}
		after := ratelimit.RetryAfter(wait)
		seconds, _ := strconv.Atoi(after)
		w.Header().Set("Retry-After", after)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"jsonrpc": "2.0",
			"id":      requestID(r),
			"error": map[string]any{
				"code":    rateLimitedCode,
				"message": l.Message(wait),
				"data":    map[string]any{"retry_after_seconds": seconds},
			},
		})
	})
}

// maxIDBody bounds how much of a refused request is read to find its id.
const maxIDBody = 1 << 20

// requestID is the id of the single JSON-RPC request in r's body, or null (a batch, a
// notification, or a body that is not JSON-RPC).
func requestID(r *http.Request) json.RawMessage {
	null := json.RawMessage("null")
	if r.Body == nil {
		return null
	}
	var msg struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxIDBody)).Decode(&msg); err != nil || len(msg.ID) == 0 {
		return null
	}
	return msg.ID
}
