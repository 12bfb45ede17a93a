// Package usageapi serves LLM usage: each user's own (GET /usage) and, for admins, everyone's
// (GET /usage/users).
package usageapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"mcp-platform/api/httpapi"
	"mcp-platform/authz"
	"mcp-platform/internal/usage"
)

// Tag is the OpenAPI tag of the usage routes.
var Tag = &huma.Tag{Name: "Usage", Description: "LLM tokens used, by day and model, and the daily budget."}

// Deps are what the usage routes read.
type Deps struct {
	Usage *usage.Store
	Authz *authz.Enforcer
	// TokensPerDay is each user's daily budget (0: none).
	TokensPerDay int64
	Logger       *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Budget is a user's daily token budget today.
type Budget struct {
	TokensPerDay int64 `json:"tokens_per_day" doc:"LLM tokens each user may use per UTC day; 0 means no budget"`
	Remaining    int64 `json:"remaining" doc:"Tokens left today; 0 when spent, and when there is no budget"`
	Exceeded     bool  `json:"exceeded" doc:"True when today's tokens reached the budget: chat turns end with a notice and run nothing"`
	// ResetsAt is the next 00:00 UTC.
	ResetsAt time.Time `json:"resets_at" doc:"When today's count starts again (00:00 UTC)"`
}

type usageInput struct {
	Days int `query:"days" minimum:"1" maximum:"90" default:"30" doc:"How many UTC days, today included"`
}

type usageOutput struct {
	Body struct {
		usage.Report
		Budget Budget `json:"budget"`
	}
}

type userUsageInput struct {
	Days  int `query:"days" minimum:"1" maximum:"90" default:"30" doc:"How many UTC days, today included"`
	Limit int `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"At most this many users, the most tokens first"`
}

type userUsageOutput struct {
	Body struct {
		Since        time.Time          `json:"since" doc:"Start of the period (00:00 UTC of its first day)"`
		TokensPerDay int64              `json:"tokens_per_day" doc:"Each user's daily budget; 0 means none"`
		Users        []usage.UserTotals `json:"users" doc:"Users with usage in the period, the most tokens first"`
	}
}

// Register adds GET /usage and GET /usage/users to api.
func Register(api huma.API, deps Deps) {
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	huma.Register(api, huma.Operation{
		OperationID: "get-own-usage",
		Method:      http.MethodGet,
		Path:        "/usage",
		Summary:     "Read your LLM usage",
		Description: "The caller's LLM tokens (prompt and completion): today, by model, and per UTC day over the " +
			"period, with the daily budget and when it resets.",
		Tags:   []string{"Usage"},
		Errors: []int{http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusServiceUnavailable},
	}, func(ctx context.Context, in *usageInput) (*usageOutput, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		if deps.Usage == nil {
			return nil, huma.Error503ServiceUnavailable("usage accounting is not configured on this server")
		}
		t := now()
		rep, err := deps.Usage.UserReport(ctx, p.Subject, t, in.Days)
		if err != nil {
			deps.Logger.Error("usage report failed", "error", err)
			return nil, huma.Error500InternalServerError("could not read the usage")
		}
		out := &usageOutput{}
		out.Body.Report = rep
		out.Body.Budget = Budget{TokensPerDay: deps.TokensPerDay, ResetsAt: usage.DayStart(t).Add(24 * time.Hour)}
		if deps.TokensPerDay > 0 {
			out.Body.Budget.Remaining = max(deps.TokensPerDay-rep.Today.TotalTokens, 0)
			out.Body.Budget.Exceeded = rep.Today.TotalTokens >= deps.TokensPerDay
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "list-user-usage",
		Method:      http.MethodGet,
		Path:        "/usage/users",
		Summary:     "Read every user's LLM usage",
		Description: "Each user's LLM tokens over the period and today, by model, the most tokens first. For admins.",
		Tags:        []string{"Usage"},
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests, http.StatusServiceUnavailable},
	}, func(ctx context.Context, in *userUsageInput) (*userUsageOutput, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		if !deps.Authz.CanReadAllUsage(p) {
			return nil, huma.Error403Forbidden("only admins may read everyone's usage; GET /usage shows your own")
		}
		if deps.Usage == nil {
			return nil, huma.Error503ServiceUnavailable("usage accounting is not configured on this server")
		}
		t := now()
		users, err := deps.Usage.AllUsers(ctx, t, in.Days, in.Limit)
		if err != nil {
			deps.Logger.Error("usage report failed", "error", err)
			return nil, huma.Error500InternalServerError("could not read the usage")
		}
		out := &userUsageOutput{}
		out.Body.Since = usage.DayStart(t).AddDate(0, 0, -(in.Days - 1))
		out.Body.TokensPerDay, out.Body.Users = deps.TokensPerDay, users
		return out, nil
	})
}
