package workflows

import (
	"fmt"
	"strings"
	"time"
)

// QueryTurnState is the query a ChatTurn answers with its TurnState:
//
//	temporal workflow query --workflow-id chat-<conversation>-<turn> --type turn-state
const QueryTurnState = "turn-state"

// TurnState is where a chat turn stands, for operators: the answer of the turn-state query,
// and (as Details) the workflow's current details in the Temporal UI. Summaries are those of
// the activities, with sensitive arguments redacted.
type TurnState struct {
	ConversationID string `json:"conversation_id"`
	Turn           int    `json:"turn"`
	// Status is the turn's TurnStatus: conversations.StatusRunning, StatusAwaitingApproval,
	// StatusCompleted, StatusFailed or StatusCancelled.
	Status   string `json:"status"`
	Step     int    `json:"step"`
	MaxSteps int    `json:"max_steps"`
	// Doing says what the turn does now ("asking the LLM", "running 2 tool calls"); empty
	// once it has ended.
	Doing string `json:"doing,omitempty"`
	// Running are the summaries of the tool calls running now.
	Running []string `json:"running,omitempty"`
	// Waiting are the calls waiting for a person's decision, in the order they asked.
	Waiting []WaitingApproval `json:"waiting,omitempty"`
	// Tools are the tools the turn has called, in the order it first called them.
	Tools []string `json:"tools,omitempty"`
	// Error is what the user was told when the turn failed or was cancelled.
	Error string `json:"error,omitempty"`
}

// WaitingApproval is a tool call waiting for a person's decision.
type WaitingApproval struct {
	ApprovalID string `json:"approval_id"`
	Tool       string `json:"tool"`
	Summary    string `json:"summary"`
	// Approvers are the roles that may decide.
	Approvers []string  `json:"approvers"`
	Since     time.Time `json:"since"`
	Expires   time.Time `json:"expires"`
}

// Details is s as the Temporal markdown of the workflow's current details.
func (s TurnState) Details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**", strings.ReplaceAll(s.Status, "_", " "))
	if s.Step > 0 {
		fmt.Fprintf(&b, " · step %d of %d", s.Step, s.MaxSteps)
	}
	if s.Doing != "" {
		fmt.Fprintf(&b, " · %s", s.Doing)
	}
	writeWaiting(&b, s.Waiting)
	if len(s.Running) > 0 {
		b.WriteString("\n\nRunning:")
		for _, r := range s.Running {
			fmt.Fprintf(&b, "\n- %s", r)
		}
	}
	if s.Error != "" {
		fmt.Fprintf(&b, "\n\n%s", s.Error)
	}
	return b.String()
}

// writeWaiting lists the calls waiting for a decision, each with who may decide and until when.
func writeWaiting(b *strings.Builder, waiting []WaitingApproval) {
	if len(waiting) == 0 {
		return
	}
	b.WriteString("\n\nWaiting for a decision:")
	for _, w := range waiting {
		fmt.Fprintf(b, "\n- %s (%s, expires %s)", w.Summary, approversText(w.Approvers), w.Expires.UTC().Format(time.RFC3339))
	}
}

// approversText names who may decide, for summaries: "sre_lead", "hr_manager or admin".
func approversText(roles []string) string {
	if len(roles) == 0 {
		return "an approver"
	}
	return strings.Join(roles, " or ")
}
