package audit_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/audit"
	"mcp-platform/internal/redact"
	"mcp-platform/internal/testutil/dbtest"
)

// rawRow returns the whole audit_log row as Postgres sees it.
func rawRow(t *testing.T, db *dbtest.Database, id int64) string {
	t.Helper()
	var row string
	err := db.Pool.QueryRow(context.Background(),
		"SELECT row_to_json(a)::text FROM audit_log a WHERE id = $1", id).Scan(&row)
	require.NoError(t, err)
	return row
}

// setAt moves a row in time, so tests control the order Query sees.
func setAt(t *testing.T, db *dbtest.Database, id int64, at time.Time) {
	t.Helper()
	_, err := db.Pool.Exec(context.Background(), "UPDATE audit_log SET at = $1 WHERE id = $2", at, id)
	require.NoError(t, err)
}

func ids(recs []audit.Record) []int64 {
	out := make([]int64, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func TestRecord(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	log := audit.New(db.Pool)

	t.Run("OK redacts params, result and error", func(t *testing.T) {
		e := audit.Entry{
			UserID: "alice",
			Roles:  []string{"hr_manager", "employee"},
			Tool:   "hr.update_employee",
			Params: map[string]any{
				"employee_id": "E001",
				"password":    "pw-SECRET-1",
				"settings":    map[string]any{"apiKey": "key-SECRET-2", "theme": "dark"},
				"employee":    map[string]any{"bonus": "bonus-SECRET-3", "title": "Lead"},
				"note":        "use Bearer bearer-SECRET-4 to call",
				"phones":      []any{map[string]any{"home_phone": "phone-SECRET-5"}},
			},
			Result: map[string]any{
				"employee":      map[string]any{"id": "E001", "name": "Ann", "base_salary": 7654321, "bonus": "bonus-SECRET-6"},
				"refresh_token": "tok-SECRET-7",
			},
			Sensitive:  []string{"employee.bonus", "phone"},
			Outcome:    audit.OutcomeFailed,
			Error:      "backend: dial postgres://hr:db-SECRET-8@hr-db/hr: password=pw-SECRET-9 rejected",
			Duration:   1500 * time.Millisecond,
			WorkflowID: "chat-c1-1",
			RunID:      "run-1",
			ToolCallID: "call-1",
			Approver:   "bob",
		}
		id, err := log.Record(ctx, e)
		require.NoError(t, err)
		require.Positive(t, id)

		row := rawRow(t, db, id)
		require.NotContains(t, row, "SECRET")
		require.NotContains(t, row, "7654321")
		require.Contains(t, row, redact.Mask)
		require.Contains(t, row, "E001")

		page, err := log.Query(ctx, audit.Filter{})
		require.NoError(t, err)
		require.Len(t, page.Records, 1)
		got := page.Records[0]
		require.Equal(t, id, got.ID)
		require.WithinDuration(t, time.Now(), got.At, time.Minute)
		require.Equal(t, "alice", got.UserID)
		require.Equal(t, []string{"hr_manager", "employee"}, got.Roles)
		require.Equal(t, "hr.update_employee", got.Tool)
		require.Equal(t, "hr", got.Domain)
		require.Equal(t, audit.OutcomeFailed, got.Outcome)
		require.Equal(t, map[string]any{
			"employee_id": "E001",
			"password":    redact.Mask,
			"settings":    map[string]any{"apiKey": redact.Mask, "theme": "dark"},
			"employee":    map[string]any{"bonus": redact.Mask, "title": "Lead"},
			"note":        "use Bearer " + redact.Mask + " to call",
			"phones":      []any{map[string]any{"home_phone": redact.Mask}},
		}, got.Params)
		require.Equal(t, map[string]any{
			"employee":      map[string]any{"id": "E001", "name": "Ann", "base_salary": redact.Mask, "bonus": redact.Mask},
			"refresh_token": redact.Mask,
		}, got.Result)
		require.Equal(t, "backend: dial postgres://hr:"+redact.Mask+"@hr-db/hr: password="+redact.Mask+" rejected", got.Error)
		require.Equal(t, int64(1500), got.DurationMS)
		require.Equal(t, "chat-c1-1", got.WorkflowID)
		require.Equal(t, "run-1", got.RunID)
		require.Equal(t, "call-1", got.ToolCallID)
		require.Equal(t, "bob", got.Approver)

		// The caller's entry is left as it was.
		require.Equal(t, "pw-SECRET-1", e.Params["password"])
	})

	t.Run("OK minimal entry stores defaults and a NULL result", func(t *testing.T) {
		id, err := log.Record(ctx, audit.Entry{UserID: "carol", Tool: "erp.list_invoices", Domain: "erp", Outcome: audit.OutcomeDenied})
		require.NoError(t, err)
		var (
			roles      []string
			params     string
			resultNull bool
		)
		err = db.Pool.QueryRow(ctx, "SELECT roles, params::text, result IS NULL FROM audit_log WHERE id = $1", id).
			Scan(&roles, &params, &resultNull)
		require.NoError(t, err)
		require.Empty(t, roles)
		require.Equal(t, "{}", params)
		require.True(t, resultNull)
	})

	t.Run("ErrInvalidEntry", func(t *testing.T) {
		_, err := log.Record(ctx, audit.Entry{UserID: "u", Tool: "hr.x", Outcome: "success"})
		require.ErrorContains(t, err, "unknown outcome")
		_, err = log.Record(ctx, audit.Entry{UserID: "u", Outcome: audit.OutcomeStarted})
		require.ErrorContains(t, err, "tool is required")
	})
}

func TestQueryFilters(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	log := audit.New(db.Pool)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	rows := []struct {
		user, tool string
		outcome    audit.Outcome
	}{
		{"u1", "hr.get_employee", audit.OutcomeSucceeded},      // t0+1h
		{"u1", "hr.update_employee", audit.OutcomeDenied},      // t0+2h
		{"u2", "erp.get_invoice", audit.OutcomeSucceeded},      // t0+3h
		{"u2", "hr.get_employee", audit.OutcomeFailed},         // t0+4h
		{"u3", "devops.restart_service", audit.OutcomeInvalid}, // t0+5h
		{"u3", "hrx.get", audit.OutcomeStarted},                // t0+6h
	}
	id := make([]int64, len(rows)+1) // id[n] is row n, counted from 1
	for i, r := range rows {
		n, err := log.Record(ctx, audit.Entry{UserID: r.user, Tool: r.tool, Outcome: r.outcome})
		require.NoError(t, err)
		id[i+1] = n
		setAt(t, db, n, t0.Add(time.Duration(i+1)*time.Hour))
	}

	tests := []struct {
		name   string
		filter audit.Filter
		want   []int64
	}{
		{"OK no filter newest first", audit.Filter{}, []int64{id[6], id[5], id[4], id[3], id[2], id[1]}},
		{"OK user", audit.Filter{UserID: "u1"}, []int64{id[2], id[1]}},
		{"OK unknown user", audit.Filter{UserID: "nobody"}, []int64{}},
		{"OK tool exact", audit.Filter{Tool: "hr.get_employee"}, []int64{id[4], id[1]}},
		{"OK tool prefix", audit.Filter{Tool: "hr.*"}, []int64{id[4], id[2], id[1]}},
		{"OK tool prefix wildcards are literal", audit.Filter{Tool: "h_.*"}, []int64{}},
		{"OK tool star alone", audit.Filter{Tool: "*"}, []int64{id[6], id[5], id[4], id[3], id[2], id[1]}},
		{"OK outcome", audit.Filter{Outcome: "succeeded"}, []int64{id[3], id[1]}},
		{"OK since", audit.Filter{Since: t0.Add(5 * time.Hour)}, []int64{id[6], id[5]}},
		{"OK until", audit.Filter{Until: t0.Add(2 * time.Hour)}, []int64{id[1]}},
		{"OK since and until half-open", audit.Filter{Since: t0.Add(2 * time.Hour), Until: t0.Add(4 * time.Hour)}, []int64{id[3], id[2]}},
		{"OK combined", audit.Filter{UserID: "u2", Tool: "hr.*", Outcome: "failed"}, []int64{id[4]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := log.Query(ctx, tt.filter)
			require.NoError(t, err)
			require.Equal(t, tt.want, ids(page.Records))
			require.Empty(t, page.NextCursor)
		})
	}

	t.Run("ErrBadFilter", func(t *testing.T) {
		_, err := log.Query(ctx, audit.Filter{Outcome: "success"})
		require.ErrorIs(t, err, audit.ErrBadFilter)
		_, err = log.Query(ctx, audit.Filter{Since: t0.Add(time.Hour), Until: t0})
		require.ErrorIs(t, err, audit.ErrBadFilter)
	})
}

func TestQueryPagination(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	log := audit.New(db.Pool)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	// Nine rows, several sharing a timestamp, so pages must break ties on id. Offsets are in
	// seconds from t0.
	offsets := []int{0, 0, 1, 1, 1, 2, 3, 3, 3}
	type key struct {
		at time.Time
		id int64
	}
	var all []key
	for _, off := range offsets {
		id, err := log.Record(ctx, audit.Entry{UserID: "u1", Tool: "hr.get_employee", Outcome: audit.OutcomeSucceeded})
		require.NoError(t, err)
		at := t0.Add(time.Duration(off) * time.Second)
		setAt(t, db, id, at)
		all = append(all, key{at, id})
	}
	// A row the filter excludes must not disturb the pages.
	other, err := log.Record(ctx, audit.Entry{UserID: "u2", Tool: "hr.get_employee", Outcome: audit.OutcomeSucceeded})
	require.NoError(t, err)
	setAt(t, db, other, t0.Add(2*time.Second))

	// Newest first: by at, then id, descending.
	var want []int64
	for i := len(all) - 1; i >= 0; i-- {
		want = append(want, all[i].id)
	}

	t.Run("OK three pages without duplicates or gaps", func(t *testing.T) {
		var (
			got    []int64
			sizes  []int
			cursor string
		)
		for range 10 {
			page, err := log.Query(ctx, audit.Filter{UserID: "u1", Limit: 3, Cursor: cursor})
			require.NoError(t, err)
			got = append(got, ids(page.Records)...)
			sizes = append(sizes, len(page.Records))
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		require.Equal(t, []int{3, 3, 3}, sizes)
		require.Equal(t, want, got)
	})

	t.Run("OK rows written while paging do not shift pages", func(t *testing.T) {
		first, err := log.Query(ctx, audit.Filter{UserID: "u1", Limit: 4})
		require.NoError(t, err)
		_, err = log.Record(ctx, audit.Entry{UserID: "u1", Tool: "hr.get_employee", Outcome: audit.OutcomeStarted})
		require.NoError(t, err)
		second, err := log.Query(ctx, audit.Filter{UserID: "u1", Limit: 4, Cursor: first.NextCursor})
		require.NoError(t, err)
		require.Equal(t, want[:4], ids(first.Records))
		require.Equal(t, want[4:8], ids(second.Records))
	})
}

func TestQueryLimit(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	log := audit.New(db.Pool)
	_, err := db.Pool.Exec(ctx, `INSERT INTO audit_log (user_id, tool, outcome)
		SELECT 'u1', 'hr.get_employee', 'succeeded' FROM generate_series(1, 205)`)
	require.NoError(t, err)

	tests := []struct {
		name  string
		limit int
		want  int
	}{
		{"OK default", 0, audit.DefaultLimit},
		{"OK negative is default", -1, audit.DefaultLimit},
		{"OK explicit", 10, 10},
		{"OK capped", 1000, audit.MaxLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := log.Query(ctx, audit.Filter{Limit: tt.limit})
			require.NoError(t, err)
			require.Len(t, page.Records, tt.want)
			require.NotEmpty(t, page.NextCursor)
		})
	}
}

func TestQueryBadCursor(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	log := audit.New(db.Pool)
	enc := base64.RawURLEncoding.EncodeToString

	for name, c := range map[string]string{
		"not base64":     "!!not*base64!!",
		"not JSON":       enc([]byte("hello")),
		"empty object":   enc([]byte("{}")),
		"missing time":   enc([]byte(`{"id":5}`)),
		"wrong types":    enc([]byte(`{"at":"yesterday","id":"x"}`)),
		"SQL in a field": enc([]byte(`{"at":"2026-03-01T09:00:00Z","id":"1; DROP TABLE audit_log"}`)),
	} {
		t.Run("ErrBadCursor "+name, func(t *testing.T) {
			_, err := log.Query(ctx, audit.Filter{Cursor: c})
			require.ErrorIs(t, err, audit.ErrBadCursor)
			require.False(t, strings.Contains(err.Error(), "DROP"), "error echoes the cursor")
		})
	}
}

func TestMayHaveRun(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	log := audit.New(db.Pool)
	entry := func(call string) audit.Entry {
		return audit.Entry{UserID: "u", Tool: "notes.append", WorkflowID: "wf-1", ToolCallID: call}
	}

	t.Run("OK none for a call without earlier attempts that may have run", func(t *testing.T) {
		failed := entry("call-1")
		failed.Outcome = audit.OutcomeFailed
		_, err := log.Record(ctx, failed)
		require.NoError(t, err)
		n, ids, err := log.MayHaveRun(ctx, "wf-1", "call-1", "notes.append")
		require.NoError(t, err)
		require.Zero(t, n)
		require.Empty(t, ids)
	})

	t.Run("OK unfinished and unknown attempts count; only unfinished ones are listed", func(t *testing.T) {
		started, err := log.Begin(ctx, entry("call-2"))
		require.NoError(t, err)
		unknown := entry("call-2")
		unknown.Outcome = audit.OutcomeUnknown
		_, err = log.Record(ctx, unknown)
		require.NoError(t, err, "the migration allows the unknown outcome")
		other := entry("call-3")
		_, err = log.Begin(ctx, other)
		require.NoError(t, err)
		n, ids, err := log.MayHaveRun(ctx, "wf-1", "call-2", "notes.append")
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Equal(t, []int64{started}, ids)
	})
}
