package mcpkind

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"

	"mcp-platform/domains"
)

// The SDK's Tool has no execution field, so a tool's execution.taskSupport (whether it runs as
// an MCP task) is lost when the SDK decodes tools/list. The HTTP transport therefore reads it
// from the raw tools/list answers as they pass (listingTransport), and discovery looks it up
// by the upstream's tool name. A stdio server's tools run as plain calls.

// maxListing bounds the tools/list answer read for task support, in bytes.
const maxListing = 16 << 20

// executions holds the task support each upstream tool declared in its last listing.
type executions struct {
	mu      sync.Mutex
	support map[string]string
}

// taskSupport is the upstream tool's declared task support: domains.TaskSupportOptional or
// domains.TaskSupportRequired, or empty (forbidden, undeclared, or not known).
func (e *executions) taskSupport(remote string) string {
	if e == nil {
		return ""
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch s := e.support[remote]; s {
	case domains.TaskSupportOptional, domains.TaskSupportRequired:
		return s
	}
	return ""
}

// record reads the tools of one JSON-RPC message, when it is a tools/list result.
func (e *executions) record(msg []byte) {
	var m struct {
		Result struct {
			Tools []struct {
				Name      string `json:"name"`
				Execution *struct {
					TaskSupport string `json:"taskSupport"`
				} `json:"execution"`
			} `json:"tools"`
		} `json:"result"`
	}
	if json.Unmarshal(msg, &m) != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.support == nil {
		e.support = map[string]string{}
	}
	for _, t := range m.Result.Tools {
		if t.Execution != nil {
			e.support[t.Name] = t.Execution.TaskSupport
		} else {
			delete(e.support, t.Name)
		}
	}
}

// listingTransport passes every request on to base and records the tools of the answers to
// tools/list requests in exec: a JSON answer is read whole, an event stream as each line
// passes (before the SDK reads it, so discovery finds it recorded).
type listingTransport struct {
	base http.RoundTripper
	exec *executions
}

func (t *listingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	listing := false
	if req.Body != nil && req.Method == http.MethodPost {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		var msg struct {
			Method string `json:"method"`
		}
		listing = json.Unmarshal(body, &msg) == nil && msg.Method == "tools/list"
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || !listing || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	switch ct := resp.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/json"):
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxListing))
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		t.exec.record(body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
	case strings.HasPrefix(ct, "text/event-stream"):
		resp.Body = &eventTap{body: resp.Body, exec: t.exec}
	}
	return resp, nil
}

// eventTap reads an event stream through, recording each complete "data:" line.
type eventTap struct {
	body io.ReadCloser
	exec *executions
	line []byte
}

func (e *eventTap) Read(p []byte) (int, error) {
	n, err := e.body.Read(p)
	e.scan(p[:n])
	return n, err
}

// scan records the data lines that chunk completes.
func (e *eventTap) scan(chunk []byte) {
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			if len(e.line)+len(chunk) <= maxListing {
				e.line = append(e.line, chunk...)
			}
			return
		}
		line := append(e.line, chunk[:i]...)
		e.line, chunk = nil, chunk[i+1:]
		if data, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r"), []byte("data:")); ok {
			e.exec.record(bytes.TrimSpace(data))
		}
	}
}

func (e *eventTap) Close() error { return e.body.Close() }
