package devops

import "sync"

// ledgerSize bounds how many idempotency keys a process remembers. Retries come within minutes
// of the first attempt, long before thousands of later scales push a key out; the deployment
// annotation still covers the last key after that.
const ledgerSize = 4096

// ledger remembers the scale calls this process applied, by idempotency key, with their
// request and first result.
type ledger struct {
	mu      sync.Mutex
	max     int
	entries map[string]ledgerEntry
	order   []string // oldest first, for eviction
}

type ledgerEntry struct {
	req scaleRequest
	res ScaleResult
}

func newLedger(max int) *ledger {
	return &ledger{max: max, entries: map[string]ledgerEntry{}}
}

func (l *ledger) get(key string) (scaleRequest, ScaleResult, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	return e.req, e.res, ok
}

func (l *ledger) put(key string, req scaleRequest, res ScaleResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.entries[key]; ok {
		return
	}
	if len(l.order) >= l.max {
		delete(l.entries, l.order[0])
		l.order = l.order[1:]
	}
	l.entries[key] = ledgerEntry{req: req, res: res}
	l.order = append(l.order, key)
}
