package bench

import (
	"context"
	"sync"
	"time"
)

// op is one measured operation; worker is the index of the client running it, so an operation
// can keep per-client state (an MCP session).
type op func(ctx context.Context, worker int) error

// closedLoop runs op from c clients, each starting its next operation when the previous one
// ended, until d has passed; every client completes at least one operation. An operation
// already started when d ends finishes and counts. The wall time runs until the last one ended.
func closedLoop(ctx context.Context, c int, d time.Duration, run op) *samples {
	began := time.Now()
	deadline := began.Add(d)
	results := make([]samples, c)
	var wg sync.WaitGroup
	for w := range c {
		wg.Go(func() {
			res := &results[w]
			for first := true; first || time.Now().Before(deadline); first = false {
				if ctx.Err() != nil {
					return
				}
				t := time.Now()
				if err := run(ctx, w); err != nil {
					if ctx.Err() != nil {
						return // stopped, not failed
					}
					res.addError(err)
					continue
				}
				res.latencies = append(res.latencies, time.Since(t))
			}
		})
	}
	wg.Wait()
	total := &samples{}
	for i := range results {
		total.merge(&results[i])
	}
	total.wall = time.Since(began)
	return total
}
