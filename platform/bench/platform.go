package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The measured work: the README's first chat message, and the tool call it makes.
const (
	chatMessage = "Get employee E001"
	toolName    = "hr.get_employee"
	mcpToolName = "hr__get_employee"
	employeeID  = "E001"
)

// platformClient calls a running platform from outside, as its users do: the gateway's
// POST /chat, the MCP server's POST /execute and MCP tools/call.
type platformClient struct {
	api, mcp string
	token    string
	http     *http.Client
	sessions []*mcp.ClientSession
}

func newPlatformClient(api, mcpURL string) *platformClient {
	return &platformClient{
		api: strings.TrimRight(api, "/"), mcp: strings.TrimRight(mcpURL, "/"),
		// Enough idle connections for every concurrent client, so none reconnects per call.
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256, IdleConnTimeout: time.Minute}},
	}
}

// signIn gets a dev token for user from the gateway's POST /auth/token.
func (c *platformClient) signIn(ctx context.Context, user string) error {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.post(ctx, c.api+"/auth/token", map[string]any{"user": user}, &out, http.StatusOK); err != nil {
		return fmt.Errorf("sign in as %s (the target must be a dev stack, or pass -token): %w", user, err)
	}
	c.token = out.AccessToken
	return nil
}

// post sends body as JSON with the token and decodes the answer into out; any other status
// than want is an error that quotes the answer.
func (c *platformClient) post(ctx context.Context, url string, body, out any, want int) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: status %d: %s", url, resp.StatusCode, truncate(string(raw), 300))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// turnInfo is the part of POST /chat's answer the benchmark checks.
type turnInfo struct {
	ConversationID string `json:"conversation_id"`
	Status         string `json:"status"`
	Answer         string `json:"answer"`
}

// chat runs one chat turn in a new conversation and waits for its answer.
func (c *platformClient) chat(ctx context.Context, message string) (turnInfo, error) {
	var out turnInfo
	err := c.post(ctx, c.api+"/chat", map[string]any{"message": message, "wait": true, "timeout_seconds": 120}, &out, http.StatusOK)
	if err != nil {
		return out, err
	}
	if out.Status != "completed" || out.Answer == "" {
		return out, fmt.Errorf("chat turn ended %q with answer %q", out.Status, truncate(out.Answer, 100))
	}
	return out, nil
}

// chatTurn is the measured chat turn: "Get employee E001", whose answer names the employee the
// tool returned.
func (c *platformClient) chatTurn(ctx context.Context, _ int) error {
	out, err := c.chat(ctx, chatMessage)
	if err != nil {
		return err
	}
	if !strings.Contains(out.Answer, employeeID) {
		return fmt.Errorf("chat answer does not mention %s: %q", employeeID, truncate(out.Answer, 200))
	}
	return nil
}

// execute is one POST /execute of hr.get_employee, which must complete with a result.
func (c *platformClient) execute(ctx context.Context, _ int) error {
	var out struct {
		Status string         `json:"status"`
		Result map[string]any `json:"result"`
	}
	err := c.post(ctx, c.mcp+"/execute", map[string]any{"tool": toolName, "arguments": map[string]any{"employee_id": employeeID}}, &out, http.StatusOK)
	if err != nil {
		return err
	}
	if out.Status != "completed" || len(out.Result) == 0 {
		return fmt.Errorf("/execute ended %q with result %v", out.Status, out.Result)
	}
	return nil
}

// bearer adds the token to every request of the MCP client.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// connectMCP opens n sessions of the go-sdk's MCP client (Streamable HTTP), one per concurrent
// client, as n independent MCP clients would.
func (c *platformClient) connectMCP(ctx context.Context, n int) error {
	client := mcp.NewClient(&mcp.Implementation{Name: "mcp-platform-bench", Version: "1.0"}, nil)
	for len(c.sessions) < n {
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
			Endpoint: c.mcp + "/mcp", HTTPClient: &http.Client{Transport: bearer{c.token, c.http.Transport}},
		}, nil)
		if err != nil {
			return fmt.Errorf("connect MCP client to %s/mcp: %w", c.mcp, err)
		}
		c.sessions = append(c.sessions, cs)
	}
	return nil
}

// mcpCall is one MCP tools/call of hr__get_employee on the client's own session.
func (c *platformClient) mcpCall(ctx context.Context, worker int) error {
	if worker >= len(c.sessions) {
		return errors.New("no MCP session for this client")
	}
	res, err := c.sessions[worker].CallTool(ctx, &mcp.CallToolParams{Name: mcpToolName, Arguments: map[string]any{"employee_id": employeeID}})
	if err != nil {
		return fmt.Errorf("MCP tools/call: %w", err)
	}
	if res.IsError {
		return fmt.Errorf("MCP tools/call returned an error: %s", contentText(res.Content))
	}
	if !strings.Contains(contentText(res.Content), employeeID) && res.StructuredContent == nil {
		return fmt.Errorf("MCP tools/call result does not mention %s", employeeID)
	}
	return nil
}

func (c *platformClient) close() {
	for _, s := range c.sessions {
		_ = s.Close()
	}
	c.sessions = nil
}

func contentText(cs []mcp.Content) string {
	var b strings.Builder
	for _, c := range cs {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
