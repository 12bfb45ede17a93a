package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
)

func TestFloorWorkflows(t *testing.T) {
	for _, tt := range []struct {
		name string
		wf   any
		want int
	}{{"OK the turn's floor runs three activities", FloorTurn, 3}, {"OK the tool call's floor runs one", FloorTool, 1}} {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			// A busy machine must not pass for a deadlocked workflow.
			env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
			env.RegisterActivity(&floorActivities{})
			env.ExecuteWorkflow(tt.wf, FloorInput{ToolQueue: floorToolQueue})
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			var res FloorResult
			require.NoError(t, env.GetWorkflowResult(&res))
			require.Equal(t, tt.want, res.Steps)
		})
	}
}
