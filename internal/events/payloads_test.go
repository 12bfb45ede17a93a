package events_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/testutil/dbtest"
)

var expires = time.Date(2026, 11, 24, 8, 2, 40, 0, time.UTC)

// wire has a payload of every type and its JSON as the web UI reads it: the keys the
// untyped maps published before the payloads had types, every key always present.
var wire = []struct {
	payload events.Payload
	want    string
}{
	{events.TurnStartedData{WorkflowID: "chat-c-1", Message: "Get employee E001"},
		`{"workflow_id":"chat-c-1","message":"Get employee E001"}`},
	{events.DeltaData{Step: 1, Attempt: 2, Text: "Let me"},
		`{"step":1,"attempt":2,"text":"Let me"}`},
	{events.AssistantMessageData{Step: 1, Role: "assistant", Content: "Checking.",
		ToolCalls: []conversations.ToolCall{{ID: "call_1", Tool: "hr.get_employee", Arguments: map[string]any{"employee_id": "E001"}}}},
		`{"step":1,"role":"assistant","content":"Checking.","tool_calls":[{"id":"call_1","tool":"hr.get_employee","arguments":{"employee_id":"E001"}}]}`},
	{events.AssistantMessageData{Step: 2, Role: "assistant", Content: "Done."},
		`{"step":2,"role":"assistant","content":"Done.","tool_calls":null}`},
	{events.ToolStartedData{ToolCallRef: events.ToolCallRef{Tool: "hr.get_employee", ToolCallID: "call_1", Step: 1, Domain: "hr"}, Summary: "hr.get_employee(employee_id=E001)"},
		`{"tool":"hr.get_employee","tool_call_id":"call_1","step":1,"domain":"hr","summary":"hr.get_employee(employee_id=E001)","approver":""}`},
	{events.ToolFinishedData{ToolCallRef: events.ToolCallRef{Tool: "hr.get_employee", ToolCallID: "call_1", Step: 1, Domain: "hr"},
		Status: "ok", DurationMS: 69,
		Arguments: map[string]any{"employee_id": "E001"}, Output: map[string]any{"salary": "[REDACTED]"}},
		`{"tool":"hr.get_employee","tool_call_id":"call_1","step":1,"domain":"hr","status":"ok","duration_ms":69,
		  "arguments":{"employee_id":"E001"},"output":{"salary":"[REDACTED]"},"error":"","approver":""}`},
	{events.ToolFinishedData{ToolCallRef: events.ToolCallRef{Tool: "hr.nope", ToolCallID: "call_2", Step: 1}, Status: "invalid", Error: "the arguments are not a JSON object"},
		`{"tool":"hr.nope","tool_call_id":"call_2","step":1,"domain":"","status":"invalid","duration_ms":0,
		  "arguments":null,"output":null,"error":"the arguments are not a JSON object","approver":""}`},
	{events.ApprovalRequestedData{ApprovalID: "apr-1", Tool: "devops.scale_deployment", Domain: "devops", ToolCallID: "call_1",
		Arguments: map[string]any{"replicas": 3.0}, ArgsHash: "h", Reason: "scaling", ApproverRoles: []string{"sre_lead"},
		Requester: "carol", ExpiresAt: expires},
		`{"approval_id":"apr-1","tool":"devops.scale_deployment","domain":"devops","tool_call_id":"call_1",
		  "arguments":{"replicas":3},"args_hash":"h","reason":"scaling","approver_roles":["sre_lead"],
		  "allow_self_approval":false,"requester":"carol","expires_at":"2026-11-24T08:02:40Z"}`},
	{events.ApprovalDecidedData{ApprovalID: "apr-1", Tool: "devops.scale_deployment", ToolCallID: "call_1", Status: "approved", Approver: "dan"},
		`{"approval_id":"apr-1","tool":"devops.scale_deployment","tool_call_id":"call_1","status":"approved","approver":"dan","comment":""}`},
	{events.TurnCompletedData{TurnEnd: events.TurnEnd{Status: "completed", Answer: "Sarah Johnson"}},
		`{"status":"completed","answer":"Sarah Johnson","error":""}`},
	{events.TurnFailedData{TurnEnd: events.TurnEnd{Status: "failed", Error: "the LLM is not configured"}},
		`{"status":"failed","answer":"","error":"the LLM is not configured"}`},
	{events.TurnCancelledData{TurnEnd: events.TurnEnd{Status: "cancelled", Error: "the turn was cancelled"}},
		`{"status":"cancelled","answer":"","error":"the turn was cancelled"}`},
}

func TestPayloads(t *testing.T) {
	t.Run("OK one payload per event type", func(t *testing.T) {
		var got []string
		for _, p := range events.Payloads() {
			got = append(got, p.EventType())
		}
		require.Equal(t, []string{events.TypeTurnStarted, events.TypeDelta, events.TypeMessage, events.TypeToolStarted,
			events.TypeToolFinished, events.TypeApprovalRequested, events.TypeApprovalDecided, events.TypeTurnCompleted,
			events.TypeTurnFailed, events.TypeTurnCancelled}, got)
	})

	t.Run("OK the JSON is the wire format", func(t *testing.T) {
		for _, c := range wire {
			got, err := json.Marshal(c.payload)
			require.NoError(t, err)
			require.JSONEq(t, c.want, string(got), c.payload.EventType())
		}
	})

	t.Run("OK Decode reads what was published", func(t *testing.T) {
		for _, c := range wire {
			got, err := events.Decode(c.payload.EventType(), []byte(c.want))
			require.NoError(t, err)
			require.Equal(t, c.payload, got)
		}
	})

	t.Run("ErrUnknownType", func(t *testing.T) {
		_, err := events.Decode("tool_exploded", []byte(`{}`))
		require.ErrorIs(t, err, events.ErrUnknownType)
	})

	t.Run("ErrDecode a payload of the wrong shape", func(t *testing.T) {
		_, err := events.Decode(events.TypeDelta, []byte(`{"step":"one"}`))
		require.ErrorContains(t, err, "decode delta event")
	})
}

func TestStorePublish(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	store := events.NewStore(db.Pool)
	conv, _, err := conversations.NewStore(db.Pool).StartTurn(ctx, "alice", "", "Get employee E001",
		func(conv string, turn int) string { return "chat-" + conv }, nil)
	require.NoError(t, err)

	t.Run("OK stores each payload under its type", func(t *testing.T) {
		for _, c := range wire {
			_, err := store.Publish(ctx, conv.ID, 1, c.payload)
			require.NoError(t, err)
		}
		got, err := store.After(ctx, conv.ID, 0, 100)
		require.NoError(t, err)
		require.Len(t, got, len(wire))
		for i, e := range got {
			require.Equal(t, wire[i].payload.EventType(), e.Type)
			require.Equal(t, 1, e.Turn)
			require.JSONEq(t, wire[i].want, string(e.Data), e.Type)
		}
	})

	t.Run("ErrNoPayload", func(t *testing.T) {
		_, err := store.Publish(ctx, conv.ID, 1, nil)
		require.ErrorContains(t, err, "no payload")
	})
}
