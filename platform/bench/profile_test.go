package bench

import (
	"bytes"
	"context"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/stretchr/testify/require"
)

// busy is an operation that spends CPU for about d.
func busy(d time.Duration) op {
	return func(context.Context, int) error {
		for end := time.Now().Add(d); time.Now().Before(end); {
		}
		return nil
	}
}

func TestSideProfiler(t *testing.T) {
	t.Run("OK each side's rounds are profiled apart and merged into one profile", func(t *testing.T) {
		var plat, fl bytes.Buffer
		prof := newSideProfiler(&plat, &fl)
		alternate(context.Background(), 1, 0, 2, prof, nil, busy(30*time.Millisecond), busy(30*time.Millisecond))
		require.Len(t, prof.rounds[sidePlatform], 2, "each round of a side is a profile of its own")
		require.Len(t, prof.rounds[sideFloor], 2)
		require.NoError(t, prof.write())
		for name, buf := range map[string]*bytes.Buffer{"platform": &plat, "floor": &fl} {
			p, err := profile.Parse(buf)
			require.NoError(t, err, name)
			require.Equal(t, "cpu", p.SampleType[len(p.SampleType)-1].Type, name)
		}
	})

	t.Run("OK a side without a writer is not profiled", func(t *testing.T) {
		var plat bytes.Buffer
		prof := newSideProfiler(&plat, nil)
		alternate(context.Background(), 1, 0, 1, prof, nil, busy(time.Millisecond), busy(time.Millisecond))
		require.NoError(t, prof.write())
		require.NotZero(t, plat.Len())
		require.Empty(t, prof.rounds[sideFloor])
	})

	t.Run("Error another CPU profile is running", func(t *testing.T) {
		var other bytes.Buffer
		require.NoError(t, pprof.StartCPUProfile(&other))
		defer pprof.StopCPUProfile()
		var plat bytes.Buffer
		prof := newSideProfiler(&plat, nil)
		ran := false
		prof.round(sidePlatform, func() { ran = true })
		require.True(t, ran, "the round runs unprofiled")
		require.ErrorContains(t, prof.write(), "start the CPU profile")
	})
}
