// Package fakeopenai is a scripted stand-in for an OpenAI-compatible chat-completions server
// that speaks the real wire protocol: POST /v1/chat/completions answered with streamed
// `data: {chunk}` lines ending in `data: [DONE]`, tool-call arguments split across deltas.
package fakeopenai

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// ToolCall is a tool call the fake model makes; Name is the wire (safe) name, e.g.
// "hr__get_employee".
type ToolCall struct {
	Name      string
	Arguments string
}

// Reply is the fake model's answer to one request.
type Reply struct {
	// Status, when not 0 or 200, answers with that HTTP error instead of a stream.
	Status int
	// Text is streamed in small pieces.
	Text string
	// ToolCalls are streamed interleaved, their arguments in several pieces.
	ToolCalls []ToolCall
	// Hold, when set, is waited on before answering (to keep a request in flight).
	Hold <-chan struct{}
	// Delay is waited before answering, as a real model thinks.
	Delay time.Duration
}

// Server serves scripted replies in order (once the script is used up it repeats the last
// one), or asks a responder for each reply.
type Server struct {
	*httptest.Server
	mu        sync.Mutex
	script    []Reply
	responder func(request map[string]any) Reply
	requests  []map[string]any
	arrived   chan int
}

// NewResponder starts a fake server whose replies respond computes from each request (for
// concurrent conversations, where no fixed order exists).
func NewResponder(t *testing.T, respond func(request map[string]any) Reply) *Server {
	t.Helper()
	s := &Server{responder: respond, arrived: make(chan int, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

// New starts a fake server that answers with replies, in order.
func New(t *testing.T, replies ...Reply) *Server {
	t.Helper()
	s := &Server{script: replies, arrived: make(chan int, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

// BaseURL is the API base to configure as LLM_API_BASE.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Arrived receives the 1-based number of each request as it arrives.
func (s *Server) Arrived() <-chan int { return s.arrived }

// Requests returns the decoded bodies of the requests received so far.
func (s *Server) Requests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.requests...)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	var body map[string]any
	raw, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	s.requests = append(s.requests, body)
	n := len(s.requests)
	var reply Reply
	if s.responder == nil {
		reply = s.script[min(n, len(s.script))-1]
	}
	s.mu.Unlock()
	if s.responder != nil {
		reply = s.responder(body)
	}
	select {
	case s.arrived <- n:
	default: // nobody is counting
	}
	if reply.Hold != nil {
		select {
		case <-reply.Hold:
		case <-r.Context().Done():
			return
		}
	}
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(reply.Status)
		fmt.Fprintf(w, `{"error":{"message":"scripted failure %d","type":"server_error","code":null}}`, reply.Status)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flusher, _ := w.(http.Flusher)
	send := func(delta map[string]any, finish any) {
		chunk := map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": "fake-model",
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		}
		b, _ := json.Marshal(chunk)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	send(map[string]any{"role": "assistant", "content": ""}, nil)
	for _, piece := range pieces(reply.Text, 7) {
		send(map[string]any{"content": piece}, nil)
	}
	// Open every call first, then send their arguments interleaved in small pieces, as
	// servers that stream parallel tool calls do.
	for i, c := range reply.ToolCalls {
		send(map[string]any{"tool_calls": []any{map[string]any{
			"index": i, "id": fmt.Sprintf("call_%d_%d", n, i), "type": "function",
			"function": map[string]any{"name": c.Name, "arguments": ""},
		}}}, nil)
	}
	parts := make([][]string, len(reply.ToolCalls))
	longest := 0
	for i, c := range reply.ToolCalls {
		parts[i] = pieces(c.Arguments, 5)
		longest = max(longest, len(parts[i]))
	}
	for j := 0; j < longest; j++ {
		for i := range parts {
			if j < len(parts[i]) {
				send(map[string]any{"tool_calls": []any{map[string]any{"index": i, "function": map[string]any{"arguments": parts[i][j]}}}}, nil)
			}
		}
	}
	finish := "stop"
	if len(reply.ToolCalls) > 0 {
		finish = "tool_calls"
	}
	send(map[string]any{}, finish)
	// Asked for usage (stream_options.include_usage), OpenAI ends with a chunk of no choices
	// that carries the counts.
	if opts, _ := body["stream_options"].(map[string]any); opts["include_usage"] == true {
		prompt, completion := Tokens(string(raw)), Tokens(reply.Text)
		for _, c := range reply.ToolCalls {
			completion += Tokens(c.Name + c.Arguments)
		}
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": "fake-model", "choices": []any{},
			"usage": map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
		})
		fmt.Fprintf(w, "data: %s\n\n", b)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// Tokens is the fake's token count of s: one per four bytes, at least one, about what
// OpenAI's tokenizers give for English.
func Tokens(s string) int { return max(1, (len(s)+3)/4) }

// pieces splits s into chunks of at most n bytes (on rune boundaries).
func pieces(s string, n int) []string {
	var out []string
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
		if b.Len() >= n {
			out = append(out, b.String())
			b.Reset()
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}
