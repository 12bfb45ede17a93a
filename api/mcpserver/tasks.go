package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	enumspb "go.temporal.io/api/enums/v1"

	"mcp-platform/authz"
	"mcp-platform/toolcall"
)

// The MCP Tasks extension (io.modelcontextprotocol/tasks, SEP-2663, with the 2026-07-28
// revision), backed by Temporal: a task is a ToolRun workflow and its task ID is the workflow
// ID, so a task survives restarts of every process and any replica of this server can answer
// for it. Its status comes from the workflow: working while it runs, input_required while a
// person must approve the call (approvers decide through the approvals API, not through the MCP
// client, so there are no inputRequests to answer), completed with the tool's result (a tool
// error is a completed task whose result has isError), cancelled when tasks/cancel cancelled the
// workflow, and failed, with the JSON-RPC error and no result, when the backend answered with a
// protocol error or the run ended outside its own logic (terminated or timed out). A tool that
// runs as a task upstream (execution.taskSupport optional or required) is answered with its
// task at once; any other call only once it has run for taskDetach.
// Only the caller who created a task (or an admin) can see it; to anyone else it does not exist.
// The extension has no tasks/list and no tasks/result: tasks/get inlines the result.

// tasksExtension is the extension's identifier, in capabilities.
const tasksExtension = "io.modelcontextprotocol/tasks"

// clientCapabilitiesMeta is the _meta key of a request's client capabilities (2026-07-28).
const clientCapabilitiesMeta = "io.modelcontextprotocol/clientCapabilities"

// approvalMeta is the _meta key of the approval an input_required task waits for.
const approvalMeta = "mcp-platform/approval"

// taskDetach is how long a tools/call of a client that supports tasks waits for the result
// before it answers with a task instead.
const taskDetach = 2 * time.Second

// Poll intervals suggested to clients: soon while the tool runs, rarely while a person decides.
const (
	pollWorking       = 1000
	pollInputRequired = 5000
)

// Task statuses.
const (
	taskWorking       = "working"
	taskInputRequired = "input_required"
	taskCompleted     = "completed"
	taskFailed        = "failed"
	taskCancelled     = "cancelled"
)

// task is the extension's Task, with the fields of its status (DetailedTask): CreateTaskResult
// (resultType "task") in answer to tools/call and GetTaskResult (resultType "complete") to
// tasks/get.
type task struct {
	mcp.ResultBase
	ResultType     string  `json:"resultType"`
	TaskID         string  `json:"taskId"`
	Status         string  `json:"status"`
	StatusMessage  string  `json:"statusMessage,omitempty"`
	CreatedAt      string  `json:"createdAt"`
	LastUpdatedAt  string  `json:"lastUpdatedAt"`
	TTLMs          *int64  `json:"ttlMs"`
	PollIntervalMs int64   `json:"pollIntervalMs,omitempty"`
	InputRequests  *object `json:"inputRequests,omitempty"`
	// Result is the tools/call result of a completed task.
	Result *mcp.CallToolResult `json:"result,omitempty"`
	// Error is the JSON-RPC error of a failed task.
	Error *jsonrpc.Error `json:"error,omitempty"`
}

// object is an empty JSON object: the inputRequests of a task waiting for a person, who
// answers elsewhere.
type object struct{}

// taskParams are the parameters of tasks/get, tasks/update and tasks/cancel.
type taskParams struct {
	mcp.ParamsBase
	TaskID string `json:"taskId"`
	// InputResponses (tasks/update) answer inputRequests; this server never has any
	// outstanding, so they are ignored as the extension says.
	InputResponses json.RawMessage `json:"inputResponses,omitempty"`
}

// ack is the empty acknowledgement of tasks/update and tasks/cancel.
type ack struct {
	mcp.ResultBase
	ResultType string `json:"resultType"`
}

// addTasks serves tasks/get, tasks/update and tasks/cancel, each to the request's caller (the
// server is shared by the callers who see the same tools).
func addTasks(s *mcp.Server, x *Executor) {
	get := func(ctx context.Context, ss *mcp.ServerSession, params *taskParams) (*task, error) {
		p, err := taskCaller(ctx, ss, params)
		if err != nil {
			return nil, err
		}
		run, err := x.find(ctx, p, params.TaskID)
		if err != nil {
			return nil, taskNotFound(params.TaskID)
		}
		t, err := x.task(ctx, run)
		if err != nil {
			return nil, err
		}
		t.ResultType = "complete"
		return t, nil
	}
	update := func(ctx context.Context, ss *mcp.ServerSession, params *taskParams) (*ack, error) {
		p, err := taskCaller(ctx, ss, params)
		if err != nil {
			return nil, err
		}
		if _, err := x.find(ctx, p, params.TaskID); err != nil {
			return nil, taskNotFound(params.TaskID)
		}
		return &ack{ResultType: "complete"}, nil
	}
	cancel := func(ctx context.Context, ss *mcp.ServerSession, params *taskParams) (*ack, error) {
		p, err := taskCaller(ctx, ss, params)
		if err != nil {
			return nil, err
		}
		if err := x.Cancel(ctx, p, params.TaskID); err != nil {
			var te *toolcall.Error
			if errors.As(err, &te) && te.Code == toolcall.NotFound {
				return nil, taskNotFound(params.TaskID)
			}
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "could not cancel the task; try again shortly"}
		}
		return &ack{ResultType: "complete"}, nil
	}
	// The names are not the SDK's own methods, so registering them cannot fail.
	_ = mcp.AddReceivingCustomMethod(s, "tasks/get", get)
	_ = mcp.AddReceivingCustomMethod(s, "tasks/update", update)
	_ = mcp.AddReceivingCustomMethod(s, "tasks/cancel", cancel)
}

// taskCaller is the authenticated caller of a task request that passes taskGate. The SDK hands
// custom methods no request extra, but their context is the HTTP request's, which carries the
// token info.
func taskCaller(ctx context.Context, ss *mcp.ServerSession, params *taskParams) (authz.Principal, error) {
	if err := taskGate(ss, params); err != nil {
		return authz.Principal{}, err
	}
	p, ok := principalOf(ctx)
	if !ok {
		return authz.Principal{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "the request is not authenticated"}
	}
	return p, nil
}

// taskMethods are the methods addTasks serves.
var taskMethods = []string{"tasks/get", "tasks/update", "tasks/cancel"}

// taskGate refuses a task request without a task ID, or from a client that has not declared
// the extension (-32021, as the extension requires).
func taskGate(ss *mcp.ServerSession, params *taskParams) error {
	if !supportsTasks(params.GetMeta(), ss) {
		return missingTasksCapability()
	}
	if params.TaskID == "" {
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "taskId is required"}
	}
	return nil
}

// supportsTasks reports whether the client declared the tasks extension: in the request's own
// client capabilities (2026-07-28), or else in those of its session's initialize.
func supportsTasks(meta map[string]any, ss *mcp.ServerSession) bool {
	if caps, ok := meta[clientCapabilitiesMeta].(map[string]any); ok {
		ext, _ := caps["extensions"].(map[string]any)
		_, ok := ext[tasksExtension]
		return ok
	}
	if ss == nil {
		return false
	}
	if ip := ss.InitializeParams(); ip != nil && ip.Capabilities != nil {
		_, ok := ip.Capabilities.Extensions[tasksExtension]
		return ok
	}
	return false
}

func missingTasksCapability() *jsonrpc.Error {
	data, _ := json.Marshal(map[string]any{"requiredCapabilities": map[string]any{"extensions": map[string]any{tasksExtension: map[string]any{}}}})
	return &jsonrpc.Error{Code: mcp.CodeMissingRequiredClientCapabilities, Message: "Missing required client capability: " + tasksExtension, Data: data}
}

func taskNotFound(id string) *jsonrpc.Error {
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "Failed to retrieve task: no task " + id}
}

// task is the Task of a described run, from its workflow: status, times, and the result once
// it has ended.
func (x *Executor) task(ctx context.Context, run *Run) (*task, error) {
	info := run.Info
	t := baseTask(run)
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		t.Status, t.StatusMessage = taskCancelled, run.Tool+" was cancelled"
		return t, nil
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		msg := fmt.Sprintf("the run of %s ended before it finished (%s)", run.Tool, enumspb.WorkflowExecutionStatus_name[int32(info.GetStatus())])
		t.Status, t.StatusMessage = taskFailed, msg
		t.Error = &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg}
		return t, nil
	}
	res, err := x.outcome(ctx, run)
	if err != nil {
		var te *toolcall.Error
		if errors.As(err, &te) && te.Code == toolcall.Unavailable && info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: te.Message}
		}
	}
	return fill(t, run.Tool, res, err), nil
}

// fill sets a task's status from a call's outcome (as Submit or Follow returned it).
func fill(t *task, tool string, res *ExecResult, err error) *task {
	switch {
	case err == nil && res.Status == StatusPendingApproval:
		r := res.Approval
		t.Status, t.PollIntervalMs, t.InputRequests = taskInputRequired, pollInputRequired, &object{}
		t.StatusMessage = pendingText(tool, res)
		t.LastUpdatedAt = stamp(r.RequestedAt)
		t.Meta = mcp.Meta{approvalMeta: map[string]any{"id": r.ID, "approver_roles": r.ApproverRoles, "reason": r.Reason,
			"expires_at": r.ExpiresAt, "decision_url": "/approvals/" + r.ID + "/decision"}}
	case err == nil && res.Status == StatusRunning:
		t.Status, t.PollIntervalMs = taskWorking, pollWorking
		t.StatusMessage = tool + " is running"
	case failed(err) != nil:
		// The backend answered with a protocol error: the task failed, and has no result.
		t.Status, t.StatusMessage = taskFailed, tool+" failed"
		t.Error = &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: failed(err).Message}
	default:
		t.Status, t.Result = taskCompleted, callResult(tool, res, err)
		if t.Result.IsError {
			t.StatusMessage = tool + " ended with an error"
		}
	}
	return t
}

// failed is the error of a call the backend answered with a protocol error, or nil.
func failed(err error) *toolcall.Error {
	var te *toolcall.Error
	if errors.As(err, &te) && te.Code == toolcall.Failed {
		return te
	}
	return nil
}

// newTask is the CreateTaskResult of a call that has not ended, as Submit returned it.
func newTask(run *Run, res *ExecResult) *task {
	t := baseTask(run)
	t.ResultType = "task"
	return fill(t, run.Tool, res, nil)
}

// baseTask is a run's task without its status: ID, times and time to live.
func baseTask(run *Run) *task {
	created := run.Info.GetStartTime().AsTime()
	t := &task{TaskID: run.ID, CreatedAt: stamp(created), LastUpdatedAt: stamp(created)}
	if run.Timeout > 0 {
		ttl := run.Timeout.Milliseconds()
		t.TTLMs = &ttl
	}
	if ct := run.Info.GetCloseTime(); ct != nil {
		t.LastUpdatedAt = stamp(ct.AsTime())
	}
	return t
}

// stamp is an ISO 8601 time, as tasks carry them.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
