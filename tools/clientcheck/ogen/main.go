// Command ogen checks the clients ogen generates from the committed OpenAPI documents (into
// gateway/ and mcpserver/, not committed: `make clients` generates them) against a live stack:
// a chat answer read with wait=true, the typed event stream, and a call that needs approval from
// 202 to its result. Each step is reported; any failure exits 1.
package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-faster/jx"

	"clientcheck/check"
	"clientcheck/ogen/gateway"
	"clientcheck/ogen/mcpserver"
)

// bearer is the security source of one user's clients.
type bearer string

func (b bearer) Bearer(context.Context, gateway.OperationName) (gateway.Bearer, error) {
	return gateway.Bearer{Token: string(b)}, nil
}

// mcpBearer is bearer for the MCP server's client.
type mcpBearer string

func (b mcpBearer) Bearer(context.Context, mcpserver.OperationName) (mcpserver.Bearer, error) {
	return mcpserver.Bearer{Token: string(b)}, nil
}

func main() {
	run, apiURL, mcpURL := check.Start("ogen")
	ctx := context.Background()
	chat(ctx, run, apiURL)
	execute(ctx, run, mcpURL)
	run.Exit()
}

// chat checks the gateway: a demo token, a chat answer with wait=true, the conversation and its
// typed event stream.
func chat(ctx context.Context, run *check.Run, url string) {
	var users map[string]*gateway.Client
	run.Step("gateway: POST /auth/token answers typed bearer tokens", func() error {
		anon, err := gateway.NewClient(url, bearer(""))
		if err != nil {
			return err
		}
		users, err = check.SignIn([]string{"alice", "carol", "dan"}, func(user string) (string, error) {
			res, err := anon.CreateDevToken(ctx, &gateway.TokenRequestBody{User: user})
			if err != nil {
				return "", err
			}
			tok, ok := res.(*gateway.TokenResponseBody)
			if !ok {
				return "", fmt.Errorf("answer %T", res)
			}
			return tok.AccessToken, check.Want("token_type", tok.TokenType, gateway.TokenResponseBodyTokenTypeBearer)
		}, func(token string) (*gateway.Client, error) { return gateway.NewClient(url, bearer(token)) })
		return err
	})
	api := users["alice"]

	var turn *gateway.CreateChatTurnOK
	run.Step("gateway: POST /chat with wait=true answers 200 with the answer", func() error {
		res, err := api.CreateChatTurn(ctx, &gateway.ChatRequestBody{Message: "Get employee E001",
			Wait: gateway.NewOptBool(true), TimeoutSeconds: gateway.NewOptInt64(60)})
		if err != nil {
			return err
		}
		var ok bool
		if turn, ok = res.(*gateway.CreateChatTurnOK); !ok {
			return fmt.Errorf("answer %T, not 200 with a TurnInfo", res)
		}
		if turn.Answer.Value == "" {
			return errors.New("no answer")
		}
		return check.Want("status", turn.Status, gateway.TurnInfoStatusCompleted)
	})

	run.Step("gateway: GET /conversations/{id} answers typed messages", func() error {
		res, err := api.GetConversation(ctx, gateway.GetConversationParams{ID: turn.ConversationID})
		if err != nil {
			return err
		}
		conv, ok := res.(*gateway.ConversationDetail)
		if !ok {
			return fmt.Errorf("answer %T", res)
		}
		roles := map[gateway.MessageRole]bool{}
		for _, m := range conv.Messages {
			roles[m.Role] = true
		}
		if !roles[gateway.MessageRoleUser] || !roles[gateway.MessageRoleTool] || !roles[gateway.MessageRoleAssistant] {
			return fmt.Errorf("roles %v, want user, assistant and tool messages", roles)
		}
		return check.Want("conversation id", conv.ID, turn.ConversationID)
	})

	run.Step("gateway: the typed event stream carries the tool call and the answer", func() error {
		return followStream(ctx, api, turn)
	})

	run.Step("gateway: POST /chat without wait answers 202 with the turn", func() error {
		res, err := api.CreateChatTurn(ctx, &gateway.ChatRequestBody{Message: "who works in Engineering?"})
		if err != nil {
			return err
		}
		started, ok := res.(*gateway.CreateChatTurnAccepted)
		if !ok {
			return fmt.Errorf("answer %T, not 202 with a TurnInfo", res)
		}
		return check.Want("status", started.Status, gateway.TurnInfoStatusRunning)
	})

	var waiting *gateway.CreateChatTurnAccepted
	run.Step("gateway: POST /chat with wait=true answers 202 awaiting_approval for a call that needs one", func() error {
		res, err := users["carol"].CreateChatTurn(ctx, &gateway.ChatRequestBody{Message: "scale api-server to 4 replicas",
			Wait: gateway.NewOptBool(true), TimeoutSeconds: gateway.NewOptInt64(5)})
		if err != nil {
			return err
		}
		var ok bool
		if waiting, ok = res.(*gateway.CreateChatTurnAccepted); !ok {
			return fmt.Errorf("answer %T, not 202 with a TurnInfo", res)
		}
		return check.Want("status", waiting.Status, gateway.TurnInfoStatusAwaitingApproval)
	})

	run.Step("gateway: GET /approvals lists it for the approver, who rejects it", func() error {
		dan := users["dan"]
		res, err := dan.ListPendingApprovals(ctx)
		if err != nil {
			return err
		}
		list, ok := res.(*gateway.ListOutputBody)
		if !ok {
			return fmt.Errorf("answer %T", res)
		}
		for _, r := range list.Approvals {
			if r.ConversationID.Value != waiting.ConversationID {
				continue
			}
			d, err := dan.DecideApproval(ctx, &gateway.DecisionRequestBody{Decision: gateway.DecisionRequestBodyDecisionReject,
				ArgsHash: r.ArgsHash, Comment: gateway.NewOptString("not now")}, gateway.DecideApprovalParams{ID: r.ID})
			if err != nil {
				return err
			}
			decided, ok := d.(*gateway.DecisionResult)
			if !ok {
				return fmt.Errorf("decide: answer %T", d)
			}
			return check.Want("status", decided.Status, gateway.DecisionResultStatusRejected)
		}
		return errors.New("the turn's request is not among the approver's pending approvals")
	})
}

// followStream reads the conversation's events from the start until turn_completed through the
// generated stream client, and checks the tool call and the answer they carry.
func followStream(ctx context.Context, api *gateway.Client, turn *gateway.CreateChatTurnOK) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := api.StreamConversationEvents(ctx, gateway.StreamConversationEventsParams{ID: turn.ConversationID, After: gateway.NewOptInt64(0)})
	if err != nil {
		return err
	}
	stream, ok := res.(*gateway.StreamConversationEventsOK)
	if !ok {
		return fmt.Errorf("answer %T", res)
	}
	defer stream.Close()
	var toolOK bool
	for {
		e, err := stream.Next(ctx)
		if err != nil {
			return fmt.Errorf("no turn_completed event: %w", err)
		}
		if e.Type != gateway.MessageEnvelopeStreamConversationEventsOKEvent {
			continue // a ping
		}
		ev := e.MessageEnvelope.Data
		switch ev.Type {
		case gateway.ToolFinishedEventStreamEvent:
			d := ev.ToolFinishedEvent.Data
			toolOK = d.Tool == "hr.get_employee" && d.Status == gateway.ToolFinishedDataStatusOk
		case gateway.TurnCompletedEventStreamEvent:
			if !toolOK {
				return errors.New("no tool_finished event of hr.get_employee with status ok")
			}
			return check.Want("answer", ev.TurnCompletedEvent.Data.Answer, turn.Answer.Value)
		}
	}
}

// execute checks the MCP server: a tool's result (200), and a call that needs approval from
// its 202 to its result once a person approved it at once.
func execute(ctx context.Context, run *check.Run, url string) {
	var users map[string]*mcpserver.Client
	run.Step("mcp: POST /auth/token for the requester, the approver and the auditor", func() error {
		anon, err := mcpserver.NewClient(url, mcpBearer(""))
		if err != nil {
			return err
		}
		users, err = check.SignIn([]string{"carol", "dan", "audrey"}, func(user string) (string, error) {
			res, err := anon.CreateDevToken(ctx, &mcpserver.TokenRequestBody{User: user})
			if err != nil {
				return "", err
			}
			tok, ok := res.(*mcpserver.TokenResponseBody)
			if !ok {
				return "", fmt.Errorf("answer %T", res)
			}
			return tok.AccessToken, nil
		}, func(token string) (*mcpserver.Client, error) { return mcpserver.NewClient(url, mcpBearer(token)) })
		return err
	})
	carol, dan := users["carol"], users["dan"]

	run.Step("mcp: POST /execute answers 200 with the result", func() error {
		res, err := carol.ExecuteTool(ctx, &mcpserver.ExecuteRequestBody{Tool: "devops.list_deployments",
			Arguments: mcpserver.NewOptExecuteRequestBodyArguments(mcpserver.ExecuteRequestBodyArguments{"namespace": jx.Raw(`"production"`)})})
		if err != nil {
			return err
		}
		done, ok := res.(*mcpserver.ExecuteToolOK)
		if !ok {
			return fmt.Errorf("answer %T", res)
		}
		if len(done.Result) == 0 {
			return errors.New("no result")
		}
		return check.Want("status", done.Status, mcpserver.ExecutionBodyStatusCompleted)
	})

	var pending *mcpserver.ExecuteToolAccepted
	run.Step("mcp: POST /execute of a call that needs approval answers 202 with the approval", func() error {
		res, err := carol.ExecuteTool(ctx, &mcpserver.ExecuteRequestBody{Tool: "devops.scale_deployment",
			Arguments: mcpserver.NewOptExecuteRequestBodyArguments(mcpserver.ExecuteRequestBodyArguments{
				"deployment_name": jx.Raw(`"api-server"`), "replicas": jx.Raw(`3`), "namespace": jx.Raw(`"production"`)})})
		if err != nil {
			return err
		}
		var ok bool
		if pending, ok = res.(*mcpserver.ExecuteToolAccepted); !ok {
			return fmt.Errorf("answer %T, not 202 with an ExecutionBody", res)
		}
		if !pending.Approval.Set {
			return errors.New("no approval")
		}
		return check.Want("status", pending.Status, mcpserver.ExecutionBodyStatusPendingApproval)
	})

	run.Step("mcp: GET /executions/{id} answers 202 pending_approval with the approval", func() error {
		res, err := carol.GetExecution(ctx, mcpserver.GetExecutionParams{ID: pending.WorkflowID})
		if err != nil {
			return err
		}
		waiting, ok := res.(*mcpserver.GetExecutionAccepted)
		if !ok {
			return fmt.Errorf("answer %T, not 202 with an ExecutionBody", res)
		}
		if err := check.Want("status", waiting.Status, mcpserver.ExecutionBodyStatusPendingApproval); err != nil {
			return err
		}
		return check.Want("approval id", waiting.Approval.Value.ID, pending.Approval.Value.ID)
	})

	run.Step("mcp: the approver decides at once (200 approved)", func() error {
		a := pending.Approval.Value
		res, err := dan.DecideApproval(ctx, &mcpserver.DecisionRequestBody{Decision: mcpserver.DecisionRequestBodyDecisionApprove, ArgsHash: a.ArgsHash},
			mcpserver.DecideApprovalParams{ID: a.ID})
		if err != nil {
			return err
		}
		decided, ok := res.(*mcpserver.DecisionResult)
		if !ok {
			return fmt.Errorf("answer %T", res)
		}
		return check.Want("status", decided.Status, mcpserver.DecisionResultStatusApproved)
	})

	run.Step("mcp: GET /executions/{id} answers 200 with the result once approved", func() error {
		return check.Eventually(ctx, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
			res, err := carol.GetExecution(ctx, mcpserver.GetExecutionParams{ID: pending.WorkflowID})
			if err != nil {
				return false, err
			}
			switch res := res.(type) {
			case *mcpserver.GetExecutionAccepted:
				return false, nil
			case *mcpserver.GetExecutionOK:
				return true, check.Want("status", res.Status, mcpserver.ExecutionBodyStatusCompleted)
			default:
				return false, fmt.Errorf("answer %T", res)
			}
		})
	})

	run.Step("mcp: GET /audit shows the approved call with a typed outcome", func() error {
		res, err := users["audrey"].ListAuditRecords(ctx, mcpserver.ListAuditRecordsParams{Tool: mcpserver.NewOptString("devops.scale_deployment")})
		if err != nil {
			return err
		}
		page, ok := res.(*mcpserver.AuditOutputBody)
		if !ok {
			return fmt.Errorf("answer %T", res)
		}
		for _, r := range page.Records {
			if r.WorkflowID == pending.WorkflowID && r.Outcome == mcpserver.RecordOutcomeSucceeded {
				return check.Want("approver", r.Approver, "dan")
			}
		}
		return errors.New("no succeeded record of the call")
	})
}
