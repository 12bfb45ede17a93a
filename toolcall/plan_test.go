package toolcall_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/testutil/dbtest"
	"mcp-platform/toolcall"
)

const shopYAML = `
name: shop
description: A shop.
sensitive_fields: [card_number]
permissions:
  - role: clerk
    tools: ["shop.get_item"]
  - role: buyer
    tools: ["shop.*"]
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
  - name: order
    description: Orders items.
    annotations: {requires_approval: true}
    input_schema:
      type: object
      properties:
        sku: {type: string}
        card_number: {type: string}
`

// newPlanner registers the shop domain in a fresh database, as a worker would, and returns a
// planner on its catalog with the audit log it writes.
func newPlanner(t *testing.T) (*toolcall.Planner, *audit.Log) {
	t.Helper()
	ctx := context.Background()
	db := dbtest.New(t)
	cfg, err := domainconfig.Parse("shop.yaml", []byte(shopYAML))
	require.NoError(t, err)
	require.NoError(t, registry.New(db.Pool).Register(ctx, registry.Registration{Config: cfg, Identity: "worker-1"}))
	enf, err := authz.NewEnforcer()
	require.NoError(t, err)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat := registry.NewCatalog(registry.New(db.Pool), enf, logger)
	require.NoError(t, cat.Refresh(ctx))
	log := audit.New(db.Pool)
	return &toolcall.Planner{Catalog: cat, Authz: enf, Audit: log, Logger: logger}, log
}

func records(t *testing.T, log *audit.Log, user string) []audit.Record {
	t.Helper()
	page, err := log.Query(context.Background(), audit.Filter{UserID: user})
	require.NoError(t, err)
	return page.Records
}

func TestPlan(t *testing.T) {
	planner, log := newPlanner(t)
	ctx := context.Background()
	clerk := authz.Principal{Subject: "cleo", Roles: []string{"clerk"}}
	buyer := authz.Principal{Subject: "bert", Roles: []string{"buyer"}}

	t.Run("OK", func(t *testing.T) {
		call, err := planner.Plan(ctx, toolcall.Request{Principal: clerk, Tool: "shop__get_item",
			RawArgs: `{"sku":"ABC-123"}`, WorkflowID: "wf-1", CallKey: "step0-c1", ToolCallID: "c1"})
		require.Nil(t, err)
		require.Equal(t, "shop.get_item", call.Tool)
		require.Equal(t, "shop", call.Domain)
		require.Equal(t, "c1", call.ID)
		require.Equal(t, map[string]any{"sku": "ABC-123"}, call.Args)
		require.Equal(t, "domain-shop", call.Policy.TaskQueue)
		require.Equal(t, "shop.get_item sku=ABC-123", call.Summary)
		require.True(t, call.Live)
		require.Nil(t, call.Approval)
		require.Nil(t, call.Refusal())
		require.Empty(t, records(t, log, "cleo"), "a call that may run is audited when it runs, not when planned")
	})

	t.Run("OKApprovalPlanned", func(t *testing.T) {
		call, err := planner.Plan(ctx, toolcall.Request{Principal: buyer, Tool: "shop.order",
			Args: map[string]any{"sku": "ABC-123", "card_number": "4111"}, WorkflowID: "wf-2", CallKey: "step0-c1"})
		require.Nil(t, err)
		require.NotNil(t, call.Approval)
		require.Equal(t, toolcall.ApprovalID("wf-2", "step0-c1"), call.Approval.ID)
		require.ElementsMatch(t, []string{"admin", "boss"}, call.Approval.Approvers, "approvers default to the roles granted approve, and admins")
		require.False(t, call.Approval.AllowSelf)
		require.NotContains(t, call.Summary, "4111", "sensitive arguments are redacted in summaries")
		require.NotContains(t, call.RedactedArgs(), "4111")
		require.Equal(t, "4111", call.Args["card_number"], "the call itself keeps its arguments")
	})

	refusals := []struct {
		name      string
		req       toolcall.Request
		code      toolcall.Code
		outcome   audit.Outcome
		message   string
		problemAt string
	}{
		{"ErrNotFound", toolcall.Request{Principal: clerk, Tool: "shop.fire_everyone"}, toolcall.NotFound, audit.OutcomeInvalid,
			`there is no tool named "shop.fire_everyone"`, ""},
		{"ErrDenied", toolcall.Request{Principal: clerk, Tool: "shop.order"}, toolcall.Denied, audit.OutcomeDenied,
			"you are not allowed to use shop.order (your roles: clerk)", ""},
		{"ErrNoPrincipal", toolcall.Request{Tool: "shop.get_item", Args: map[string]any{"sku": "ABC-123"}}, toolcall.Denied, audit.OutcomeDenied,
			"no authenticated principal", ""},
		{"ErrNotJSON", toolcall.Request{Principal: clerk, Tool: "shop.get_item", RawArgs: `{"sku":`}, toolcall.Invalid, audit.OutcomeInvalid,
			"the arguments are not a JSON object", ""},
		{"ErrNULArgument", toolcall.Request{Principal: clerk, Tool: "shop.get_item", RawArgs: `{"sku":"ABC-123","x":{"y":["a\u0000"]}}`}, toolcall.Invalid, audit.OutcomeInvalid,
			"x.y.0: contains a NUL character", "x.y.0"},
		{"ErrNULToolName", toolcall.Request{Principal: clerk, Tool: "shop.get\x00item"}, toolcall.Invalid, audit.OutcomeInvalid,
			"the tool name contains a NUL character", toolcall.ToolField},
		{"ErrInvalid", toolcall.Request{Principal: clerk, Tool: "shop.get_item", Args: map[string]any{"sku": "abc"}}, toolcall.Invalid, audit.OutcomeInvalid,
			"invalid parameters: sku:", "sku"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			user := tc.req.Principal.Subject
			before := len(records(t, log, user))
			call, err := planner.Plan(ctx, tc.req)
			require.NotNil(t, err)
			require.Equal(t, tc.code, err.Code)
			require.Contains(t, err.Message, tc.message)
			require.Equal(t, err.Code, call.Refusal().Code)
			require.Equal(t, err.Message, call.Refusal().Message)
			if tc.problemAt != "" {
				require.NotEmpty(t, err.Problems)
				require.Equal(t, tc.problemAt, err.Problems[0].Field)
			}
			got := records(t, log, user)
			require.Len(t, got, before+1, "each refusal is audited once")
			require.Equal(t, tc.outcome, got[0].Outcome)
			require.Contains(t, got[0].Error, tc.message)
		})
	}
}

func TestPlanRetriedIsAuditedOnce(t *testing.T) {
	planner, log := newPlanner(t)
	req := toolcall.Request{Principal: authz.Principal{Subject: "cleo", Roles: []string{"clerk"}}, Tool: "shop.order",
		WorkflowID: "chat-c-1", RunID: "r1", CallKey: "step0-c1", ToolCallID: "step0-c1"}
	for range 3 { // a Complete activity retried three times plans the same call three times
		_, err := planner.Plan(context.Background(), req)
		require.NotNil(t, err)
	}
	require.Len(t, records(t, log, "cleo"), 1)
	req.ToolCallID, req.CallKey = "step1-c1", "step1-c1"
	_, err := planner.Plan(context.Background(), req)
	require.NotNil(t, err)
	require.Len(t, records(t, log, "cleo"), 2, "another call of the turn is another row")
}

func TestVisible(t *testing.T) {
	planner, _ := newPlanner(t)
	names := func(vs []toolcall.Visible) []string {
		var out []string
		for _, v := range vs {
			require.True(t, v.Live)
			out = append(out, v.Tool.Name)
		}
		return out
	}
	clerk := authz.Principal{Subject: "cleo", Roles: []string{"clerk"}}
	buyer := authz.Principal{Subject: "bert", Roles: []string{"buyer"}}
	narrowed := authz.Principal{Subject: "bert", Roles: []string{"buyer"}, Scopes: []string{"tools:shop.get_item"}}

	require.Equal(t, []string{"shop.get_item"}, names(planner.Visible(clerk, toolcall.VisibleOptions{})))
	require.Equal(t, []string{"shop.get_item", "shop.order"}, names(planner.Visible(buyer, toolcall.VisibleOptions{LiveOnly: true})))
	require.Equal(t, []string{"shop.get_item"}, names(planner.Visible(narrowed, toolcall.VisibleOptions{})), "token scopes narrow what roles allow")
	require.Empty(t, planner.Visible(buyer, toolcall.VisibleOptions{Domain: "hr"}))
	require.Empty(t, planner.Visible(authz.Principal{Subject: "x", Roles: []string{"nobody"}}, toolcall.VisibleOptions{}))
}

func TestCheck(t *testing.T) {
	cfg, err := domainconfig.Parse("shop.yaml", []byte(shopYAML))
	require.NoError(t, err)
	enf, err := authz.NewEnforcer()
	require.NoError(t, err)
	require.NoError(t, enf.SetDomainPolicies(cfg.Name, cfg.Permissions))
	clerk := authz.Principal{Subject: "cleo", Roles: []string{"clerk"}}

	tests := []struct {
		name string
		p    authz.Principal
		tool string
		args map[string]any
		code toolcall.Code
	}{
		{"OK", clerk, "shop.get_item", map[string]any{"sku": "ABC-123"}, ""},
		{"ErrNoPrincipal", authz.Principal{}, "shop.get_item", map[string]any{"sku": "ABC-123"}, toolcall.Denied},
		{"ErrUnknownTool", clerk, "shop.nothing", nil, toolcall.NotFound},
		{"ErrOtherDomain", clerk, "hr.get_employee", nil, toolcall.NotFound},
		{"ErrDenied", clerk, "shop.order", nil, toolcall.Denied},
		{"ErrInvalid", clerk, "shop.get_item", map[string]any{"sku": "ABC-123", "bogus": 1}, toolcall.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tool, err := toolcall.Check(cfg, enf, tc.p, tc.tool, tc.args)
			if tc.code == "" {
				require.Nil(t, err)
				require.Equal(t, tc.tool, tool.Name)
				return
			}
			require.NotNil(t, err)
			require.Equal(t, tc.code, err.Code)
		})
	}
}

func TestIDs(t *testing.T) {
	require.Equal(t, "wf/step1-c", toolcall.IdempotencyKey("wf", "step1-c", "7"))
	require.Equal(t, "wf/7", toolcall.IdempotencyKey("wf", "", "7"), "an activity without a call ID is keyed by its activity ID")
	require.Equal(t, "step2-call_9", toolcall.CallKey(2, "call_9"))
	require.Equal(t, toolcall.ApprovalID("wf", "k"), toolcall.ApprovalID("wf", "k"))
	require.NotEqual(t, toolcall.ApprovalID("wf", "k"), toolcall.ApprovalID("wf", "k2"))
}

func TestPolicyFor(t *testing.T) {
	cfg, err := domainconfig.Parse("shop.yaml", []byte(shopYAML))
	require.NoError(t, err)
	p := toolcall.PolicyFor(cfg, cfg.Tool("shop.order"))
	require.Equal(t, "domain-shop", p.TaskQueue)
	require.Equal(t, domainconfig.DefaultTimeout, p.Timeout)
	rp := p.RetryPolicy()
	require.EqualValues(t, domainconfig.DefaultMaxAttempts, rp.MaximumAttempts)
	require.ElementsMatch(t, []string{"denied", "invalid", "not_found", "conflict"}, rp.NonRetryableErrorTypes)
	var _ domains.Annotations // the contract types are what plans carry
}

func TestMayDecide(t *testing.T) {
	dan := authz.Principal{Subject: "dan", Roles: []string{"sre_lead"}}
	tests := []struct {
		name      string
		p         authz.Principal
		requester string
		allowSelf bool
		code      toolcall.Code
	}{
		{"OK", dan, "carol", false, ""},
		{"OKAdmin", authz.Principal{Subject: "root", Roles: []string{"admin"}}, "carol", false, ""},
		{"OKSelfAllowed", dan, "dan", true, ""},
		{"OKScopeCovers", authz.Principal{Subject: "dan", Roles: []string{"sre_lead"}, Scopes: []string{"tools:devops.*"}}, "carol", false, ""},
		{"ErrOwnRequest", dan, "dan", false, toolcall.OwnRequest},
		{"ErrNotApprover", authz.Principal{Subject: "bob", Roles: []string{"finance_clerk"}}, "carol", false, toolcall.NotApprover},
		{"ErrScopeNarrowed", authz.Principal{Subject: "dan", Roles: []string{"sre_lead"}, Scopes: []string{"tools:hr.list_departments"}}, "carol", false, toolcall.NotApprover},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := toolcall.MayDecide(tc.p, "devops.scale_deployment", tc.requester, []string{"sre_lead"}, tc.allowSelf)
			if tc.code == "" {
				require.Nil(t, err)
				return
			}
			require.NotNil(t, err)
			require.Equal(t, tc.code, err.Code)
		})
	}
}

func TestCheckDecider(t *testing.T) {
	approvers := []string{"devops_lead", "sre"}
	tests := []struct {
		name      string
		subject   string
		roles     []string
		allowSelf bool
		want      toolcall.Code
	}{
		{"OK approver role", "bob", []string{"employee", "sre"}, false, ""},
		{"OK admin without an approver role", "root", []string{"admin"}, false, ""},
		{"OK own request when self-approval is allowed", "alice", []string{"devops_lead"}, true, ""},
		{"ErrNotApprover no roles", "bob", nil, false, toolcall.NotApprover},
		{"ErrNotApprover other roles", "bob", []string{"employee", "hr_manager"}, false, toolcall.NotApprover},
		{"ErrNotApprover own request allowed but no role", "alice", []string{"employee"}, true, toolcall.NotApprover},
		{"ErrOwnRequest approver", "alice", []string{"devops_lead"}, false, toolcall.OwnRequest},
		{"ErrOwnRequest even an admin", "alice", []string{"admin"}, false, toolcall.OwnRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := toolcall.CheckDecider(tt.subject, tt.roles, "alice", approvers, tt.allowSelf)
			if tt.want == "" {
				require.Nil(t, err)
				return
			}
			require.NotNil(t, err)
			require.Equal(t, tt.want, err.Code)
		})
	}
}
