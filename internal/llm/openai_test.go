package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/llm"
)

const testKey = "sk-test-0123456789abcdef"

// received is a request as the fake server saw it.
type received struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         map[string]any
}

// reply is the fake server's scripted answer: an HTTP error, or stream events.
type reply struct {
	status int
	body   string
	// events are written as `data: <event>` lines; done appends `data: [DONE]`.
	events []string
	done   bool
	// hangUp closes the connection after the events, without ending the response.
	hangUp bool
}

// fakeOpenAI speaks the chat-completions wire protocol: POST .../chat/completions with
// "stream": true, answered as text/event-stream.
type fakeOpenAI struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	next reply
}

func newFake(t *testing.T, r reply) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{next: r}
	f.Server = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeOpenAI) handle(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	f.got = append(f.got, received{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	rep := f.next
	f.mu.Unlock()

	if !strings.HasSuffix(r.URL.Path, "/chat/completions") || r.Method != http.MethodPost || body["stream"] != true {
		http.Error(w, `{"error":{"message":"unexpected request","type":"invalid_request_error"}}`, http.StatusTeapot)
		return
	}
	if rep.status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, rep.body)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flusher := w.(http.Flusher)
	for _, e := range rep.events {
		fmt.Fprintf(w, "data: %s\n\n", e)
		flusher.Flush()
	}
	if rep.done {
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
	if rep.hangUp {
		flusher.Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}
}

func (f *fakeOpenAI) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

// chunk builds one chat.completion.chunk event.
func chunk(t *testing.T, delta map[string]any, finish string) string {
	t.Helper()
	choice := map[string]any{"index": 0, "delta": delta, "finish_reason": nil}
	if finish != "" {
		choice["finish_reason"] = finish
	}
	b, err := json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000,
		"model": "gpt-test", "choices": []any{choice}})
	require.NoError(t, err)
	return string(b)
}

// callDelta is a tool_calls delta for one call index.
func callDelta(index int, id, name, args string) map[string]any {
	fn := map[string]any{"arguments": args}
	if name != "" {
		fn["name"] = name
	}
	c := map[string]any{"index": index, "function": fn}
	if id != "" {
		c["id"], c["type"] = id, "function"
	}
	return map[string]any{"tool_calls": []any{c}}
}

func compatible(t *testing.T, f *fakeOpenAI) llm.Provider {
	t.Helper()
	p, err := llm.NewOpenAI(llm.Config{Provider: "openai_compatible", APIKey: testKey, APIBase: f.URL + "/v1", Model: "gpt-test"})
	require.NoError(t, err)
	return p
}

var employeeSchema = map[string]any{
	"type":       "object",
	"properties": map[string]any{"employee_id": map[string]any{"type": "string", "description": "Employee ID"}},
	"required":   []any{"employee_id"},
}

func TestOpenAIStreamsText(t *testing.T) {
	t.Run("OK deltas arrive in order and add up to the content", func(t *testing.T) {
		f := newFake(t, reply{done: true, events: []string{
			chunk(t, map[string]any{"role": "assistant", "content": ""}, ""),
			chunk(t, map[string]any{"content": "Hel"}, ""),
			chunk(t, map[string]any{"content": "lo, "}, ""),
			chunk(t, map[string]any{"content": "world"}, ""),
			chunk(t, map[string]any{}, "stop"),
			`{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`,
		}})
		var deltas []string
		resp, err := compatible(t, f).Complete(context.Background(), llm.Request{Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "Be brief."}, {Role: llm.RoleUser, Content: "Say hello"},
		}}, func(s string) { deltas = append(deltas, s) })
		require.NoError(t, err)
		require.Equal(t, []string{"Hel", "lo, ", "world"}, deltas)
		require.Equal(t, llm.Response{Content: "Hello, world", FinishReason: "stop",
			Usage: llm.Usage{PromptTokens: 12, CompletionTokens: 3}, Model: "gpt-test"}, resp)

		reqs := f.requests()
		require.Len(t, reqs, 1)
		require.Equal(t, "/v1/chat/completions", reqs[0].Path)
		require.Equal(t, true, reqs[0].Body["stream"])
		require.Equal(t, "gpt-test", reqs[0].Body["model"])
		require.Equal(t, "Bearer "+testKey, reqs[0].Header.Get("Authorization"))
		require.NotContains(t, reqs[0].Body, "tools", "no tools field without tools")
		require.Equal(t, []any{
			map[string]any{"role": "system", "content": "Be brief."},
			map[string]any{"role": "user", "content": "Say hello"},
		}, reqs[0].Body["messages"])
	})

	t.Run("OK a nil onDelta is allowed", func(t *testing.T) {
		f := newFake(t, reply{done: true, events: []string{chunk(t, map[string]any{"content": "Hi"}, "stop")}})
		resp, err := compatible(t, f).Complete(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
		require.NoError(t, err)
		require.Equal(t, "Hi", resp.Content)
	})
}

func TestOpenAIToolCalls(t *testing.T) {
	tools := []llm.ToolDef{
		{Name: "hr.get_employee", Description: "Returns one employee.", Parameters: employeeSchema},
		{Name: "erp.get_invoice", Description: "Returns one invoice."},
	}
	tests := []struct {
		name   string
		events func(t *testing.T) []string
		want   []llm.ToolCall
	}{
		{
			name: "OK two calls with split arguments interleaved by index",
			events: func(t *testing.T) []string {
				return []string{
					chunk(t, map[string]any{"role": "assistant", "content": "Checking."}, ""),
					chunk(t, callDelta(0, "call_a", "hr__get_employee", ""), ""),
					chunk(t, callDelta(1, "call_b", "erp__get_invoice", `{"inv`), ""),
					chunk(t, callDelta(0, "", "", `{"employee`), ""),
					chunk(t, callDelta(1, "", "", `oice_id": `), ""),
					chunk(t, callDelta(0, "", "", `_id": "E0`), ""),
					chunk(t, callDelta(1, "", "", `"INV-001"}`), ""),
					chunk(t, callDelta(0, "", "", `01"}`), ""),
					chunk(t, map[string]any{}, "tool_calls"),
				}
			},
			want: []llm.ToolCall{
				{ID: "call_a", Name: "hr.get_employee", Arguments: `{"employee_id": "E001"}`},
				{ID: "call_b", Name: "erp.get_invoice", Arguments: `{"invoice_id": "INV-001"}`},
			},
		},
		{
			name: "OK whole calls in one delta, and a name that was not offered comes back unchanged",
			events: func(t *testing.T) []string {
				return []string{chunk(t, map[string]any{"tool_calls": []any{
					map[string]any{"index": 0, "id": "c1", "type": "function", "function": map[string]any{"name": "hr__get_employee", "arguments": `{"employee_id":"E002"}`}},
					map[string]any{"index": 1, "id": "c2", "type": "function", "function": map[string]any{"name": "web_search", "arguments": `{}`}},
				}}, "tool_calls")}
			},
			want: []llm.ToolCall{
				{ID: "c1", Name: "hr.get_employee", Arguments: `{"employee_id":"E002"}`},
				{ID: "c2", Name: "web_search", Arguments: `{}`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, reply{done: true, events: tt.events(t)})
			history := []llm.Message{
				{Role: llm.RoleUser, Content: "Who is E003?"},
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_0", Name: "hr.get_employee", Arguments: `{"employee_id":"E003"}`}}},
				{Role: llm.RoleTool, ToolCallID: "call_0", Name: "hr.get_employee", Content: `{"name":"Ada"}`},
				{Role: llm.RoleUser, Content: "And E001 and INV-001?"},
			}
			resp, err := compatible(t, f).Complete(context.Background(), llm.Request{Messages: history, Tools: tools}, nil)
			require.NoError(t, err)
			require.Equal(t, tt.want, resp.ToolCalls)
			require.Equal(t, "tool_calls", resp.FinishReason)

			body := f.requests()[0].Body
			require.Equal(t, []any{
				map[string]any{"type": "function", "function": map[string]any{
					"name": "hr__get_employee", "description": "Returns one employee.", "parameters": employeeSchema}},
				map[string]any{"type": "function", "function": map[string]any{
					"name": "erp__get_invoice", "description": "Returns one invoice.",
					"parameters": map[string]any{"type": "object", "properties": map[string]any{}}}},
			}, body["tools"])
			msgs := body["messages"].([]any)
			require.Equal(t, map[string]any{"role": "assistant", "tool_calls": []any{map[string]any{
				"id": "call_0", "type": "function",
				"function": map[string]any{"name": "hr__get_employee", "arguments": `{"employee_id":"E003"}`},
			}}}, msgs[1])
			require.Equal(t, map[string]any{"role": "tool", "tool_call_id": "call_0", "content": `{"name":"Ada"}`}, msgs[2])
		})
	}
}

func TestOpenAIErrors(t *testing.T) {
	tests := []struct {
		name     string
		reply    reply
		kind     llm.ErrorKind
		status   int
		contains []string
	}{
		{name: "ErrUnauthorized", kind: llm.KindAuth, status: 401, contains: []string{"LLM_API_KEY", "LLM_PROVIDER", "HTTP 401"},
			reply: reply{status: 401, body: `{"error":{"message":"Incorrect API key provided: ` + testKey + `","type":"invalid_request_error","code":"invalid_api_key"}}`}},
		{name: "ErrForbidden", kind: llm.KindAuth, status: 403, contains: []string{"LLM_API_KEY"},
			reply: reply{status: 403, body: `{"error":{"message":"key ` + testKey + ` may not use this model"}}`}},
		{name: "ErrRateLimited", kind: llm.KindRetryable, status: 429, contains: []string{"rate limit"},
			reply: reply{status: 429, body: `{"error":{"message":"Rate limit reached","type":"requests"}}`}},
		{name: "ErrUnavailable", kind: llm.KindRetryable, status: 503,
			reply: reply{status: 503, body: `upstream connect error`}},
		{name: "ErrServer", kind: llm.KindRetryable, status: 500,
			reply: reply{status: 500, body: `{"error":{"message":"The server had an error","type":"server_error"}}`}},
		{name: "ErrBadRequest", kind: llm.KindBadRequest, status: 400, contains: []string{"LLM_MODEL", "maximum context length"},
			reply: reply{status: 400, body: `{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error"}}`}},
		{name: "ErrUnknownModel", kind: llm.KindBadRequest, status: 404, contains: []string{"LLM_MODEL", "LLM_API_BASE", `"gpt-test"`},
			reply: reply{status: 404, body: `{"error":{"message":"The model gpt-test does not exist","type":"invalid_request_error","code":"model_not_found"}}`}},
		{name: "ErrUnprocessable", kind: llm.KindBadRequest, status: 422,
			reply: reply{status: 422, body: `{"detail":"bad tools"}`}},
		{name: "ErrStreamEndsBeforeDone", kind: llm.KindRetryable,
			reply: reply{events: []string{`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hal"},"finish_reason":null}]}`}}},
		{name: "ErrConnectionCutMidStream", kind: llm.KindRetryable,
			reply: reply{hangUp: true, events: []string{`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hal"},"finish_reason":null}]}`}}},
		{name: "ErrErrorEventInStream", kind: llm.KindRetryable,
			reply: reply{events: []string{`{"error":{"message":"overloaded","type":"server_error"}}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.reply)
			_, err := compatible(t, f).Complete(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
			var le *llm.Error
			require.ErrorAs(t, err, &le)
			require.Equal(t, tt.kind, le.Kind, le.Message)
			require.Equal(t, tt.kind == llm.KindRetryable, le.Retryable())
			require.Equal(t, tt.status, le.Status)
			require.Equal(t, le.Message, err.Error())
			for _, s := range tt.contains {
				require.Contains(t, le.Message, s)
			}
			require.NotContains(t, le.Message, testKey)
			require.NotContains(t, le.Message, testKey[:12])
		})
	}

	t.Run("ErrConnectionRefused", func(t *testing.T) {
		f := newFake(t, reply{})
		p := compatible(t, f)
		f.Close()
		_, err := p.Complete(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
		var le *llm.Error
		require.ErrorAs(t, err, &le)
		require.True(t, le.Retryable())
		require.Contains(t, le.Message, "LLM_API_BASE")
	})

	t.Run("ErrCancelled", func(t *testing.T) {
		f := newFake(t, reply{done: true, events: []string{chunk(t, map[string]any{"content": "x"}, "stop")}})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := compatible(t, f).Complete(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
		var le *llm.Error
		require.ErrorAs(t, err, &le)
		require.True(t, le.Retryable())
		require.True(t, errors.Is(err, context.Canceled))
	})
}

func TestProviders(t *testing.T) {
	ok := func(t *testing.T) []string {
		return []string{chunk(t, map[string]any{"content": "ok"}, "stop")}
	}
	ask := func(t *testing.T, p llm.Provider) llm.Response {
		t.Helper()
		resp, err := p.Complete(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
		require.NoError(t, err)
		require.Equal(t, "ok", resp.Content)
		return resp
	}

	t.Run("OK azure_openai puts the deployment in the path and the API version in the query", func(t *testing.T) {
		f := newFake(t, reply{done: true, events: ok(t)})
		p, err := llm.NewOpenAI(llm.Config{Provider: "azure_openai", APIKey: testKey, APIBase: f.URL, Model: "gpt-4o-prod"})
		require.NoError(t, err)
		ask(t, p)
		got := f.requests()[0]
		require.Equal(t, "/openai/deployments/gpt-4o-prod/chat/completions", got.Path)
		require.Equal(t, "2024-10-21", got.Query.Get("api-version"))
		require.Equal(t, testKey, got.Header.Get("api-key"))
		require.Empty(t, got.Header.Get("Authorization"))
	})

	t.Run("OK azure_openai takes the API version from LLM_API_BASE", func(t *testing.T) {
		f := newFake(t, reply{done: true, events: ok(t)})
		p, err := llm.NewOpenAI(llm.Config{Provider: "azure_openai", APIKey: testKey, APIBase: f.URL + "/?api-version=2025-01-01-preview", Model: "dep"})
		require.NoError(t, err)
		ask(t, p)
		got := f.requests()[0]
		require.Equal(t, "/openai/deployments/dep/chat/completions", got.Path)
		require.Equal(t, "2025-01-01-preview", got.Query.Get("api-version"))
	})

	t.Run("OK openai_compatible without a key sends no credentials", func(t *testing.T) {
		f := newFake(t, reply{done: true, events: ok(t)})
		p, err := llm.NewOpenAI(llm.Config{Provider: "openai_compatible", APIBase: f.URL + "/v1/", Model: "llama3.1"})
		require.NoError(t, err)
		ask(t, p)
		got := f.requests()[0]
		require.Equal(t, "/v1/chat/completions", got.Path)
		require.Empty(t, got.Header.Get("Authorization"))
		require.Equal(t, map[string]any{"include_usage": true}, got.Body["stream_options"], "asks for usage")
	})

	t.Run("OK OmitStreamUsage leaves the option out", func(t *testing.T) {
		f := newFake(t, reply{done: true, events: ok(t)})
		p, err := llm.NewOpenAI(llm.Config{Provider: "openai_compatible", APIBase: f.URL + "/v1", Model: "old-server", OmitStreamUsage: true})
		require.NoError(t, err)
		resp := ask(t, p)
		require.NotContains(t, f.requests()[0].Body, "stream_options")
		require.Zero(t, resp.Usage)
	})

	t.Run("OK openai asks for usage and honours a base URL override", func(t *testing.T) {
		f := newFake(t, reply{done: true, events: ok(t)})
		p, err := llm.NewOpenAI(llm.Config{Provider: "openai", APIKey: testKey, APIBase: f.URL + "/v1", Model: "gpt-4o-mini", HTTPClient: f.Client()})
		require.NoError(t, err)
		ask(t, p)
		got := f.requests()[0]
		require.Equal(t, "Bearer "+testKey, got.Header.Get("Authorization"))
		require.Equal(t, map[string]any{"include_usage": true}, got.Body["stream_options"])
	})

	bad := []struct {
		name string
		cfg  llm.Config
		want string
	}{
		{"ErrUnknownProvider", llm.Config{Provider: "gpt"}, "LLM_PROVIDER"},
		{"ErrEmptyProvider", llm.Config{}, "LLM_PROVIDER"},
		{"ErrMockIsNotOpenAI", llm.Config{Provider: "mock"}, "LLM_PROVIDER"},
		{"ErrOpenAIWithoutKey", llm.Config{Provider: "openai", Model: "gpt-4o"}, "LLM_API_KEY"},
		{"ErrWithoutModel", llm.Config{Provider: "openai", APIKey: testKey}, "LLM_MODEL"},
		{"ErrAzureWithoutBase", llm.Config{Provider: "azure_openai", APIKey: testKey, Model: "dep"}, "LLM_API_BASE"},
		{"ErrCompatibleWithoutBase", llm.Config{Provider: "openai_compatible", Model: "m"}, "LLM_API_BASE"},
		{"ErrBaseNotAURL", llm.Config{Provider: "openai_compatible", Model: "m", APIBase: "localhost:11434"}, "LLM_API_BASE"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := llm.NewOpenAI(tt.cfg)
			var le *llm.Error
			require.ErrorAs(t, err, &le)
			require.Equal(t, llm.KindBadRequest, le.Kind)
			require.Contains(t, le.Message, tt.want)
			require.NotContains(t, le.Message, testKey)
		})
	}
}

func TestOpenAIToolImages(t *testing.T) {
	t.Run("OK the images of tool results follow them as image parts of a user message", func(t *testing.T) {
		f := newFake(t, reply{done: true, events: []string{chunk(t, map[string]any{"role": "assistant", "content": "A logo."}, "stop")}})
		history := []llm.Message{
			{Role: llm.RoleUser, Content: "Show the logo"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{ID: "c1", Name: "every.get_tiny_image", Arguments: `{}`},
				{ID: "c2", Name: "every.echo", Arguments: `{"message":"x"}`},
			}},
			{Role: llm.RoleTool, ToolCallID: "c1", Name: "every.get_tiny_image", Content: "Here it is:\n[image: image/png, 68 bytes]",
				Images: []llm.Image{{MIMEType: "image/png", Data: "iVBORw0K"}}},
			{Role: llm.RoleTool, ToolCallID: "c2", Name: "every.echo", Content: "Echo: x"},
		}
		_, err := compatible(t, f).Complete(context.Background(), llm.Request{Messages: history}, nil)
		require.NoError(t, err)
		msgs := f.requests()[0].Body["messages"].([]any)
		require.Len(t, msgs, 5)
		require.Equal(t, map[string]any{"role": "tool", "tool_call_id": "c1", "content": "Here it is:\n[image: image/png, 68 bytes]"}, msgs[2])
		require.Equal(t, map[string]any{"role": "tool", "tool_call_id": "c2", "content": "Echo: x"}, msgs[3])
		require.Equal(t, map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "text", "text": "The images returned by tool every__get_tiny_image (call c1):"},
			map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64,iVBORw0K", "detail": "auto"}},
		}}, msgs[4])
	})
}
