package mcpkind

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"mcp-platform/domains"
)

// Progress of upstream calls. A call whose caller follows its progress (domains.Call.OnProgress)
// is sent with a progress token of the adapter's own, never the caller's: the upstream learns
// nothing of the platform's callers, and one caller's progress cannot reach another. The
// upstream's notifications/progress are read off the transport as the SDK reads them (the SSE
// streams of Streamable HTTP, the messages of stdio) rather than through the SDK's handler,
// which runs asynchronously: the notification a server sends just before its result would
// otherwise be handled after the call returned, and be lost.

// progressMethod is the method of progress notifications.
const progressMethod = "notifications/progress"

// followProgress registers a receiver of an upstream call's progress and returns the progress
// token to send with the call.
func (a *Adapter) followProgress(receive func(domains.Progress)) string {
	token := "mcp-platform-" + strconv.FormatUint(a.tokens.Add(1), 10)
	a.progress.Store(token, receive)
	return token
}

// progressNotified passes the params of an upstream progress notification to the receiver of
// its call; one for no call in flight (it ended, or the token is not ours) is ignored.
func (a *Adapter) progressNotified(raw json.RawMessage) {
	var p mcp.ProgressNotificationParams
	if json.Unmarshal(raw, &p) != nil {
		return
	}
	token, ok := p.ProgressToken.(string)
	if !ok {
		return
	}
	if receive, ok := a.progress.Load(token); ok {
		receive.(func(domains.Progress))(domains.Progress{Progress: p.Progress, Total: p.Total, Message: p.Message})
	}
}

// progressTransport is a transport whose connection hands the params of each progress
// notification it reads to notify before the SDK sees the message (stdio; its connection has
// nothing the SDK's client looks for beyond mcp.Connection).
type progressTransport struct {
	mcp.Transport
	notify func(json.RawMessage)
}

// Connect connects the underlying transport.
func (t *progressTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &progressConn{Connection: c, notify: t.notify}, nil
}

type progressConn struct {
	mcp.Connection
	notify func(json.RawMessage)
}

// Read reads the next message, handing a progress notification's params to notify first.
func (c *progressConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	if r, ok := msg.(*jsonrpc.Request); ok && !r.IsCall() && r.Method == progressMethod {
		c.notify(r.Params)
	}
	return msg, err
}

// maxSSELine bounds the line an sseProgressTap keeps while it waits for the line's end; a longer
// line (a large result) is not a progress notification, and is passed on unread.
const maxSSELine = 64 << 10

// sseProgressTap is the body of an SSE response: it hands the params of each progress
// notification on the stream to notify as soon as its line has been read, before the SDK reads
// what follows.
type sseProgressTap struct {
	io.ReadCloser
	notify func(json.RawMessage)
	line   []byte
	// skip is set while the rest of a line longer than maxSSELine passes.
	skip bool
}

// Read reads the body for the SDK, scanning what it read.
func (t *sseProgressTap) Read(b []byte) (int, error) {
	n, err := t.ReadCloser.Read(b)
	t.scan(b[:n])
	return n, err
}

// scan splits what was read into lines and looks at each complete one.
func (t *sseProgressTap) scan(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.keep(b)
			return
		}
		t.keep(b[:i])
		if !t.skip {
			t.look(bytes.TrimSuffix(t.line, []byte("\r")))
		}
		t.line, t.skip, b = t.line[:0], false, b[i+1:]
	}
}

// keep adds part of a line, unless the line is too long to be a notification.
func (t *sseProgressTap) keep(b []byte) {
	if t.skip || len(t.line)+len(b) > maxSSELine {
		t.line, t.skip = t.line[:0], true
		return
	}
	t.line = append(t.line, b...)
}

// look hands on the params of a data line that holds a progress notification.
func (t *sseProgressTap) look(line []byte) {
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok || !bytes.Contains(data, []byte(progressMethod)) {
		return
	}
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if json.Unmarshal(bytes.TrimSpace(data), &msg) == nil && msg.ID == nil && msg.Method == progressMethod {
		t.notify(msg.Params)
	}
}
