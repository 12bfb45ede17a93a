package toolcall

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"

	"mcp-platform/domains"
)

// Code says why a tool call did not produce a result. It is the one vocabulary of the platform:
// the Temporal error type of a failed tool activity, the status of a tool outcome in a chat, the
// "type" of a tool error the LLM reads, and (through HTTPStatus) the REST status.
type Code string

// Codes of tool-call failures. Denied, Invalid, NotFound and Conflict are the caller's (or the
// LLM's) mistakes and are never retried; Unavailable is transient and retried with the tool's
// retry policy. Rejected and Expired end a call that waited for a person. The approval codes
// are refusals of an approval decision.
const (
	Denied      Code = "denied"
	Invalid     Code = "invalid"
	NotFound    Code = "not_found"
	Conflict    Code = "conflict"
	Unavailable Code = "unavailable"
	Timeout     Code = "timeout"
	// AuditUnavailable: the attempt could not be recorded, so the call did not run.
	AuditUnavailable Code = "audit_unavailable"
	Rejected         Code = "rejected"
	Expired          Code = "expired"
	// OutcomeUnknown: a call that must not be repeated may have reached a third-party server
	// and no answer came back; it was not sent again, and whether it took effect is unknown.
	// Never retried.
	OutcomeUnknown Code = "outcome_unknown"
	// Failed: the backend answered with a protocol-level error instead of a result (an MCP
	// task of such a call is "failed", not "completed"). Never retried: the backend answered.
	Failed Code = "failed"

	NotPending   Code = "not_pending"
	ArgsMismatch Code = "args_mismatch"
	NotApprover  Code = "not_approver"
	OwnRequest   Code = "own_request"
)

// NonRetryable lists the Temporal error types of tool activities that must not be retried.
var NonRetryable = []string{string(Denied), string(Invalid), string(NotFound), string(Conflict)}

// Final reports whether a tool activity that failed with Temporal error type t ended for good
// with a result its caller reads (the NonRetryable codes, and OutcomeUnknown, which is never
// retried either), rather than because the backend stayed unavailable.
func Final(t string) bool {
	return slices.Contains(NonRetryable, t) || t == string(OutcomeUnknown) || t == string(Failed)
}

// HTTPStatus is the REST status of a failure with code c.
func (c Code) HTTPStatus() int {
	switch c {
	case Denied, NotApprover, OwnRequest:
		return http.StatusForbidden
	case Invalid:
		return http.StatusUnprocessableEntity
	case NotFound:
		return http.StatusNotFound
	case Conflict, Rejected, Expired, NotPending, ArgsMismatch:
		return http.StatusConflict
	case Timeout:
		return http.StatusGatewayTimeout
	case AuditUnavailable:
		return http.StatusServiceUnavailable
	case OutcomeUnknown:
		return http.StatusBadGateway
	default:
		return http.StatusBadGateway
	}
}

// Error is a tool call that did not produce a result, with a message safe to show the caller and
// the LLM, and the argument problems of an invalid call.
type Error struct {
	Code     Code
	Message  string
	Problems []domains.Problem
	// Status overrides Code.HTTPStatus when the REST status needs more nuance (503 for a domain
	// without workers).
	Status int
}

func (e *Error) Error() string { return e.Message }

// HTTPStatus is the REST status of e.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Code.HTTPStatus()
}

// Describe is e as one line of text, each argument problem with its field path: the text of an
// MCP isError result.
func (e *Error) Describe() string {
	if len(e.Problems) == 0 {
		return e.Message
	}
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		field := p.Field
		if field == "" {
			field = "(arguments)"
		}
		parts = append(parts, fmt.Sprintf("%s: %s", field, p.Message))
	}
	return "invalid arguments: " + strings.Join(parts, "; ")
}

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorDetails travel with a failed tool activity so callers can show what went wrong.
type ErrorDetails struct {
	Problems []domains.Problem `json:"problems,omitempty"`
}

// Temporal is e as the error of a tool activity: non-retryable for the caller's mistakes,
// retryable otherwise, with the argument problems as details.
//
// The caller's mistakes (denied, invalid, not found, conflict) are ordinary results of a tool
// call, which the LLM or the caller reads and acts on, not failures of the platform: they are
// benign errors, which the Temporal SDK logs at debug rather than as "Activity error." at
// error, and leaves out of its failure metrics. ExecuteTool logs them at info.
func (e *Error) Temporal() error {
	if e.Code.retryable() {
		return temporal.NewApplicationError(e.Message, string(e.Code))
	}
	opts := temporal.ApplicationErrorOptions{NonRetryable: true, Category: temporal.ApplicationErrorCategoryBenign}
	if len(e.Problems) > 0 {
		opts.Details = []any{ErrorDetails{Problems: e.Problems}}
	}
	return temporal.NewApplicationErrorWithOptions(e.Message, string(e.Code), opts)
}

func (c Code) retryable() bool { return c == Unavailable || c == Timeout || c == AuditUnavailable }

// FromDomain classifies an adapter's error: a *domains.Error keeps its code (internal failures
// become Unavailable and are retried); any other error is a transient backend failure.
func FromDomain(domain string, err error) *Error {
	var de *domains.Error
	if !errors.As(err, &de) {
		return &Error{Code: Unavailable, Message: "the " + domain + " backend failed"}
	}
	switch de.Code {
	case domains.CodeNotFound:
		return &Error{Code: NotFound, Message: de.Message}
	case domains.CodeInvalid:
		return &Error{Code: Invalid, Message: de.Message}
	case domains.CodeConflict:
		return &Error{Code: Conflict, Message: de.Message}
	case domains.CodeDenied:
		return &Error{Code: Denied, Message: de.Message}
	case domains.CodeOutcomeUnknown:
		return &Error{Code: OutcomeUnknown, Message: de.Message}
	case domains.CodeFailed:
		return &Error{Code: Failed, Message: de.Message}
	default:
		return &Error{Code: Unavailable, Message: de.Message}
	}
}

// FromTemporal maps the failure of a workflow or activity that ran tool (of domain, in run
// runID) to the caller's error. A nil result means err carried nothing recognisable; callers
// log it and report a generic failure.
func FromTemporal(tool, domain, runID string, err error) *Error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		e := &Error{Code: Code(appErr.Type()), Message: appErr.Message()}
		switch e.Code {
		case Denied, NotFound, Conflict, NotPending, ArgsMismatch, NotApprover, OwnRequest, AuditUnavailable, OutcomeUnknown, Failed:
		case Invalid:
			var d ErrorDetails
			if appErr.HasDetails() && appErr.Details(&d) == nil {
				e.Problems = d.Problems
			}
		default:
			e.Code, e.Message = Unavailable, fmt.Sprintf("%s failed after retries: %s", tool, appErr.Message())
		}
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &Error{Code: Timeout, Message: fmt.Sprintf("%s did not finish in time; its run %s may still complete (see the Temporal UI)", tool, runID)}
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return &Error{Code: Timeout, Message: fmt.Sprintf("%s timed out: the %s domain did not answer in time", tool, domain)}
	}
	return nil
}
