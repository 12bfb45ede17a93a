package temporalserver

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

const taskQueue = "temporalserver-test"

func greet(_ context.Context, name string) (string, error) {
	return "hello " + name, nil
}

// greetWorkflow upserts the given Keyword search attributes and returns the
// result of the greet activity.
func greetWorkflow(ctx workflow.Context, name string, keywords map[string]string) (string, error) {
	var updates []temporal.SearchAttributeUpdate
	for k, v := range keywords {
		updates = append(updates, temporal.NewSearchAttributeKeyKeyword(k).ValueSet(v))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		return "", err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, greet, name).Get(ctx, &out)
	return out, err
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

func dial(t *testing.T, s *Server) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  s.Address(),
		Namespace: s.Namespace(),
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	require.NoError(t, err)
	return c
}

// runGreet runs greetWorkflow to completion with a worker and returns its run ID.
func runGreet(ctx context.Context, t *testing.T, c client.Client, id string, keywords map[string]string) string {
	t.Helper()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(greetWorkflow)
	w.RegisterActivity(greet)
	require.NoError(t, w.Start())
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, greetWorkflow, "world", keywords)
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, "hello world", out)

	// A rejected search attribute upsert fails the workflow task, which the
	// server retries; the run then still completes. Make sure that did not happen.
	it := c.GetWorkflowHistory(ctx, id, run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		require.NotEqual(t, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED, ev.GetEventType(),
			"workflow task failed: %v", ev.GetWorkflowTaskFailedEventAttributes())
	}
	return run.GetRunID()
}

func requireKeyword(ctx context.Context, t *testing.T, c client.Client, id, runID, name, want string) {
	t.Helper()
	desc, err := c.DescribeWorkflowExecution(ctx, id, runID)
	require.NoError(t, err)
	info := desc.GetWorkflowExecutionInfo()
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, info.GetStatus())
	p := info.GetSearchAttributes().GetIndexedFields()[name]
	require.NotNil(t, p, "search attribute %s not set", name)
	var got string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &got))
	require.Equal(t, want, got)
}

func TestServerWithUIPersistsAcrossRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	goroutinesBefore := runtime.NumGoroutine()

	dbFile := filepath.Join(t.TempDir(), "data", "temporal.db") // directory created by Start
	uiPort, err := freePort(loopback)
	require.NoError(t, err)
	opts := Options{
		DatabaseFile:     dbFile,
		UIPort:           uiPort,
		SearchAttributes: map[string]enumspb.IndexedValueType{"TurnStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD},
		Logger:           testLogger(),
	}

	began := time.Now()
	srv, err := Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	t.Logf("first Start (new file, UI): %v", time.Since(began).Round(time.Millisecond))
	require.FileExists(t, dbFile)
	require.Equal(t, "default", srv.Namespace())
	require.NotEmpty(t, srv.UIURL())

	c := dial(t, srv)
	runID := runGreet(ctx, t, c, "greet-1", map[string]string{"TurnStatus": "done"})
	requireKeyword(ctx, t, c, "greet-1", runID, "TurnStatus", "done")
	// Commits go to a write-ahead log (journal_mode=wal), which exists while the file is open.
	require.FileExists(t, dbFile+"-wal")

	resp, err := http.Get(srv.UIURL())
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	c.Close()
	srv.Stop()
	srv.Stop() // idempotent
	_, err = http.Get(srv.UIURL())
	require.Error(t, err, "UI still answers after Stop")

	// Restart on the same file, without UI and with one more search attribute,
	// which has to be added to the existing namespace.
	opts.UIPort = 0
	opts.SearchAttributes = map[string]enumspb.IndexedValueType{
		"TurnStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"UserId":     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
	began = time.Now()
	srv2, err := Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(srv2.Stop)
	t.Logf("second Start (existing file, adds a search attribute): %v", time.Since(began).Round(time.Millisecond))
	require.Empty(t, srv2.UIURL())

	c2 := dial(t, srv2)
	defer c2.Close()
	requireKeyword(ctx, t, c2, "greet-1", runID, "TurnStatus", "done")

	sa, err := c2.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: srv2.Namespace()})
	require.NoError(t, err)
	require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD, sa.GetCustomAttributes()["TurnStatus"])
	require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD, sa.GetCustomAttributes()["UserId"])

	// The newly added attribute is usable right after Start.
	runID2 := runGreet(ctx, t, c2, "greet-2", map[string]string{"UserId": "u-1"})
	requireKeyword(ctx, t, c2, "greet-2", runID2, "UserId", "u-1")

	c2.Close()
	srv2.Stop()
	time.Sleep(time.Second)
	t.Logf("goroutines: %d before first Start, %d after last Stop", goroutinesBefore, runtime.NumGoroutine())
}
