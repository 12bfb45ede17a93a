package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"mcp-platform/internal/events"
)

// SSEFigures are the delivery latencies of the gateway's event stream: from just before an
// event is written (the insert and its NOTIFY) to the moment a client has read it.
type SSEFigures struct {
	// Streams is how many streams were open, one per conversation.
	Streams int `json:"streams"`
	// Published and Received count the events written and those every stream delivered.
	Published int     `json:"published"`
	Received  int     `json:"received"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
}

// sseEvent is one message read off a stream.
type sseEvent struct {
	id   int64
	at   time.Time
	name string
}

// readSSE parses a text/event-stream and calls got for each message with an id, stamped with
// the time its blank line was read. It returns when the stream ends or fails.
func readSSE(r io.Reader, got func(sseEvent)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var cur sseEvent
	var hasID bool
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if hasID {
				cur.at = time.Now()
				got(cur)
			}
			cur, hasID = sseEvent{}, false
		case strings.HasPrefix(line, "id:"):
			id, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "id:")), 10, 64)
			if err == nil {
				cur.id, hasID = id, true
			}
		case strings.HasPrefix(line, "event:"):
			cur.name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		}
	}
	return sc.Err()
}

// openStream follows a conversation's events and sends what it reads to got until ctx ends.
// ready is closed once the server answered with the stream.
func (c *platformClient) openStream(ctx context.Context, conv string, got func(sseEvent)) (<-chan error, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.api+"/conversations/"+conv+"/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open event stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("open event stream: status %d", resp.StatusCode)
	}
	done := make(chan error, 1)
	go func() {
		defer resp.Body.Close()
		done <- readSSE(resp.Body, got)
	}()
	return done, nil
}

// sseOptions say how many streams to open and events to write.
type sseOptions struct {
	streams, perStream int
	// gap is the pause between two writes, so that the figure is delivery latency, not a
	// queue's.
	gap time.Duration
}

// measureSSE opens a stream on each of n new conversations, waits until each has replayed its
// history (so it is subscribed), then writes delta events round-robin through the event store,
// as the workers do, and measures when each is read.
func measureSSE(ctx context.Context, c *platformClient, store *events.Store, o sseOptions) (SSEFigures, error) {
	f := SSEFigures{Streams: o.streams}
	convs := make([]string, o.streams)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range convs {
		g.Go(func() error {
			t, err := c.chat(gctx, "hello")
			if err != nil {
				return fmt.Errorf("create conversation for a stream: %w", err)
			}
			convs[i] = t.ConversationID
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return f, err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	received := map[int64]time.Time{}
	replayed := make([]chan struct{}, o.streams)
	for i, conv := range convs {
		replayed[i] = make(chan struct{})
		var once sync.Once
		if _, err := c.openStream(sctx, conv, func(e sseEvent) {
			once.Do(func() { close(replayed[i]) })
			mu.Lock()
			received[e.id] = e.at
			mu.Unlock()
		}); err != nil {
			return f, err
		}
	}
	for i := range replayed {
		select {
		case <-replayed[i]:
		case <-time.After(30 * time.Second):
			return f, fmt.Errorf("stream %d replayed nothing within 30s", i)
		case <-ctx.Done():
			return f, ctx.Err()
		}
	}

	written := map[int64]time.Time{}
	for n := range o.streams * o.perStream {
		conv := convs[n%o.streams]
		t := time.Now()
		id, err := store.Publish(ctx, conv, 1, events.DeltaData{Step: 1, Attempt: 1, Text: "bench "})
		if err != nil {
			return f, fmt.Errorf("write event: %w", err)
		}
		written[id] = t
		f.Published++
		select {
		case <-time.After(o.gap):
		case <-ctx.Done():
			return f, ctx.Err()
		}
	}
	// Wait for the stragglers, at most a few seconds.
	for wait := time.Now().Add(5 * time.Second); time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		all := true
		for id := range written {
			if _, ok := received[id]; !ok {
				all = false
				break
			}
		}
		mu.Unlock()
		if all {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	s := &samples{}
	for id, t := range written {
		if at, ok := received[id]; ok {
			s.latencies = append(s.latencies, at.Sub(t))
		}
	}
	fig := s.figures()
	f.Received, f.P50Ms, f.P99Ms, f.MaxMs = fig.Count, fig.P50Ms, fig.P99Ms, fig.MaxMs
	if f.Received < f.Published {
		return f, fmt.Errorf("the streams delivered %d of %d events", f.Received, f.Published)
	}
	return f, nil
}
