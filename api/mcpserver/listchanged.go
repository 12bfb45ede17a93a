package mcpserver

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"mcp-platform/authz"
	"mcp-platform/toolcall"
)

// watchInterval is how often the tools of open subscriptions are compared with what their
// callers may use now: a domain worker that starts or stops is noticed within it (plus the
// catalog's own refresh).
const watchInterval = time.Second

// watchers follow the open subscriptions/listen streams (MCP 2026-07-28): each has an MCP
// server of its own holding the tools its caller may use, and when those change (a domain's
// worker started or stopped, a domain registered or was forgotten, permissions changed) the
// server's tools are updated, which makes the SDK send notifications/tools/list_changed on the
// stream. Other requests are served by the shared servers of toolServers, which never change.
type watchers struct {
	deps Deps

	mu    sync.Mutex
	open  map[*watcher]struct{}
	alive bool
}

// watcher is one subscription's server and the tools it holds, by their published names.
type watcher struct {
	p      authz.Principal
	server *mcp.Server
	tools  []string
}

func newWatchers(deps Deps) *watchers {
	return &watchers{deps: deps, open: map[*watcher]struct{}{}}
}

// serve returns the server of a new subscription by p, followed until ctx (the listen
// request's) ends.
func (w *watchers) serve(ctx context.Context, p authz.Principal) *mcp.Server {
	visible := w.deps.Tools.Visible(p, toolcall.VisibleOptions{LiveOnly: true})
	wt := &watcher{p: p, server: newToolServer(w.deps, visible), tools: names(visible)}
	w.mu.Lock()
	w.open[wt] = struct{}{}
	if !w.alive {
		w.alive = true
		go w.run()
	}
	w.mu.Unlock()
	go func() {
		<-ctx.Done()
		w.mu.Lock()
		delete(w.open, wt)
		w.mu.Unlock()
	}()
	return wt.server
}

// run compares every open subscription's tools with its caller's, until none is open.
func (w *watchers) run() {
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for range t.C {
		w.mu.Lock()
		if len(w.open) == 0 {
			w.alive = false
			w.mu.Unlock()
			return
		}
		open := make([]*watcher, 0, len(w.open))
		for wt := range w.open {
			open = append(open, wt)
		}
		w.mu.Unlock()
		for _, wt := range open {
			w.update(wt)
		}
	}
}

// update brings a subscription's server to the tools its caller may use now; the SDK notifies
// the change.
func (w *watchers) update(wt *watcher) {
	visible := w.deps.Tools.Visible(wt.p, toolcall.VisibleOptions{LiveOnly: true})
	now := names(visible)
	if slices.Equal(now, wt.tools) {
		return
	}
	var gone []string
	for _, name := range wt.tools {
		if !slices.Contains(now, name) {
			gone = append(gone, name)
		}
	}
	if len(gone) > 0 {
		wt.server.RemoveTools(gone...)
	}
	for _, v := range visible {
		if !slices.Contains(wt.tools, v.Domain.Config.PublishedName(v.Tool.Name)) {
			wt.server.AddTool(mcpTool(v.Entry), toolHandler(w.deps, v.Tool.Name))
		}
	}
	w.deps.Logger.Info("MCP subscriber's tools changed", "user", wt.p.Subject, "tools", len(now), "removed", len(gone))
	wt.tools = now
}

// names are the names /mcp publishes the tools of visible by, in order.
func names(visible []toolcall.Visible) []string {
	out := make([]string, len(visible))
	for i, v := range visible {
		out[i] = v.Domain.Config.PublishedName(v.Tool.Name)
	}
	return out
}
