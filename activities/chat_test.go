package activities_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/llm"
	"mcp-platform/internal/redact"
	"mcp-platform/toolcall"
)

const card = "4111111111111111"

// complete runs Complete for a step of the turn of p, with provider as the LLM.
func complete(t *testing.T, f *fixture, provider llm.Provider, p authz.Principal, tr turn, step int) (activities.CompleteResult, error) {
	t.Helper()
	return completeIn(t, f, provider, activities.CompleteInput{ConversationID: tr.ConversationID, Turn: tr.Turn, Step: step, Principal: p})
}

// completeIn runs the Complete activity with in.
func completeIn(t *testing.T, f *fixture, provider llm.Provider, in activities.CompleteInput) (activities.CompleteResult, error) {
	t.Helper()
	a := f.chat(provider)
	val, err := newEnv(a).ExecuteActivity(a.Complete, in)
	if err != nil {
		return activities.CompleteResult{}, err
	}
	var res activities.CompleteResult
	require.NoError(t, val.Get(&res))
	return res, nil
}

func toolNames(defs []llm.ToolDef) []string {
	var out []string
	for _, d := range defs {
		out = append(out, d.Name)
	}
	return out
}

func TestComplete(t *testing.T) {
	f := newFixture(t)

	t.Run("OK", func(t *testing.T) {
		tr := f.startTurn(t, manager, "order ABC-123 and show it")
		provider := &fakeLLM{deltas: []string{"Ordering ", "it now."}, resp: llm.Response{Content: "Ordering it now.", ToolCalls: []llm.ToolCall{
			{ID: "ok-c1", Name: "shop.get_item", Arguments: `{"sku":"ABC-123"}`},
			{ID: "ok-c2", Name: "shop__order", Arguments: `{"sku":"ABC-123","card_number":"` + card + `"}`},
		}}}
		res, err := complete(t, f, provider, manager, tr, 1)
		require.NoError(t, err)

		reqs := provider.Requests()
		require.Len(t, reqs, 1)
		require.Equal(t, []llm.Message{{Role: llm.RoleSystem, Content: reqs[0].Messages[0].Content},
			{Role: llm.RoleUser, Content: "order ABC-123 and show it"}}, reqs[0].Messages)
		require.Equal(t, f.Shop.Tool("shop.get_item").InputSchema, reqs[0].Tools[1].Parameters)
		require.Contains(t, reqs[0].Tools[2].Description, "Requires human approval", "the LLM is told which tools wait for a person")

		require.Equal(t, "Ordering it now.", res.Content)
		require.Len(t, res.Calls, 2)
		item, order := res.Calls[0], res.Calls[1]
		require.Equal(t, "ok-c1", item.ID)
		require.Equal(t, "shop.get_item", item.Tool)
		require.Equal(t, "shop", item.Domain)
		require.Equal(t, map[string]any{"sku": "ABC-123"}, item.Args)
		require.Equal(t, "domain-shop", item.Policy.TaskQueue)
		require.Positive(t, item.Policy.Timeout)
		require.Positive(t, item.Policy.MaxAttempts)
		require.Equal(t, "shop.get_item sku=ABC-123", item.Summary)
		require.Nil(t, item.Approval)
		require.Nil(t, item.Refusal())

		require.Equal(t, "shop.order", order.Tool, "the LLM's safe name maps back to the tool")
		require.Equal(t, card, order.Args["card_number"], "the workflow runs the call with its real arguments")
		require.NotContains(t, order.Summary, card)
		require.NotNil(t, order.Approval)
		require.Equal(t, toolcall.ApprovalID(testWorkflowID, toolcall.CallKey(1, "ok-c2")), order.Approval.ID)
		require.Contains(t, order.Approval.Approvers, "boss")
		require.NotEmpty(t, order.Approval.ArgsHash)
		require.Nil(t, order.Refusal())

		saved := f.message(t, tr, activities.MessageSeq(1, 0))
		require.Equal(t, conversations.RoleAssistant, saved.Role)
		require.Equal(t, "Ordering it now.", saved.Content)
		require.Equal(t, []conversations.ToolCall{
			{ID: "ok-c1", Tool: "shop.get_item", Arguments: map[string]any{"sku": "ABC-123"}},
			{ID: "ok-c2", Tool: "shop.order", Arguments: map[string]any{"sku": "ABC-123", "card_number": redact.Mask}},
		}, saved.ToolCalls)

		deltas := f.eventsOf(t, tr, events.TypeDelta)
		require.Len(t, deltas, 1, "pieces streamed together are published together")
		require.Equal(t, map[string]any{"step": 1.0, "attempt": 1.0, "text": "Ordering it now."}, deltas[0].Data)
		msgs := f.eventsOf(t, tr, events.TypeMessage)
		require.Len(t, msgs, 1)
		require.Equal(t, map[string]any{"step": 1.0, "role": "assistant", "content": "Ordering it now.", "tool_calls": []any{
			map[string]any{"id": "ok-c1", "tool": "shop.get_item", "arguments": map[string]any{"sku": "ABC-123"}},
			map[string]any{"id": "ok-c2", "tool": "shop.order", "arguments": map[string]any{"sku": "ABC-123", "card_number": redact.Mask}},
		}}, msgs[0].Data)
		require.NotContains(t, jsonText(t, f.events(t, tr)), card)

		require.Empty(t, f.auditOf(t, "ok-c1"), "a call that may run is audited when it runs")
		require.Empty(t, f.auditOf(t, "ok-c2"))
		require.Empty(t, f.eventsOf(t, tr, events.TypeToolStarted), "without StepBookkeeping the workflow announces the calls")
	})

	offered := []struct {
		name string
		p    authz.Principal
		want []string
	}{
		{"OKOffersClerkTools", clerk, []string{"shop.get_customer", "shop.get_item"}},
		{"OKOffersManagerTools", manager, []string{"shop.get_customer", "shop.get_item", "shop.order"}},
		{"OKOffersNothingToNobody", authz.Principal{Subject: "nina", Roles: []string{"nobody"}}, nil},
		{"OKScopesNarrowOffer", authz.Principal{Subject: "mona", Roles: []string{"manager"}, Scopes: []string{"tools:shop.get_item"}}, []string{"shop.get_item"}},
	}
	for _, tc := range offered {
		t.Run(tc.name, func(t *testing.T) {
			tr := f.startTurn(t, tc.p, "hello")
			provider := &fakeLLM{resp: llm.Response{Content: "Hi."}}
			_, err := complete(t, f, provider, tc.p, tr, 1)
			require.NoError(t, err)
			require.Equal(t, tc.want, toolNames(provider.Requests()[0].Tools), "only tools the user may call, of domains that can run them (never lab.*)")
		})
	}

	t.Run("OKHistoryOfEarlierSteps", func(t *testing.T) {
		ctx := context.Background()
		tr := f.startTurn(t, clerk, "show ABC-123")
		for _, m := range []conversations.Message{
			{Turn: tr.Turn, Seq: activities.MessageSeq(1, 0), Role: conversations.RoleAssistant, Content: "Looking.",
				ToolCalls: []conversations.ToolCall{{ID: "h-c1", Tool: "shop.get_item", Arguments: map[string]any{"sku": "ABC-123"}}}},
			{Turn: tr.Turn, Seq: activities.MessageSeq(1, 1), Role: conversations.RoleTool, Content: `{"name":"Mug"}`,
				ToolCallID: "h-c1", ToolName: "shop.get_item", ToolStatus: "ok"},
			{Turn: tr.Turn, Seq: activities.MessageSeq(2, 0), Role: conversations.RoleAssistant, Content: "written by a failed attempt of step 2"},
		} {
			require.NoError(t, f.Conversations.SaveMessage(ctx, tr.ConversationID, m))
		}
		provider := &fakeLLM{resp: llm.Response{Content: "It is a mug."}}
		_, err := complete(t, f, provider, clerk, tr, 2)
		require.NoError(t, err)

		require.Equal(t, []llm.Message{
			{Role: llm.RoleUser, Content: "show ABC-123"},
			{Role: llm.RoleAssistant, Content: "Looking.", ToolCalls: []llm.ToolCall{{ID: "h-c1", Name: "shop.get_item", Arguments: `{"sku":"ABC-123"}`}}},
			{Role: llm.RoleTool, Content: `{"name":"Mug"}`, ToolCallID: "h-c1", Name: "shop.get_item"},
		}, provider.Requests()[0].Messages[1:], "the LLM reads the earlier steps, not what a previous attempt of this one wrote")
		require.Equal(t, "It is a mug.", f.message(t, tr, activities.MessageSeq(2, 0)).Content, "the retried step replaces its message")
	})

	refusals := []struct {
		name    string
		call    llm.ToolCall
		code    toolcall.Code
		outcome audit.Outcome
	}{
		{"ErrInventedTool", llm.ToolCall{Name: "shop.fire_everyone", Arguments: `{}`}, toolcall.NotFound, audit.OutcomeInvalid},
		{"ErrDeniedTool", llm.ToolCall{Name: "shop.order", Arguments: `{"sku":"ABC-123","card_number":"` + card + `"}`}, toolcall.Denied, audit.OutcomeDenied},
		{"ErrArgsNotJSON", llm.ToolCall{Name: "shop.get_item", Arguments: `{"sku":`}, toolcall.Invalid, audit.OutcomeInvalid},
		{"ErrArgsAgainstSchema", llm.ToolCall{Name: "shop.get_item", Arguments: `{"sku":"abc"}`}, toolcall.Invalid, audit.OutcomeInvalid},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			tr := f.startTurn(t, clerk, "do something")
			tc.call.ID = "call-" + tc.name
			provider := &fakeLLM{resp: llm.Response{ToolCalls: []llm.ToolCall{tc.call}}}
			res, err := complete(t, f, provider, clerk, tr, 1)
			require.NoError(t, err, "a refused call goes back to the LLM as a tool error, the step succeeds")

			require.Len(t, res.Calls, 1)
			got := res.Calls[0]
			require.Equal(t, tc.call.ID, got.ID)
			require.Equal(t, string(tc.code), got.RefusedType)
			require.NotEmpty(t, got.Refused)
			require.Nil(t, got.Approval)
			require.Equal(t, tc.call.ID, f.message(t, tr, activities.MessageSeq(1, 0)).ToolCalls[0].ID, "the refused call is part of the assistant message")

			rows := f.auditOf(t, toolcall.CallKey(1, tc.call.ID)) // the call key of step 1: LLM IDs repeat across steps
			require.Len(t, rows, 1, "a refusal is audited once")
			require.Equal(t, tc.outcome, rows[0].Outcome)
			require.Equal(t, clerk.Subject, rows[0].UserID)
			require.Equal(t, tc.call.Name, rows[0].Tool)
			require.Equal(t, testWorkflowID, rows[0].WorkflowID)
			require.Equal(t, got.Refused, rows[0].Error)
			require.NotContains(t, jsonText(t, rows[0].Params), card)
			require.NotContains(t, jsonText(t, f.messages(t, tr)), card)
			require.NotContains(t, jsonText(t, f.events(t, tr)), card)
		})
	}

	t.Run("ErrConversationGone", func(t *testing.T) {
		tr := f.startTurn(t, clerk, "hello")
		f.deleteConversation(t, clerk, tr)
		provider := &fakeLLM{resp: llm.Response{Content: "Hi."}}
		_, err := complete(t, f, provider, clerk, tr, 1)
		requireAppError(t, err, activities.ErrTypeConversationGone, false)
		require.Empty(t, provider.Requests(), "a deleted conversation is not sent to the LLM")
	})

	const internal = "dial tcp 10.0.0.9:443: connection refused"
	failures := []struct {
		name      string
		err       error
		typ       string
		retryable bool
		message   string
	}{
		{"ErrLLMAuth", &llm.Error{Kind: llm.KindAuth, Status: 401, Message: "the LLM refused the API key: check LLM_API_KEY"},
			activities.ErrTypeLLMAuth, false, "the LLM refused the API key: check LLM_API_KEY"},
		{"ErrLLMBadRequest", &llm.Error{Kind: llm.KindBadRequest, Status: 404, Message: "unknown model: check LLM_MODEL"},
			activities.ErrTypeLLMBadRequest, false, "unknown model: check LLM_MODEL"},
		{"ErrLLMRetryable", &llm.Error{Kind: llm.KindRetryable, Status: 503, Message: "the LLM is overloaded", Err: errors.New(internal)},
			activities.ErrTypeLLMUnavailable, true, "the LLM is overloaded"},
		{"ErrLLMPlain", errors.New(internal), activities.ErrTypeLLMUnavailable, true, "the LLM call failed"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			tr := f.startTurn(t, clerk, "hello")
			_, err := complete(t, f, &fakeLLM{err: tc.err}, clerk, tr, 1)
			appErr := requireAppError(t, err, tc.typ, tc.retryable)
			require.Equal(t, tc.message, appErr.Message())
			require.NotContains(t, err.Error(), "10.0.0.9")
			require.Len(t, f.messages(t, tr), 1, "a failed step saves no assistant message")
		})
	}
}

// TestCompleteStepBookkeeping checks what a step of a workflow at VersionStepBookkeeping
// records with its message: the start of the calls that run at once, or the turn's end, each
// once however often the step runs.
func TestCompleteStepBookkeeping(t *testing.T) {
	f := newFixture(t)
	types := func(tr turn) []string { return eventTypes(f.events(t, tr)) }

	t.Run("OK the calls that run at once start with the step", func(t *testing.T) {
		tr := f.startTurn(t, manager, "show and order ABC-123")
		provider := &fakeLLM{deltas: []string{"On it."}, resp: llm.Response{Content: "On it.", ToolCalls: []llm.ToolCall{
			{ID: "sb-c1", Name: "shop.get_item", Arguments: `{"sku":"ABC-123"}`},
			{ID: "sb-c2", Name: "shop.order", Arguments: `{"sku":"ABC-123","card_number":"` + card + `"}`},
			{ID: "sb-c3", Name: "shop.fire_everyone", Arguments: `{}`},
		}}}
		in := activities.CompleteInput{ConversationID: tr.ConversationID, Turn: tr.Turn, Step: 1, Principal: manager, StepBookkeeping: true}
		for range 2 { // a step run again publishes nothing new
			res, err := completeIn(t, f, provider, in)
			require.NoError(t, err)
			require.Len(t, res.Calls, 3)
		}
		started := f.eventsOf(t, tr, events.TypeToolStarted)
		require.Len(t, started, 1, "only the call that needs no approval and was not refused starts")
		require.Equal(t, map[string]any{"tool": "shop.get_item", "tool_call_id": "sb-c1", "step": 1.0, "domain": "shop",
			"summary": "shop.get_item sku=ABC-123", "approver": ""}, started[0].Data)
		require.Equal(t, []string{events.TypeDelta, events.TypeMessage, events.TypeToolStarted, events.TypeDelta, events.TypeMessage},
			types(tr), "each run's text and message come before the start")
		require.Equal(t, conversations.StatusRunning, f.turnRow(t, tr).Status)
	})

	t.Run("OK the step that answers ends the turn", func(t *testing.T) {
		tr := f.startTurn(t, clerk, "hello")
		provider := &fakeLLM{resp: llm.Response{Content: "Hi."}}
		in := activities.CompleteInput{ConversationID: tr.ConversationID, Turn: tr.Turn, Step: 2, Principal: clerk, StepBookkeeping: true}
		for range 2 {
			_, err := completeIn(t, f, provider, in)
			require.NoError(t, err)
		}
		got := f.turnRow(t, tr)
		require.Equal(t, conversations.StatusCompleted, got.Status)
		require.NotNil(t, got.FinishedAt)
		ended := f.eventsOf(t, tr, events.TypeTurnCompleted)
		require.Len(t, ended, 1, "the turn ends once")
		require.Equal(t, map[string]any{"status": conversations.StatusCompleted, "answer": "Hi.", "error": ""}, ended[0].Data)
		require.Equal(t, []string{events.TypeMessage, events.TypeTurnCompleted, events.TypeMessage}, types(tr))
	})
}

// eventTypes are the types of evs, in order.
func eventTypes(evs []event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func TestSaveToolResult(t *testing.T) {
	f := newFixture(t)
	chat := f.chat(nil)
	customer := map[string]any{"id": "C1", "name": "Ann Lee", "phone": "555-0100", "iban": "DE89370400440532013000"}
	masked := map[string]any{"id": "C1", "name": "Ann Lee", "phone": redact.Mask, "iban": redact.Mask}

	const plain, hidden = `{"id":"C1","name":"Ann Lee","phone":"555-0100","iban":"DE89370400440532013000"}`,
		`{"id":"C1","name":"Ann Lee","phone":"[REDACTED]","iban":"[REDACTED]"}`
	tests := []struct {
		name        string
		caller      authz.Principal
		status      string
		output      any
		redacted    bool
		errText     string
		wantContent string
		wantOutput  any
	}{
		// A caller who may read the tool's sensitive fields sees them in the card as in the answer.
		{"OKReaderSeesSensitive", manager, "ok", customer, false, "", plain, customer},
		// The worker masked them for a caller who may not; they stay masked, and the card says so.
		{"OKMaskedByWorker", clerk, "ok", masked, true, "", hidden, masked},
		// Whatever the worker sent, a caller without read_sensitive never sees them.
		{"OKNonReaderNeverSees", clerk, "ok", customer, false, "", hidden, masked},
		{"OKNoCallerMasks", authz.Principal{}, "ok", customer, false, "", hidden, masked},
		{"OKToolError", manager, "not_found", nil, false, "no customer C1", `{"error":"no customer C1","type":"not_found"}`, nil},
	}
	// The results are saved by SaveToolResult, or by the next LLM step the workflow left them to
	// (CompleteInput.Results), which reads them in the same round trip.
	for _, saver := range []string{"SaveToolResult", "Complete"} {
		for _, tc := range tests {
			t.Run(saver+" "+tc.name, func(t *testing.T) {
				tr := f.startTurn(t, manager, "show customer C1")
				call := f.plan(t, manager, tr, "save-"+saver+tc.name, "shop.get_customer", map[string]any{"customer_id": "C1", "card_number": card})
				outcome := activities.ToolOutcome{Call: call, Status: tc.status, Output: tc.output, Redacted: tc.redacted,
					Error: tc.errText, DurationMS: 12, Approver: boss.Subject}
				if saver == "SaveToolResult" {
					require.NoError(t, run(chat, chat.SaveToolResult, activities.SaveToolResultInput{
						ConversationID: tr.ConversationID, Turn: tr.Turn, Step: 2, Index: 1, Outcome: outcome, Principal: tc.caller,
					}))
				} else {
					provider := &fakeLLM{resp: llm.Response{Content: "Here it is."}}
					_, err := completeIn(t, f, provider, activities.CompleteInput{ConversationID: tr.ConversationID, Turn: tr.Turn,
						Step: 3, Principal: tc.caller, Results: []activities.ToolResult{{Step: 2, Index: 1, Outcome: outcome}}})
					require.NoError(t, err)
					sent := provider.Requests()[0].Messages
					require.Equal(t, llm.RoleTool, sent[len(sent)-1].Role, "the LLM reads the result it was left")
					require.JSONEq(t, tc.wantContent, sent[len(sent)-1].Content)
					require.Equal(t, []string{events.TypeToolFinished, events.TypeMessage}, eventTypes(f.events(t, tr)))
				}

				wantData := map[string]any{"status": tc.status, "duration_ms": 12.0, "domain": "shop", "output": tc.wantOutput,
					"arguments": map[string]any{"customer_id": "C1", "card_number": redact.Mask}, "error": tc.errText, "approver": boss.Subject}
				if tc.redacted {
					wantData["redacted"] = true
				}
				m := f.message(t, tr, activities.MessageSeq(2, 2))
				require.Equal(t, conversations.RoleTool, m.Role)
				require.Equal(t, call.ID, m.ToolCallID)
				require.Equal(t, "shop.get_customer", m.ToolName)
				require.Equal(t, tc.status, m.ToolStatus)
				require.JSONEq(t, tc.wantContent, m.Content, "the LLM reads the result, or the error it can act on")
				require.Equal(t, wantData, m.Data, "the UI shows the call as the caller may see it, as the LLM reads it")

				finished := f.eventsOf(t, tr, events.TypeToolFinished)
				require.Len(t, finished, 1)
				wantData["tool"], wantData["tool_call_id"], wantData["step"] = "shop.get_customer", call.ID, 2.0
				require.Equal(t, wantData, finished[0].Data)
			})
		}
	}

	t.Run("OKRunAgainPublishesOnce", func(t *testing.T) {
		tr := f.startTurn(t, clerk, "show ABC-123")
		call := f.plan(t, clerk, tr, "save-again", "shop.get_item", map[string]any{"sku": "ABC-123"})
		in := activities.SaveToolResultInput{ConversationID: tr.ConversationID, Turn: tr.Turn, Step: 1, Index: 0,
			Outcome: activities.ToolOutcome{Call: call, Status: "ok", Output: map[string]any{"name": "Mug"}, DurationMS: 3}}
		for range 2 {
			require.NoError(t, run(chat, chat.SaveToolResult, in))
		}
		require.Len(t, f.messages(t, tr), 2, "the user message and one tool message")
		require.Len(t, f.eventsOf(t, tr, events.TypeToolFinished), 1, "one card for one call")
	})

	t.Run("OKContentBlocks", func(t *testing.T) {
		tr := f.startTurn(t, clerk, "show the logo of ABC-123")
		call := f.plan(t, clerk, tr, "save-content", "shop.get_item", map[string]any{"sku": "ABC-123"})
		blocks := []domains.Content{
			{"type": "text", "text": "The logo; the wifi password is hunter22", "annotations": map[string]any{"priority": 1.0}},
			{"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
		}
		err := run(chat, chat.SaveToolResult, activities.SaveToolResultInput{
			ConversationID: tr.ConversationID, Turn: tr.Turn, Step: 1, Index: 0,
			Outcome: activities.ToolOutcome{Call: call, Status: "ok", Content: blocks}, Principal: clerk,
		})
		require.NoError(t, err)
		m := f.message(t, tr, activities.MessageSeq(1, 1))
		require.Equal(t, "The logo; the wifi password is [REDACTED]\n[image: image/png, 8 bytes]", m.Content,
			"the LLM reads the text as written (redacted), not re-wrapped, and a description of the image")
		shown := []any{
			map[string]any{"type": "text", "text": "The logo; the wifi password is [REDACTED]", "annotations": map[string]any{"priority": 1.0}},
			map[string]any{"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
		}
		require.Equal(t, shown, m.Data["content"], "the tool card gets the blocks")
		finished := f.eventsOf(t, tr, events.TypeToolFinished)
		require.Len(t, finished, 1)
		require.Equal(t, shown, finished[0].Data["content"])
	})

	t.Run("OKRetryReplacesMessage", func(t *testing.T) {
		tr := f.startTurn(t, clerk, "show ABC-123")
		call := f.plan(t, clerk, tr, "save-retry", "shop.get_item", map[string]any{"sku": "ABC-123"})
		for _, name := range []string{"Mug", "Mug (second attempt)"} {
			err := run(chat, chat.SaveToolResult, activities.SaveToolResultInput{
				ConversationID: tr.ConversationID, Turn: tr.Turn, Step: 1, Index: 0,
				Outcome: activities.ToolOutcome{Call: call, Status: "ok", Output: map[string]any{"name": name}},
			})
			require.NoError(t, err)
		}
		msgs := f.messages(t, tr)
		require.Len(t, msgs, 2, "the user message and one tool message")
		require.JSONEq(t, `{"name":"Mug (second attempt)"}`, msgs[1].Content)
	})
}

func TestPublish(t *testing.T) {
	f := newFixture(t)
	chat := f.chat(nil)
	tr := f.startTurn(t, clerk, "show ABC-123")
	started := events.ToolStartedData{ToolCallRef: events.ToolCallRef{Tool: "shop.get_item", ToolCallID: "c1", Step: 1, Domain: "shop"},
		Summary: "shop.get_item sku=ABC-123"}

	// Run again (retried, or replayed as a local activity after a crash), it publishes once.
	for range 2 {
		err := run(chat, chat.Publish, activities.PublishInput{ConversationID: tr.ConversationID, Turn: tr.Turn, Event: started})
		require.NoError(t, err)
	}
	require.Equal(t, []event{{Turn: tr.Turn, Type: events.TypeToolStarted, Data: map[string]any{
		"tool": "shop.get_item", "tool_call_id": "c1", "step": 1.0, "domain": "shop", "summary": "shop.get_item sku=ABC-123", "approver": ""}}}, f.events(t, tr))
}

func TestFinishTurn(t *testing.T) {
	f := newFixture(t)
	chat := f.chat(nil)
	finish := func(in activities.FinishTurnInput) error {
		return run(chat, chat.FinishTurn, in)
	}

	tests := []struct {
		name      string
		status    string
		answer    string
		errText   string
		event     string
		wantFinal string
	}{
		{"OKCompleted", conversations.StatusCompleted, "ABC-123 is a mug.", "", events.TypeTurnCompleted, ""},
		{"OKFailed", conversations.StatusFailed, "", "the LLM is unavailable", events.TypeTurnFailed, "Sorry, I could not finish: the LLM is unavailable"},
		{"OKCancelled", conversations.StatusCancelled, "", "cancelled by the user", events.TypeTurnCancelled, "The request was cancelled."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := f.startTurn(t, clerk, "show ABC-123")
			// Twice, as a local activity runs again when its worker died before the result was
			// recorded: the turn ends once.
			for range 2 {
				require.NoError(t, finish(activities.FinishTurnInput{ConversationID: tr.ConversationID, Turn: tr.Turn,
					Status: tc.status, Answer: tc.answer, Error: tc.errText, Step: 3}))
			}

			got := f.turnRow(t, tr)
			require.Equal(t, tc.status, got.Status)
			require.Equal(t, tc.errText, got.Error)
			require.NotNil(t, got.FinishedAt)
			if tc.wantFinal == "" {
				require.Len(t, f.messages(t, tr), 1, "a completed turn has its answer already")
			} else {
				m := f.message(t, tr, activities.MessageSeq(4, 0))
				require.Equal(t, conversations.RoleAssistant, m.Role)
				require.Equal(t, tc.wantFinal, m.Content)
			}
			require.Equal(t, []event{{Turn: tr.Turn, Type: tc.event, Data: map[string]any{
				"status": tc.status, "answer": tc.answer, "error": tc.errText}}}, f.events(t, tr))
		})
	}

	for _, tc := range tests {
		t.Run("OKConversationDeleted "+tc.status, func(t *testing.T) {
			tr := f.startTurn(t, clerk, "show ABC-123")
			f.deleteConversation(t, clerk, tr)
			require.NoError(t, finish(activities.FinishTurnInput{ConversationID: tr.ConversationID, Turn: tr.Turn,
				Status: tc.status, Error: tc.errText}), "a deleted conversation has nothing left to finish")
			require.Empty(t, f.events(t, tr))
		})
	}

	for _, status := range []string{conversations.StatusRunning, "done"} {
		t.Run("ErrUnknownStatus "+status, func(t *testing.T) {
			tr := f.startTurn(t, clerk, "show ABC-123")
			err := finish(activities.FinishTurnInput{ConversationID: tr.ConversationID, Turn: tr.Turn, Status: status, Error: "boom"})
			requireAppError(t, err, "bug", false)
			got := f.turnRow(t, tr)
			require.Equal(t, conversations.StatusRunning, got.Status)
			require.Empty(t, got.Error, "a status that is not final changes nothing")
			require.Nil(t, got.FinishedAt)
			require.Len(t, f.messages(t, tr), 1)
			require.Empty(t, f.events(t, tr))
		})
	}
}

func TestCompleteCoalescesDeltas(t *testing.T) {
	f := newFixture(t)

	t.Run("OK a 2,000-token answer streamed token by token is at most 100 deltas, before its message", func(t *testing.T) {
		tr := f.startTurn(t, manager, "tell me everything")
		var tokens []string
		for i := range 2000 {
			tokens = append(tokens, fmt.Sprintf("w%d ", i%100))
		}
		answer := strings.Join(tokens, "")
		provider := &fakeLLM{deltas: tokens, resp: llm.Response{Content: answer}}
		_, err := complete(t, f, provider, manager, tr, 1)
		require.NoError(t, err)

		evs := f.events(t, tr)
		var text strings.Builder
		deltas, sawMessage := 0, false
		for _, e := range evs {
			switch e.Type {
			case events.TypeDelta:
				require.False(t, sawMessage, "no delta follows the step's message")
				require.Equal(t, 1.0, e.Data["step"])
				piece, _ := e.Data["text"].(string)
				require.NotEmpty(t, piece)
				text.WriteString(piece)
				deltas++
			case events.TypeMessage:
				sawMessage = true
			}
		}
		require.True(t, sawMessage)
		require.Equal(t, answer, text.String(), "the deltas add up to the answer, in order")
		require.LessOrEqual(t, deltas, 100)
		require.Greater(t, deltas, 1, "a long answer is still streamed in pieces")
	})

	t.Run("OK what a failed step streamed is published before it fails", func(t *testing.T) {
		tr := f.startTurn(t, manager, "hello")
		provider := &streamThenFail{pieces: []string{"Hel", "lo"}}
		_, err := complete(t, f, provider, manager, tr, 1)
		require.Error(t, err)
		deltas := f.eventsOf(t, tr, events.TypeDelta)
		require.Len(t, deltas, 1)
		require.Equal(t, "Hello", deltas[0].Data["text"])
	})
}

// streamThenFail streams pieces, then fails as an unreachable provider does.
type streamThenFail struct{ pieces []string }

func (p *streamThenFail) Complete(_ context.Context, _ llm.Request, onDelta func(string)) (llm.Response, error) {
	for _, piece := range p.pieces {
		onDelta(piece)
	}
	return llm.Response{}, &llm.Error{Kind: llm.KindRetryable, Message: "the provider is unreachable"}
}
