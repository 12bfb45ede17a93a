package activities

import (
	"strings"
	"sync"
	"time"
)

// Delta coalescing: the text an LLM streams is published in few delta events, not one per
// token, so that a long answer is not hundreds of inserts and notifications.
const (
	// deltaEvery is how long streamed text may wait before it is published, at first.
	deltaEvery = 40 * time.Millisecond
	// deltaShare bounds the wait later in a long answer: at most the stream's age divided by
	// it, so that a slow 2,000-token answer publishes tens of deltas, not a thousand (about
	// deltaShare per doubling of the stream's age, after the first second).
	deltaShare = 20
	// deltaMaxBytes is how much text is published at once, at most (plus the piece that
	// crossed it): a fast stream is cut by size, and every delta fits in a notification.
	deltaMaxBytes = 1024
)

// deltaBuffer collects an LLM step's streamed text and publishes it in order: when deltaMaxBytes
// are waiting, when the oldest waiting text is due, and on Flush (before the step's message
// event, so that no delta follows it). It is safe for concurrent use; publish is never called
// concurrently with itself.
type deltaBuffer struct {
	publish func(text string)
	now     func() time.Time

	// publishing is held from taking the text until it is published, so pieces go out in order.
	publishing sync.Mutex

	mu      sync.Mutex
	text    strings.Builder
	started time.Time // when the stream began
	timer   *time.Timer
	closed  bool
}

// newDeltaBuffer returns a buffer that hands coalesced text to publish.
func newDeltaBuffer(publish func(text string)) *deltaBuffer {
	return &deltaBuffer{publish: publish, now: time.Now}
}

// Add appends a streamed piece of text.
func (b *deltaBuffer) Add(piece string) {
	if piece == "" {
		return
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	now := b.now()
	if b.started.IsZero() {
		b.started = now
	}
	b.text.WriteString(piece)
	full := b.text.Len() >= deltaMaxBytes
	if !full && b.timer == nil {
		b.timer = time.AfterFunc(b.wait(now), b.flushDue)
	}
	b.mu.Unlock()
	if full {
		b.flush()
	}
}

// wait is how long text that starts waiting now may wait. Callers hold b.mu.
func (b *deltaBuffer) wait(now time.Time) time.Duration {
	return max(deltaEvery, now.Sub(b.started)/deltaShare)
}

// flushDue publishes the waiting text when its time has come.
func (b *deltaBuffer) flushDue() { b.flush() }

// flush publishes the text waiting now, if any.
func (b *deltaBuffer) flush() {
	b.publishing.Lock()
	defer b.publishing.Unlock()
	b.mu.Lock()
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	text := b.text.String()
	b.text.Reset()
	b.mu.Unlock()
	if text != "" {
		b.publish(text)
	}
}

// Flush publishes what is waiting and stops the buffer: later pieces are dropped. When it
// returns, every piece added before has been published.
func (b *deltaBuffer) Flush() {
	if text := b.Close(); text != "" {
		b.publish(text)
	}
}

// Close stops the buffer and returns the text still waiting, unpublished, for the caller to
// publish with what follows it (the step's message, in the same write); later pieces are
// dropped. When it returns, every piece added before is published or returned.
func (b *deltaBuffer) Close() string {
	b.publishing.Lock()
	defer b.publishing.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	text := b.text.String()
	b.text.Reset()
	return text
}
