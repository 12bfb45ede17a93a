package conversations_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"mcp-platform/internal/approvals"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/store"
	"mcp-platform/internal/testutil/dbtest"
)

// workflowID names turns the way the gateway does.
func workflowID(conv string, turn int) string { return fmt.Sprintf("chat-%s-%d", conv, turn) }

// start begins a turn and fails the test if the store refuses.
func start(tb testing.TB, s *conversations.Store, user, conv, text string) (conversations.Conversation, conversations.Turn) {
	tb.Helper()
	c, turn, err := s.StartTurn(context.Background(), user, conv, text, workflowID, nil)
	require.NoError(tb, err)
	return c, turn
}

// finish ends a turn so that the conversation accepts the next one.
func finish(tb testing.TB, s *conversations.Store, conv string, turn int) {
	tb.Helper()
	require.NoError(tb, s.SetTurnStatus(context.Background(), conv, turn, conversations.StatusCompleted, ""))
}

// setUpdatedAt moves a conversation in time, so tests control the order List sees.
func setUpdatedAt(tb testing.TB, db *dbtest.Database, id string, at time.Time) {
	tb.Helper()
	tag, err := db.Pool.Exec(context.Background(), "UPDATE conversations SET updated_at = $1 WHERE id = $2", at, id)
	require.NoError(tb, err)
	require.EqualValues(tb, 1, tag.RowsAffected())
}

// positions lists the (turn, seq) of messages as "turn/seq".
func positions(msgs []conversations.Message) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, fmt.Sprintf("%d/%d", m.Turn, m.Seq))
	}
	return out
}

func convIDs(list []conversations.Conversation) []string {
	out := make([]string, 0, len(list))
	for _, c := range list {
		out = append(out, c.ID)
	}
	return out
}

func TestStartTurn(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := conversations.NewStore(db.Pool)

	t.Run("OK new conversation", func(t *testing.T) {
		var gotConv string
		var gotTurn int
		c, turn, err := s.StartTurn(ctx, "alice", "", "How many open invoices?", func(conv string, n int) string {
			gotConv, gotTurn = conv, n
			return "wf-" + conv
		}, nil)
		require.NoError(t, err)

		_, err = uuid.Parse(c.ID)
		require.NoError(t, err)
		require.Equal(t, c.ID, gotConv)
		require.Equal(t, 1, gotTurn)
		require.Equal(t, "alice", c.UserID)
		require.Equal(t, "How many open invoices?", c.Title)
		require.Equal(t, 1, c.LastTurn)
		require.WithinDuration(t, time.Now(), c.CreatedAt, time.Minute)
		require.WithinDuration(t, time.Now(), c.UpdatedAt, time.Minute)

		require.Equal(t, 1, turn.Turn)
		require.Equal(t, "wf-"+c.ID, turn.WorkflowID)
		require.Equal(t, conversations.StatusRunning, turn.Status)
		require.WithinDuration(t, time.Now(), turn.StartedAt, time.Minute)
		require.Nil(t, turn.FinishedAt)

		got, err := s.Get(ctx, "alice", c.ID)
		require.NoError(t, err)
		require.Equal(t, c.ID, got.ID)
		require.Equal(t, c.Title, got.Title)
		require.Equal(t, 1, got.LastTurn)

		turns, err := s.Turns(ctx, c.ID)
		require.NoError(t, err)
		require.Len(t, turns, 1)
		require.Equal(t, 1, turns[0].Turn)
		require.Equal(t, "wf-"+c.ID, turns[0].WorkflowID)
		require.Equal(t, conversations.StatusRunning, turns[0].Status)
		require.Nil(t, turns[0].FinishedAt)

		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		require.Equal(t, 1, msgs[0].Turn)
		require.Equal(t, 0, msgs[0].Seq)
		require.Equal(t, conversations.RoleUser, msgs[0].Role)
		require.Equal(t, "How many open invoices?", msgs[0].Content)
	})

	t.Run("OK next turn in an existing conversation", func(t *testing.T) {
		c, first := start(t, s, "alice", "", "first question")
		finish(t, s, c.ID, first.Turn)

		c2, second := start(t, s, "alice", c.ID, "second question")
		require.Equal(t, c.ID, c2.ID)
		require.Equal(t, "first question", c2.Title, "the title stays that of the first message")
		require.Equal(t, 2, c2.LastTurn)
		require.Equal(t, c.CreatedAt, c2.CreatedAt)
		require.Equal(t, 2, second.Turn)
		require.Equal(t, workflowID(c.ID, 2), second.WorkflowID)

		turns, err := s.Turns(ctx, c.ID)
		require.NoError(t, err)
		require.Len(t, turns, 2)
		require.Equal(t, []int{1, 2}, []int{turns[0].Turn, turns[1].Turn})
		require.Equal(t, conversations.StatusCompleted, turns[0].Status)
		require.Equal(t, conversations.StatusRunning, turns[1].Status)

		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"1/0", "2/0"}, positions(msgs))
		require.Equal(t, "second question", msgs[1].Content)
	})

	for _, status := range []string{conversations.StatusCompleted, conversations.StatusFailed, conversations.StatusCancelled} {
		t.Run("OK after a "+status+" turn", func(t *testing.T) {
			c, first := start(t, s, "alice", "", "q")
			require.NoError(t, s.SetTurnStatus(ctx, c.ID, first.Turn, status, ""))
			_, second := start(t, s, "alice", c.ID, "again")
			require.Equal(t, 2, second.Turn)
		})
	}

	for _, status := range []string{conversations.StatusRunning, conversations.StatusAwaitingApproval} {
		t.Run("ErrTurnInProgress while "+status, func(t *testing.T) {
			c, first := start(t, s, "alice", "", "q")
			require.NoError(t, s.SetTurnStatus(ctx, c.ID, first.Turn, status, ""))

			_, _, err := s.StartTurn(ctx, "alice", c.ID, "too soon", workflowID, nil)
			require.ErrorIs(t, err, conversations.ErrTurnInProgress)

			// Nothing of the refused turn was recorded.
			got, err := s.Get(ctx, "alice", c.ID)
			require.NoError(t, err)
			require.Equal(t, 1, got.LastTurn)
			turns, err := s.Turns(ctx, c.ID)
			require.NoError(t, err)
			require.Len(t, turns, 1)
			msgs, err := s.Messages(ctx, c.ID)
			require.NoError(t, err)
			require.Equal(t, []string{"1/0"}, positions(msgs))
		})
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		c, first := start(t, s, "alice", "", "mine")
		finish(t, s, c.ID, first.Turn)

		for name, id := range map[string]string{
			"another user's conversation": c.ID,
			"unknown conversation":        uuid.NewString(),
			"not a UUID":                  "not-a-uuid",
		} {
			t.Run(name, func(t *testing.T) {
				_, _, err := s.StartTurn(ctx, "mallory", id, "hello", workflowID, nil)
				require.ErrorIs(t, err, conversations.ErrNotFound)
			})
		}

		// Alice's conversation was left alone.
		got, err := s.Get(ctx, "alice", c.ID)
		require.NoError(t, err)
		require.Equal(t, 1, got.LastTurn)
		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
	})
}

func TestStartTurnTitle(t *testing.T) {
	db := dbtest.New(t)
	s := conversations.NewStore(db.Pool)

	tests := []struct {
		name string
		text string
		want string
	}{
		{"OK short text as is", "Restart the billing service", "Restart the billing service"},
		{"OK whitespace collapsed", "  Restart\tthe \n\n billing   service  ", "Restart the billing service"},
		{"OK empty", "", ""},
		{"OK 80 characters kept", strings.Repeat("a", 80), strings.Repeat("a", 80)},
		{"OK longer cut to 80 characters", strings.Repeat("a", 81), strings.Repeat("a", 79) + "…"},
		{"OK 80 multibyte characters kept", strings.Repeat("é", 80), strings.Repeat("é", 80)},
		{"OK cut counts characters not bytes", strings.Repeat("é", 100), strings.Repeat("é", 79) + "…"},
		{"OK credentials redacted", "Log in as bob with password=hunter2 and token: abc123", "Log in as bob with password=[REDACTED] and token: [REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := start(t, s, "alice", "", tt.text)
			require.Equal(t, tt.want, c.Title)
			got, err := s.Get(context.Background(), "alice", c.ID)
			require.NoError(t, err)
			require.Equal(t, tt.want, got.Title)

			// The message itself is kept whole.
			msgs, err := s.Messages(context.Background(), c.ID)
			require.NoError(t, err)
			require.Len(t, msgs, 1)
			require.Equal(t, tt.text, msgs[0].Content)
		})
	}
}

func TestGet(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := conversations.NewStore(db.Pool)
	c, _ := start(t, s, "alice", "", "hello")

	t.Run("OK", func(t *testing.T) {
		got, err := s.Get(ctx, "alice", c.ID)
		require.NoError(t, err)
		require.Equal(t, c.ID, got.ID)
		require.Equal(t, "alice", got.UserID)
		require.Equal(t, "hello", got.Title)
		require.Equal(t, 1, got.LastTurn)
		require.True(t, c.CreatedAt.Equal(got.CreatedAt))
		require.True(t, c.UpdatedAt.Equal(got.UpdatedAt))
	})

	for name, args := range map[string][2]string{
		"another user's conversation": {"bob", c.ID},
		"unknown conversation":        {"alice", uuid.NewString()},
		"not a UUID":                  {"alice", "42"},
		"empty ID":                    {"alice", ""},
	} {
		t.Run("ErrNotFound "+name, func(t *testing.T) {
			_, err := s.Get(ctx, args[0], args[1])
			require.ErrorIs(t, err, conversations.ErrNotFound)
		})
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := conversations.NewStore(db.Pool)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	// Five conversations of alice, two of them equally recent so pages must break ties on id,
	// and one of bob's among them in time.
	offsets := []int{1, 2, 2, 3, 4}
	var alice []string
	for i, off := range offsets {
		c, turn := start(t, s, "alice", "", fmt.Sprintf("alice %d", i))
		finish(t, s, c.ID, turn.Turn)
		setUpdatedAt(t, db, c.ID, t0.Add(time.Duration(off)*time.Hour))
		alice = append(alice, c.ID)
	}
	bob, _ := start(t, s, "bob", "", "bob's")
	setUpdatedAt(t, db, bob.ID, t0.Add(2*time.Hour))

	// Most recently active first: by updated_at, then id, descending.
	tied := []string{alice[1], alice[2]}
	if tied[0] < tied[1] {
		tied[0], tied[1] = tied[1], tied[0]
	}
	want := []string{alice[4], alice[3], tied[0], tied[1], alice[0]}

	t.Run("OK one page", func(t *testing.T) {
		list, next, err := s.List(ctx, "alice", 20, "")
		require.NoError(t, err)
		require.Equal(t, want, convIDs(list))
		require.Empty(t, next)
		for _, c := range list {
			require.Equal(t, "alice", c.UserID)
			require.Equal(t, 1, c.LastTurn)
		}
	})

	t.Run("OK exactly one page has no next cursor", func(t *testing.T) {
		list, next, err := s.List(ctx, "alice", len(want), "")
		require.NoError(t, err)
		require.Equal(t, want, convIDs(list))
		require.Empty(t, next)
	})

	t.Run("OK pages without duplicates or gaps", func(t *testing.T) {
		var (
			got    []string
			sizes  []int
			cursor string
		)
		for range 10 {
			list, next, err := s.List(ctx, "alice", 2, cursor)
			require.NoError(t, err)
			got = append(got, convIDs(list)...)
			sizes = append(sizes, len(list))
			if next == "" {
				break
			}
			cursor = next
		}
		require.Equal(t, []int{2, 2, 1}, sizes)
		require.Equal(t, want, got)
	})

	t.Run("OK only the user's own", func(t *testing.T) {
		list, next, err := s.List(ctx, "bob", 20, "")
		require.NoError(t, err)
		require.Equal(t, []string{bob.ID}, convIDs(list))
		require.Empty(t, next)

		list, next, err = s.List(ctx, "nobody", 20, "")
		require.NoError(t, err)
		require.Empty(t, list)
		require.Empty(t, next)
	})

	t.Run("OK a new message moves a conversation to the front", func(t *testing.T) {
		require.NoError(t, s.SaveMessage(ctx, alice[0], conversations.Message{Turn: 1, Seq: 1, Role: conversations.RoleAssistant, Content: "late answer"}))
		list, _, err := s.List(ctx, "alice", 1, "")
		require.NoError(t, err)
		require.Equal(t, []string{alice[0]}, convIDs(list))
		require.WithinDuration(t, time.Now(), list[0].UpdatedAt, time.Minute)
	})

	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, c := range map[string]string{
		"not base64":      "!!not*base64!!",
		"not JSON":        enc("hello"),
		"wrong time type": enc(`{"u":"yesterday","i":"` + alice[0] + `"}`),
		"ID not a UUID":   enc(`{"u":"2026-03-01T09:00:00Z","i":"x'; DROP TABLE conversations; --"}`),
	} {
		t.Run("ErrBadCursor "+name, func(t *testing.T) {
			_, _, err := s.List(ctx, "alice", 2, c)
			require.ErrorIs(t, err, conversations.ErrBadCursor)
		})
	}
}

func TestMessages(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := conversations.NewStore(db.Pool)

	t.Run("OK in turn and seq order whatever the writing order", func(t *testing.T) {
		c, first := start(t, s, "alice", "", "q1")
		for _, seq := range []int{3, 1, 2} {
			require.NoError(t, s.SaveMessage(ctx, c.ID, conversations.Message{Turn: first.Turn, Seq: seq, Role: conversations.RoleAssistant, Content: fmt.Sprint(seq)}))
		}
		finish(t, s, c.ID, first.Turn)
		_, second := start(t, s, "alice", c.ID, "q2")
		require.NoError(t, s.SaveMessage(ctx, c.ID, conversations.Message{Turn: second.Turn, Seq: 1, Role: conversations.RoleAssistant, Content: "a2"}))
		// Written last, but belongs to the first turn.
		require.NoError(t, s.SaveMessage(ctx, c.ID, conversations.Message{Turn: first.Turn, Seq: 4, Role: conversations.RoleAssistant, Content: "4"}))

		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"1/0", "1/1", "1/2", "1/3", "1/4", "2/0", "2/1"}, positions(msgs))
	})

	t.Run("OK every field round-trips", func(t *testing.T) {
		c, turn := start(t, s, "alice", "", "scale web to 3")
		calls := []conversations.ToolCall{
			{ID: "call-1", Tool: "devops.scale_deployment", Arguments: map[string]any{"name": "web", "replicas": float64(3)}},
			{ID: "call-2", Tool: "devops.list_pods", Arguments: map[string]any{}},
		}
		require.NoError(t, s.SaveMessage(ctx, c.ID, conversations.Message{Turn: turn.Turn, Seq: 1, Role: conversations.RoleAssistant, Content: "Scaling.", ToolCalls: calls}))
		require.NoError(t, s.SaveMessage(ctx, c.ID, conversations.Message{
			Turn: turn.Turn, Seq: 2, Role: conversations.RoleTool, Content: `{"ok":true}`,
			ToolCallID: "call-1", ToolName: "devops.scale_deployment", ToolStatus: "ok",
			Data: map[string]any{"duration_ms": float64(12), "result": map[string]any{"replicas": float64(3)}},
		}))

		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Len(t, msgs, 3)

		user, assistant, tool := msgs[0], msgs[1], msgs[2]
		require.Equal(t, conversations.RoleUser, user.Role)
		require.Nil(t, user.ToolCalls)
		require.Nil(t, user.Data)

		require.Equal(t, conversations.RoleAssistant, assistant.Role)
		require.Equal(t, "Scaling.", assistant.Content)
		require.Equal(t, calls, assistant.ToolCalls)
		require.Nil(t, assistant.Data)

		require.Equal(t, conversations.RoleTool, tool.Role)
		require.Equal(t, `{"ok":true}`, tool.Content)
		require.Nil(t, tool.ToolCalls)
		require.Equal(t, "call-1", tool.ToolCallID)
		require.Equal(t, "devops.scale_deployment", tool.ToolName)
		require.Equal(t, "ok", tool.ToolStatus)
		require.Equal(t, map[string]any{"duration_ms": float64(12), "result": map[string]any{"replicas": float64(3)}}, tool.Data)

		for _, m := range msgs {
			require.Positive(t, m.ID)
			require.WithinDuration(t, time.Now(), m.CreatedAt, time.Minute)
		}
		require.NotEqual(t, msgs[0].ID, msgs[1].ID)
	})

	t.Run("OK only the conversation's own", func(t *testing.T) {
		a, _ := start(t, s, "alice", "", "in a")
		b, _ := start(t, s, "alice", "", "in b")
		require.NoError(t, s.SaveMessage(ctx, b.ID, conversations.Message{Turn: 1, Seq: 1, Role: conversations.RoleAssistant, Content: "b's answer"}))

		msgs, err := s.Messages(ctx, a.ID)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		require.Equal(t, "in a", msgs[0].Content)
	})

	t.Run("OK unknown conversation has none", func(t *testing.T) {
		msgs, err := s.Messages(ctx, uuid.NewString())
		require.NoError(t, err)
		require.Empty(t, msgs)
		turns, err := s.Turns(ctx, uuid.NewString())
		require.NoError(t, err)
		require.Empty(t, turns)
	})
}

func TestSaveMessage(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := conversations.NewStore(db.Pool)

	t.Run("OK same turn and seq twice replaces the first", func(t *testing.T) {
		c, turn := start(t, s, "alice", "", "q")
		first := conversations.Message{
			Turn: turn.Turn, Seq: 1, Role: conversations.RoleAssistant, Content: "partial",
			ToolCalls: []conversations.ToolCall{{ID: "call-1", Tool: "hr.get_employee", Arguments: map[string]any{"id": "E001"}}},
		}
		require.NoError(t, s.SaveMessage(ctx, c.ID, first))
		retry := conversations.Message{Turn: turn.Turn, Seq: 1, Role: conversations.RoleAssistant, Content: "complete answer"}
		require.NoError(t, s.SaveMessage(ctx, c.ID, retry))
		require.NoError(t, s.SaveMessage(ctx, c.ID, retry))

		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"1/0", "1/1"}, positions(msgs))
		require.Equal(t, "complete answer", msgs[1].Content)
		require.Nil(t, msgs[1].ToolCalls, "the retry's fields replace the first attempt's")
	})

	t.Run("OK same seq in another turn is another message", func(t *testing.T) {
		c, first := start(t, s, "alice", "", "q1")
		require.NoError(t, s.SaveMessage(ctx, c.ID, conversations.Message{Turn: first.Turn, Seq: 1, Role: conversations.RoleAssistant, Content: "a1"}))
		finish(t, s, c.ID, first.Turn)
		_, second := start(t, s, "alice", c.ID, "q2")
		require.NoError(t, s.SaveMessage(ctx, c.ID, conversations.Message{Turn: second.Turn, Seq: 1, Role: conversations.RoleAssistant, Content: "a2"}))

		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"1/0", "1/1", "2/0", "2/1"}, positions(msgs))
		require.Equal(t, "a1", msgs[1].Content)
		require.Equal(t, "a2", msgs[3].Content)
	})

	t.Run("OK marks the conversation active", func(t *testing.T) {
		c, turn := start(t, s, "alice", "", "q")
		old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		setUpdatedAt(t, db, c.ID, old)

		require.NoError(t, s.SaveMessage(ctx, c.ID, conversations.Message{Turn: turn.Turn, Seq: 1, Role: conversations.RoleAssistant, Content: "a"}))
		got, err := s.Get(ctx, "alice", c.ID)
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), got.UpdatedAt, time.Minute)
	})

	t.Run("ErrUnknownConversation", func(t *testing.T) {
		err := s.SaveMessage(ctx, uuid.NewString(), conversations.Message{Turn: 1, Seq: 1, Role: conversations.RoleAssistant, Content: "a"})
		require.Error(t, err)
	})

	t.Run("ErrUnknownRole", func(t *testing.T) {
		c, turn := start(t, s, "alice", "", "q")
		err := s.SaveMessage(ctx, c.ID, conversations.Message{Turn: turn.Turn, Seq: 1, Role: "system", Content: "a"})
		require.Error(t, err)
		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
	})
}

func TestSetTurnStatus(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := conversations.NewStore(db.Pool)

	// One turn goes through the statuses in order; the next turn of the conversation watches.
	c, first := start(t, s, "alice", "", "q1")
	finish(t, s, c.ID, first.Turn)
	_, turn := start(t, s, "alice", c.ID, "q2")

	tests := []struct {
		name     string
		status   string
		errText  string
		finished bool
	}{
		{"OK awaiting approval is not final", conversations.StatusAwaitingApproval, "", false},
		{"OK running again", conversations.StatusRunning, "", false},
		{"OK failed is final and keeps the error", conversations.StatusFailed, "the LLM is unavailable", true},
		{"OK cancelled is final", conversations.StatusCancelled, "", true},
		{"OK completed is final and clears the error", conversations.StatusCompleted, "", true},
		{"OK running after a final status is unfinished again", conversations.StatusRunning, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, s.SetTurnStatus(ctx, c.ID, turn.Turn, tt.status, tt.errText))
			turns, err := s.Turns(ctx, c.ID)
			require.NoError(t, err)
			require.Len(t, turns, 2)
			got := turns[1]
			require.Equal(t, turn.Turn, got.Turn)
			require.Equal(t, tt.status, got.Status)
			require.Equal(t, tt.errText, got.Error)
			if tt.finished {
				require.NotNil(t, got.FinishedAt)
				require.WithinDuration(t, time.Now(), *got.FinishedAt, time.Minute)
			} else {
				require.Nil(t, got.FinishedAt)
			}
			// The other turn is untouched.
			require.Equal(t, conversations.StatusCompleted, turns[0].Status)
			require.NotNil(t, turns[0].FinishedAt)
		})
	}

	t.Run("ErrUnknownStatus", func(t *testing.T) {
		require.Error(t, s.SetTurnStatus(ctx, c.ID, turn.Turn, "done", ""))
		turns, err := s.Turns(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, conversations.StatusRunning, turns[1].Status)
	})
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := conversations.NewStore(db.Pool)
	ev := events.NewStore(db.Pool)
	apr := approvals.NewStore(db.Pool)

	t.Run("OK removes the conversation with its messages, events and approvals", func(t *testing.T) {
		c, turn := start(t, s, "alice", "", "q")
		require.NoError(t, s.SaveMessage(ctx, c.ID, conversations.Message{Turn: turn.Turn, Seq: 1, Role: conversations.RoleAssistant, Content: "a"}))
		_, err := ev.Publish(ctx, c.ID, turn.Turn, events.TurnStartedData{})
		require.NoError(t, err)
		require.NoError(t, apr.Create(ctx, approvals.Request{
			ID: "apr-delete-1", WorkflowID: turn.WorkflowID, ConversationID: c.ID, Turn: turn.Turn, ToolCallID: "call-1",
			Tool: "devops.restart_service", Domain: "devops", Arguments: map[string]any{}, ArgsHash: "h",
			Requester: "alice", ApproverRoles: []string{"devops_lead"}, ExpiresAt: time.Now().Add(time.Hour),
		}))
		finish(t, s, c.ID, turn.Turn)

		running, err := s.Delete(ctx, "alice", c.ID)
		require.NoError(t, err)
		require.Empty(t, running)

		_, err = s.Get(ctx, "alice", c.ID)
		require.ErrorIs(t, err, conversations.ErrNotFound)
		ok, err := s.Exists(ctx, c.ID)
		require.NoError(t, err)
		require.False(t, ok)
		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Empty(t, msgs)
		turns, err := s.Turns(ctx, c.ID)
		require.NoError(t, err)
		require.Empty(t, turns)
		evs, err := ev.After(ctx, c.ID, 0, 100)
		require.NoError(t, err)
		require.Empty(t, evs)
		_, err = apr.Get(ctx, "apr-delete-1")
		require.ErrorIs(t, err, approvals.ErrNotFound)
	})

	tests := []struct {
		name   string
		status string
		want   bool // whether the last turn's workflow is returned for cancelling
	}{
		{"OK returns a running turn's workflow", conversations.StatusRunning, true},
		{"OK returns a turn awaiting approval", conversations.StatusAwaitingApproval, true},
		{"OK not a completed turn", conversations.StatusCompleted, false},
		{"OK not a failed turn", conversations.StatusFailed, false},
		{"OK not a cancelled turn", conversations.StatusCancelled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, first := start(t, s, "alice", "", "q1")
			finish(t, s, c.ID, first.Turn)
			_, second := start(t, s, "alice", c.ID, "q2")
			require.NoError(t, s.SetTurnStatus(ctx, c.ID, second.Turn, tt.status, ""))

			running, err := s.Delete(ctx, "alice", c.ID)
			require.NoError(t, err)
			if tt.want {
				require.Equal(t, []string{second.WorkflowID}, running)
			} else {
				require.Empty(t, running)
			}
			ok, err := s.Exists(ctx, c.ID)
			require.NoError(t, err)
			require.False(t, ok)
		})
	}

	t.Run("ErrNotFound another user's conversation", func(t *testing.T) {
		c, turn := start(t, s, "alice", "", "mine")

		running, err := s.Delete(ctx, "mallory", c.ID)
		require.ErrorIs(t, err, conversations.ErrNotFound)
		require.Empty(t, running, "another user learns nothing of the running turns")

		got, err := s.Get(ctx, "alice", c.ID)
		require.NoError(t, err)
		require.Equal(t, c.ID, got.ID)
		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Len(t, msgs, 1)

		// Its owner still can, and is told what to cancel.
		running, err = s.Delete(ctx, "alice", c.ID)
		require.NoError(t, err)
		require.Equal(t, []string{turn.WorkflowID}, running)
	})

	t.Run("ErrNotFound deleted twice", func(t *testing.T) {
		c, _ := start(t, s, "alice", "", "q")
		_, err := s.Delete(ctx, "alice", c.ID)
		require.NoError(t, err)
		running, err := s.Delete(ctx, "alice", c.ID)
		require.ErrorIs(t, err, conversations.ErrNotFound)
		require.Empty(t, running)
	})

	for name, id := range map[string]string{"unknown conversation": uuid.NewString(), "not a UUID": "nope"} {
		t.Run("ErrNotFound "+name, func(t *testing.T) {
			_, err := s.Delete(ctx, "alice", id)
			require.ErrorIs(t, err, conversations.ErrNotFound)
		})
	}
}

func TestExists(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := conversations.NewStore(db.Pool)
	c, _ := start(t, s, "alice", "", "q")

	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"OK existing conversation, whoever asks", c.ID, true},
		{"OK unknown conversation", uuid.NewString(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Exists(ctx, tt.id)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	t.Run("OK deleted conversation", func(t *testing.T) {
		_, err := s.Delete(ctx, "alice", c.ID)
		require.NoError(t, err)
		got, err := s.Exists(ctx, c.ID)
		require.NoError(t, err)
		require.False(t, got)
	})
}

// TestWritesTogether checks that the writes given with a store's own (StartTurn's started,
// SaveMessage's and SetTurnStatus's also) commit with them, and that when one fails nothing
// of the others is left.
func TestWritesTogether(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := conversations.NewStore(db.Pool)
	ev := events.NewStore(db.Pool)
	// failing queues a statement that fails, as a write refused by the database would.
	failing := func(b *pgx.Batch) error {
		store.Exec(b, "fail on purpose", `SELECT 1/0`)
		return nil
	}
	types := func(conv string) []string {
		list, err := ev.After(ctx, conv, 0, 100)
		require.NoError(t, err)
		var out []string
		for _, e := range list {
			out = append(out, e.Type)
		}
		return out
	}

	t.Run("OK the started writes commit with the turn, in a new and in an existing conversation", func(t *testing.T) {
		var convs []string
		started := func(c conversations.Conversation, tr conversations.Turn) store.Op {
			convs = append(convs, c.ID)
			return ev.PublishOp(ctx, c.ID, tr.Turn, events.TurnStartedData{WorkflowID: tr.WorkflowID, Message: "hi"}, nil)
		}
		c, first, err := s.StartTurn(ctx, "alice", "", "hi", workflowID, started)
		require.NoError(t, err)
		finish(t, s, c.ID, first.Turn)
		_, second, err := s.StartTurn(ctx, "alice", c.ID, "again", workflowID, started)
		require.NoError(t, err)
		require.Equal(t, 2, second.Turn)
		require.Equal(t, []string{c.ID, c.ID}, convs)
		require.Equal(t, []string{events.TypeTurnStarted, events.TypeTurnStarted}, types(c.ID))
	})

	t.Run("Error a failing started write records no turn", func(t *testing.T) {
		var created string
		_, _, err := s.StartTurn(ctx, "bob", "", "hello", workflowID, func(c conversations.Conversation, _ conversations.Turn) store.Op {
			created = c.ID
			return failing
		})
		require.ErrorContains(t, err, "fail on purpose")
		_, err = s.Get(ctx, "bob", created)
		require.ErrorIs(t, err, conversations.ErrNotFound, "the new conversation was not kept")

		c, first := start(t, s, "bob", "", "kept")
		finish(t, s, c.ID, first.Turn)
		_, _, err = s.StartTurn(ctx, "bob", c.ID, "refused", workflowID, func(conversations.Conversation, conversations.Turn) store.Op { return failing })
		require.ErrorContains(t, err, "fail on purpose")
		got, err := s.Get(ctx, "bob", c.ID)
		require.NoError(t, err)
		require.Equal(t, 1, got.LastTurn, "the turn was not advanced")
		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"1/0"}, positions(msgs))
	})

	t.Run("OK a message and a status with their events, or nothing", func(t *testing.T) {
		c, tr := start(t, s, "carol", "", "q")
		msg := conversations.Message{Turn: tr.Turn, Seq: 100, Role: conversations.RoleAssistant, Content: "answer"}
		require.Error(t, s.SaveMessage(ctx, c.ID, msg, failing))
		msgs, err := s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"1/0"}, positions(msgs), "the message was not kept without its event")

		require.NoError(t, s.SaveMessage(ctx, c.ID, msg, ev.PublishOp(ctx, c.ID, tr.Turn, events.AssistantMessageData{Step: 1, Role: "assistant", Content: "answer"}, nil)))
		msgs, err = s.Messages(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"1/0", "1/100"}, positions(msgs))

		ended := events.TurnCompletedData{TurnEnd: events.TurnEnd{Status: conversations.StatusCompleted, Answer: "answer"}}
		require.Error(t, s.SetTurnStatus(ctx, c.ID, tr.Turn, conversations.StatusCompleted, "", failing))
		turns, err := s.Turns(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, conversations.StatusRunning, turns[0].Status)
		require.NoError(t, s.SetTurnStatus(ctx, c.ID, tr.Turn, conversations.StatusCompleted, "", ev.PublishOnceOp(ctx, c.ID, tr.Turn, ended, nil)))
		turns, err = s.Turns(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, conversations.StatusCompleted, turns[0].Status)
		require.Equal(t, []string{events.TypeMessage, events.TypeTurnCompleted}, types(c.ID))
	})
}
