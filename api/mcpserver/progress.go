package mcpserver

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"mcp-platform/internal/progress"
)

// Progress notifications (notifications/progress) for the tools/call of a caller that asks for
// them with a progress token in the request's _meta. Such a request is answered with an SSE
// stream instead of one JSON response (streamProgress), so that notifications can precede the
// result on it. The ToolRun workflow asks the domain's worker to record the call's progress
// (ExecuteToolInput.Progress); the worker publishes it coalesced, through Postgres (package
// progress), since it may be another process; and while the caller waits, the executor
// forwards each update with a higher progress to the caller, with the caller's own token, on
// the request's own stream, until the call has ended (or has become a task). The last update
// is read from the database before the result is sent, so a lost notification does not cost
// the caller the final progress. Only the caller of the request hears of its call's progress.

// progressLookup bounds a read of a call's last progress from the database.
const progressLookup = 2 * time.Second

// progressPoll is how often a waiting call's progress is also read from the database, for
// announcements lost while the hub reconnected.
const progressPoll = 2 * time.Second

// streamProgress serves a request that asked for progress with streaming (an SSE response),
// and every other with plain (one JSON response, which cannot carry notifications).
func streamProgress(plain, streaming http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsProgress(r.Context()) {
			streaming.ServeHTTP(w, r)
			return
		}
		plain.ServeHTTP(w, r)
	})
}

type wantsProgressKey struct{}

// hasProgressToken reports whether a request's params carry a progress token in their _meta.
func hasProgressToken(params json.RawMessage) bool {
	var p struct {
		Meta struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"_meta"`
	}
	if len(params) == 0 || json.Unmarshal(params, &p) != nil {
		return false
	}
	token := p.Meta.ProgressToken
	return len(token) > 0 && string(token) != "null"
}

// wantsProgress reports whether the request methods let through carries a progress token.
func wantsProgress(ctx context.Context) bool {
	ok, _ := ctx.Value(wantsProgressKey{}).(bool)
	return ok
}

type progressSinkKey struct{}

// progressSink sends one progress update of a call to its caller.
type progressSink func(progress.Update)

// withProgress returns ctx with the sink of the caller of a tools/call that sent a progress
// token: notifications/progress with that token, on the request's own stream (ctx is the
// request's, which names it).
func withProgress(ctx context.Context, req mcp.Request) context.Context {
	params, ok := req.GetParams().(*mcp.CallToolParamsRaw)
	if !ok {
		return ctx
	}
	token := params.GetProgressToken()
	ss, ok := req.GetSession().(*mcp.ServerSession)
	if token == nil || !ok {
		return ctx
	}
	return context.WithValue(ctx, progressSinkKey{}, progressSink(func(u progress.Update) {
		// A caller that went away ends the call's wait too; nothing else to do.
		_ = ss.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: u.Progress, Total: u.Total, Message: u.Message})
	}))
}

// sinkOf is the progress sink of the request, or nil.
func sinkOf(ctx context.Context) progressSink {
	s, _ := ctx.Value(progressSinkKey{}).(progressSink)
	return s
}

// progressFollow forwards a call's progress to its caller while the caller waits.
type progressFollow struct {
	ctx    context.Context
	hub    *progress.Hub
	key    string
	sink   progressSink
	cancel context.CancelFunc
	done   chan struct{}
	// sent and last are the forwarded progress, so that it only increases.
	sent bool
	last float64
}

// followProgress starts forwarding the progress of the call toolCallID of workflowID to the
// caller of ctx, before the call starts, so that no announcement is missed. It returns nil when
// the caller did not ask for progress (or there is no hub): the call then records none.
func (x *Executor) followProgress(ctx context.Context, workflowID, toolCallID string) *progressFollow {
	sink := sinkOf(ctx)
	if sink == nil || x.Progress == nil {
		return nil
	}
	key := progress.Key(workflowID, toolCallID)
	updates, unsubscribe := x.Progress.Follow(key)
	fctx, cancel := context.WithCancel(ctx)
	f := &progressFollow{ctx: ctx, hub: x.Progress, key: key, sink: sink, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		defer unsubscribe()
		poll := time.NewTicker(progressPoll)
		defer poll.Stop()
		for {
			select {
			case <-fctx.Done():
				return
			case u := <-updates:
				f.forward(u)
			case <-poll.C:
				f.forwardLatest()
			}
		}
	}()
	return f
}

// stop ends the forwarding once the caller has its answer, after forwarding the call's last
// recorded progress if the caller has not had it. A nil follow does nothing.
func (f *progressFollow) stop() {
	if f == nil {
		return
	}
	f.cancel()
	<-f.done
	f.forwardLatest()
}

// forwardLatest forwards the call's progress as the database has it, if it is news.
func (f *progressFollow) forwardLatest() {
	ctx, cancel := context.WithTimeout(f.ctx, progressLookup)
	defer cancel()
	if u, ok, err := f.hub.Latest(ctx, f.key); err == nil && ok {
		f.forward(u)
	}
}

// forward sends u unless its progress does not exceed what was sent.
func (f *progressFollow) forward(u progress.Update) {
	if f.sent && u.Progress <= f.last {
		return
	}
	f.sent, f.last = true, u.Progress
	f.sink(u)
}
