package toolcall_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"mcp-platform/domains"
	"mcp-platform/toolcall"
)

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		code toolcall.Code
		want int
	}{
		{toolcall.Denied, http.StatusForbidden},
		{toolcall.NotApprover, http.StatusForbidden},
		{toolcall.OwnRequest, http.StatusForbidden},
		{toolcall.Invalid, http.StatusUnprocessableEntity},
		{toolcall.NotFound, http.StatusNotFound},
		{toolcall.Conflict, http.StatusConflict},
		{toolcall.Rejected, http.StatusConflict},
		{toolcall.Expired, http.StatusConflict},
		{toolcall.NotPending, http.StatusConflict},
		{toolcall.ArgsMismatch, http.StatusConflict},
		{toolcall.Timeout, http.StatusGatewayTimeout},
		{toolcall.Unavailable, http.StatusBadGateway},
	}
	for _, tc := range tests {
		t.Run(string(tc.code), func(t *testing.T) {
			require.Equal(t, tc.want, tc.code.HTTPStatus())
		})
	}
	override := &toolcall.Error{Code: toolcall.Unavailable, Status: http.StatusServiceUnavailable}
	require.Equal(t, http.StatusServiceUnavailable, override.HTTPStatus())
}

func TestTemporalRoundTrip(t *testing.T) {
	problems := []domains.Problem{{Field: "sku", Message: "does not match pattern"}}
	tests := []struct {
		name      string
		err       *toolcall.Error
		retryable bool
		wantCode  toolcall.Code
	}{
		{"OKInvalidKeepsProblems", &toolcall.Error{Code: toolcall.Invalid, Message: "invalid parameters", Problems: problems}, false, toolcall.Invalid},
		{"OKDenied", toolcall.Errorf(toolcall.Denied, "no"), false, toolcall.Denied},
		{"OKNotFound", toolcall.Errorf(toolcall.NotFound, "gone"), false, toolcall.NotFound},
		{"OKUnavailableRetried", toolcall.Errorf(toolcall.Unavailable, "down"), true, toolcall.Unavailable},
		{"OKFailedNotRetried", toolcall.Errorf(toolcall.Failed, "the server failed the call"), false, toolcall.Failed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			terr := tc.err.Temporal()
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(terr, &appErr))
			require.Equal(t, !tc.retryable, appErr.NonRetryable())
			// The caller's mistakes are ordinary results: benign, so the SDK does not log them
			// as errors.
			wantCategory := temporal.ApplicationErrorCategoryBenign
			if tc.retryable {
				wantCategory = temporal.ApplicationErrorCategoryUnspecified
			}
			require.Equal(t, wantCategory, appErr.Category())
			got := toolcall.FromTemporal("shop.get_item", "shop", "tool-1", fmt.Errorf("run: %w", terr))
			require.NotNil(t, got)
			require.Equal(t, tc.wantCode, got.Code)
			if tc.err.Problems != nil {
				require.Equal(t, tc.err.Problems, got.Problems)
			}
		})
	}
	t.Run("OKUnknownTypeIsUnavailable", func(t *testing.T) {
		got := toolcall.FromTemporal("shop.get_item", "shop", "tool-1", temporal.NewApplicationError("boom", "weird"))
		require.Equal(t, toolcall.Unavailable, got.Code)
		require.Contains(t, got.Message, "shop.get_item failed after retries: boom")
	})
	t.Run("OKDeadline", func(t *testing.T) {
		got := toolcall.FromTemporal("shop.get_item", "shop", "tool-1", context.DeadlineExceeded)
		require.Equal(t, toolcall.Timeout, got.Code)
		require.Contains(t, got.Message, "tool-1")
	})
	t.Run("OKUnrecognised", func(t *testing.T) {
		require.Nil(t, toolcall.FromTemporal("t", "d", "r", errors.New("boom")))
	})
}

func TestFromDomain(t *testing.T) {
	tests := []struct {
		err  error
		want toolcall.Code
		msg  string
	}{
		{domains.Errorf(domains.CodeNotFound, "no E999"), toolcall.NotFound, "no E999"},
		{domains.Errorf(domains.CodeInvalid, "bad"), toolcall.Invalid, "bad"},
		{domains.Errorf(domains.CodeConflict, "taken"), toolcall.Conflict, "taken"},
		{domains.Errorf(domains.CodeDenied, "nope"), toolcall.Denied, "nope"},
		{domains.Errorf(domains.CodeInternal, "oops"), toolcall.Unavailable, "oops"},
		{domains.Errorf(domains.CodeFailed, "the server failed the call"), toolcall.Failed, "the server failed the call"},
		{errors.New("dial tcp 10.0.0.1: refused"), toolcall.Unavailable, "the shop backend failed"},
	}
	for _, tc := range tests {
		t.Run(tc.msg, func(t *testing.T) {
			got := toolcall.FromDomain("shop", tc.err)
			require.Equal(t, tc.want, got.Code)
			require.Equal(t, tc.msg, got.Message, "internal error text never reaches the caller")
		})
	}
}

func TestDescribe(t *testing.T) {
	e := &toolcall.Error{Code: toolcall.Invalid, Message: "invalid parameters", Problems: []domains.Problem{
		{Field: "sku", Message: "required"}, {Field: "", Message: "additional properties 'bogus' not allowed"}}}
	require.Equal(t, "invalid arguments: sku: required; (arguments): additional properties 'bogus' not allowed", e.Describe())
	require.Equal(t, "plain", toolcall.Errorf(toolcall.Denied, "plain").Describe())
}
