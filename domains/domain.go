// Package domains is the contract between the platform and the business systems it acts on: a
// domain's configuration types (namespaced tools with JSON Schemas and annotations, permissions,
// timeouts, retries, approval policy), the Adapter that executes its tools, and the typed errors
// adapters return. It imports nothing else of the platform and no third-party module.
//
// Around it: domains/domainconfig reads and validates the YAML files, domains/policy evaluates
// schemas and approval conditions, domains/kit is what builtin adapters share (Deps, Router,
// argument readers, database errors); each domains/<x> implements the contract and platform/
// wires them.
package domains

import (
	"context"
	"errors"
	"fmt"
)

// Call is one tool execution handed to an adapter.
type Call struct {
	// Tool is the namespaced tool name, such as "hr.get_employee".
	Tool string
	// Args are the parameters, already validated against the tool's input schema.
	Args map[string]any
	// IdempotencyKey is the same on every retry of one logical call (workflow ID + tool call
	// ID). Adapters with side effects must not repeat them for a key they have seen.
	IdempotencyKey string
	// Subject is who the call is made for, for adapters that record it.
	Subject string
	// OnProgress receives the call's progress when its caller asked to follow it (an MCP
	// client that sent a progress token); nil otherwise. Adapters report through
	// ReportProgress, as often as they like: the platform coalesces and drops reports whose
	// progress does not increase.
	OnProgress func(Progress)
}

// Progress is how far a running call has come: Progress increases with each report, Total is
// its value when the call is done (zero when unknown), Message says what it is doing (shown to
// the caller, so it must not hold secrets; the platform redacts well-known ones).
type Progress struct {
	Progress float64
	Total    float64
	Message  string
}

// ReportProgress passes a progress report to the call's caller, if it follows the call.
func (c Call) ReportProgress(progress, total float64, message string) {
	if c.OnProgress != nil {
		c.OnProgress(Progress{Progress: progress, Total: total, Message: message})
	}
}

// Adapter executes a domain's tools.
//
// Call returns the tool's structured result (a JSON-encodable value, normally an object), or a
// *Result for a tool that answers with content blocks, or an *Error: CodeNotFound, CodeInvalid,
// CodeConflict for the caller's mistakes (never retried), CodeUnavailable for transient failures
// (retried), CodeOutcomeUnknown when a call that must not be repeated may have run (never
// retried). Any other error is treated as transient.
type Adapter interface {
	Call(ctx context.Context, call Call) (any, error)
}

// ToolSource is implemented by adapters whose tools come from elsewhere (a remote MCP server):
// the worker asks it for the tools at start and registers them under the domain's namespace.
type ToolSource interface {
	DiscoverTools(ctx context.Context) ([]Tool, error)
}

// Closer is implemented by adapters holding connections or processes to release on stop.
type Closer interface {
	Close() error
}

// ErrorCode classifies a tool failure.
type ErrorCode string

// Error codes adapters and the platform use.
const (
	CodeNotFound    ErrorCode = "not_found"   // the thing asked for does not exist
	CodeInvalid     ErrorCode = "invalid"     // the arguments are wrong
	CodeConflict    ErrorCode = "conflict"    // the request contradicts current state
	CodeDenied      ErrorCode = "denied"      // the caller may not do this
	CodeUnavailable ErrorCode = "unavailable" // the backend is down or timed out; retried
	CodeInternal    ErrorCode = "internal"    // a bug or unexpected failure
	// CodeOutcomeUnknown: the request may have reached a third party that does not honour our
	// idempotency key, and no answer came back; sending it again could repeat a side effect, so
	// it is never retried and the caller is told the outcome is unknown.
	CodeOutcomeUnknown ErrorCode = "outcome_unknown"
	// CodeFailed: the backend answered the call with a protocol-level error (for a remote MCP
	// server, a JSON-RPC error other than invalid arguments or unknown tool) instead of a
	// result. The backend did answer, so it is not retried.
	CodeFailed ErrorCode = "failed"
)

// Error is a tool failure with a code and a message that is safe to show to the caller and the
// LLM (it must not contain secrets or internal addresses).
type Error struct {
	Code    ErrorCode
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether retrying the call may succeed.
func (e *Error) Retryable() bool { return e.Code == CodeUnavailable || e.Code == CodeInternal }

// Errorf builds an *Error with a formatted, caller-safe message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err, CodeInternal when it carries none.
func CodeOf(err error) ErrorCode {
	var de *Error
	if errors.As(err, &de) {
		return de.Code
	}
	return CodeInternal
}
