package llm

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Mock is the keyless provider for tests and demos. It reads plain-language requests ("get
// employee E001", "list pods in staging") and calls the matching tools when they are offered,
// then writes its answer from the tool results, never from anywhere else. The same
// conversation always gets the same answer, tool call IDs included, so a retried activity
// repeats itself exactly.
type Mock struct {
	// Delay, when set, is waited between streamed chunks so demos look like a real model.
	Delay time.Duration
}

// chunkWords is how many words each streamed delta carries.
const chunkWords = 4

// Complete answers the conversation: tool calls for a user's request, or an answer written
// from the tool results that end it. Its only error is a cancelled context (KindRetryable).
func (m *Mock) Complete(ctx context.Context, req Request, onDelta func(text string)) (Response, error) {
	if err := ctx.Err(); err != nil {
		return Response{}, cancelled(err)
	}
	offered := map[string]bool{}
	for _, t := range req.Tools {
		offered[t.Name] = true
	}

	var resp Response
	last := lastMessage(req.Messages)
	switch {
	case last != nil && last.Role == RoleTool:
		resp = Response{Content: answerFromResults(req.Messages, offered), FinishReason: "stop"}
	case last != nil && last.Role == RoleUser:
		resp = plan(last.Content, req.Tools, offered, len(req.Messages))
	default:
		resp = Response{Content: helpText(req.Tools), FinishReason: "stop"}
	}
	resp.Usage = Usage{PromptTokens: promptTokens(req), CompletionTokens: approxTokens(resp.Content) + 20*len(resp.ToolCalls)}

	if err := m.stream(ctx, resp.Content, onDelta); err != nil {
		return Response{}, err
	}
	return resp, nil
}

// lastMessage returns the last message that is not a system prompt.
func lastMessage(msgs []Message) *Message {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role != RoleSystem {
			return &msgs[i]
		}
	}
	return nil
}

// plan turns a user's message into tool calls, explaining the requests it cannot serve.
// position is the reply's place in the conversation, which makes the call IDs deterministic.
func plan(text string, tools []ToolDef, offered map[string]bool, position int) Response {
	requests := parseRequests(text)
	if len(requests) == 0 {
		return Response{Content: helpText(tools), FinishReason: "stop"}
	}
	var calls []ToolCall
	var notes, using []string
	for _, r := range requests {
		switch {
		case !offered[r.intent.tool]:
			notes = append(notes, denial(r.intent))
		case r.ask != "":
			notes = append(notes, r.ask)
		default:
			calls = append(calls, ToolCall{
				ID:        fmt.Sprintf("call_%d_%d", position, len(calls)+1),
				Name:      r.intent.tool,
				Arguments: canonicalJSON(r.args),
			})
			if !contains(using, r.intent.tool) {
				using = append(using, r.intent.tool)
			}
		}
	}
	notes = unique(notes)
	if len(calls) == 0 {
		return Response{Content: strings.Join(notes, "\n\n"), FinishReason: "stop"}
	}
	content := "Let me check that with " + joinAnd(using) + "."
	if len(notes) > 0 {
		content = strings.Join(notes, "\n\n") + "\n\n" + content
	}
	return Response{Content: content, ToolCalls: calls, FinishReason: "tool_calls"}
}

func denial(in *intent) string {
	return fmt.Sprintf("I can't %s for you: your account doesn't have access to %s.", in.action, in.tool)
}

// answerFromResults writes the answer from the tool results that end the conversation, and
// repeats what could not be done of the user's last request.
func answerFromResults(msgs []Message, offered map[string]bool) string {
	start := len(msgs)
	for start > 0 && msgs[start-1].Role == RoleTool {
		start--
	}
	results := msgs[start:]
	// The assistant message that asked for these calls names their tools.
	names := map[string]string{}
	var order []string
	for i := start - 1; i >= 0; i-- {
		if msgs[i].Role == RoleAssistant && len(msgs[i].ToolCalls) > 0 {
			for _, c := range msgs[i].ToolCalls {
				names[c.ID] = c.Name
				order = append(order, c.ID)
			}
			break
		}
		if msgs[i].Role == RoleUser {
			break
		}
	}
	// Answer in the order the calls were made.
	rank := func(m Message) int {
		for i, id := range order {
			if id == m.ToolCallID {
				return i
			}
		}
		return len(order)
	}
	sorted := append([]Message(nil), results...)
	sort.SliceStable(sorted, func(i, j int) bool { return rank(sorted[i]) < rank(sorted[j]) })

	var parts []string
	for _, m := range sorted {
		tool := m.Name
		if tool == "" {
			tool = names[m.ToolCallID]
		}
		if tool == "" {
			tool = "the tool"
		}
		text := renderResult(toolResult{tool: tool, content: m.Content})
		if len(sorted) > 1 {
			text = "**" + tool + "**\n\n" + text
		}
		parts = append(parts, text)
	}
	if user := lastUser(msgs[:start]); user != nil {
		var notes []string
		for _, r := range parseRequests(user.Content) {
			if !offered[r.intent.tool] {
				notes = append(notes, denial(r.intent))
			} else if r.ask != "" {
				notes = append(notes, r.ask)
			}
		}
		parts = append(parts, unique(notes)...)
	}
	return strings.Join(parts, "\n\n")
}

func lastUser(msgs []Message) *Message {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == RoleUser {
			return &msgs[i]
		}
	}
	return nil
}

// helpText lists example requests for the tools the user may call, grouped by domain.
func helpText(tools []ToolDef) string {
	if len(tools) == 0 {
		return "I'm the platform's demo assistant, but your account doesn't have access to any tools yet, " +
			"so I can't look anything up. Ask an administrator to give you a role."
	}
	byDomain := map[string][]string{}
	var domains []string
	for _, t := range tools {
		domain, _, ok := strings.Cut(t.Name, ".")
		if !ok {
			domain = "other"
		}
		if _, seen := byDomain[domain]; !seen {
			domains = append(domains, domain)
		}
		if in := intentFor(t.Name); in != nil {
			for _, ex := range in.examples {
				byDomain[domain] = append(byDomain[domain], fmt.Sprintf("- \"%s\"", ex))
			}
			continue
		}
		line := "- " + t.Name
		if d := firstSentence(t.Description); d != "" {
			line += ": " + d
		}
		byDomain[domain] = append(byDomain[domain], line)
	}
	sort.Strings(domains)
	var b strings.Builder
	b.WriteString("I'm the platform's demo assistant. I didn't recognise a request I can help with. Try one of these:")
	for _, d := range domains {
		fmt.Fprintf(&b, "\n\n**%s**\n%s", d, strings.Join(byDomain[d], "\n"))
	}
	return b.String()
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	if r := []rune(s); len(r) > 160 {
		s = string(r[:160]) + "…"
	}
	return s
}

// stream sends text to onDelta a few words at a time; the deltas add up to text exactly.
func (m *Mock) stream(ctx context.Context, text string, onDelta func(string)) error {
	if onDelta == nil || text == "" {
		return nil
	}
	for i, chunk := range chunks(text, chunkWords) {
		if i > 0 && m.Delay > 0 {
			t := time.NewTimer(m.Delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return cancelled(ctx.Err())
			case <-t.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return cancelled(err)
		}
		onDelta(chunk)
	}
	return nil
}

// chunks cuts text after every n-th word, keeping all whitespace.
func chunks(text string, n int) []string {
	var out []string
	words, start, inWord := 0, 0, false
	for i, r := range text {
		space := r == ' ' || r == '\n' || r == '\t'
		if !space && !inWord {
			if words == n {
				out = append(out, text[start:i])
				start, words = i, 0
			}
			words++
		}
		inWord = !space
	}
	return append(out, text[start:])
}

func cancelled(err error) *Error {
	return &Error{Kind: KindRetryable, Message: "the LLM call was cancelled or timed out", Err: err}
}

func promptTokens(req Request) int {
	n := 0
	for _, m := range req.Messages {
		n += approxTokens(m.Content) + 4
	}
	for _, t := range req.Tools {
		n += approxTokens(t.Name+t.Description) + 20
	}
	return n
}

// approxTokens estimates tokens as OpenAI's rule of thumb does: four characters each.
func approxTokens(s string) int { return (len(s) + 3) / 4 }

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	default:
		return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
	}
}

func unique(list []string) []string {
	var out []string
	for _, s := range list {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
