package scaleout

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/testutil/fakeopenai"
	"mcp-platform/platform/platformtest"
)

// restartTurns are the turns in flight while PostgreSQL restarts.
const restartTurns = 6

// slowModel is model with a slow first answer, so that every turn is still in its LLM step or
// its tool call when PostgreSQL goes down.
func slowModel(request map[string]any) fakeopenai.Reply {
	r := model(request)
	if len(r.ToolCalls) > 0 {
		r.Delay = 2 * time.Second
	}
	return r
}

// TestTurnsSurvivePostgresRestart restarts the PostgreSQL cluster that holds both the
// platform's database and Temporal's while chat turns are in flight: the API's, the workers'
// and the Temporal server's connections are all cut. Every turn still completes, creates its
// invoice once, and the platform serves new turns afterwards.
func TestTurnsSurvivePostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster and five processes")
	}
	s := launch(t, topology{apis: 1, orchestrators: 1, erpWorkers: 1, model: slowModel})
	run := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)

	workflows := make([]string, restartTurns)
	conversations := make([]string, restartTurns)
	var wg sync.WaitGroup
	for i := range restartTurns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, body := platformtest.Do(t, s.apis[0], http.MethodPost, "/chat", s.token,
				map[string]any{"message": fmt.Sprintf("please create invoice #%d of run %s", i, run)})
			require.Equal(t, http.StatusAccepted, code, body)
			conversations[i], workflows[i] = body["conversation_id"].(string), body["workflow_id"].(string)
		}()
	}
	wg.Wait()

	// Every turn has been accepted and waits for its (slow) LLM answer: cut PostgreSQL now.
	s.restartPostgres(t, 3*time.Second)

	for _, id := range workflows {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		var res map[string]any
		err := s.temporal.GetWorkflow(ctx, id, "").Get(ctx, &res)
		cancel()
		require.NoError(t, err, id)
		require.Equal(t, "completed", res["status"], "%s: %v", id, res)
	}

	var invoices, distinct int
	require.NoError(t, s.pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT description) FROM erp.invoice_lines
		WHERE description LIKE $1`, "Scale-out run "+run+" turn %").Scan(&invoices, &distinct))
	if distinct != restartTurns {
		for _, conv := range conversations {
			logConversation(t, s, conv)
		}
	}
	require.Equal(t, restartTurns, distinct, "every turn created its invoice")
	require.Equal(t, restartTurns, invoices, "no invoice created twice")
	for _, conv := range conversations {
		var n int
		require.NoError(t, s.pool.QueryRow(context.Background(), "SELECT count(*) FROM messages WHERE conversation_id = $1", conv).Scan(&n))
		require.Equal(t, 4, n, "conversation %s: user, assistant with the tool call, tool result, answer", conv)
	}
	// The stream replays a turn that ran across the restart.
	events := streamUntilDone(t, s.apis[0], s.token, conversations[0])

	// The API's and the workers' pools and the Temporal server serve a new turn end to end.
	code, _, body := platformtest.Do(t, s.apis[0], http.MethodPost, "/chat", s.token,
		map[string]any{"message": fmt.Sprintf("please create invoice #%d of run %s", restartTurns, run), "wait": true})
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "The invoice is created.", body["answer"], body)
	t.Logf("postgres restart: turns=%d completed=%d invoices=%d replayed events=%d; a new turn after the restart completed",
		restartTurns, restartTurns, invoices, events)
}

// logConversation logs a conversation's messages, to tell how a turn went.
func logConversation(t *testing.T, s *stack, conv string) {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT turn, seq, role, left(content, 300), tool_name, tool_status
		FROM messages WHERE conversation_id = $1 ORDER BY turn, seq`, conv)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var turn, seq int
		var role, content, tool, status string
		require.NoError(t, rows.Scan(&turn, &seq, &role, &content, &tool, &status))
		t.Logf("%s turn %d #%d %s %s %s: %s", conv, turn, seq, role, tool, status, content)
	}
}
