// Package mocktest helps test what demos teach the mock LLM: say something in plain words,
// compare the tool calls the mock makes, and read the answer it writes from a result.
package mocktest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/llm"
	"mcp-platform/internal/llm/mock"
)

// Call is a tool call with its arguments decoded, for comparison. JSON numbers decode as
// float64.
type Call struct {
	Tool string
	Args map[string]any
}

// Case is a request in plain words and the calls it should make, in order.
type Case struct {
	Name, Text string
	Want       []Call
}

// Want is the one call of tool with args, as a Case wants it.
func Want(tool string, args map[string]any) []Call {
	return []Call{{Tool: tool, Args: args}}
}

// Tools returns definitions of the named tools, as the Complete activity offers them.
func Tools(names ...string) []llm.ToolDef {
	defs := make([]llm.ToolDef, 0, len(names))
	for _, n := range names {
		defs = append(defs, llm.ToolDef{Name: n, Description: "The " + n + " tool.", Parameters: map[string]any{"type": "object"}})
	}
	return defs
}

// ToolsOf returns the tools the demos' skills serve, in the order of the skills.
func ToolsOf(demos ...mock.Demo) []string {
	var names []string
	for _, d := range demos {
		for _, s := range d.Skills {
			names = append(names, s.Tool)
		}
	}
	return names
}

// Complete runs the provider on req and checks that the streamed deltas add up to the answer.
func Complete(tb testing.TB, p llm.Provider, req llm.Request) llm.Response {
	tb.Helper()
	var streamed strings.Builder
	resp, err := p.Complete(context.Background(), req, func(s string) { streamed.WriteString(s) })
	require.NoError(tb, err)
	require.Equal(tb, resp.Content, streamed.String())
	return resp
}

// Ask sends text as a user's message after a system prompt, with the named tools offered.
func Ask(tb testing.TB, p llm.Provider, text string, tools ...string) llm.Response {
	tb.Helper()
	return Complete(tb, p, llm.Request{
		Messages: []llm.Message{{Role: llm.RoleSystem, Content: "You are the assistant."}, {Role: llm.RoleUser, Content: text}},
		Tools:    Tools(tools...),
	})
}

// Answer returns what the provider answers once the call of tool it made for the user's
// request returned content.
func Answer(tb testing.TB, p llm.Provider, request, tool, content string) string {
	tb.Helper()
	resp := Complete(tb, p, llm.Request{Tools: Tools(tool), Messages: []llm.Message{
		{Role: llm.RoleUser, Content: request},
		{Role: llm.RoleAssistant, Content: "Let me check.", ToolCalls: []llm.ToolCall{{ID: "c1", Name: tool, Arguments: "{}"}}},
		{Role: llm.RoleTool, ToolCallID: "c1", Name: tool, Content: content},
	}})
	require.Empty(tb, resp.ToolCalls)
	require.Equal(tb, "stop", resp.FinishReason)
	return resp.Content
}

// Calls decodes the tool calls of resp.
func Calls(tb testing.TB, resp llm.Response) []Call {
	tb.Helper()
	var out []Call
	for _, c := range resp.ToolCalls {
		var args map[string]any
		require.NoError(tb, json.Unmarshal([]byte(c.Arguments), &args), c.Arguments)
		out = append(out, Call{Tool: c.Name, Args: args})
	}
	return out
}

// Run checks each case in a subtest: asked of a mock taught the demos, with all their tools
// offered, the request makes exactly the wanted calls and the reply names their tools.
func Run(t *testing.T, cases []Case, demos ...mock.Demo) {
	t.Helper()
	p, tools := mock.New(demos...), ToolsOf(demos...)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			resp := Ask(t, p, tc.Text, tools...)
			require.Equal(t, tc.Want, Calls(t, resp))
			require.Equal(t, "tool_calls", resp.FinishReason)
			for _, c := range tc.Want {
				require.Contains(t, resp.Content, c.Tool)
			}
		})
	}
}

// CheckExamples checks, in a subtest, that every example the help text shows does what it
// promises: asked of a mock taught the demos, with all their tools offered, it calls the tool
// of its skill. Run it over all the demos wired together, as well as over one domain's, to see
// that no other domain's skill claims the words first.
func CheckExamples(t *testing.T, demos ...mock.Demo) {
	t.Helper()
	p, tools := mock.New(demos...), ToolsOf(demos...)
	t.Run("OK every example calls its tool", func(t *testing.T) {
		for _, d := range demos {
			for _, s := range d.Skills {
				require.NotEmpty(t, s.Examples, "%s has no example for the help text", s.Tool)
				for _, ex := range s.Examples {
					var called []string
					for _, c := range Ask(t, p, ex, tools...).ToolCalls {
						called = append(called, c.Name)
					}
					require.Contains(t, called, s.Tool, "example %q", ex)
				}
			}
		}
	})
}
