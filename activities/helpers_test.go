package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/llm"
	"mcp-platform/internal/testutil/dbtest"
	"mcp-platform/toolcall"
)

// testWorkflowID and testRunID are the workflow execution every activity of Temporal's test
// activity environment believes it runs in.
const (
	testWorkflowID = "default-test-workflow-id"
	testRunID      = "default-test-run-id"
)

// shopYAML is the domain the tests call: clerks may read items and customers, managers may do
// everything and read customers' sensitive fields, bosses approve orders.
const shopYAML = `
name: shop
description: A shop.
sensitive_fields: [card_number]
permissions:
  - role: clerk
    tools: ["shop.get_item", "shop.get_customer"]
  - role: manager
    tools: ["shop.*"]
  - role: manager
    tools: ["shop.get_customer"]
    actions: [read_sensitive]
  - role: boss
    tools: ["shop.order"]
    actions: [approve]
tools:
  - name: get_item
    description: Get an item.
    input_schema:
      type: object
      required: [sku]
      additionalProperties: false
      properties:
        sku: {type: string, pattern: "^[A-Z]{3}-[0-9]{3}$"}
  - name: get_customer
    description: Get a customer.
    sensitive_fields: [phone]
    input_schema:
      type: object
      required: [customer_id]
      properties:
        customer_id: {type: string}
  - name: order
    description: Orders an item.
    annotations: {requires_approval: true}
    input_schema:
      type: object
      required: [sku]
      properties:
        sku: {type: string}
        card_number: {type: string}
`

// labYAML is a domain everyone may use whose only worker has stopped: its tools are registered
// but cannot run now.
const labYAML = `
name: lab
description: A lab.
permissions:
  - role: clerk
    tools: ["lab.*"]
  - role: manager
    tools: ["lab.*"]
tools:
  - name: run
    description: Runs an experiment.
    input_schema: {type: object}
`

// The principals of the tests, one per role of shopYAML.
var (
	clerk   = authz.Principal{Subject: "cleo", Roles: []string{"clerk"}}
	manager = authz.Principal{Subject: "mona", Roles: []string{"manager"}}
	boss    = authz.Principal{Subject: "bea", Roles: []string{"boss"}}
)

// fixture is a fresh, migrated database with the shop domain registered by a live worker and
// the lab domain by a stopped one, and the stores and planner the activities are built from.
type fixture struct {
	Shop          *domains.Config
	Planner       *toolcall.Planner
	Audit         *audit.Log
	Conversations *conversations.Store
	Events        *events.Store
	Approvals     *approvals.Store
	Logger        *slog.Logger
}

// newFixture builds the fixture on a fresh database, dropped when t ends.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := dbtest.New(t)
	reg := registry.New(db.Pool)
	shop := parseDomain(t, "shop", shopYAML)
	require.NoError(t, reg.Register(ctx, registry.Registration{Config: shop, Identity: "worker-shop"}))
	require.NoError(t, reg.Register(ctx, registry.Registration{Config: parseDomain(t, "lab", labYAML), Identity: "worker-lab"}))
	require.NoError(t, reg.Deregister(ctx, "lab", "worker-lab"))

	enf, err := authz.NewEnforcer()
	require.NoError(t, err)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat := registry.NewCatalog(reg, enf, logger)
	require.NoError(t, cat.Refresh(ctx))
	auditLog := audit.New(db.Pool)
	return &fixture{
		Shop:          shop,
		Planner:       &toolcall.Planner{Catalog: cat, Authz: enf, Audit: auditLog, Logger: logger},
		Audit:         auditLog,
		Conversations: conversations.NewStore(db.Pool),
		Events:        events.NewStore(db.Pool),
		Approvals:     approvals.NewStore(db.Pool),
		Logger:        logger,
	}
}

// parseDomain reads a domain configuration as the worker does from config/domains/<name>.yaml.
func parseDomain(t *testing.T, name, yaml string) *domains.Config {
	t.Helper()
	cfg, err := domainconfig.Parse(name+".yaml", []byte(yaml))
	require.NoError(t, err)
	return cfg
}

// executor is the shop's ToolExecutor as its domain worker builds it: its own configuration
// and enforcer, and adapter.
func (f *fixture) executor(t *testing.T, adapter domains.Adapter) *activities.ToolExecutor {
	t.Helper()
	enf, err := authz.NewEnforcer()
	require.NoError(t, err)
	require.NoError(t, enf.SetDomainPolicies(f.Shop.Name, f.Shop.Permissions))
	return &activities.ToolExecutor{Domain: f.Shop, Adapter: adapter, Authz: enf, Audit: f.Audit, Logger: f.Logger}
}

// chat is the orchestrator's ChatActivities on provider.
func (f *fixture) chat(provider llm.Provider) *activities.ChatActivities {
	return &activities.ChatActivities{Conversations: f.Conversations, Events: f.Events, LLM: provider, Tools: f.Planner, Logger: f.Logger}
}

// approvals is the orchestrator's ApprovalActivities.
func (f *fixture) approvals() *activities.ApprovalActivities {
	return &activities.ApprovalActivities{Approvals: f.Approvals, Events: f.Events, Conversations: f.Conversations,
		Audit: f.Audit, Logger: f.Logger}
}

// newEnv is a test activity environment running the activities of act.
func newEnv(act any) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(act)
	return env
}

// run executes fn, an activity method of act, with in, and returns its error.
func run(act, fn, in any) error {
	_, err := newEnv(act).ExecuteActivity(fn, in)
	return err
}

// turn is a chat turn that has started: its user message is saved at seq 0.
type turn struct {
	ConversationID string
	Turn           int
	WorkflowID     string
}

// startTurn starts a turn of a new conversation of p, as POST /chat does.
func (f *fixture) startTurn(t *testing.T, p authz.Principal, text string) turn {
	t.Helper()
	c, tr, err := f.Conversations.StartTurn(context.Background(), p.Subject, "", text, func(conv string, n int) string {
		return fmt.Sprintf("chat-%s-%d", conv, n)
	}, nil)
	require.NoError(t, err)
	return turn{ConversationID: c.ID, Turn: tr.Turn, WorkflowID: tr.WorkflowID}
}

// deleteConversation deletes the turn's conversation, as its owner p would.
func (f *fixture) deleteConversation(t *testing.T, p authz.Principal, tr turn) {
	t.Helper()
	_, err := f.Conversations.Delete(context.Background(), p.Subject, tr.ConversationID)
	require.NoError(t, err)
}

// turnRow is the stored turn.
func (f *fixture) turnRow(t *testing.T, tr turn) conversations.Turn {
	t.Helper()
	turns, err := f.Conversations.Turns(context.Background(), tr.ConversationID)
	require.NoError(t, err)
	for _, got := range turns {
		if got.Turn == tr.Turn {
			return got
		}
	}
	t.Fatalf("turn %d of %s not found", tr.Turn, tr.ConversationID)
	return conversations.Turn{}
}

// messages are the stored messages of the turn's conversation, in order.
func (f *fixture) messages(t *testing.T, tr turn) []conversations.Message {
	t.Helper()
	msgs, err := f.Conversations.Messages(context.Background(), tr.ConversationID)
	require.NoError(t, err)
	return msgs
}

// message is the stored message at seq of the turn; it fails the test when there is none.
func (f *fixture) message(t *testing.T, tr turn, seq int) conversations.Message {
	t.Helper()
	for _, m := range f.messages(t, tr) {
		if m.Turn == tr.Turn && m.Seq == seq {
			return m
		}
	}
	t.Fatalf("no message at seq %d of turn %d", seq, tr.Turn)
	return conversations.Message{}
}

// event is a stored event with its data decoded from the JSON the UI reads.
type event struct {
	Turn int
	Type string
	Data map[string]any
}

// events are the stored events of the turn's conversation, oldest first.
func (f *fixture) events(t *testing.T, tr turn) []event {
	t.Helper()
	stored, err := f.Events.After(context.Background(), tr.ConversationID, 0, 1000)
	require.NoError(t, err)
	var out []event
	for _, e := range stored {
		ev := event{Turn: e.Turn, Type: e.Type}
		require.NoError(t, json.Unmarshal(e.Data, &ev.Data), "event %d is a JSON object", e.ID)
		out = append(out, ev)
	}
	return out
}

// eventsOf are the stored events of type typ of the turn, oldest first.
func (f *fixture) eventsOf(t *testing.T, tr turn, typ string) []event {
	t.Helper()
	var out []event
	for _, e := range f.events(t, tr) {
		if e.Type == typ {
			require.Equal(t, tr.Turn, e.Turn)
			out = append(out, e)
		}
	}
	return out
}

// auditOf are the audit rows of the tool call with the caller's ID toolCallID, newest first.
// Each subtest uses its own call IDs, so a test's rows never mix with another's.
func (f *fixture) auditOf(t *testing.T, toolCallID string) []audit.Record {
	t.Helper()
	page, err := f.Audit.Query(context.Background(), audit.Filter{Limit: audit.MaxLimit})
	require.NoError(t, err)
	var out []audit.Record
	for _, r := range page.Records {
		if r.ToolCallID == toolCallID {
			out = append(out, r)
		}
	}
	return out
}

// plan plans a call of p in the turn's workflow through the pipeline, as Complete does; it
// fails the test when the call is refused.
func (f *fixture) plan(t *testing.T, p authz.Principal, tr turn, callID, tool string, args map[string]any) toolcall.PlannedCall {
	t.Helper()
	call, err := f.Planner.Plan(context.Background(), toolcall.Request{Principal: p, Tool: tool, Args: args,
		WorkflowID: tr.WorkflowID, CallKey: toolcall.CallKey(1, callID), ToolCallID: callID})
	require.Nil(t, err)
	return call
}

// requireAppError asserts that err is a Temporal application error of type typ, retryable or
// not, and returns it.
func requireAppError(t *testing.T, err error, typ string, retryable bool) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, typ, appErr.Type())
	require.Equal(t, !retryable, appErr.NonRetryable(), "non-retryable")
	return appErr
}

// jsonText is v encoded as JSON, to search stored values for text they must not hold.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// fakeAdapter is a domain backend that records its calls and answers each with out or err.
type fakeAdapter struct {
	out any
	err error

	mu    sync.Mutex
	calls []domains.Call
}

func (a *fakeAdapter) Call(_ context.Context, c domains.Call) (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, c)
	return a.out, a.err
}

func (a *fakeAdapter) Calls() []domains.Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]domains.Call(nil), a.calls...)
}

// fakeLLM is a provider that streams deltas, then answers with resp (or fails with err), and
// records the requests it was sent.
type fakeLLM struct {
	deltas []string
	resp   llm.Response
	err    error

	mu       sync.Mutex
	requests []llm.Request
}

func (p *fakeLLM) Complete(_ context.Context, req llm.Request, onDelta func(string)) (llm.Response, error) {
	p.mu.Lock()
	p.requests = append(p.requests, req)
	p.mu.Unlock()
	if p.err != nil {
		return llm.Response{}, p.err
	}
	for _, d := range p.deltas {
		onDelta(d)
	}
	return p.resp, nil
}

func (p *fakeLLM) Requests() []llm.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]llm.Request(nil), p.requests...)
}
