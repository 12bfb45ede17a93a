// Package llm puts the language-model providers behind one small interface: the
// provider-neutral conversation types, the Provider interface and its errors, and the OpenAI
// family (OpenAI, Azure OpenAI and any OpenAI-compatible server such as Ollama, vLLM or LM
// Studio) through go-openai. The deterministic, keyless mock for tests and demos is package
// llm/mock; the platform picks one of them from the configuration, so swapping provider touches
// nothing outside the LLM activity.
package llm

import (
	"context"
	"net/http"
)

// Role is who wrote a message of a conversation.
type Role string

// Roles of conversation messages, as the OpenAI chat API names them.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// ToolCall is a tool call the model asked for.
type ToolCall struct {
	ID string `json:"id"`
	// Name is the namespaced platform tool name, e.g. "hr.get_employee".
	Name string `json:"name"`
	// Arguments is the raw JSON object text the model produced; it may be invalid JSON, which
	// the caller reports back to the model.
	Arguments string `json:"arguments"`
}

// Message is one message of a conversation.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content"`
	// ToolCalls are the calls an assistant message asked for.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID links a tool result to the call it answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
	// Name is the tool name of a tool result.
	Name string `json:"name,omitempty"`
	// Images are the images a tool result holds (MCP image content), for models that can see
	// them; Content already describes each in words for those that cannot.
	Images []Image `json:"images,omitempty"`
}

// Image is an image of a tool result: its media type and base64 data.
type Image struct {
	MIMEType string `json:"mime_type"`
	Data     string `json:"data"`
}

// ToolDef is a tool offered to the model.
type ToolDef struct {
	// Name is the namespaced platform tool name, e.g. "hr.get_employee".
	Name        string
	Description string
	// Parameters is the JSON Schema of the tool's arguments.
	Parameters map[string]any
}

// Request is a conversation to complete and the tools the model may call.
type Request struct {
	Messages []Message
	Tools    []ToolDef
}

// Usage counts the tokens of one completion, when the provider reports them.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Response is the model's next message.
type Response struct {
	Content   string
	ToolCalls []ToolCall
	// FinishReason is "tool_calls" when the model wants tools run, "stop" when it answered,
	// or what the provider said ("length", "content_filter").
	FinishReason string
	Usage        Usage
	// Model is the model that answered, as the provider names it (the configured one when the
	// provider does not say), for usage accounting.
	Model string
}

// Provider completes a conversation.
type Provider interface {
	// Complete returns the model's next message, streaming text deltas to onDelta as they
	// arrive (onDelta may be nil). Every failure is an *Error whose Retryable method tells
	// whether trying again can help: KindRetryable (rate limits, 5xx, timeouts, connection
	// errors, a stream cut mid-way), KindAuth (bad credentials) or KindBadRequest (unknown
	// model, a request the provider refuses).
	Complete(ctx context.Context, req Request, onDelta func(text string)) (Response, error)
}

// Provider names of the LLM_PROVIDER setting.
const (
	ProviderMock             = "mock"
	ProviderOpenAI           = "openai"
	ProviderAzureOpenAI      = "azure_openai"
	ProviderOpenAICompatible = "openai_compatible"
)

// Config configures a provider of the OpenAI family (LLM_PROVIDER, LLM_API_KEY, LLM_API_BASE,
// LLM_MODEL).
type Config struct {
	// Provider is "openai", "azure_openai" or "openai_compatible".
	Provider string
	// APIKey is required by openai and azure_openai, optional for openai_compatible.
	APIKey string
	// APIBase is the endpoint: required by azure_openai (https://<resource>.openai.azure.com,
	// optionally with ?api-version=...) and openai_compatible (e.g. http://localhost:11434/v1);
	// for openai it overrides the default base URL.
	APIBase string
	// Model is the model name; for azure_openai, the deployment name.
	Model string
	// OmitStreamUsage leaves out stream_options.include_usage, for an OpenAI-compatible server
	// that refuses the option (LLM_STREAM_USAGE=false). Without it, servers that do not report
	// usage record calls with 0 tokens.
	OmitStreamUsage bool
	// HTTPClient, when set, sends the requests; the default has no timeout, since the
	// caller's context bounds each call.
	HTTPClient *http.Client
}

// ErrorKind classifies provider failures by what the caller should do about them.
type ErrorKind string

// Kinds of provider failures.
const (
	// KindRetryable failures may pass: rate limits (429), server errors (5xx), timeouts,
	// connection errors, a stream cut before it finished.
	KindRetryable ErrorKind = "retryable"
	// KindAuth means the credentials were refused (401/403): a person must fix LLM_API_KEY.
	KindAuth ErrorKind = "auth"
	// KindBadRequest means the provider refused the request itself (400/404/422): an unknown
	// model or deployment, a wrong endpoint, a request it cannot serve.
	KindBadRequest ErrorKind = "bad_request"
)

// Error is a provider failure. Message is meant for people: it names the LLM setting to
// check and never contains the API key.
type Error struct {
	Kind ErrorKind
	// Status is the HTTP status the provider answered, or 0.
	Status  int
	Message string
	// Err is the underlying error, for logs and errors.Is.
	Err error
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether calling again may succeed, so the activity lets Temporal retry.
func (e *Error) Retryable() bool { return e.Kind == KindRetryable }

// Cancelled is the failure a provider returns when the caller's context ended (cancelled or
// timed out) before the answer was complete. It is retryable, so a retried activity asks again.
func Cancelled(err error) *Error {
	return &Error{Kind: KindRetryable, Message: "the LLM call was cancelled or timed out", Err: err}
}
