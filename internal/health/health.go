// Package health checks the platform's dependencies (Postgres, Temporal) for the /health
// endpoints and the readiness of each role (in dev, also that its domain workers are live).
package health

import (
	"context"
	"sync"
	"time"
)

// Check is one dependency probe. Run returns nil when the dependency answers.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
	// Failure is what the health endpoints say when Run fails (default: "<Name> unreachable").
	// It is shown to unauthenticated callers: a short, generic sentence.
	Failure string
}

// Result is the outcome of one check.
type Result struct {
	Name  string
	OK    bool
	Error string
	Took  time.Duration
}

// RunAll runs the checks concurrently, each bounded by timeout, and returns their results in
// the order given and whether all passed. Error texts are short, generic descriptions so that
// nothing internal (hosts, credentials) leaks to unauthenticated callers.
func RunAll(ctx context.Context, timeout time.Duration, checks []Check) ([]Result, bool) {
	results := make([]Result, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			start := time.Now()
			err := c.Run(cctx)
			results[i] = Result{Name: c.Name, OK: err == nil, Took: time.Since(start)}
			if err != nil {
				results[i].Error = c.Name + " unreachable"
				if c.Failure != "" {
					results[i].Error = c.Failure
				}
			}
		}()
	}
	wg.Wait()
	all := true
	for _, r := range results {
		all = all && r.OK
	}
	return results, all
}
