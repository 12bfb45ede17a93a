// Command oapi checks the clients oapi-codegen generates from the committed OpenAPI documents
// (into gateway/ and mcpserver/, not committed: `make clients` generates them) against a live
// stack: a chat answer read with wait=true, typed events of the stream, and a call that needs
// approval from 202 to its result. Each step is reported; any failure exits 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"clientcheck/check"
	"clientcheck/oapi/gateway"
	"clientcheck/oapi/mcpserver"
)

func main() {
	run, apiURL, mcpURL := check.Start("oapi-codegen")
	ctx := context.Background()
	api, err := gateway.NewClientWithResponses(apiURL)
	if err != nil {
		run.Step("create the gateway client", func() error { return err })
		run.Exit()
	}
	mcp, err := mcpserver.NewClientWithResponses(mcpURL)
	if err != nil {
		run.Step("create the MCP server client", func() error { return err })
		run.Exit()
	}
	chat(ctx, run, api)
	execute(ctx, run, mcp)
	run.Exit()
}

// same keeps a token as it is: this program's clients take the token with each call.
func same(token string) (string, error) { return token, nil }

// chat checks the gateway: a demo token, a chat answer with wait=true, the conversation and its
// typed events.
func chat(ctx context.Context, run *check.Run, api *gateway.ClientWithResponses) {
	var tokens map[string]string
	run.Step("gateway: POST /auth/token answers typed bearer tokens", func() (err error) {
		tokens, err = check.SignIn([]string{"alice", "carol", "dan"}, func(user string) (string, error) {
			res, err := api.CreateDevTokenWithResponse(ctx, gateway.TokenRequestBody{User: user})
			if err != nil {
				return "", err
			}
			if res.JSON200 == nil {
				return "", fmt.Errorf("status %d: %s", res.StatusCode(), res.Body)
			}
			return res.JSON200.AccessToken, check.Want("token_type", res.JSON200.TokenType, gateway.Bearer)
		}, same)
		return err
	})
	auth := check.Bearer(tokens["alice"])

	var conv gateway.TurnInfo
	run.Step("gateway: POST /chat with wait=true answers 200 with the answer", func() error {
		wait, timeout := true, int64(60)
		res, err := api.CreateChatTurnWithResponse(ctx, gateway.ChatRequestBody{Message: "Get employee E001", Wait: &wait, TimeoutSeconds: &timeout}, auth)
		if err != nil {
			return err
		}
		if res.JSON200 == nil {
			return fmt.Errorf("status %d, not 200 with a TurnInfo: %s", res.StatusCode(), res.Body)
		}
		conv = *res.JSON200
		if conv.Answer == nil || *conv.Answer == "" {
			return errors.New("no answer")
		}
		return check.Want("status", conv.Status, gateway.TurnInfoStatusCompleted)
	})

	run.Step("gateway: GET /conversations/{id} answers typed messages", func() error {
		res, err := api.GetConversationWithResponse(ctx, conv.ConversationId, auth)
		if err != nil {
			return err
		}
		if res.JSON200 == nil {
			return fmt.Errorf("status %d: %s", res.StatusCode(), res.Body)
		}
		if err := check.Want("conversation id", res.JSON200.Id, conv.ConversationId); err != nil {
			return err
		}
		roles := map[gateway.MessageRole]bool{}
		for _, m := range *res.JSON200.Messages {
			roles[m.Role] = true
		}
		if !roles[gateway.MessageRoleUser] || !roles[gateway.MessageRoleTool] || !roles[gateway.MessageRoleAssistant] {
			return fmt.Errorf("roles %v, want user, assistant and tool messages", roles)
		}
		return nil
	})

	run.Step("gateway: the event stream decodes into the generated StreamEvent union", func() error {
		return followStream(ctx, api, conv, auth)
	})

	run.Step("gateway: POST /chat without wait answers 202 with the turn", func() error {
		res, err := api.CreateChatTurnWithResponse(ctx, gateway.ChatRequestBody{Message: "who works in Engineering?"}, auth)
		if err != nil {
			return err
		}
		if res.JSON202 == nil {
			return fmt.Errorf("status %d, not 202 with a TurnInfo: %s", res.StatusCode(), res.Body)
		}
		return check.Want("status", res.JSON202.Status, gateway.TurnInfoStatusRunning)
	})

	var waiting gateway.TurnInfo
	run.Step("gateway: POST /chat with wait=true answers 202 awaiting_approval for a call that needs one", func() error {
		wait, timeout := true, int64(5)
		res, err := api.CreateChatTurnWithResponse(ctx, gateway.ChatRequestBody{Message: "scale api-server to 4 replicas", Wait: &wait, TimeoutSeconds: &timeout},
			check.Bearer(tokens["carol"]))
		if err != nil {
			return err
		}
		if res.JSON202 == nil {
			return fmt.Errorf("status %d, not 202 with a TurnInfo: %s", res.StatusCode(), res.Body)
		}
		waiting = *res.JSON202
		return check.Want("status", waiting.Status, gateway.TurnInfoStatusAwaitingApproval)
	})

	run.Step("gateway: GET /approvals lists it for the approver, who rejects it", func() error {
		dan := check.Bearer(tokens["dan"])
		res, err := api.ListPendingApprovalsWithResponse(ctx, dan)
		if err != nil {
			return err
		}
		if res.JSON200 == nil {
			return fmt.Errorf("status %d: %s", res.StatusCode(), res.Body)
		}
		for _, r := range *res.JSON200.Approvals {
			if r.ConversationId == nil || *r.ConversationId != waiting.ConversationId {
				continue
			}
			comment := "not now"
			d, err := api.DecideApprovalWithResponse(ctx, r.Id, gateway.DecisionRequestBody{Decision: gateway.Reject, ArgsHash: r.ArgsHash, Comment: &comment}, dan)
			if err != nil {
				return err
			}
			if d.JSON200 == nil {
				return fmt.Errorf("decide: status %d: %s", d.StatusCode(), d.Body)
			}
			return check.Want("status", d.JSON200.Status, gateway.DecisionResultStatusRejected)
		}
		return errors.New("the turn's request is not among the approver's pending approvals")
	})
}

// followStream reads the conversation's events from the start until turn_completed, decoding
// each through the generated union, and checks the tool call and the answer they carry.
func followStream(ctx context.Context, api *gateway.ClientWithResponses, conv gateway.TurnInfo, auth gateway.RequestEditorFn) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	after := int64(0)
	resp, err := api.StreamConversationEvents(ctx, conv.ConversationId, &gateway.StreamConversationEventsParams{After: &after}, auth)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	var toolOK bool
	var answer string
	var decodeErr error
	err = check.ReadEvents(resp.Body, func(e check.Event) bool {
		if e.Type != "message" {
			return true
		}
		var ev gateway.StreamEvent
		if decodeErr = json.Unmarshal([]byte(e.Data), &ev); decodeErr != nil {
			return false
		}
		v, err := ev.ValueByDiscriminator()
		if err != nil {
			decodeErr = err
			return false
		}
		switch v := v.(type) {
		case gateway.ToolFinishedEvent:
			toolOK = v.Data.Tool == "hr.get_employee" && v.Data.Status == gateway.ToolFinishedDataStatusOk
		case gateway.TurnCompletedEvent:
			answer = v.Data.Answer
			return false
		}
		return true
	})
	switch {
	case decodeErr != nil:
		return fmt.Errorf("decode an event: %w", decodeErr)
	case answer == "":
		return fmt.Errorf("no turn_completed event: %v", err)
	case !toolOK:
		return errors.New("no tool_finished event of hr.get_employee with status ok")
	case conv.Answer != nil && answer != *conv.Answer:
		return fmt.Errorf("turn_completed says %q, the chat answer %q", answer, *conv.Answer)
	}
	return nil
}

// execute checks the MCP server: a tool's result (200), and a call that needs approval from
// its 202 to its result once a person approved it at once.
func execute(ctx context.Context, run *check.Run, mcp *mcpserver.ClientWithResponses) {
	var tokens map[string]string
	run.Step("mcp: POST /auth/token for the requester, the approver and the auditor", func() (err error) {
		tokens, err = check.SignIn([]string{"carol", "dan", "audrey"}, func(user string) (string, error) {
			res, err := mcp.CreateDevTokenWithResponse(ctx, mcpserver.TokenRequestBody{User: user})
			if err != nil {
				return "", err
			}
			if res.JSON200 == nil {
				return "", fmt.Errorf("status %d: %s", res.StatusCode(), res.Body)
			}
			return res.JSON200.AccessToken, nil
		}, same)
		return err
	})
	carol, dan := check.Bearer(tokens["carol"]), check.Bearer(tokens["dan"])

	run.Step("mcp: POST /execute answers 200 with the result", func() error {
		args := map[string]any{"namespace": "production"}
		res, err := mcp.ExecuteToolWithResponse(ctx, mcpserver.ExecuteRequestBody{Tool: "devops.list_deployments", Arguments: &args}, carol)
		if err != nil {
			return err
		}
		if res.JSON200 == nil {
			return fmt.Errorf("status %d: %s", res.StatusCode(), res.Body)
		}
		if res.JSON200.Result == nil {
			return errors.New("no result")
		}
		return check.Want("status", res.JSON200.Status, mcpserver.ExecutionBodyStatusCompleted)
	})

	var pending mcpserver.ExecutionBody
	run.Step("mcp: POST /execute of a call that needs approval answers 202 with the approval", func() error {
		args := map[string]any{"deployment_name": "api-server", "replicas": 3, "namespace": "production"}
		res, err := mcp.ExecuteToolWithResponse(ctx, mcpserver.ExecuteRequestBody{Tool: "devops.scale_deployment", Arguments: &args}, carol)
		if err != nil {
			return err
		}
		if res.JSON202 == nil {
			return fmt.Errorf("status %d, not 202 with an ExecutionBody: %s", res.StatusCode(), res.Body)
		}
		pending = *res.JSON202
		if pending.Approval == nil {
			return errors.New("no approval")
		}
		return check.Want("status", pending.Status, mcpserver.ExecutionBodyStatusPendingApproval)
	})

	run.Step("mcp: GET /executions/{id} answers 202 pending_approval with the approval", func() error {
		res, err := mcp.GetExecutionWithResponse(ctx, pending.WorkflowId, carol)
		if err != nil {
			return err
		}
		if res.JSON202 == nil {
			return fmt.Errorf("status %d, not 202 with an ExecutionBody: %s", res.StatusCode(), res.Body)
		}
		if err := check.Want("status", res.JSON202.Status, mcpserver.ExecutionBodyStatusPendingApproval); err != nil {
			return err
		}
		if res.JSON202.Approval == nil || pending.Approval == nil {
			return errors.New("no approval")
		}
		return check.Want("approval id", res.JSON202.Approval.Id, pending.Approval.Id)
	})

	run.Step("mcp: the approver decides at once (200 approved)", func() error {
		a := pending.Approval
		res, err := mcp.DecideApprovalWithResponse(ctx, a.Id, mcpserver.DecisionRequestBody{Decision: mcpserver.Approve, ArgsHash: a.ArgsHash}, dan)
		if err != nil {
			return err
		}
		if res.JSON200 == nil {
			return fmt.Errorf("status %d: %s", res.StatusCode(), res.Body)
		}
		return check.Want("status", res.JSON200.Status, mcpserver.DecisionResultStatusApproved)
	})

	run.Step("mcp: GET /executions/{id} answers 200 with the result once approved", func() error {
		return check.Eventually(ctx, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
			res, err := mcp.GetExecutionWithResponse(ctx, pending.WorkflowId, carol)
			switch {
			case err != nil:
				return false, err
			case res.JSON202 != nil:
				return false, nil
			case res.JSON200 == nil:
				return false, fmt.Errorf("status %d: %s", res.StatusCode(), res.Body)
			}
			return true, check.Want("status", res.JSON200.Status, mcpserver.ExecutionBodyStatusCompleted)
		})
	})

	run.Step("mcp: GET /audit shows the approved call with a typed outcome", func() error {
		tool := "devops.scale_deployment"
		res, err := mcp.ListAuditRecordsWithResponse(ctx, &mcpserver.ListAuditRecordsParams{Tool: &tool}, check.Bearer(tokens["audrey"]))
		if err != nil {
			return err
		}
		if res.JSON200 == nil {
			return fmt.Errorf("status %d: %s", res.StatusCode(), res.Body)
		}
		for _, r := range *res.JSON200.Records {
			if r.WorkflowId == pending.WorkflowId && r.Outcome == mcpserver.RecordOutcomeSucceeded {
				return check.Want("approver", r.Approver, "dan")
			}
		}
		return errors.New("no succeeded record of the call")
	})
}
