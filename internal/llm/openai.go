package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/sashabaranov/go-openai"
)

// azureAPIVersion is the Azure OpenAI API version used unless LLM_API_BASE names one: the
// first GA version with tools and streamed tool calls (go-openai's default predates tools).
const azureAPIVersion = "2024-10-21"

// openAIProvider talks to OpenAI, Azure OpenAI and OpenAI-compatible servers, always
// streaming.
type openAIProvider struct {
	client *openai.Client
	// kind is the provider's name (openai, azure_openai, openai_compatible).
	kind  string
	model string
	// key is kept only to scrub it from provider messages.
	key string
	// includeUsage asks for the usage chunk (stream_options.include_usage), which OpenAI, Azure
	// OpenAI (from API version 2024-09-01) and the compatible servers (Ollama, vLLM, LM Studio)
	// answer with the token counts at the end of the stream.
	includeUsage bool
	// host is the endpoint's host, for connection error messages.
	host string
	// authHint and modelHint name the settings to check on auth and request failures.
	authHint, modelHint string
}

// Describe names the provider and model, for spans and metrics.
func (p *openAIProvider) Describe() (string, string) { return p.kind, p.model }

// NewOpenAI returns the provider of the OpenAI family that cfg.Provider names: openai,
// azure_openai or openai_compatible. Its errors are *Error values of kind KindBadRequest naming
// the setting to fix: another provider name, a missing model, key or endpoint, an endpoint that
// is not an http(s) URL.
func NewOpenAI(cfg Config) (Provider, error) {
	kind := strings.ToLower(strings.TrimSpace(cfg.Provider))
	bad := func(msg string) (Provider, error) {
		return nil, &Error{Kind: KindBadRequest, Message: msg}
	}
	if kind != ProviderOpenAI && kind != ProviderAzureOpenAI && kind != ProviderOpenAICompatible {
		return bad("LLM provider " + quote(cfg.Provider) + " is not of the OpenAI family: set LLM_PROVIDER to openai, " +
			"azure_openai or openai_compatible")
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return bad("LLM_MODEL is required by the " + kind + " provider (for azure_openai, the deployment name)")
	}
	if kind != ProviderOpenAICompatible && cfg.APIKey == "" {
		return bad("LLM_API_KEY is required by the " + kind + " provider")
	}
	if kind != ProviderOpenAI && cfg.APIBase == "" {
		return bad("LLM_API_BASE is required by the " + kind + " provider")
	}
	p := &openAIProvider{kind: kind, model: cfg.Model, key: cfg.APIKey, host: "api.openai.com", includeUsage: !cfg.OmitStreamUsage,
		authHint: "LLM_API_KEY and LLM_PROVIDER", modelHint: "LLM_MODEL"}

	var cc openai.ClientConfig
	switch kind {
	case ProviderOpenAI:
		cc = openai.DefaultConfig(cfg.APIKey)
	case ProviderAzureOpenAI:
		cc = openai.DefaultAzureConfig(cfg.APIKey, cfg.APIBase)
		cc.APIVersion = azureAPIVersion
		// The model is the deployment name, used verbatim.
		cc.AzureModelMapperFunc = func(model string) string { return model }
		p.authHint = "LLM_API_KEY, LLM_API_BASE and LLM_PROVIDER"
		p.modelHint = "LLM_MODEL (the deployment name) and LLM_API_BASE"
	default:
		cc = openai.DefaultConfig(cfg.APIKey)
		p.authHint = "LLM_API_KEY, LLM_API_BASE and LLM_PROVIDER"
		p.modelHint = "LLM_MODEL and LLM_API_BASE"
	}
	if cfg.APIBase != "" {
		u, err := url.Parse(strings.TrimSpace(cfg.APIBase))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("LLM_API_BASE must be an http(s) URL, such as https://api.openai.com/v1")
		}
		if v := u.Query().Get("api-version"); v != "" && kind == ProviderAzureOpenAI {
			cc.APIVersion = v
		}
		u.RawQuery, u.Fragment = "", ""
		cc.BaseURL = strings.TrimRight(u.String(), "/")
		p.host = u.Host
	}
	if cfg.HTTPClient != nil {
		cc.HTTPClient = cfg.HTTPClient
	}
	p.client = openai.NewClientWithConfig(cc)
	return p, nil
}

// Complete streams one chat completion and assembles the text and tool calls.
func (p *openAIProvider) Complete(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
	creq := openai.ChatCompletionRequest{Model: p.model, Messages: openAIMessages(req.Messages)}
	names := make(map[string]string, len(req.Tools)) // safe name → platform name
	for _, t := range req.Tools {
		safe := safeToolName(t.Name)
		names[safe] = t.Name
		params := t.Parameters
		if params == nil {
			params = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		creq.Tools = append(creq.Tools, openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: safe, Description: t.Description, Parameters: params,
		}})
	}
	if p.includeUsage {
		creq.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	}

	stream, err := p.client.CreateChatCompletionStream(ctx, creq)
	if err != nil {
		return Response{}, p.failure(ctx, err, false)
	}
	defer stream.Close()
	var acc assembler
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Response{}, p.failure(ctx, err, true)
		}
		acc.add(chunk, onDelta)
	}
	// OpenAI and the compatible servers end every complete answer with a finish_reason; a
	// stream that ends without one was cut (proxy timeout, server restart) and is worth a retry.
	if acc.finish == "" {
		return Response{}, &Error{Kind: KindRetryable, Message: "the LLM stream ended before the answer was complete",
			Err: io.ErrUnexpectedEOF}
	}
	resp := acc.response(names)
	if resp.Model == "" {
		resp.Model = p.model
	}
	return resp, nil
}

// openAIMessages converts the conversation to the wire form, with safe tool names. Chat
// Completions allows images only in user messages, not in tool results: the images of a run of
// tool results follow it as one user message of image parts, each introduced by the call it
// came from (the tool messages themselves describe the images in words).
func openAIMessages(msgs []Message) []openai.ChatCompletionMessage {
	out := make([]openai.ChatCompletionMessage, 0, len(msgs))
	var images []openai.ChatMessagePart
	flush := func() {
		if len(images) > 0 {
			out = append(out, openai.ChatCompletionMessage{Role: string(RoleUser), MultiContent: images})
			images = nil
		}
	}
	for _, m := range msgs {
		if m.Role != RoleTool {
			flush()
		} else if len(m.Images) > 0 {
			images = append(images, openai.ChatMessagePart{Type: openai.ChatMessagePartTypeText,
				Text: fmt.Sprintf("The images returned by tool %s (call %s):", safeToolName(m.Name), m.ToolCallID)})
			for _, img := range m.Images {
				images = append(images, openai.ChatMessagePart{Type: openai.ChatMessagePartTypeImageURL,
					ImageURL: &openai.ChatMessageImageURL{URL: "data:" + img.MIMEType + ";base64," + img.Data, Detail: openai.ImageURLDetailAuto}})
			}
		}
		om := openai.ChatCompletionMessage{Role: string(m.Role), Content: m.Content}
		for _, c := range m.ToolCalls {
			args := c.Arguments
			if strings.TrimSpace(args) == "" {
				args = "{}"
			}
			om.ToolCalls = append(om.ToolCalls, openai.ToolCall{ID: c.ID, Type: openai.ToolTypeFunction,
				Function: openai.FunctionCall{Name: safeToolName(c.Name), Arguments: args}})
		}
		if m.Role == RoleTool {
			om.ToolCallID = m.ToolCallID
			if om.Content == "" {
				om.Content = "{}" // providers refuse a tool message without content
			}
		}
		out = append(out, om)
	}
	flush()
	return out
}

// assembler accumulates a streamed answer. Tool call deltas are keyed by index: the first delta
// of an index carries the call's id and function name, the arguments arrive in pieces, and the
// calls of one message can interleave.
type assembler struct {
	content strings.Builder
	calls   map[int]*callParts
	finish  string
	usage   Usage
	model   string
}

type callParts struct {
	id, name string
	args     strings.Builder
}

func (a *assembler) add(chunk openai.ChatCompletionStreamResponse, onDelta func(string)) {
	if u := chunk.Usage; u != nil {
		a.usage = Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}
	}
	if chunk.Model != "" {
		a.model = chunk.Model
	}
	for _, ch := range chunk.Choices {
		if ch.Index != 0 {
			continue // only one choice is asked for
		}
		text := ch.Delta.Content + ch.Delta.Refusal
		if text != "" {
			a.content.WriteString(text)
			if onDelta != nil {
				onDelta(text)
			}
		}
		for _, tc := range ch.Delta.ToolCalls {
			c := a.call(tc)
			if tc.ID != "" {
				c.id = tc.ID
			}
			// Some servers repeat the full name in every delta; others never split it.
			if n := tc.Function.Name; n != "" && n != c.name {
				c.name += n
			}
			c.args.WriteString(tc.Function.Arguments)
		}
		if ch.FinishReason != "" {
			a.finish = string(ch.FinishReason)
		}
	}
}

// call finds the call a delta continues. Servers that omit the index send each call whole, or
// open a new call with a new id.
func (a *assembler) call(tc openai.ToolCall) *callParts {
	if a.calls == nil {
		a.calls = map[int]*callParts{}
	}
	idx := -1
	if tc.Index != nil {
		idx = *tc.Index
	} else {
		last := -1
		for i, c := range a.calls {
			if tc.ID != "" && c.id == tc.ID {
				return c
			}
			last = max(last, i)
		}
		idx = last
		if tc.ID != "" || last < 0 {
			idx = last + 1
		}
	}
	c, ok := a.calls[idx]
	if !ok {
		c = &callParts{}
		a.calls[idx] = c
	}
	return c
}

func (a *assembler) response(names map[string]string) Response {
	resp := Response{Content: a.content.String(), FinishReason: a.finish, Usage: a.usage, Model: a.model}
	idx := make([]int, 0, len(a.calls))
	for i := range a.calls {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		c := a.calls[i]
		args := c.args.String()
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		resp.ToolCalls = append(resp.ToolCalls, ToolCall{ID: c.id, Name: platformToolName(c.name, names), Arguments: args})
	}
	if len(resp.ToolCalls) > 0 && resp.FinishReason == string(openai.FinishReasonStop) {
		resp.FinishReason = string(openai.FinishReasonToolCalls) // some servers say stop
	}
	return resp
}

// safeToolName maps a platform tool name to one OpenAI accepts ([A-Za-z0-9_-]):
// "hr.get_employee" becomes "hr__get_employee". Domain names never contain "__".
func safeToolName(name string) string { return strings.ReplaceAll(name, ".", "__") }

// platformToolName maps a name the model used back to the platform name of an offered tool;
// a name that was not offered comes back unchanged so the caller can report it.
func platformToolName(safe string, offered map[string]string) string {
	if name, ok := offered[safe]; ok {
		return name
	}
	return safe
}

// failure turns a go-openai error into an *Error; midStream is true once the answer started.
func (p *openAIProvider) failure(ctx context.Context, err error, midStream bool) *Error {
	if ctx.Err() != nil {
		return Cancelled(err)
	}
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		if apiErr.HTTPStatusCode == 0 { // an error event inside the stream
			return p.statusError(0, streamErrorKind(apiErr), apiErr.Message, err)
		}
		return p.statusError(apiErr.HTTPStatusCode, statusKind(apiErr.HTTPStatusCode), apiErr.Message, err)
	case errors.As(err, &reqErr):
		return p.statusError(reqErr.HTTPStatusCode, statusKind(reqErr.HTTPStatusCode), string(reqErr.Body), err)
	case isRequestRefused(err):
		return &Error{Kind: KindBadRequest, Message: fmt.Sprintf("the LLM request cannot be sent: %s; check %s",
			p.scrub(err.Error()), p.modelHint), Err: err}
	case midStream:
		return &Error{Kind: KindRetryable, Message: "the LLM stream was cut before the answer was complete", Err: err}
	default:
		return &Error{Kind: KindRetryable, Message: fmt.Sprintf("could not reach the LLM provider at %s: check LLM_API_BASE "+
			"and the network", p.host), Err: err}
	}
}

// isRequestRefused reports errors go-openai raises before sending: models it knows cannot
// serve chat completions, and arguments it cannot encode. Retrying cannot help.
func isRequestRefused(err error) bool {
	var typeErr *json.UnsupportedTypeError
	var valueErr *json.UnsupportedValueError
	var marshalErr *json.MarshalerError
	return errors.Is(err, openai.ErrChatCompletionInvalidModel) ||
		errors.Is(err, openai.ErrReasoningToolsRequireResponses) ||
		errors.Is(err, openai.ErrReasoningEffortUnsupported) ||
		errors.Is(err, openai.ErrReasoningSamplingUnsupported) ||
		errors.As(err, &typeErr) || errors.As(err, &valueErr) || errors.As(err, &marshalErr)
}

// statusKind classifies an HTTP failure.
func statusKind(status int) ErrorKind {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return KindAuth
	case status == http.StatusRequestTimeout || status == http.StatusConflict || status == http.StatusTooEarly ||
		status == http.StatusTooManyRequests || status >= 500 || status < 400:
		return KindRetryable
	default:
		return KindBadRequest
	}
}

// streamErrorKind classifies an error event sent inside a stream, which has no HTTP status.
func streamErrorKind(e *openai.APIError) ErrorKind {
	code := strings.ToLower(fmt.Sprint(e.Code) + " " + e.Type)
	switch {
	case strings.Contains(code, "auth") || strings.Contains(code, "api_key") || strings.Contains(code, "permission"):
		return KindAuth
	case strings.Contains(code, "invalid_request") || strings.Contains(code, "not_found") || strings.Contains(code, "context_length"):
		return KindBadRequest
	default:
		return KindRetryable
	}
}

// statusError builds the message for a failure the provider reported.
func (p *openAIProvider) statusError(status int, kind ErrorKind, detail string, err error) *Error {
	at := ""
	if status != 0 {
		at = fmt.Sprintf(" (HTTP %d)", status)
	}
	detail = p.scrub(detail)
	var msg string
	switch {
	case kind == KindAuth:
		// The provider's own text may echo part of the key: leave it out.
		msg = fmt.Sprintf("the LLM provider rejected the credentials%s: check %s", at, p.authHint)
	case kind == KindBadRequest && status == http.StatusNotFound:
		msg = fmt.Sprintf("the LLM provider has no model or deployment %s at this endpoint%s%s; check %s",
			quote(p.model), at, prefixed(detail), p.modelHint)
	case kind == KindBadRequest:
		msg = fmt.Sprintf("the LLM provider rejected the request%s%s; check %s", at, prefixed(detail), p.modelHint)
	case status == http.StatusTooManyRequests:
		msg = "the LLM provider is rate limiting requests" + at + prefixed(detail)
	default:
		msg = "the LLM provider failed" + at + prefixed(detail)
	}
	return &Error{Kind: kind, Status: status, Message: msg, Err: err}
}

// scrub makes provider text fit for a message: no API key, one line, bounded length.
func (p *openAIProvider) scrub(s string) string {
	if p.key != "" {
		s = strings.ReplaceAll(s, p.key, "[redacted]")
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

func quote(s string) string { return "\"" + s + "\"" }

func prefixed(detail string) string {
	if detail == "" {
		return ""
	}
	return ": " + detail
}
