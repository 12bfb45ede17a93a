package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"mcp-platform/api/gateway"
	"mcp-platform/domains/hr"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/events"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/testutil/temporaltest"
	"mcp-platform/platform/platformtest"
)

func startStack(t *testing.T) *platformtest.Stack {
	t.Helper()
	return platformtest.Start(t, platformtest.Options{LLM: mock.New(hr.MockDemo()), Domains: map[string]kit.Factory{"hr": hr.New}})
}

// readEvents reads the conversation's SSE stream from after (or Last-Event-ID) until stop says
// so or the stream has been quiet for a while.
func readEvents(t *testing.T, s *platformtest.Stack, token, conv string, lastEventID int64, stop func(gateway.StreamEvent) bool) []gateway.StreamEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.API.URL+"/conversations/"+conv+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(lastEventID, 10))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream")
	var out []gateway.StreamEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var id int64
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id, _ = strconv.ParseInt(strings.TrimPrefix(line, "id: "), 10, 64)
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "":
			var e gateway.StreamEvent
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e))
			require.Equal(t, id, e.ID, "the SSE id is the event id")
			out = append(out, e)
			if stop(e) {
				return out
			}
		case line == "":
			event = ""
		}
	}
	t.Fatalf("stream ended before the expected event; got %d events", len(out))
	return nil
}

func types(evs []gateway.StreamEvent) []string {
	var out []string
	for _, e := range evs {
		if len(out) == 0 || out[len(out)-1] != e.Type {
			out = append(out, e.Type)
		}
	}
	return out
}

func isTurnEnd(e gateway.StreamEvent) bool {
	return e.Type == "turn_completed" || e.Type == "turn_failed" || e.Type == "turn_cancelled"
}

func TestChat(t *testing.T) {
	s := startStack(t)
	alice := s.DemoToken(t, "alice")
	bob := s.DemoToken(t, "bob")

	var conv, workflowID string
	t.Run("OK wait for the answer from the HR domain", func(t *testing.T) {
		code, _, body := platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", alice, map[string]any{"message": "Get employee E001", "wait": true})
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "completed", body["status"])
		require.Contains(t, body["answer"], "Sarah Johnson")
		conv, workflowID = body["conversation_id"].(string), body["workflow_id"].(string)
		require.Equal(t, "chat-"+conv+"-1", workflowID)
		require.Contains(t, body["temporal_url"], workflowID)
	})

	t.Run("OK stream shows deltas and tool events in order", func(t *testing.T) {
		evs := readEvents(t, s, alice, conv, 0, isTurnEnd)
		require.Equal(t, []string{"turn_started", "delta", "message", "tool_started", "tool_finished", "delta", "message", "turn_completed"}, types(evs))
		for i := 1; i < len(evs); i++ {
			require.Greater(t, evs[i].ID, evs[i-1].ID)
		}
		var finished map[string]any
		for _, e := range evs {
			if e.Type == "tool_finished" {
				require.NoError(t, json.Unmarshal(e.Data, &finished))
			}
		}
		require.Equal(t, "hr.get_employee", finished["tool"])
		require.Equal(t, "ok", finished["status"])
		require.NotContains(t, string(mustJSON(t, finished)), "salary\":1", "salary is redacted in events")
	})

	t.Run("OK each event's data is exactly its type's payload", func(t *testing.T) {
		for _, e := range readEvents(t, s, alice, conv, 0, isTurnEnd) {
			p, err := events.Decode(e.Type, e.Data)
			require.NoError(t, err, e.Type)
			require.JSONEq(t, string(e.Data), string(mustJSON(t, p)), "%s has the keys of %T, no more, no less", e.Type, p)
		}
	})

	t.Run("OK the run is findable in Temporal by its search attributes", func(t *testing.T) {
		desc, err := temporaltest.Client(t).DescribeWorkflowExecution(context.Background(), workflowID, "")
		require.NoError(t, err)
		fields := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
		get := func(name string) any {
			var v any
			require.NoError(t, converter.GetDefaultDataConverter().FromPayload(fields[name], &v), name)
			return v
		}
		require.Equal(t, conv, get("ConversationId"))
		require.Equal(t, "alice", get("UserId"))
		require.Equal(t, "completed", get("TurnStatus"))
		require.Equal(t, []any{"hr.get_employee"}, get("Tools"))
		require.Equal(t, []any{"hr"}, get("Domains"))
	})

	t.Run("OK history has the tool call and its result", func(t *testing.T) {
		code, _, body := platformtest.Do(t, s.API.URL, http.MethodGet, "/conversations/"+conv, alice, nil)
		require.Equal(t, http.StatusOK, code)
		msgs := body["messages"].([]any)
		var roles []string
		for _, m := range msgs {
			roles = append(roles, m.(map[string]any)["role"].(string))
		}
		require.Equal(t, []string{"user", "assistant", "tool", "assistant"}, roles)
		call := msgs[1].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)
		require.Equal(t, "hr.get_employee", call["tool"])
		require.Equal(t, "ok", msgs[2].(map[string]any)["tool_status"])
		require.Len(t, body["turns"], 1)
		require.Positive(t, body["last_event_id"], "the stream position to follow from")
	})

	t.Run("ErrOthersConversation is 404", func(t *testing.T) {
		code, _, _ := platformtest.Do(t, s.API.URL, http.MethodGet, "/conversations/"+conv, bob, nil)
		require.Equal(t, http.StatusNotFound, code)
		code, _, _ = platformtest.Do(t, s.API.URL, http.MethodDelete, "/conversations/"+conv, bob, nil)
		require.Equal(t, http.StatusNotFound, code)
		_, _, list := platformtest.Do(t, s.API.URL, http.MethodGet, "/conversations", bob, nil)
		require.Empty(t, list["conversations"])
		_, _, list = platformtest.Do(t, s.API.URL, http.MethodGet, "/conversations", alice, nil)
		require.Len(t, list["conversations"], 1)
	})

	t.Run("OK a user without HR rights gets a plain denial", func(t *testing.T) {
		code, _, body := platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", bob, map[string]any{"message": "Get employee E001", "wait": true})
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body["answer"], "hr.get_employee")
		require.NotContains(t, body["answer"], "Sarah")
	})

	t.Run("OK async turn, stream resumed with Last-Event-ID", func(t *testing.T) {
		code, _, body := platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", alice, map[string]any{"message": "list departments", "conversation_id": conv})
		require.Equal(t, http.StatusAccepted, code, body)
		require.Equal(t, float64(2), body["turn"])
		first := readEvents(t, s, alice, conv, 0, func(e gateway.StreamEvent) bool { return e.Turn == 2 })
		last := first[len(first)-1].ID
		rest := readEvents(t, s, alice, conv, last, func(e gateway.StreamEvent) bool { return e.Turn == 2 && isTurnEnd(e) })
		require.Greater(t, rest[0].ID, last, "resumes after Last-Event-ID without repeating")
		require.Equal(t, "turn_completed", rest[len(rest)-1].Type)
	})

	t.Run("ErrBadInput is problem details", func(t *testing.T) {
		code, h, body := platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", alice, map[string]any{"message": ""})
		require.Equal(t, http.StatusUnprocessableEntity, code)
		require.Contains(t, h.Get("Content-Type"), "application/problem+json")
		require.NotEmpty(t, body["errors"])
		code, _, _ = platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", alice, map[string]any{"message": "hi", "conversation_id": "6f1c0000-0000-4000-8000-000000000000"})
		require.Equal(t, http.StatusNotFound, code)
		code, _, _ = platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", "", map[string]any{"message": "hi"})
		require.Equal(t, http.StatusUnauthorized, code)
		code, _, body = platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", alice, map[string]any{"message": "my password is x\u0000"})
		require.Equal(t, http.StatusUnprocessableEntity, code, body)
		require.Equal(t, "body.message", body["errors"].([]any)[0].(map[string]any)["location"])
	})

	t.Run("OK delete removes the conversation", func(t *testing.T) {
		code, _, _ := platformtest.Do(t, s.API.URL, http.MethodDelete, "/conversations/"+conv, alice, nil)
		require.Equal(t, http.StatusNoContent, code)
		code, _, _ = platformtest.Do(t, s.API.URL, http.MethodGet, "/conversations/"+conv, alice, nil)
		require.Equal(t, http.StatusNotFound, code)
	})

	t.Run("OK tools lists the caller's tools", func(t *testing.T) {
		_, _, body := platformtest.Do(t, s.API.URL, http.MethodGet, "/tools", alice, nil)
		require.NotEmpty(t, body["tools"])
		_, _, body = platformtest.Do(t, s.API.URL, http.MethodGet, "/tools", bob, nil)
		for _, tl := range body["tools"].([]any) {
			require.NotEqual(t, "hr.get_employee", tl.(map[string]any)["name"], "bob has no HR role")
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestStreamEventSchema checks that the document describes the stream's events as a union on
// type with one variant per payload, which is what the web client's event types are made from.
func TestStreamEventSchema(t *testing.T) {
	api, _ := gateway.New(gateway.Deps{})
	schemas := api.OpenAPI().Components.Schemas.Map()
	union := schemas["StreamEvent"]
	require.NotNil(t, union)
	require.Equal(t, "type", union.Discriminator.PropertyName)
	require.Len(t, union.OneOf, len(events.Payloads()))
	for _, p := range events.Payloads() {
		ref := union.Discriminator.Mapping[p.EventType()]
		require.NotEmpty(t, ref, p.EventType())
		variant := api.OpenAPI().Components.Schemas.SchemaFromRef(ref)
		require.NotNil(t, variant, ref)
		require.Equal(t, []any{p.EventType()}, variant.Properties["type"].Enum)
		data := api.OpenAPI().Components.Schemas.SchemaFromRef(variant.Properties["data"].Ref)
		require.NotNil(t, data, "%s has a named payload schema", ref)
		require.NotEmpty(t, data.Properties, ref)
	}
}
