package conformance_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"mcp-platform/api/mcpserver"
	"mcp-platform/domains"
)

// fixtureYAML onboards the fixture server the way any MCP server is onboarded: a domain of kind
// mcp, by configuration only. It publishes the server's tools under their own names, which the
// suite calls, and lets the harness's user (an admin) call them.
const fixtureYAML = `
name: conformance
description: The conformance suite's fixture tools, served by an MCP server of their own.
version: 1.0.0
kind: mcp
mcp:
  url: %s
  publish: unprefixed
timeout: 2m
permissions:
  - role: admin
    tools: ["conformance.*"]
`

// The fixture's content: a 1x1 PNG and a tiny WAV file, base64-encoded.
const (
	pixelPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
	beepWAV  = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="
)

// fixtureServer serves, over Streamable HTTP, the fixture tools the suite's scenarios call,
// as their descriptions in the suite specify them: the Tasks scenarios' greet, slow_compute,
// failing_job and protocol_error_job (the last three run as tasks), and the content and error
// tools of the tools-call-* scenarios.
func fixtureServer(t *testing.T) string {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "conformance-fixture", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "greet", Description: "Greets someone by name."},
		func(_ context.Context, _ *mcp.CallToolRequest, in struct {
			Name string `json:"name"`
		}) (*mcp.CallToolResult, any, error) {
			return text(fmt.Sprintf("Hello, %s!", in.Name)), nil, nil
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "slow_compute", Description: "Computes for the given number of seconds, as a task."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in struct {
			Seconds float64 `json:"seconds"`
			Label   string  `json:"label,omitempty"`
		}) (*mcp.CallToolResult, any, error) {
			select {
			case <-time.After(time.Duration(in.Seconds * float64(time.Second))):
				return text(fmt.Sprintf("computed %s in %gs", in.Label, in.Seconds)), nil, nil
			case <-ctx.Done(): // the task was cancelled
				return nil, nil, ctx.Err()
			}
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "failing_job", Description: "Fails after about a second, with a tool error."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
			res := text("the job failed")
			res.IsError = true
			return res, nil, nil
		})
	srv.AddTool(&mcp.Tool{Name: "protocol_error_job", Description: "Fails with a protocol error.", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the job crashed"}
		})
	mcpserver.PublishExecution(srv, map[string]string{"slow_compute": domains.TaskSupportOptional,
		"failing_job": domains.TaskSupportRequired, "protocol_error_job": domains.TaskSupportOptional})
	addContentTools(srv)

	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	t.Cleanup(up.Close)
	return up.URL
}

// addContentTools adds the tools of the tools-call-* scenarios: one content block of each
// kind, all of them at once, a tool error and a tool that reports progress.
func addContentTools(srv *mcp.Server) {
	resource := &mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: "test://embedded-resource", MIMEType: "text/plain", Text: "This is an embedded resource content."}}
	image := &mcp.ImageContent{Data: decode(pixelPNG), MIMEType: "image/png"}
	for name, res := range map[string]*mcp.CallToolResult{
		"test_simple_text":            text("This is a simple text response for testing."),
		"test_image_content":          {Content: []mcp.Content{image}},
		"test_audio_content":          {Content: []mcp.Content{&mcp.AudioContent{Data: decode(beepWAV), MIMEType: "audio/wav"}}},
		"test_embedded_resource":      {Content: []mcp.Content{resource}},
		"test_multiple_content_types": {Content: []mcp.Content{&mcp.TextContent{Text: "Multiple content types test:"}, image, resource}},
		"test_error_handling":         {IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "This tool intentionally returns an error for testing"}}},
	} {
		srv.AddTool(&mcp.Tool{Name: name, Description: "Conformance fixture " + name + ".", InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return res, nil })
	}
	srv.AddTool(&mcp.Tool{Name: "test_tool_with_progress", Description: "Reports 0, 50 and 100 of 100, about 50 ms apart.", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			token := req.Params.GetProgressToken()
			for i, p := range []float64{0, 50, 100} {
				if i > 0 {
					time.Sleep(50 * time.Millisecond)
				}
				if token != nil {
					if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: p, Total: 100}); err != nil {
						return nil, err
					}
				}
			}
			return text("progress reported"), nil
		})
	srv.AddTool(&mcp.Tool{Name: "json_schema_2020_12_tool", Description: "Takes arguments described with JSON Schema 2020-12 keywords.",
		InputSchema: json.RawMessage(schema202012)},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return text("ok"), nil })
}

// schema202012 is the input schema of json_schema_2020_12_tool, which the json-schema-2020-12
// scenario expects /mcp to publish unchanged ($schema, $defs with $anchor, $ref, composition,
// conditionals, additionalProperties).
const schema202012 = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "$defs": {"address": {"$anchor": "addressDef", "type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
  "properties": {
    "name": {"type": "string"},
    "address": {"$ref": "#/$defs/address"},
    "contactMethod": {"type": "string", "enum": ["phone", "email"]},
    "phone": {"type": "string"},
    "email": {"type": "string"}
  },
  "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
  "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
  "then": {"required": ["phone"]},
  "else": {"required": ["email"]},
  "additionalProperties": false
}`

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// decode is the bytes of a base64 constant (the SDK encodes them again on the wire).
func decode(b64 string) []byte {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		panic(err)
	}
	return b
}
