package workflows

import (
	"cmp"
	"fmt"
	"reflect"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/internal/approvals"
	"mcp-platform/toolcall"
)

// UpdateDecideApproval is the Temporal Update that carries a person's decision on a pending
// tool call, to ChatTurn and ToolRun workflows alike.
const UpdateDecideApproval = "decide-approval"

// Decision is a person's answer to a request for approval.
type Decision struct {
	ApprovalID string          `json:"approval_id"`
	Approve    bool            `json:"approve"`
	Comment    string          `json:"comment,omitempty"`
	ArgsHash   string          `json:"args_hash"`
	Decider    authz.Principal `json:"decider"`
	// Assertion is the API's signed statement of this decision and its decider; workers with
	// a keyring (Trust) refuse a decision without a valid one.
	Assertion string `json:"assertion,omitempty"`
}

// trust verifies the API's assertions in Update validators; nil only in unit tests of the
// workflow logic. Set it with Trust before a worker starts.
var trust *authz.Keyring

// Trust sets the keyring that approval decisions must be signed for. Workers call it once,
// before they start polling.
func Trust(k *authz.Keyring) { trust = k }

// verifyDecision refuses a decision the API did not sign as it stands: another decider,
// another request, another answer or other arguments than those signed.
func verifyDecision(ctx workflow.Context, d Decision) error {
	if trust == nil {
		return nil
	}
	decider, signed, err := trust.VerifyDecision(d.Assertion, workflow.GetInfo(ctx).WorkflowExecution.ID, workflow.Now(ctx))
	if err != nil {
		return temporal.NewApplicationError("the decision is not signed by the platform: "+err.Error(), string(toolcall.NotApprover))
	}
	if !reflect.DeepEqual(decider, d.Decider) || signed.ApprovalID != d.ApprovalID || signed.Approve != d.Approve ||
		signed.ArgsHash != d.ArgsHash || signed.Comment != d.Comment {
		return temporal.NewApplicationError("the decision differs from what the platform signed", string(toolcall.NotApprover))
	}
	return nil
}

// DecisionResult acknowledges an accepted decision.
type DecisionResult struct {
	ApprovalID string `json:"approval_id"`
	Status     string `json:"status" enum:"approved,rejected"`
}

// pendingApproval is a request the workflow waits on.
type pendingApproval struct {
	tool string
	// summary is the call's summary (arguments redacted), shown to operators.
	summary   string
	plan      toolcall.ApprovalPlan
	requester string
	since     time.Time
	decided   bool
	decision  Decision
}

// approvalBook holds a workflow's pending approvals and answers the decide Update. Several
// pending calls are decided independently.
type approvalBook struct {
	pending map[string]*pendingApproval
	// order lists the approval IDs in the order they were requested.
	order []string
	// changed, when set, is told each time a call starts or stops waiting, so that the
	// workflow can show it in its current details.
	changed func(ctx workflow.Context)
	// local is true when requests and decisions are recorded by local activities
	// (localBookkeeping).
	local bool
}

// waiting lists the calls waiting for a decision, in the order they asked.
func (b *approvalBook) waiting() []WaitingApproval {
	var out []WaitingApproval
	for _, id := range b.order {
		p := b.pending[id]
		if p.decided {
			continue
		}
		out = append(out, WaitingApproval{ApprovalID: id, Tool: p.tool, Summary: p.summary, Approvers: p.plan.Approvers,
			Since: p.since, Expires: p.since.Add(p.plan.Timeout)})
	}
	return out
}

func (b *approvalBook) notify(ctx workflow.Context) {
	if b.changed != nil {
		b.changed(ctx)
	}
}

func newApprovalBook(ctx workflow.Context, local bool) (*approvalBook, error) {
	b := &approvalBook{pending: map[string]*pendingApproval{}, local: local}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecideApproval, b.decide, workflow.UpdateHandlerOptions{Validator: b.validate})
	return b, err
}

// validate refuses, before anything is written to the history, decisions for calls that are
// not pending, for arguments other than those shown, and by people who may not decide.
func (b *approvalBook) validate(ctx workflow.Context, d Decision) error {
	p, ok := b.pending[d.ApprovalID]
	if !ok {
		return temporal.NewApplicationError("this call is not waiting for a decision", string(toolcall.NotPending))
	}
	if err := verifyDecision(ctx, d); err != nil {
		return err
	}
	// Who decides is checked first, so that every attempt by someone who may not decide is
	// refused as such (and audited by the API), whatever else is wrong with it.
	if err := toolcall.MayDecide(d.Decider, p.tool, p.requester, p.plan.Approvers, p.plan.AllowSelf); err != nil {
		return temporal.NewApplicationError(err.Message, string(err.Code))
	}
	if p.decided {
		return temporal.NewApplicationError("this call is not waiting for a decision", string(toolcall.NotPending))
	}
	if d.ArgsHash != p.plan.ArgsHash {
		return temporal.NewApplicationError("the arguments differ from those shown for approval", string(toolcall.ArgsMismatch))
	}
	return nil
}

func (b *approvalBook) decide(_ workflow.Context, d Decision) (DecisionResult, error) {
	p := b.pending[d.ApprovalID]
	if p.decided {
		// The request expired in the same workflow task as the decision was accepted.
		return DecisionResult{}, temporal.NewApplicationError("this call is no longer waiting for a decision", string(toolcall.NotPending))
	}
	p.decided, p.decision = true, d
	status := approvals.StatusRejected
	if d.Approve {
		status = approvals.StatusApproved
	}
	return DecisionResult{ApprovalID: d.ApprovalID, Status: status}, nil
}

// approvalOutcome is how a wait ended.
type approvalOutcome struct {
	status   string // approvals.StatusApproved, StatusRejected or StatusExpired
	approver string
	comment  string
	// assertion is the signed decision, handed to ExecuteTool with an approved call.
	assertion string
}

// await records the request, waits for a decision or the timeout, and records the outcome
// (cancelled too, when the workflow is cancelled while waiting).
func (b *approvalBook) await(ctx workflow.Context, req activities.RequestApprovalInput) (approvalOutcome, error) {
	plan := req.Plan
	summary := cmp.Or(req.Call.Summary, req.Call.Tool)
	who := approversText(plan.Approvers)
	p := &pendingApproval{plan: plan, requester: req.Requester.Subject, tool: req.Call.Tool, summary: summary, since: workflow.Now(ctx)}
	b.pending[plan.ID] = p
	b.order = append(b.order, plan.ID)
	b.notify(ctx)
	req.RequestedAt = p.since
	asking := fmt.Sprintf("ask %s to approve %s", who, summary)
	if err := bookkeep(ctx, b.local, asking, approvalActivities.RequestApproval, req).Get(ctx, nil); err != nil {
		return approvalOutcome{}, err
	}
	// A named timer: the Temporal UI shows what the turn waits for, not "AwaitWithTimeout".
	decided, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: plan.Timeout,
		TimerOptions: workflow.TimerOptions{Summary: fmt.Sprintf("waiting for %s: %s", who, summary)}},
		func() bool { return p.decided })
	record := func(ctx workflow.Context, out approvalOutcome) error {
		recording := fmt.Sprintf("record %s: %s", out.describe(), summary)
		return bookkeep(ctx, b.local, recording, approvalActivities.RecordDecision, activities.RecordDecisionInput{
			Plan: plan, WorkflowID: req.WorkflowID, ConversationID: req.ConversationID, Turn: req.Turn, Call: req.Call,
			Requester: req.Requester, Status: out.status, Approver: out.approver, Comment: out.comment,
		}).Get(ctx, nil)
	}
	if err != nil {
		// Cancelled: take the request off the approvers' lists before giving up.
		p.decided = true
		b.notify(ctx)
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		_ = record(dctx, approvalOutcome{status: approvals.StatusCancelled})
		return approvalOutcome{}, err
	}
	out := approvalOutcome{status: approvals.StatusExpired}
	if decided {
		out = approvalOutcome{status: approvals.StatusRejected, approver: p.decision.Decider.Subject, comment: p.decision.Comment,
			assertion: p.decision.Assertion}
		if p.decision.Approve {
			out.status = approvals.StatusApproved
		}
	} else {
		p.decided = true // a late decision is refused
	}
	b.notify(ctx)
	return out, record(ctx, out)
}

// describe is how the wait ended, for summaries: "approved by dan", "expired".
func (o approvalOutcome) describe() string {
	if o.approver != "" {
		return o.status + " by " + o.approver
	}
	return o.status
}

// refusal is the tool outcome the LLM and the caller see for a call that did not run.
func (o approvalOutcome) refusal(call toolcall.PlannedCall) activities.ToolOutcome {
	out := activities.ToolOutcome{Call: call, Status: o.status, Approver: o.approver}
	switch o.status {
	case approvals.StatusExpired:
		out.Error = "the request for approval expired before anyone decided; " + call.Tool + " was not run"
	default:
		out.Error = "the request was rejected by " + o.approver + "; " + call.Tool + " was not run"
		if o.comment != "" {
			out.Error += " (comment: " + o.comment + ")"
		}
	}
	return out
}

var approvalActivities *activities.ApprovalActivities
