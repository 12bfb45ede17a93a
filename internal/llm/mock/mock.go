// Package mock is the keyless, deterministic LLM provider for tests and demos. It knows no
// domain: each domain teaches it with a Demo of Skills (the requests it understands, such as
// "get employee E001", and the tool that serves each) and Hints (how its results read best),
// and the platform builds it with New from the demos of the domains it runs. Domain packages
// write their skills with the helpers All, First and PadID.
package mock

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"mcp-platform/internal/llm"
)

// Mock is the keyless provider for tests and demos. It reads plain-language requests ("get
// employee E001", "list pods in staging") with the skills it was taught and calls the matching
// tools when they are offered, then writes its answer from the tool results, never from
// anywhere else. The same conversation always gets the same answer, tool call IDs included, so
// a retried activity repeats itself exactly. Build one with New; the zero Mock knows no skill.
type Mock struct {
	// Delay, when set, is waited between streamed chunks so demos look like a real model.
	Delay time.Duration

	// taught is what New taught the mock; nil for the zero Mock, which knows no skill.
	taught *knowledge
}

var _ llm.Provider = (*Mock)(nil)

// knowledge is what the demos taught a mock.
type knowledge struct {
	// skills are copies of the demos' skills, highest priority first.
	skills []*Skill
	// requestStart recognises the start of a new request after "and" or a comma.
	requestStart *regexp.Regexp
	// render writes answers from tool results with the demos' hints.
	render *renderer
}

// New returns a mock that understands the requests of the demos' skills and writes answers
// with their hints. Without demos it still lists the offered tools and renders any result.
func New(demos ...Demo) *Mock {
	return &Mock{taught: teach(demos)}
}

// Describe names the provider and model (both "mock"), for spans and metrics.
func (m *Mock) Describe() (string, string) { return llm.ProviderMock, llm.ProviderMock }

func teach(demos []Demo) *knowledge {
	k := &knowledge{}
	hints, verbs := []Hints{genericHints}, slices.Clone(genericVerbs)
	var demoVerbs []string
	for _, d := range demos {
		demoVerbs = append(demoVerbs, d.Verbs...)
	}
	for _, s := range platformSkills(demoVerbs) {
		k.skills = append(k.skills, &s)
	}
	for _, d := range demos {
		for _, s := range d.Skills {
			k.skills = append(k.skills, &s)
		}
		hints, verbs = append(hints, d.Hints), append(verbs, d.Verbs...)
	}
	sort.SliceStable(k.skills, func(i, j int) bool { return k.skills[i].Priority > k.skills[j].Priority })
	k.requestStart, k.render = requestStartPattern(verbs), newRenderer(hints...)
	return k
}

// untaught serves the zero Mock.
var untaught = teach(nil)

func (m *Mock) knows() *knowledge {
	if m.taught == nil {
		return untaught
	}
	return m.taught
}

// chunkWords is how many words each streamed delta carries.
const chunkWords = 4

// Complete answers the conversation: tool calls for a user's request, or an answer written
// from the tool results that end it. Its only error is a cancelled context (llm.Cancelled,
// retryable).
func (m *Mock) Complete(ctx context.Context, req llm.Request, onDelta func(text string)) (llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return llm.Response{}, llm.Cancelled(err)
	}
	offered := map[string]bool{}
	for _, t := range req.Tools {
		offered[t.Name] = true
	}

	var resp llm.Response
	k, last := m.knows(), lastMessage(req.Messages)
	switch {
	case last != nil && last.Role == llm.RoleTool && searchedLast(req.Messages) && lastUser(req.Messages) != nil:
		// The tools it searched for are offered now (or were not found): back to the request.
		resp = k.plan(lastUser(req.Messages).Content, req.Tools, offered, len(req.Messages), true)
	case last != nil && last.Role == llm.RoleTool:
		resp = llm.Response{Content: k.answerFromResults(req.Messages, offered), FinishReason: "stop"}
	case last != nil && last.Role == llm.RoleUser:
		resp = k.plan(last.Content, req.Tools, offered, len(req.Messages), false)
	default:
		resp = llm.Response{Content: k.helpText(req.Tools), FinishReason: "stop"}
	}
	resp.Model = ModelName
	resp.Usage = llm.Usage{PromptTokens: promptTokens(req), CompletionTokens: completionTokens(resp)}

	if err := m.stream(ctx, resp.Content, onDelta); err != nil {
		return llm.Response{}, err
	}
	return resp, nil
}

// lastMessage returns the last message that is not a system prompt.
func lastMessage(msgs []llm.Message) *llm.Message {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role != llm.RoleSystem {
			return &msgs[i]
		}
	}
	return nil
}

// plan turns a user's message into tool calls, explaining the requests it cannot serve.
// position is the reply's place in the conversation, which makes the call IDs deterministic.
// When a request needs a tool that is not offered but SearchTool is, and it has not searched
// yet (searched), it first searches for the tools it lacks, as a model shown part of a big
// catalog would.
func (k *knowledge) plan(text string, tools []llm.ToolDef, offered map[string]bool, position int, searched bool) llm.Response {
	requests := k.parseRequests(text)
	if len(requests) == 0 {
		return llm.Response{Content: k.helpText(tools), FinishReason: "stop"}
	}
	if offered[SearchTool] && !searched {
		if resp, ok := searchFor(requests, offered, position); ok {
			return resp
		}
	}
	var calls []llm.ToolCall
	var notes, using []string
	for _, r := range requests {
		switch {
		case r.tool() != "" && !offered[r.tool()]:
			notes = append(notes, denial(r))
		case r.Ask != "": // a question to the user, or about the platform (no tool), answered in words
			notes = append(notes, r.Ask)
		default:
			calls = append(calls, llm.ToolCall{
				ID:        fmt.Sprintf("call_%d_%d", position, len(calls)+1),
				Name:      r.tool(),
				Arguments: canonicalJSON(r.Args),
			})
			if !contains(using, r.tool()) {
				using = append(using, r.tool())
			}
		}
	}
	notes = unique(notes)
	if len(calls) == 0 {
		return llm.Response{Content: strings.Join(notes, "\n\n"), FinishReason: "stop"}
	}
	content := "Let me check that with " + joinAnd(using) + "."
	if len(notes) > 0 {
		content = strings.Join(notes, "\n\n") + "\n\n" + content
	}
	return llm.Response{Content: content, ToolCalls: calls, FinishReason: "tool_calls"}
}

// SearchTool is the platform's tool-search tool (toolcall.SearchToolName): offered beside part
// of a big catalog, it finds the rest. Its arguments are {"query": "..."}.
const SearchTool = "search_tools"

// searchFor asks SearchTool for the tools of the requests that are not offered, by what each
// request does (its skill's Action), and reports whether any was missing.
func searchFor(requests []request, offered map[string]bool, position int) (llm.Response, bool) {
	var calls []llm.ToolCall
	var queries []string
	for _, r := range requests {
		if r.tool() == "" || offered[r.tool()] || contains(queries, r.action()) {
			continue
		}
		queries = append(queries, r.action())
		calls = append(calls, llm.ToolCall{
			ID:        fmt.Sprintf("search_%d_%d", position, len(calls)+1),
			Name:      SearchTool,
			Arguments: canonicalJSON(map[string]any{"query": r.action()}),
		})
	}
	if len(calls) == 0 {
		return llm.Response{}, false
	}
	return llm.Response{Content: "Let me find the right tools.", ToolCalls: calls, FinishReason: "tool_calls"}, true
}

// searchedLast reports whether the tool results that end msgs answer SearchTool calls only.
func searchedLast(msgs []llm.Message) bool {
	i := len(msgs)
	for i > 0 && msgs[i-1].Role == llm.RoleTool {
		i--
		if msgs[i].Name != SearchTool {
			return false
		}
	}
	return i < len(msgs)
}

func denial(r request) string {
	return fmt.Sprintf("I can't %s for you: your account doesn't have access to %s.", r.action(), r.tool())
}

// answerFromResults writes the answer from the tool results that end the conversation, and
// repeats what could not be done of the user's last request.
func (k *knowledge) answerFromResults(msgs []llm.Message, offered map[string]bool) string {
	start := len(msgs)
	for start > 0 && msgs[start-1].Role == llm.RoleTool {
		start--
	}
	results := msgs[start:]
	// The assistant message that asked for these calls names their tools.
	names := map[string]string{}
	var order []string
	for i := start - 1; i >= 0; i-- {
		if msgs[i].Role == llm.RoleAssistant && len(msgs[i].ToolCalls) > 0 {
			for _, c := range msgs[i].ToolCalls {
				names[c.ID] = c.Name
				order = append(order, c.ID)
			}
			break
		}
		if msgs[i].Role == llm.RoleUser {
			break
		}
	}
	// Answer in the order the calls were made.
	rank := func(msg llm.Message) int {
		for i, id := range order {
			if id == msg.ToolCallID {
				return i
			}
		}
		return len(order)
	}
	sorted := append([]llm.Message(nil), results...)
	sort.SliceStable(sorted, func(i, j int) bool { return rank(sorted[i]) < rank(sorted[j]) })

	var parts []string
	for _, msg := range sorted {
		tool := msg.Name
		if tool == "" {
			tool = names[msg.ToolCallID]
		}
		if tool == "" {
			tool = "the tool"
		}
		text := k.render.result(tool, msg.Content)
		if len(sorted) > 1 {
			text = "**" + tool + "**\n\n" + text
		}
		parts = append(parts, text)
	}
	if user := lastUser(msgs[:start]); user != nil {
		var notes []string
		for _, r := range k.parseRequests(user.Content) {
			switch {
			case r.tool() != "" && !offered[r.tool()]:
				notes = append(notes, denial(r))
			case r.Ask != "":
				notes = append(notes, r.Ask)
			}
		}
		parts = append(parts, unique(notes)...)
	}
	return strings.Join(parts, "\n\n")
}

func lastUser(msgs []llm.Message) *llm.Message {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == llm.RoleUser {
			return &msgs[i]
		}
	}
	return nil
}

// helpText lists example requests for the tools the user may call, grouped by domain: the
// examples of the skills that serve a tool, or else its description.
func (k *knowledge) helpText(tools []llm.ToolDef) string {
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
		if examples := k.examples(t.Name); len(examples) > 0 {
			for _, ex := range examples {
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

// examples returns the examples of the skills that serve tool.
func (k *knowledge) examples(tool string) []string {
	var out []string
	for _, s := range k.skills {
		if s.Tool == tool {
			out = append(out, s.Examples...)
		}
	}
	return out
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
				return llm.Cancelled(ctx.Err())
			case <-t.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return llm.Cancelled(err)
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

// ModelName is the model the mock reports in its responses, for usage accounting.
const ModelName = "mock"

// promptTokens is what a real model would count for the request: every message with its tool
// calls, and every tool offered with its schema, plus a few tokens of framing each.
func promptTokens(req llm.Request) int {
	n := 3
	for _, m := range req.Messages {
		n += approxTokens(m.Content) + 4
		for _, c := range m.ToolCalls {
			n += approxTokens(c.Name+c.Arguments) + 3
		}
	}
	for _, t := range req.Tools {
		schema, _ := json.Marshal(t.Parameters)
		n += approxTokens(t.Name+t.Description+string(schema)) + 8
	}
	return n
}

// completionTokens counts the answer's text and tool calls as promptTokens counts messages.
func completionTokens(resp llm.Response) int {
	n := approxTokens(resp.Content) + 1
	for _, c := range resp.ToolCalls {
		n += approxTokens(c.Name+c.Arguments) + 3
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
