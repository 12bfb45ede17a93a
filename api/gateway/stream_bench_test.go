package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mcp-platform/api/gateway"
	"mcp-platform/authz"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/testutil/dbtest"
)

// aliceVerifier authenticates every request as alice, who owns dbtest's conversations: the
// benchmark measures the stream, not token checks.
type aliceVerifier struct{}

func (aliceVerifier) Verify(context.Context, string) (authz.Principal, error) {
	return authz.Principal{Subject: "alice", Roles: []string{"employee"}}, nil
}

// BenchmarkStreamDelivery measures how long an event takes from Publish to a client of the SSE
// stream, with 50 streams open (one per conversation) on a real Postgres and hub, and reports
// the p50 and p99 of those latencies (ms_p50, ms_p99). In "one", each iteration publishes one
// delta to the next conversation and waits until its stream has it; in "burst", each iteration
// publishes one delta to each of the 50 conversations at once and waits for all of them.
//
//	go test ./api/gateway -run '^$' -bench StreamDelivery -benchtime 200x
func BenchmarkStreamDelivery(b *testing.B) {
	b.Run("one", func(b *testing.B) { benchmarkStreamDelivery(b, 1) })
	b.Run("burst", func(b *testing.B) { benchmarkStreamDelivery(b, 50) })
}

// benchmarkStreamDelivery opens 50 streams and publishes to perRound of them each iteration.
func benchmarkStreamDelivery(b *testing.B, perRound int) {
	const streams = 50
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := dbtest.New(b)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := events.NewHub(db.Pool, logger)
	go hub.Run(ctx)
	store := events.NewStore(db.Pool)
	_, handler := gateway.New(gateway.Deps{Verifier: aliceVerifier{}, Conversations: conversations.NewStore(db.Pool),
		Events: store, Hub: hub, Logger: logger})
	srv := httptest.NewServer(handler)
	defer srv.Close()
	defer cancel() // the streams end before the server closes, which waits for them

	var mu sync.Mutex
	var latencies []time.Duration
	received := make(chan struct{}, streams)
	convs := make([]string, streams)
	for i := range convs {
		convs[i] = db.Conversation(b)
		go follow(ctx, b, srv.URL, convs[i], func(sent time.Time) {
			mu.Lock()
			latencies = append(latencies, time.Since(sent))
			mu.Unlock()
			received <- struct{}{}
		})
	}
	// One event per stream before measuring: every stream is open (the server answers with
	// its first event) and follows live.
	round(b, store, convs, received)
	mu.Lock()
	latencies = latencies[:0]
	mu.Unlock()

	b.ResetTimer()
	for i := range b.N {
		from := i * perRound % streams
		round(b, store, convs[from:from+perRound], received)
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	q := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "ms_p50")
	b.ReportMetric(q(0.99), "ms_p99")
	b.ReportMetric(0, "ns/op")
}

// round publishes one delta to each conversation concurrently, its text the time it was
// published, and waits until every stream has received one.
func round(b *testing.B, store *events.Store, convs []string, received <-chan struct{}) {
	var wg sync.WaitGroup
	for _, conv := range convs {
		wg.Go(func() {
			sent := strconv.FormatInt(time.Now().UnixNano(), 10)
			_, err := store.Publish(context.Background(), conv, 1, events.DeltaData{Step: 1, Attempt: 1, Text: sent})
			if err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	timeout := time.After(time.Minute)
	for range convs {
		select {
		case <-received:
		case <-timeout:
			b.Fatal("a stream did not receive its event")
		}
	}
}

// follow reads the conversation's stream and calls got with the publish time of every delta.
func follow(ctx context.Context, b *testing.B, url, conv string, got func(sent time.Time)) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/conversations/"+conv+"/events", nil)
	if err != nil {
		b.Error(err)
		return
	}
	req.Header.Set("Authorization", "Bearer alice")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			b.Error(err)
		}
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e gateway.StreamEvent
		var d events.DeltaData
		if json.Unmarshal([]byte(line), &e) != nil || e.Type != events.TypeDelta || json.Unmarshal(e.Data, &d) != nil {
			continue
		}
		if n, err := strconv.ParseInt(d.Text, 10, 64); err == nil {
			got(time.Unix(0, n))
		}
	}
}
