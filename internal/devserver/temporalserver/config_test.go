package temporalserver

import (
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
)

// TestDynamicConfig reads the dev server's settings as the server does, so that a value of the
// wrong type (which the server would ignore for its default) fails here.
func TestDynamicConfig(t *testing.T) {
	c := dynamicconfig.NewCollection(dynamicConfig(), log.NewNoopLogger())
	c.Start()
	defer c.Stop()
	for _, typ := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		require.Equal(t, 1, dynamicconfig.MatchingNumTaskqueueReadPartitions.Get(c)("default", "orchestrator", typ), "one read partition, as temporal server start-dev")
		require.Equal(t, 1, dynamicconfig.MatchingNumTaskqueueWritePartitions.Get(c)("default", "orchestrator", typ), "one write partition")
	}
	require.Equal(t, 10000, dynamicconfig.FrontendPersistenceMaxQPS.Get(c)())
	require.Equal(t, 45000, dynamicconfig.HistoryPersistenceMaxQPS.Get(c)())
	require.Equal(t, 8192, dynamicconfig.HistoryCacheHostLevelMaxSize.Get(c)())
	for _, s := range []dynamicconfig.DurationPropertyFn{dynamicconfig.TransferProcessorUpdateAckInterval.Get(c),
		dynamicconfig.VisibilityProcessorUpdateAckInterval.Get(c), dynamicconfig.TimerProcessorUpdateAckInterval.Get(c)} {
		require.Equal(t, queueCheckpointInterval, s(), "the history queues checkpoint every second, not every 30s")
	}
}
