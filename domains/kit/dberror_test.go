package kit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

func TestDBError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantCode domains.ErrorCode
		wantMsg  string
	}{
		{"OK timeout", fmt.Errorf("query: %w", context.DeadlineExceeded), domains.CodeUnavailable, "the HR database did not answer in time while searching"},
		{"OK canceled", context.Canceled, domains.CodeUnavailable, "the HR database did not answer in time while searching"},
		{"OK connection failure", &pgconn.PgError{Code: "08006"}, domains.CodeUnavailable, "the HR database is unavailable while searching"},
		{"OK too many connections", &pgconn.PgError{Code: "53300"}, domains.CodeUnavailable, "the HR database is unavailable while searching"},
		{"OK shutting down", &pgconn.PgError{Code: "57P01"}, domains.CodeUnavailable, "the HR database is unavailable while searching"},
		{"OK serialization failure", &pgconn.PgError{Code: "40001"}, domains.CodeUnavailable, "the HR database is unavailable while searching"},
		{"OK network error", errors.New("dial tcp: connection refused"), domains.CodeUnavailable, "the HR database is unavailable while searching"},
		{"OK syntax error is a bug", &pgconn.PgError{Code: "42601"}, domains.CodeInternal, "the HR database refused the query while searching"},
		{"OK permission denied is a bug", fmt.Errorf("scan: %w", &pgconn.PgError{Code: "42501"}), domains.CodeInternal, "the HR database refused the query while searching"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := kit.DBError("HR", "searching", tc.err)
			var de *domains.Error
			require.ErrorAs(t, err, &de)
			require.Equal(t, tc.wantCode, de.Code)
			require.Equal(t, tc.wantMsg, de.Message)
			require.ErrorIs(t, err, tc.err, "the cause is kept for logs")
		})
	}
}
