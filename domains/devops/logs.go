package devops

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// LogSource reads the last lines of a container's log.
type LogSource interface {
	// TailLogs returns up to tail of the last lines of the current (or, for a crash-looping
	// container, the last finished) run of container in pod, oldest first, each starting with
	// its RFC 3339 timestamp. Errors are the Kubernetes API's: BadRequest when the container
	// has not started, NotFound when the pod is gone, transport errors when unreachable.
	TailLogs(ctx context.Context, pod *corev1.Pod, container string, tail int) ([]string, error)
}

// Limits on what a log read returns to the LLM.
const (
	maxLogBytes  = 1 << 20
	maxLineBytes = 2048
)

// KubeLogs reads logs through the cluster's API, as kubectl logs --tail --timestamps does.
type KubeLogs struct {
	Client kubernetes.Interface
}

// TailLogs streams the log's tail from the API server.
func (k KubeLogs) TailLogs(ctx context.Context, pod *corev1.Pod, container string, tail int) ([]string, error) {
	lines, limit := int64(tail), int64(maxLogBytes)
	opts := &corev1.PodLogOptions{Container: container, TailLines: &lines, LimitBytes: &limit, Timestamps: true}
	rc, err := k.Client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, opts).Stream(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxLogBytes))
	if err != nil {
		return nil, err
	}
	return lastLines(string(data), tail), nil
}

// lastLines splits a log into at most n last lines, each cut to maxLineBytes.
func lastLines(data string, n int) []string {
	data = strings.TrimRight(data, "\n")
	if data == "" {
		return []string{}
	}
	all := strings.Split(data, "\n")
	if len(all) > n {
		all = all[len(all)-n:]
	}
	out := make([]string, len(all))
	for i, l := range all {
		l = strings.TrimSuffix(l, "\r")
		if len(l) > maxLineBytes {
			l = strings.ToValidUTF8(l[:maxLineBytes], "") + " …(truncated)"
		}
		out[i] = l
	}
	return out
}

// syntheticLogs invents the logs of the simulated cluster's pods: plausible lines for the kind
// of service the pod runs, with levels and timestamps since its container started. A line's
// content depends only on the pod and its position, so reads are repeatable and a later read
// shows the same lines plus newer ones.
type syntheticLogs struct {
	now func() time.Time
}

// Spacing of synthetic lines: startup lines come quickly, then one line about every gap.
const (
	startupSpacing = 137 * time.Millisecond
	startupLength  = 2 * time.Second
)

func (s syntheticLogs) TailLogs(ctx context.Context, pod *corev1.Pod, container string, tail int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	app := podDeployment(pod)
	if app == "" {
		app = container
	}
	image := ""
	for _, c := range pod.Spec.Containers {
		if c.Name == container {
			image = c.Image
		}
	}
	version := "latest"
	if i := strings.LastIndex(image, ":"); i >= 0 && !strings.Contains(image[i:], "/") {
		version = image[i+1:]
	}
	p := profileFor(app)
	var cs corev1.ContainerStatus
	for _, c := range pod.Status.ContainerStatuses {
		if c.Name == container {
			cs = c
		}
	}
	startup := []string{
		fmt.Sprintf("starting %s version=%s pod=%s", app, version, pod.Name),
		fmt.Sprintf("loaded configuration path=/etc/%s/config.yaml", app),
		p.ready,
		"ready to serve",
	}

	// A crash-looping container shows the run that just failed.
	if last := cs.LastTerminationState.Terminated; cs.State.Waiting != nil && last != nil {
		lines := crashRun(startup[:2], app, pod.Namespace, last.StartedAt.Time, last.ExitCode)
		return lastLines(strings.Join(lines, "\n"), tail), nil
	}

	started := pod.CreationTimestamp.Time
	if pod.Status.StartTime != nil {
		started = pod.Status.StartTime.Time
	}
	if r := cs.State.Running; r != nil {
		started = r.StartedAt.Time
	}
	seed := hash64(pod.Namespace, pod.Name, started.UTC().Format(time.RFC3339))
	elapsed := s.now().Sub(started)
	total := 0
	switch {
	case elapsed < 0:
	case elapsed < startupLength:
		total = min(len(startup), int(elapsed/startupSpacing)+1)
	default:
		total = len(startup) + int((elapsed-startupLength)/p.gap)
	}
	first := max(0, total-tail)
	lines := make([]string, 0, total-first)
	for i := first; i < total; i++ {
		if i < len(startup) {
			lines = append(lines, logLine(started.Add(time.Duration(i)*startupSpacing), "INFO", startup[i]))
			continue
		}
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		n := i - len(startup)
		at := started.Add(startupLength + time.Duration(n)*p.gap + time.Duration(r.Int64N(int64(p.gap))))
		level, msg := p.line(r)
		lines = append(lines, logLine(at, level, msg))
	}
	return lines, nil
}

// crashRun is the log of a run that failed to reach its dependency and exited.
func crashRun(startup []string, app, ns string, at time.Time, exitCode int32) []string {
	dep := fmt.Sprintf("%s-db.%s.svc:5432", app, ns)
	lines := []string{logLine(at, "INFO", startup[0]), logLine(at.Add(startupSpacing), "INFO", startup[1]),
		logLine(at.Add(2*startupSpacing), "INFO", "connecting to database addr="+dep)}
	at = at.Add(300 * time.Millisecond)
	for attempt := 1; attempt <= 3; attempt++ {
		at = at.Add(time.Duration(attempt) * time.Second)
		lines = append(lines, logLine(at, "WARN", fmt.Sprintf(`database connection failed attempt=%d addr=%s error="connect: connection refused"`, attempt, dep)))
	}
	lines = append(lines,
		logLine(at.Add(10*time.Millisecond), "ERROR", "giving up on database after 3 attempts"),
		logLine(at.Add(12*time.Millisecond), "FATAL", fmt.Sprintf("shutting down exit_code=%d", exitCode)))
	return lines
}

func logLine(at time.Time, level, msg string) string {
	return fmt.Sprintf("%s %-5s %s", at.UTC().Format("2006-01-02T15:04:05.000Z"), level, msg)
}

func hash64(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	// FNV barely mixes its last bytes into the low bits; finish as splitmix64 does so that
	// names differing in one trailing character look unrelated.
	x := h.Sum64()
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// logProfile is how one kind of service logs.
type logProfile struct {
	gap   time.Duration
	ready string
	info  []func(r *rand.Rand) string
	warn  []func(r *rand.Rand) string
	err   []func(r *rand.Rand) string
}

// line picks a level (about 2% errors, 7% warnings) and a message of that level.
func (p logProfile) line(r *rand.Rand) (string, string) {
	pick := func(fs []func(*rand.Rand) string) string { return fs[r.IntN(len(fs))](r) }
	switch x := r.IntN(100); {
	case x < 2:
		return "ERROR", pick(p.err)
	case x < 9:
		return "WARN", pick(p.warn)
	default:
		return "INFO", pick(p.info)
	}
}

func profileFor(app string) logProfile {
	switch {
	case strings.Contains(app, "payment"):
		return paymentProfile
	case strings.Contains(app, "web"), strings.Contains(app, "frontend"):
		return webProfile
	case strings.Contains(app, "worker"):
		return workerProfile
	case strings.Contains(app, "api"):
		return apiProfile
	case strings.Contains(app, "prometheus"), strings.Contains(app, "grafana"), strings.Contains(app, "alertmanager"):
		return monitoringProfile
	default:
		return genericProfile
	}
}

func hexID(r *rand.Rand) string { return fmt.Sprintf("%08x", r.Uint32()) }

func oneOf(r *rand.Rand, xs ...string) string { return xs[r.IntN(len(xs))] }

var apiProfile = logProfile{
	gap:   3 * time.Second,
	ready: "listening addr=:8080",
	info: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf("http request method=GET path=%s status=200 duration_ms=%d request_id=%s",
				oneOf(r, "/api/v1/orders", fmt.Sprintf("/api/v1/orders/%d", 10000+r.IntN(90000)), fmt.Sprintf("/api/v1/customers/%d", 1000+r.IntN(9000)), "/api/v1/products", "/api/v1/invoices?status=open"),
				3+r.IntN(120), hexID(r))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("http request method=POST path=/api/v1/orders status=201 duration_ms=%d request_id=%s", 20+r.IntN(200), hexID(r))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("http request method=GET path=/api/v1/orders/%d status=404 duration_ms=%d request_id=%s", 10000+r.IntN(90000), 2+r.IntN(10), hexID(r))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("http request method=GET path=/healthz status=200 duration_ms=%d", 1+r.IntN(2))
		},
	},
	warn: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf("slow request method=GET path=/api/v1/reports/monthly status=200 duration_ms=%d request_id=%s", 1500+r.IntN(3000), hexID(r))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf(`retrying call to payment-service attempt=2 error="context deadline exceeded" request_id=%s`, hexID(r))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("database pool nearly exhausted in_use=%d max=50", 45+r.IntN(5))
		},
	},
	err: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf("upstream payment-service returned 503 path=/api/v1/checkout status=502 request_id=%s", hexID(r))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf(`database query failed query=orders_by_customer error="canceling statement due to statement timeout" request_id=%s`, hexID(r))
		},
	},
}

var webProfile = logProfile{
	gap:   5 * time.Second,
	ready: "serving static assets from /srv/www, listening addr=:3000",
	info: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf("http request method=GET path=%s status=200 duration_ms=%d",
				oneOf(r, "/", "/account", "/orders", "/checkout", "/products/"+hexID(r)), 8+r.IntN(90))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("http request method=GET path=/static/js/app.%s.js status=%s duration_ms=%d", hexID(r)[:6], oneOf(r, "200", "304"), 1+r.IntN(4))
		},
	},
	warn: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf("api-server responded slowly path=/api/v1/orders duration_ms=%d", 1200+r.IntN(2500))
		},
	},
	err: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return `render failed path=/account error="upstream api-server: context deadline exceeded" status=504`
		},
	},
}

var paymentProfile = logProfile{
	gap:   8 * time.Second,
	ready: "listening addr=:8443 tls=true",
	info: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf("payment authorized payment_id=pay_%s amount=%d.%02d currency=%s", hexID(r), 5+r.IntN(900), r.IntN(100), oneOf(r, "EUR", "USD", "GBP"))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("payment captured payment_id=pay_%s duration_ms=%d", hexID(r), 80+r.IntN(400))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("webhook delivered event=%s attempt=1", oneOf(r, "payment.succeeded", "refund.created", "payment.captured"))
		},
	},
	warn: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf("payment declined payment_id=pay_%s reason=%s", hexID(r), oneOf(r, "insufficient_funds", "card_expired", "do_not_honor"))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("acquirer latency high duration_ms=%d", 2000+r.IntN(3000))
		},
	},
	err: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf(`acquirer request failed payment_id=pay_%s error="i/o timeout" will_retry=true`, hexID(r))
		},
	},
}

var workerProfile = logProfile{
	gap:   6 * time.Second,
	ready: "consuming queues=emails,invoices,exports,webhooks concurrency=8",
	info: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf("job completed queue=%s job_id=%s duration_ms=%d", oneOf(r, "emails", "invoices", "exports", "webhooks"), hexID(r), 30+r.IntN(4000))
		},
	},
	warn: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf("job retry scheduled queue=%s job_id=%s attempt=%d backoff=30s", oneOf(r, "emails", "webhooks"), hexID(r), 2+r.IntN(3))
		},
	},
	err: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf(`job failed queue=exports job_id=%s error="upload report: connection reset by peer"`, hexID(r))
		},
	},
}

var monitoringProfile = logProfile{
	gap:   45 * time.Second,
	ready: "server is ready to receive web requests addr=:9090",
	info: []func(*rand.Rand) string{
		func(r *rand.Rand) string { return fmt.Sprintf("WAL checkpoint complete segments=%d", 2+r.IntN(6)) },
		func(r *rand.Rand) string { return fmt.Sprintf("head GC completed duration_ms=%d", 10+r.IntN(300)) },
		func(r *rand.Rand) string {
			return fmt.Sprintf("rule group evaluated group=slo.rules rules=%d duration_ms=%d", 12+r.IntN(8), 5+r.IntN(60))
		},
	},
	warn: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf(`scrape target down job=%s error="context deadline exceeded"`, oneOf(r, "node-exporter", "payment-service", "worker"))
		},
	},
	err: []func(*rand.Rand) string{
		func(r *rand.Rand) string { return `notify failed receiver=oncall error="context deadline exceeded"` },
	},
}

var genericProfile = logProfile{
	gap:   20 * time.Second,
	ready: "listening addr=:8080",
	info: []func(*rand.Rand) string{
		func(r *rand.Rand) string {
			return fmt.Sprintf("processed batch size=%d duration_ms=%d", 1+r.IntN(200), 5+r.IntN(500))
		},
		func(r *rand.Rand) string { return "health check ok" },
	},
	warn: []func(*rand.Rand) string{
		func(r *rand.Rand) string { return fmt.Sprintf("slow operation duration_ms=%d", 1000+r.IntN(4000)) },
	},
	err: []func(*rand.Rand) string{
		func(r *rand.Rand) string { return `operation failed error="context deadline exceeded"` },
	},
}
