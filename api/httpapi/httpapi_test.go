package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/danielgtaylor/huma/v2/humatest"
	"github.com/stretchr/testify/require"

	"mcp-platform/api/httpapi"
	"mcp-platform/internal/health"
)

func TestHealth(t *testing.T) {
	up := health.Check{Name: "postgres", Run: func(context.Context) error { return nil }}
	down := health.Check{Name: "temporal", Run: func(context.Context) error { return errors.New("dial tcp 10.0.0.7:7233: refused") }}
	tests := []struct {
		name       string
		checks     []health.Check
		wantStatus int
		wantBody   string
	}{
		{"OK all dependencies answer", []health.Check{up}, http.StatusOK, "ok"},
		{"ErrDependencyDown is 503 naming it", []health.Check{up, down}, http.StatusServiceUnavailable, "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, api := humatest.New(t)
			httpapi.AddHealth(api, "test", tt.checks)
			resp := api.Get("/health")
			require.Equal(t, tt.wantStatus, resp.Code)
			var body httpapi.HealthBody
			require.NoError(t, json.Unmarshal(resp.Body.Bytes(), &body))
			require.Equal(t, tt.wantBody, body.Status)
			for _, c := range body.Checks {
				if c.Name == "temporal" {
					require.False(t, c.OK)
					require.Equal(t, "temporal unreachable", c.Error)
				}
			}
			require.NotContains(t, resp.Body.String(), "10.0.0.7", "internal addresses are not shown to anonymous callers")
			require.Equal(t, tt.wantStatus, api.Get("/readyz").Code, "readiness follows the dependencies")
			require.Equal(t, http.StatusOK, api.Get("/livez").Code, "liveness does not")
		})
	}
}
