package store

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Handlers are what Listen calls; a nil one is not called. The handlers of every Listen on one
// pool run on that pool's listening goroutine, one at a time, so they must not block.
type Handlers struct {
	// Connected is called each time the connection is (re)established, when notifications
	// may have been missed.
	Connected func()
	// Disconnected is called each time the connection ends (lost, or ctx ended): nothing is
	// heard until the next Connected.
	Disconnected func()
	// Notified is called with each notification's payload, in order.
	Notified func(payload string)
}

// Listen LISTENs on channel until ctx ends, reconnecting a second after a failure, and tells h.
// It returns once ctx ended, and h is not called after that.
//
// Every Listen on one pool shares a single connection, whatever their channels: PostgreSQL
// wakes every listening session on each NOTIFY of its database, so each extra listening
// connection costs the server work on every notification, and a connection.
func Listen(ctx context.Context, pool *pgxpool.Pool, channel string, logger *slog.Logger, h Handlers) {
	if !channelName.MatchString(channel) {
		panic(fmt.Sprintf("store.Listen: %q is not a channel name", channel))
	}
	l, s := subscribe(pool, logger, channel, h)
	<-ctx.Done()
	l.leave(s)
}

// channelName is what Listen accepts as a channel: a lower-case SQL identifier, used unquoted.
var channelName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

var (
	// listenersMu guards listeners: the running listener of each pool.
	listenersMu sync.Mutex
	listeners   = map[*pgxpool.Pool]*listener{}
)

// listener is the one listening connection of a pool and the Listen calls it serves.
type listener struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	// mu guards what follows; it is held while handlers run, so that leave waits for a call in
	// progress.
	mu   sync.Mutex
	subs map[*subscription]struct{}
	// dirty is set when subs changed since the connection's LISTENs were last brought in line;
	// interrupt, while the connection waits for a notification, ends the wait.
	dirty     bool
	interrupt context.CancelFunc
}

// subscription is one Listen call.
type subscription struct {
	channel   string
	h         Handlers
	connected bool // Connected was called, and Disconnected not since
}

// disconnect tells a connected subscription that the connection ended. Callers hold the
// listener's mu.
func (s *subscription) disconnect() {
	if s.connected {
		s.connected = false
		call(s.h.Disconnected)
	}
}

// subscribe adds a subscription to the pool's listener, starting the listener when there is none.
func subscribe(pool *pgxpool.Pool, logger *slog.Logger, channel string, h Handlers) (*listener, *subscription) {
	listenersMu.Lock()
	defer listenersMu.Unlock()
	l := listeners[pool]
	if l == nil {
		l = &listener{pool: pool, logger: logger, subs: map[*subscription]struct{}{}}
		listeners[pool] = l
		go l.run()
	}
	s := &subscription{channel: channel, h: h}
	l.mu.Lock()
	l.subs[s] = struct{}{}
	l.changed()
	l.mu.Unlock()
	return l, s
}

// leave ends a subscription: Disconnected is called when it was connected, and nothing after.
func (l *listener) leave(s *subscription) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.subs, s)
	s.disconnect()
	l.changed()
}

// changed wakes the connection to bring its LISTENs in line with subs. Callers hold l.mu.
func (l *listener) changed() {
	l.dirty = true
	if l.interrupt != nil {
		l.interrupt()
	}
}

// run keeps the connection until no subscription is left, reconnecting a second after a
// failure.
func (l *listener) run() {
	for {
		err := l.serve()
		l.mu.Lock()
		for s := range l.subs {
			s.disconnect()
		}
		l.mu.Unlock()
		if l.stopIfIdle() {
			return
		}
		if err == nil {
			continue // a Listen came as the last one left
		}
		l.logger.Warn("a notification listener lost its connection; reconnecting", "channels", l.channels(), "error", err)
		time.Sleep(time.Second)
		if l.stopIfIdle() {
			return
		}
	}
}

// stopIfIdle removes the listener when no subscription is left, so that the next Listen starts
// a new one; it reports whether it did.
func (l *listener) stopIfIdle() bool {
	listenersMu.Lock()
	defer listenersMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.subs) > 0 {
		return false
	}
	delete(listeners, l.pool)
	return true
}

// channels are the channels subscribed to now.
func (l *listener) channels() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for s := range l.subs {
		if !seen[s.channel] {
			seen[s.channel] = true
			out = append(out, s.channel)
		}
	}
	return out
}

// serve runs one connection: it LISTENs on the subscribed channels and hands each notification
// to the subscriptions of its channel. It returns nil when no subscription is left, and the
// error that ended the connection otherwise.
func (l *listener) serve() error {
	ctx := context.Background()
	pooled, err := l.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A LISTENing connection must not go back to the pool.
	conn := pooled.Hijack()
	defer conn.Close(ctx)
	listening := map[string]bool{}
	for {
		if err := l.sync(ctx, conn, listening); err != nil {
			return err
		}
		if len(listening) == 0 {
			return nil
		}
		wait, cancel := l.waitContext()
		if wait == nil {
			continue // subscriptions changed meanwhile
		}
		n, err := conn.WaitForNotification(wait)
		interrupted := wait.Err() != nil
		l.mu.Lock()
		l.interrupt = nil
		l.mu.Unlock()
		cancel()
		switch {
		case err != nil && interrupted:
			continue // woken to sync; the connection is intact
		case err != nil:
			return err
		}
		l.notify(n)
	}
}

// sync LISTENs on the channels newly subscribed to and UNLISTENs those left, then tells the
// subscriptions that now listen that they are connected.
func (l *listener) sync(ctx context.Context, conn *pgx.Conn, listening map[string]bool) error {
	l.mu.Lock()
	l.dirty = false
	want := map[string]bool{}
	for s := range l.subs {
		want[s.channel] = true
	}
	l.mu.Unlock()
	for ch := range want {
		if !listening[ch] {
			if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
				return err
			}
			listening[ch] = true
		}
	}
	for ch := range listening {
		if !want[ch] {
			if _, err := conn.Exec(ctx, "UNLISTEN "+ch); err != nil {
				return err
			}
			delete(listening, ch)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.subs {
		if !s.connected && listening[s.channel] {
			s.connected = true
			call(s.h.Connected)
		}
	}
	return nil
}

// waitContext is the context of one wait for a notification, which a change of subscriptions
// cancels; it is nil when they changed since the last sync.
func (l *listener) waitContext() (context.Context, context.CancelFunc) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dirty {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.interrupt = cancel
	return ctx, cancel
}

// notify hands a notification to the connected subscriptions of its channel.
func (l *listener) notify(n *pgconn.Notification) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.subs {
		if s.connected && s.channel == n.Channel && s.h.Notified != nil {
			s.h.Notified(n.Payload)
		}
	}
}

func call(f func()) {
	if f != nil {
		f()
	}
}
