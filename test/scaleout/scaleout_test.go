// Package scaleout tests the production topology on one machine with real processes: a Temporal
// server of its own persisting to PostgreSQL (the production persistence), the gateway API, the
// orchestrator and ERP domain workers, all on one private PostgreSQL cluster. In the scale-out
// test one orchestrator and one domain worker are killed with SIGKILL in the middle of the load;
// in the restart test PostgreSQL itself restarts while turns are in flight; in the at-most-once
// test the worker of a third-party MCP server's writing tool dies during a call. No turn may be
// lost and no side effect duplicated.
package scaleout

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"mcp-platform/internal/testutil/fakeopenai"
	"mcp-platform/platform/platformtest"
)

// turns is the load: chat turns, each creating one invoice.
const turns = 24

const jwtSecret = "scale-out-test-secret-0123456789abcdef"

// codecKeys is the processes' payload codec key (production requires one).
const codecKeys = "scaleout:c2NhbGUtb3V0LXRlc3QtcGF5bG9hZC1jb2RlYy1rZXk="

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the binary as its own process group; the test stops it with SIGINT at the end.
func start(t *testing.T, bin, name string, env []string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start(), name)
	p := &proc{name: name, cmd: cmd, log: logPath}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			lines := strings.Split(string(b), "\n")
			t.Logf("--- last lines of %s:\n%s", name, strings.Join(lines[max(0, len(lines)-15):], "\n"))
		}
	})
	return p
}

// kill ends the process with SIGKILL, as a crash would.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL))
	_ = p.cmd.Wait()
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 90*time.Second, 200*time.Millisecond, "%s never became ready", url)
}

var turnMarker = regexp.MustCompile(`invoice #(\d+) of run (\w+)`)

// model answers like an LLM that creates the invoice it is asked for, then confirms.
func model(request map[string]any) fakeopenai.Reply {
	msgs := request["messages"].([]any)
	last := msgs[len(msgs)-1].(map[string]any)
	if last["role"] == "tool" {
		return fakeopenai.Reply{Text: "The invoice is created.", Delay: 50 * time.Millisecond}
	}
	m := turnMarker.FindStringSubmatch(fmt.Sprint(last["content"]))
	args := fmt.Sprintf(`{"customer": "C001", "items": [{"description": "Scale-out run %s turn %s", "quantity": 1, "unit_price": 10}]}`, m[2], m[1])
	return fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{{Name: "erp__create_invoice", Arguments: args}}, Delay: 150 * time.Millisecond}
}

func TestScaleOutWithCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nine processes")
	}
	s := launch(t, topology{apis: 2, orchestrators: 2, erpWorkers: 2, model: model})
	apis, token, tc, db := s.apis, s.token, s.temporal, s.pool
	orch1, erp1 := s.orchestrators[0], s.erpWorkers[0]

	run := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	began := time.Now()
	type started struct{ conv, workflow string }
	results := make([]started, turns)
	var wg sync.WaitGroup
	killed := make(chan struct{})
	for i := range turns {
		if i == turns/3 {
			orch1.kill(t)
			erp1.kill(t)
			close(killed)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, body := platformtest.Do(t, apis[i%2], http.MethodPost, "/chat", token,
				map[string]any{"message": fmt.Sprintf("please create invoice #%d of run %s", i, run)})
			require.Equal(t, http.StatusAccepted, code, body)
			results[i] = started{body["conversation_id"].(string), body["workflow_id"].(string)}
		}()
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	<-killed

	// The event stream works from the API process that did not start the turn.
	crossStream := streamUntilDone(t, apis[1], token, results[0].conv)

	completed := 0
	for _, r := range results {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		var res map[string]any
		err := tc.GetWorkflow(ctx, r.workflow, "").Get(ctx, &res)
		cancel()
		require.NoError(t, err, r.workflow)
		if res["status"] == "completed" {
			completed++
		}
	}
	elapsed := time.Since(began)
	recovered := 0
	for _, r := range results {
		if timedOut(t, tc, r.workflow) {
			recovered++
		}
	}

	var invoices, distinct int
	require.NoError(t, db.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT d.description) FROM erp.invoice_lines d
		WHERE d.description LIKE $1`, "Scale-out run "+run+" turn %").Scan(&invoices, &distinct))
	var dupMessages int
	require.NoError(t, db.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT conversation_id, turn, seq FROM messages
		GROUP BY 1, 2, 3 HAVING count(*) > 1) d`).Scan(&dupMessages))
	var perConversation []int
	rows, err := db.Query(context.Background(), `SELECT count(*) FROM messages GROUP BY conversation_id`)
	require.NoError(t, err)
	for rows.Next() {
		var n int
		require.NoError(t, rows.Scan(&n))
		perConversation = append(perConversation, n)
	}
	rows.Close()

	t.Logf("scale-out: turns=%d completed=%d lost=%d invoices=%d duplicates=%d killed=[orchestrator-1 erp-1] (SIGKILL) "+
		"turns recovered from a killed worker=%d elapsed=%s cross-process SSE events=%d",
		turns, completed, turns-completed, invoices, invoices-distinct, recovered, elapsed.Round(time.Second), crossStream)
	require.Equal(t, turns, completed, "no turn lost")
	require.Equal(t, turns, distinct, "every turn created its invoice")
	require.Equal(t, turns, invoices, "no invoice created twice")
	require.Zero(t, dupMessages)
	for _, n := range perConversation {
		require.Equal(t, 4, n, "user, assistant with the tool call, tool result, answer")
	}
}

// timedOut reports whether a turn's history shows a task that timed out: work in flight on a
// killed worker that Temporal handed to another one.
func timedOut(t *testing.T, tc client.Client, workflowID string) bool {
	t.Helper()
	it := tc.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
			return true
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if e.GetActivityTaskStartedEventAttributes().GetAttempt() > 1 {
				return true
			}
		}
	}
	return false
}

// streamUntilDone reads a conversation's SSE stream until its turn ends and returns how many
// events it saw.
func streamUntilDone(t *testing.T, api, token, conv string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api+"/conversations/"+conv+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e struct{ Type string }
		if json.Unmarshal([]byte(line), &e) != nil || e.Type == "" {
			continue
		}
		n++
		if e.Type == "turn_completed" || e.Type == "turn_failed" {
			return n
		}
	}
	t.Fatalf("stream on %s ended before the turn did (%d events)", api, n)
	return n
}
