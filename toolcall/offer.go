package toolcall

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"mcp-platform/authz"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/llm"
	"mcp-platform/toolcall/toolsearch"
)

// DefaultLLMTools is how many tools an LLM is offered at most when Planner.LLMTools is not
// set: enough for every tool of a few domains, few enough to keep prompts small and models
// accurate.
const DefaultLLMTools = 40

// SearchToolName is the platform's tool-search tool, offered to the LLM beside the most
// relevant tools when the user may call more than the cap. It has no namespace, so no domain
// can register a tool of that name.
const SearchToolName = "search_tools"

// Bounds of one search_tools call and of the searches within one LLM step.
const (
	defaultSearchResults = 8
	maxSearchResults     = 20
	maxSearchRounds      = 3
	// contextMessages is how many recent messages, besides the latest user message, rank the
	// tools offered.
	contextMessages = 6
)

// searchToolDef is the search_tools tool as the LLM sees it.
var searchToolDef = llm.ToolDef{
	Name: SearchToolName,
	Description: "Search the other tools you may use. You are shown only some of them: when none of your tools " +
		"fits the request, search by what you need to do (for example \"approve invoice\" or \"restart deployment\"); " +
		"the tools found can be called right after.",
	Parameters: map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []any{"query"},
		"properties": map[string]any{
			"query": map[string]any{"type": "string", "minLength": 1, "maxLength": 500, "description": "Words describing the tool you need"},
			"limit": map[string]any{"type": "integer", "minimum": 1, "maximum": maxSearchResults, "description": "How many tools to return (default 8)"},
		},
	},
}

// Offer is the set of tools one LLM step is given for a principal: every tool the principal
// may call now, or, when that is more than the cap, the most relevant ones for the
// conversation plus search_tools, which finds the others (Offer.Complete serves it). Whatever
// the LLM then calls is planned, authorized and validated by Planner.Plan like any call.
type Offer struct {
	// Tools are the definitions handed to the LLM, at most the cap.
	Tools []llm.ToolDef
	// Visible is how many tools the principal may call now.
	Visible int
	// Searchable is whether search_tools is among Tools.
	Searchable bool

	limit int
	set   *allowedSet
	live  map[string]bool
}

// llmCap is the configured number of tools offered at most.
func (p *Planner) llmCap() int {
	if p.LLMTools > 0 {
		return p.LLMTools
	}
	return DefaultLLMTools
}

// Offer chooses the tools of the next LLM step of a conversation (msgs, as sent to the LLM) for
// pr: those pr may call whose domain has a running worker, all of them up to the cap, and
// beyond it the tools called since the latest user message, then the best ranked against that
// message, then against the recent context, and search_tools.
func (p *Planner) Offer(pr authz.Principal, msgs []llm.Message) *Offer {
	set, live := p.allowed(pr)
	o := &Offer{limit: p.llmCap(), set: set, live: live}
	var visible []int
	for i, e := range set.entries {
		if live[e.Domain.Config.Name] {
			visible = append(visible, i)
		}
	}
	o.Visible = len(visible)
	if len(visible) <= o.limit {
		for _, i := range visible {
			o.Tools = append(o.Tools, ToolDef(set.entries[i]))
		}
		return o
	}

	o.Searchable = true
	room := o.limit - 1 // search_tools takes one place
	chosen := map[int]bool{}
	take := func(doc int) {
		if len(chosen) < room && !chosen[doc] && live[set.entries[doc].Domain.Config.Name] {
			chosen[doc] = true
			o.Tools = append(o.Tools, ToolDef(set.entries[doc]))
		}
	}
	latest, recent, called := conversationContext(msgs)
	for _, name := range called {
		if doc, ok := slices.BinarySearchFunc(set.entries, name, func(e registry.Entry, n string) int { return strings.Compare(e.Tool.Name, n) }); ok {
			take(doc)
		}
	}
	ix := set.searchIndex()
	for _, q := range []string{latest, recent} {
		for _, h := range ix.Search(q, ix.Len()) {
			take(h.Doc)
		}
	}
	o.Tools = append(o.Tools, searchToolDef)
	return o
}

// conversationContext returns the latest user message, the recent messages before and after it
// (their text and the tools they called) and the tools called since it, oldest first.
func conversationContext(msgs []llm.Message) (latest, recent string, called []string) {
	last := -1
	for i, m := range msgs {
		if m.Role == llm.RoleUser {
			last = i
		}
	}
	var words []string
	seen := 0
	for i := len(msgs) - 1; i >= 0 && seen < contextMessages; i-- {
		m := msgs[i]
		if m.Role == llm.RoleSystem || m.Role == llm.RoleTool || i == last {
			continue
		}
		seen++
		words = append(words, m.Content)
		for _, c := range m.ToolCalls {
			words = append(words, c.Name)
			if i > last && c.Name != SearchToolName && !slices.Contains(called, c.Name) {
				called = append(called, c.Name)
			}
		}
	}
	if last >= 0 {
		latest = msgs[last].Content
	}
	return latest, strings.Join(words, "\n"), called
}

// ToolDef is a tool as the LLM is offered it.
func ToolDef(e registry.Entry) llm.ToolDef {
	desc := e.Tool.Description
	if e.Tool.Annotations.RequiresApproval {
		desc += " Requires human approval before it runs."
	}
	return llm.ToolDef{Name: e.Tool.Name, Description: desc, Parameters: e.Tool.InputSchema}
}

// document is a tool as the search index reads it.
func document(e registry.Entry) toolsearch.Document {
	d := e.Domain.Config
	return toolsearch.Document{Name: e.Tool.Name, Text: strings.Join([]string{e.Tool.Title, e.Tool.Description, d.Name, d.Description}, "\n")}
}

// searchArgs are the arguments of a search_tools call.
type searchArgs struct {
	Query string `json:"query"`
	Limit int    `json:"limit"`
}

// foundTool is one search result as the LLM reads it.
type foundTool struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description"`
}

// search answers one search_tools call: its result for the LLM, and the tools found (only
// tools the principal may call whose domain has a running worker).
func (o *Offer) search(rawArgs string) (string, []llm.ToolDef) {
	var args searchArgs
	if err := json.Unmarshal([]byte(rawArgs), &args); err != nil || strings.TrimSpace(args.Query) == "" {
		return `{"error":"search_tools needs {\"query\": \"words describing the tool you need\"}","type":"invalid"}`, nil
	}
	limit := args.Limit
	if limit <= 0 {
		limit = defaultSearchResults
	}
	limit = min(limit, maxSearchResults)
	res := struct {
		Tools []foundTool `json:"tools"`
		Note  string      `json:"note"`
	}{Tools: []foundTool{}}
	var defs []llm.ToolDef
	for _, h := range o.set.searchIndex().Search(args.Query, len(o.set.entries)) {
		e := o.set.entries[h.Doc]
		if !o.live[e.Domain.Config.Name] {
			continue
		}
		def := ToolDef(e)
		defs = append(defs, def)
		res.Tools = append(res.Tools, foundTool{Name: def.Name, Title: e.Tool.Title, Description: def.Description})
		if len(defs) == limit {
			break
		}
	}
	res.Note = "These tools are now available: call the one that fits."
	if len(defs) == 0 {
		res.Note = "No tool you may use matches; try other words, or tell the user you cannot do it."
	}
	b, _ := json.Marshal(res)
	return string(b), defs
}

// Complete asks provider for the next step of req with the offer's tools, serving the LLM's
// search_tools calls itself: their results are added to the conversation and the tools found
// are offered (in place of the least relevant ones, so the cap holds) to the LLM's next call,
// at most a few rounds. The response returned has the calls of other tools only, and the text
// of every round. A response that mixes searches with other calls keeps only the other calls.
func (o *Offer) Complete(ctx context.Context, provider llm.Provider, req llm.Request, onDelta func(string)) (llm.Response, error) {
	req.Tools = o.Tools
	req.Messages = slices.Clone(req.Messages)
	var texts []string
	var usage llm.Usage
	for round := 0; ; round++ {
		resp, err := provider.Complete(ctx, req, separated(onDelta, len(texts) > 0))
		if err != nil {
			return resp, err
		}
		usage.PromptTokens += resp.Usage.PromptTokens
		usage.CompletionTokens += resp.Usage.CompletionTokens
		if resp.Content != "" {
			texts = append(texts, resp.Content)
		}
		var searches, others []llm.ToolCall
		for _, c := range resp.ToolCalls {
			if o.Searchable && c.Name == SearchToolName {
				searches = append(searches, c)
			} else {
				others = append(others, c)
			}
		}
		if len(searches) == 0 || len(others) > 0 || round == maxSearchRounds {
			resp.ToolCalls, resp.Content, resp.Usage = others, strings.Join(texts, "\n\n"), usage
			if len(others) == 0 && resp.FinishReason == "tool_calls" {
				resp.FinishReason = "stop"
			}
			return resp, nil
		}
		req.Messages = append(req.Messages, llm.Message{Role: llm.RoleAssistant, Content: resp.Content, ToolCalls: searches})
		var found []llm.ToolDef
		for _, c := range searches {
			result, defs := o.search(c.Arguments)
			req.Messages = append(req.Messages, llm.Message{Role: llm.RoleTool, Content: result, ToolCallID: c.ID, Name: SearchToolName})
			found = append(found, defs...)
		}
		req.Tools = o.withFound(req.Tools, found)
	}
}

// withFound puts the tools found first, then the tools offered before, without repeats and
// within the cap (search_tools last).
func (o *Offer) withFound(offered, found []llm.ToolDef) []llm.ToolDef {
	out := make([]llm.ToolDef, 0, o.limit)
	has := map[string]bool{SearchToolName: true}
	for _, d := range slices.Concat(found, offered) {
		if len(out) < o.limit-1 && !has[d.Name] {
			has[d.Name] = true
			out = append(out, d)
		}
	}
	return append(out, searchToolDef)
}

// separated passes deltas on, preceded by a paragraph break when earlier rounds wrote text.
func separated(onDelta func(string), breakFirst bool) func(string) {
	if onDelta == nil {
		return nil
	}
	return func(text string) {
		if breakFirst {
			breakFirst = false
			onDelta("\n\n")
		}
		onDelta(text)
	}
}

// PromptStats is what the LLM's prompt holds in tools for one user and message: how many tools
// the user may call, how many are offered, and the size of their definitions as an
// OpenAI-style request carries them.
type PromptStats struct {
	Visible    int  `json:"visible_tools"`
	Tools      int  `json:"prompt_tools"`
	Bytes      int  `json:"prompt_tool_bytes"`
	Searchable bool `json:"search_tools"`
}

// PromptStats reports the tools the LLM would be offered for pr's message as the first step
// of a turn (for benchmarks and capacity planning).
func (p *Planner) PromptStats(pr authz.Principal, message string) (PromptStats, error) {
	o := p.Offer(pr, []llm.Message{{Role: llm.RoleUser, Content: message}})
	n, err := ToolDefsSize(o.Tools)
	if err != nil {
		return PromptStats{}, err
	}
	return PromptStats{Visible: o.Visible, Tools: len(o.Tools), Bytes: n, Searchable: o.Searchable}, nil
}

// ToolDefsSize is the size in bytes of tool definitions encoded as the "tools" of an OpenAI
// chat completion request.
func ToolDefsSize(defs []llm.ToolDef) (int, error) {
	type function struct {
		Name        string         `json:"name"`
		Description string         `json:"description"`
		Parameters  map[string]any `json:"parameters"`
	}
	type tool struct {
		Type     string   `json:"type"`
		Function function `json:"function"`
	}
	list := make([]tool, len(defs))
	for i, d := range defs {
		list[i] = tool{Type: "function", Function: function{Name: strings.ReplaceAll(d.Name, ".", "__"), Description: d.Description, Parameters: d.Parameters}}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return 0, fmt.Errorf("encode tool definitions: %w", err)
	}
	return len(b), nil
}
