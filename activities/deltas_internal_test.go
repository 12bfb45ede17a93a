package activities

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// published records what a deltaBuffer publishes.
type published struct {
	mu     sync.Mutex
	pieces []string
}

func (p *published) add(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pieces = append(p.pieces, text)
}

func (p *published) get() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.pieces...)
}

func TestDeltaBuffer(t *testing.T) {
	t.Run("OK waiting text is published when due, without more text or Flush", func(t *testing.T) {
		var p published
		b := newDeltaBuffer(p.add)
		b.Add("Hel")
		b.Add("lo")
		require.Eventually(t, func() bool { return len(p.get()) == 1 }, 10*time.Second, time.Millisecond)
		require.Equal(t, []string{"Hello"}, p.get())
		b.Flush()
		require.Equal(t, []string{"Hello"}, p.get(), "nothing is left to flush")
	})

	t.Run("OK a full buffer is published at once, in order", func(t *testing.T) {
		var p published
		b := newDeltaBuffer(p.add)
		big := strings.Repeat("x", deltaMaxBytes)
		b.Add(big)
		require.Equal(t, []string{big}, p.get(), "published by Add itself")
		b.Add("tail")
		b.Flush()
		require.Equal(t, []string{big, "tail"}, p.get())
	})

	t.Run("OK nothing is published after Flush", func(t *testing.T) {
		var p published
		b := newDeltaBuffer(p.add)
		b.Add("a")
		b.Flush()
		b.Add("late")
		b.Flush()
		require.Equal(t, []string{"a"}, p.get())
	})

	t.Run("OK Close hands back the waiting text unpublished, and stops the buffer", func(t *testing.T) {
		var p published
		b := newDeltaBuffer(p.add)
		big := strings.Repeat("x", deltaMaxBytes)
		b.Add(big)
		b.Add("tail")
		require.Equal(t, "tail", b.Close())
		b.Add("late")
		require.Empty(t, b.Close())
		time.Sleep(2 * deltaEvery) // a timer set by the first Add would have fired
		require.Equal(t, []string{big}, p.get(), "only what was full was published")
	})

	t.Run("OK the wait grows with the stream's age", func(t *testing.T) {
		b := newDeltaBuffer(func(string) {})
		start := time.Now()
		b.started = start
		require.Equal(t, deltaEvery, b.wait(start))
		require.Equal(t, deltaEvery, b.wait(start.Add(500*time.Millisecond)))
		require.Equal(t, 2*time.Second/deltaShare, b.wait(start.Add(2*time.Second)))
	})
}
