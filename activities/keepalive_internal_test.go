package activities

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
)

func TestKeepAlive(t *testing.T) {
	tests := []struct {
		name string
		// runs is how long the activity works between keepAlive and stop.
		runs time.Duration
		want int
	}{
		// A heartbeat sent as the activity returns is cut off by the SDK cancelling the
		// activity's context: a quick activity sends none.
		{"OK a quick activity sends no heartbeat", 50 * time.Millisecond, 0},
		{"OK a long activity heartbeats, never after stop", HeartbeatEvery + HeartbeatEvery/2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			var mu sync.Mutex
			beats, late, stopped := 0, 0, false
			env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) {
				mu.Lock()
				defer mu.Unlock()
				beats++
				if stopped {
					late++
				}
			})
			env.RegisterActivityWithOptions(func(ctx context.Context) error {
				stop := keepAlive(ctx)
				time.Sleep(tt.runs)
				stop()
				mu.Lock()
				stopped = true
				mu.Unlock()
				return nil
			}, activity.RegisterOptions{Name: "Work"})
			_, err := env.ExecuteActivity("Work")
			require.NoError(t, err)

			mu.Lock()
			defer mu.Unlock()
			require.Equal(t, tt.want, beats)
			require.Zero(t, late, "no heartbeat once stop has returned")
		})
	}
}
