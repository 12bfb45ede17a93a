// Package approvalsapi serves human approval of tool calls on both servers: what the caller may
// decide, and the decision, which goes to the waiting workflow as a Temporal Update whose
// validator has the final word.
package approvalsapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"mcp-platform/api/httpapi"
	"mcp-platform/authz"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/audit"
	"mcp-platform/toolcall"
	"mcp-platform/workflows"
)

// Deps are the approval routes' dependencies.
type Deps struct {
	Approvals *approvals.Store
	Temporal  client.Client
	Audit     *audit.Log
	Logger    *slog.Logger
	// Signer signs each decision, so the workflow can tell it from a forged one.
	Signer *authz.Signer
}

// decisionTTL is how long a signed decision may take to reach its workflow.
const decisionTTL = 2 * time.Minute

// Tag is the OpenAPI tag of the approval routes.
var Tag = &huma.Tag{Name: "Approvals", Description: "Human approval of consequential tool calls."}

type listOutput struct {
	Body struct {
		Approvals []approvals.Request `json:"approvals" doc:"Pending requests the caller may decide, newest first"`
	}
}

type idInput struct {
	ID string `path:"id" pattern:"^apr-[0-9a-f]{16}$" doc:"Approval request ID"`
}

type getOutput struct {
	Body approvals.Request
}

// DecisionRequest approves or rejects a pending call.
type DecisionRequest struct {
	ID   string `path:"id" pattern:"^apr-[0-9a-f]{16}$" doc:"Approval request ID"`
	Body struct {
		Decision string `json:"decision" enum:"approve,reject" doc:"approve runs the call; reject tells the requester and the assistant it will not run"`
		Comment  string `json:"comment,omitempty" maxLength:"1000" doc:"Shown to the requester and recorded"`
		ArgsHash string `json:"args_hash" minLength:"64" maxLength:"64" doc:"args_hash of the request as shown: binds the decision to those exact arguments"`
	}
}

type decisionOutput struct {
	Body workflows.DecisionResult
}

// Register adds the approval routes to api.
func Register(api huma.API, deps Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "list-pending-approvals",
		Method:      http.MethodGet,
		Path:        "/approvals",
		Summary:     "List approvals I may decide",
		Description: "Pending requests for approval, across conversations, that the caller may decide: they hold an " +
			"approver role, their token's scopes cover the tool and, unless the policy allows it, they did not make the request themselves.",
		Tags:   []string{Tag.Name},
		Errors: []int{http.StatusUnauthorized},
	}, deps.list)

	huma.Register(api, huma.Operation{
		OperationID: "get-approval",
		Method:      http.MethodGet,
		Path:        "/approvals/{id}",
		Summary:     "Get an approval request",
		Description: "One request with its status and decision. Visible to its requester, to those who may decide it, and to admins.",
		Tags:        []string{Tag.Name},
		Errors:      []int{http.StatusUnauthorized, http.StatusNotFound},
	}, deps.get)

	huma.Register(api, huma.Operation{
		OperationID: "decide-approval",
		Method:      http.MethodPost,
		Path:        "/approvals/{id}/decision",
		Summary:     "Approve or reject a call",
		Description: "Sends the decision to the waiting workflow. 403 when the caller may not decide (not an approver, " +
			"or their own request under four eyes) — such attempts are audited; 409 when the request is no longer " +
			"pending or the arguments differ from those shown.",
		Tags:   []string{Tag.Name},
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusServiceUnavailable},
	}, deps.decide)
}

// list returns the pending requests the caller may decide.
func (deps Deps) list(ctx context.Context, _ *struct{}) (*listOutput, error) {
	p, err := httpapi.Principal(ctx)
	if err != nil {
		return nil, err
	}
	list, err := deps.Approvals.Pending(ctx, p.Subject, p.Roles)
	if err != nil {
		deps.Logger.ErrorContext(ctx, "list approvals failed", "error", err)
		return nil, huma.Error503ServiceUnavailable("could not read the approvals")
	}
	out := &listOutput{}
	out.Body.Approvals = []approvals.Request{}
	for _, r := range list {
		if toolcall.MayDecide(p, r.Tool, r.Requester, r.ApproverRoles, r.AllowSelf) == nil {
			out.Body.Approvals = append(out.Body.Approvals, r)
		}
	}
	return out, nil
}

// get returns one request, when the caller may see it.
func (deps Deps) get(ctx context.Context, in *idInput) (*getOutput, error) {
	p, err := httpapi.Principal(ctx)
	if err != nil {
		return nil, err
	}
	r, err := deps.visible(ctx, p, in.ID)
	if err != nil {
		return nil, err
	}
	return &getOutput{Body: r}, nil
}

// decide sends the caller's decision to the workflow waiting for it, whose validator checks
// that the caller may decide.
func (deps Deps) decide(ctx context.Context, in *DecisionRequest) (*decisionOutput, error) {
	p, err := httpapi.Principal(ctx)
	if err != nil {
		return nil, err
	}
	r, err := deps.request(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	res, err := deps.deliver(ctx, r, p, in)
	if err != nil {
		return nil, deps.refused(ctx, r, p, err)
	}
	return &decisionOutput{Body: res}, nil
}

// deliver sends the decision as a Temporal Update and waits for the workflow's verdict.
func (deps Deps) deliver(ctx context.Context, r approvals.Request, p authz.Principal, in *DecisionRequest) (workflows.DecisionResult, error) {
	var res workflows.DecisionResult
	d := workflows.Decision{ApprovalID: r.ID, Approve: in.Body.Decision == "approve", Comment: in.Body.Comment,
		ArgsHash: in.Body.ArgsHash, Decider: p}
	assertion, err := deps.Signer.SignDecision(p, r.WorkflowID,
		authz.Decision{ApprovalID: d.ApprovalID, Approve: d.Approve, ArgsHash: d.ArgsHash, Comment: d.Comment}, decisionTTL)
	if err != nil {
		return res, err
	}
	d.Assertion = assertion
	handle, err := deps.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   r.WorkflowID,
		UpdateName:   workflows.UpdateDecideApproval,
		WaitForStage: client.WorkflowUpdateStageCompleted,
		Args:         []any{d},
	})
	if err == nil {
		err = handle.Get(ctx, &res)
	}
	return res, err
}

// request reads a request whoever asks; an unknown one is 404.
func (deps Deps) request(ctx context.Context, id string) (approvals.Request, error) {
	r, err := deps.Approvals.Get(ctx, id)
	if errors.Is(err, approvals.ErrNotFound) {
		return r, huma.Error404NotFound("no approval request " + id)
	}
	if err != nil {
		return r, huma.Error503ServiceUnavailable("could not read the approval request")
	}
	return r, nil
}

// visible returns a request the caller may see; others are 404.
func (deps Deps) visible(ctx context.Context, p authz.Principal, id string) (approvals.Request, error) {
	r, err := deps.request(ctx, id)
	if err != nil {
		return r, err
	}
	if r.Requester != p.Subject && !p.HasRole("admin") && toolcall.MayDecide(p, r.Tool, "", r.ApproverRoles, false) != nil {
		return r, huma.Error404NotFound("no approval request " + id)
	}
	return r, nil
}

// refused maps a decision the workflow's validator refused to problem details, auditing
// attempts by people who may not decide.
func (deps Deps) refused(ctx context.Context, r approvals.Request, p authz.Principal, err error) error {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		// The workflow has ended (decided, expired or cancelled), or Temporal is unreachable.
		deps.Logger.InfoContext(ctx, "approval decision not delivered", "approval", r.ID, "error", err)
		return huma.Error409Conflict("the call is no longer waiting for a decision (status " + r.Status + ")")
	}
	code := toolcall.Code(appErr.Type())
	if code == toolcall.NotApprover || code == toolcall.OwnRequest {
		deps.auditRefusal(ctx, r, p, appErr.Message())
	}
	return huma.NewError(code.HTTPStatus(), appErr.Message())
}

// auditRefusal records an attempt to decide by someone who may not; the refusal stands even
// when the audit log cannot be written.
func (deps Deps) auditRefusal(ctx context.Context, r approvals.Request, p authz.Principal, reason string) {
	if _, err := deps.Audit.Record(context.WithoutCancel(ctx), audit.Entry{UserID: p.Subject, Roles: p.Roles, Tool: r.Tool,
		Domain: r.Domain, Params: r.Arguments, Outcome: audit.OutcomeDenied, Error: "approval decision refused: " + reason,
		WorkflowID: r.WorkflowID, ToolCallID: r.ToolCallID, Approver: p.Subject}); err != nil {
		deps.Logger.ErrorContext(ctx, "audit write failed", "error", err)
	}
}
