// Package toolcall is the one tool-call pipeline shared by chat turns, POST /execute and MCP
// tools/call: it plans a call for a principal (registry lookup, authorization, argument
// validation, approval plan, activity policy, summary) and audits the refusals; it computes the
// tools a principal may see; and it owns the error codes of tool calls with their one mapping
// to HTTP status, MCP text and Temporal error type. The ExecuteTool activity, on the domain's
// own worker, runs Check again before anything executes.
//
// Where things are decided: who may call a tool is Planner.Plan and Check (Casbin, through
// authz); whether a call needs approval is PlanApproval (the tool's policy, evaluated by
// domains/policy); how an error becomes an HTTP status is Code.HTTPStatus.
package toolcall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/policy"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/redact"
	"mcp-platform/internal/store"
)

// Planner plans tool calls against the live registry and the authorization policy, and audits
// every call it refuses: the LLM and API callers only suggest.
type Planner struct {
	Catalog *registry.Catalog
	Authz   *authz.Enforcer
	Audit   *audit.Log
	Logger  *slog.Logger
	// LLMTools is how many tools at most are offered to the LLM at once (0: DefaultLLMTools);
	// a user who may call more gets the most relevant ones and the search_tools tool.
	LLMTools int

	// allowedCache holds the tools each set of roles and scopes may call (Planner.allowed).
	allowedCache allowedCache
}

// Request is a tool call to plan.
type Request struct {
	Principal authz.Principal
	// Tool is the namespaced ("hr.get_employee") or published ("hr__get_employee") name.
	Tool string
	// Args are the decoded arguments; RawArgs, when Args is nil, is the JSON text an LLM wrote.
	Args    map[string]any
	RawArgs string
	// WorkflowID and CallKey identify the call in its workflow (they name its approval);
	// ToolCallID is the caller's ID of the call (the LLM's), recorded in the audit.
	WorkflowID string
	RunID      string
	CallKey    string
	ToolCallID string
}

// PlannedCall is a tool call checked against the registry and the caller's permissions, with
// what a workflow needs to run it.
type PlannedCall struct {
	// ID is the caller's (the LLM's) tool call ID.
	ID     string         `json:"id"`
	Tool   string         `json:"tool"`
	Domain string         `json:"domain,omitempty"`
	Args   map[string]any `json:"args"`
	// Policy and Summary schedule the ExecuteTool activity.
	Policy  Policy `json:"policy"`
	Summary string `json:"summary"`
	// Annotations are the tool's configured annotations (approval, destructive...).
	Annotations domains.Annotations `json:"annotations"`
	// Sensitive lists the tool's sensitive fields, for redacting what is shown.
	Sensitive []string `json:"sensitive,omitempty"`
	// Approval is set when a person must approve the call before it runs.
	Approval *ApprovalPlan `json:"approval,omitempty"`
	// Refused explains why the call will not run (unknown tool, not allowed, invalid
	// arguments); RefusedType is its Code. Empty when the call may run.
	Refused     string `json:"refused,omitempty"`
	RefusedType string `json:"refused_type,omitempty"`
	// Live is whether the tool's domain has a running worker now (not recorded).
	Live bool `json:"-"`
}

// Refusal is the planned call's refusal as an *Error, or nil when it may run.
func (c PlannedCall) Refusal() *Error {
	if c.RefusedType == "" {
		return nil
	}
	return &Error{Code: Code(c.RefusedType), Message: c.Refused}
}

// RedactedArgs are the call's arguments with sensitive values masked, for showing them.
func (c PlannedCall) RedactedArgs() map[string]any {
	m, _ := redact.Value(c.Args, c.Sensitive...).(map[string]any)
	return m
}

// Plan checks one call and plans it. A refused call is audited here and returned with Refused
// set and an *Error (with its argument problems when they are invalid); the caller reports it
// (REST, MCP) or hands it to the LLM (chat).
func (p *Planner) Plan(ctx context.Context, req Request) (PlannedCall, *Error) {
	call := PlannedCall{ID: req.ToolCallID, Tool: req.Tool, Domain: domains.DomainOf(req.Tool), Args: req.Args}
	if name, ok := domains.FromSafeName(req.Tool); ok {
		call.Tool, call.Domain = name, domains.DomainOf(name)
	}
	refuse := func(e *Error, outcome audit.Outcome) (PlannedCall, *Error) {
		call.Refused, call.RefusedType = e.Message, string(e.Code)
		p.record(ctx, req, call, outcome, e.Message)
		return call, e
	}
	if call.Args == nil && strings.TrimSpace(req.RawArgs) != "" {
		if err := json.Unmarshal([]byte(req.RawArgs), &call.Args); err != nil {
			return refuse(Errorf(Invalid, "the arguments are not a JSON object"), audit.OutcomeInvalid)
		}
	}
	if call.Args == nil {
		call.Args = map[string]any{}
	}
	if err := Storable(call.Tool, call.Args); err != nil {
		call.Tool = store.SanitizeText(call.Tool)
		return refuse(err, audit.OutcomeInvalid)
	}
	e, ok := p.Catalog.Lookup(call.Tool)
	if !ok {
		return refuse(Errorf(NotFound, "there is no tool named %q", req.Tool), audit.OutcomeInvalid)
	}
	dom, tool := e.Domain.Config, e.Tool
	call.Domain, call.Annotations = dom.Name, tool.Annotations
	call.Sensitive = dom.Sensitive(tool)
	call.Policy = PolicyFor(dom, tool)
	call.Summary = Summary(tool.Name, call.Args, call.Sensitive)
	call.Live = p.Catalog.Live(dom.Name)
	if err := Authorize(p.Authz, req.Principal, tool); err != nil {
		return refuse(err, audit.OutcomeDenied)
	}
	if err := Validate(tool, call.Args); err != nil {
		return refuse(err, audit.OutcomeInvalid)
	}
	if !call.Live {
		// Fail fast: no worker polls the domain's queue, so the call would only wait.
		return refuse(&Error{Code: Unavailable, Status: http.StatusServiceUnavailable,
			Message: fmt.Sprintf("the %s domain has no running worker; start one with `mcp-platform worker -domains %s`", dom.Name, dom.Name)}, audit.OutcomeFailed)
	}
	call.Approval = PlanApproval(p.Authz, tool, call.Args, req.Principal, req.WorkflowID, req.CallKey)
	return call, nil
}

// record audits a refused call once, however often a retried activity plans it again. A failed
// audit write is logged: the call does not run anyway.
func (p *Planner) record(ctx context.Context, req Request, call PlannedCall, outcome audit.Outcome, msg string) {
	tool := call.Tool
	if tool == "" {
		tool = "(none)"
	}
	if _, err := p.Audit.RecordOnce(context.WithoutCancel(ctx), audit.Entry{UserID: req.Principal.Subject, Roles: req.Principal.Roles,
		Tool: tool, Domain: call.Domain, Params: call.Args, Sensitive: call.Sensitive, Outcome: outcome, Error: msg,
		WorkflowID: req.WorkflowID, RunID: req.RunID, ToolCallID: req.ToolCallID}); err != nil {
		p.Logger.ErrorContext(ctx, "audit write failed", "tool", tool, "error", err)
	}
}

// ToolField is the Problem field that names the tool name itself rather than an argument.
const ToolField = "(tool)"

// Storable refuses a call whose tool name or arguments hold text the platform cannot store or
// audit faithfully (a NUL character, invalid UTF-8), naming each offending field.
func Storable(tool string, args map[string]any) *Error {
	var problems []domains.Problem
	if !store.StorableText(tool) {
		problems = append(problems, domains.Problem{Field: ToolField, Message: "the tool name contains a NUL character or invalid UTF-8"})
	}
	for _, path := range store.Unstorable(args) {
		problems = append(problems, domains.Problem{Field: path, Message: "contains a NUL character or invalid UTF-8"})
	}
	if len(problems) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: (&domains.ValidationError{Problems: problems}).Error(), Problems: problems}
}

// Authorize checks that p may execute tool: the decision Casbin makes from the domains'
// permissions and the token's scopes.
func Authorize(enf *authz.Enforcer, p authz.Principal, tool *domains.Tool) *Error {
	if p.Subject == "" {
		return Errorf(Denied, "no authenticated principal")
	}
	if !enf.Can(p, domains.ActionExecute, tool.Name) {
		return Errorf(Denied, "you are not allowed to use %s (your roles: %s)", tool.Name, strings.Join(p.Roles, ", "))
	}
	return nil
}

// Validate checks a call's arguments against the tool's input schema, listing each problem.
func Validate(tool *domains.Tool, args map[string]any) *Error {
	err := policy.ValidateArgs(tool, args)
	if err == nil {
		return nil
	}
	e := &Error{Code: Invalid, Message: err.Error()}
	var ve *domains.ValidationError
	if errors.As(err, &ve) {
		e.Problems = ve.Problems
	}
	return e
}

// Check is the re-check ExecuteTool makes on the domain's own worker before a call runs, with
// the worker's own configuration: the tool exists in this domain, p may call it, and the
// arguments match its schema.
func Check(dom *domains.Config, enf *authz.Enforcer, p authz.Principal, toolName string, args map[string]any) (*domains.Tool, *Error) {
	if p.Subject == "" {
		return nil, Errorf(Denied, "no authenticated principal")
	}
	if err := Storable(toolName, args); err != nil {
		return nil, err
	}
	tool := dom.Tool(toolName)
	if tool == nil {
		return nil, Errorf(NotFound, "unknown tool %q in domain %s", toolName, dom.Name)
	}
	if err := Authorize(enf, p, tool); err != nil {
		return tool, err
	}
	if err := Validate(tool, args); err != nil {
		return tool, err
	}
	return tool, nil
}

// Visible is one tool a principal may call, and whether its domain has a running worker.
type Visible struct {
	registry.Entry
	Live bool
}

// VisibleOptions narrow a Visible query.
type VisibleOptions struct {
	// Domain keeps only that domain's tools.
	Domain string
	// LiveOnly keeps only tools whose domain has a running worker (what can run now).
	LiveOnly bool
}

// Visible lists the tools p may call, in name order: the one answer to "which tools does this
// user see" for GET /tools, MCP tools/list and the tools offered to the LLM. Authorization is
// decided once per catalog version, rules generation and set of roles and scopes (see
// Planner.allowed); liveness is read at each call.
func (p *Planner) Visible(pr authz.Principal, opts VisibleOptions) []Visible {
	set, live := p.allowed(pr)
	out := make([]Visible, 0, len(set.entries))
	for _, e := range set.entries {
		name := e.Domain.Config.Name
		if opts.Domain != "" && name != opts.Domain {
			continue
		}
		if opts.LiveOnly && !live[name] {
			continue
		}
		out = append(out, Visible{Entry: e, Live: live[name]})
	}
	return out
}

// IdempotencyKey is the key adapters use to recognise a retried call: the workflow ID and the
// tool call ID (or, lacking one, the activity ID), both stable across retries.
func IdempotencyKey(workflowID, toolCallID, activityID string) string {
	if toolCallID == "" {
		toolCallID = activityID
	}
	return workflowID + "/" + toolCallID
}

// CallKey identifies a tool call within a turn: the LLM's IDs are only unique within one of
// its messages.
func CallKey(step int, llmCallID string) string { return fmt.Sprintf("step%d-%s", step, llmCallID) }
