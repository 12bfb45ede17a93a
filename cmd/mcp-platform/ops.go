package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// runHealthcheck probes a server's health endpoint and exits 0 when it answers 200: container
// health checks use it, since the runtime image has no curl.
func runHealthcheck(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("healthcheck", "healthcheck [-url http://127.0.0.1:8000/readyz] [-timeout 3s]")
	url := fs.String("url", "http://127.0.0.1:8000/readyz", "endpoint to probe")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usageError{fmt.Sprintf("healthcheck: invalid -url %q", *url)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s did not answer: %w", *url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", *url, resp.Status)
	}
	fmt.Fprintln(c.stdout, "ok")
	return nil
}
