package approvals_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mcp-platform/internal/approvals"
	"mcp-platform/internal/testutil/dbtest"
	"mcp-platform/toolcall"
)

// far is an expiry no test reaches.
var far = time.Date(2099, 1, 1, 12, 0, 0, 0, time.UTC)

// request is a pending request by alice that devops leads may decide.
func request(id string) approvals.Request {
	return approvals.Request{
		ID: id, WorkflowID: "wf-" + id, ToolCallID: "call-1",
		Tool: "devops.scale_deployment", Domain: "devops",
		Arguments: map[string]any{"name": "web", "replicas": float64(5), "token": "[REDACTED]"},
		ArgsHash:  "hash-" + id, Requester: "alice", ApproverRoles: []string{"devops_lead", "sre"},
		Reason: "scaling production", ExpiresAt: far,
	}
}

func create(tb testing.TB, s *approvals.Store, r approvals.Request) {
	tb.Helper()
	require.NoError(tb, s.Create(context.Background(), r))
}

// setRequestedAt moves a request in time, so tests control the order lists see.
func setRequestedAt(tb testing.TB, db *dbtest.Database, id string, at time.Time) {
	tb.Helper()
	tag, err := db.Pool.Exec(context.Background(), "UPDATE approvals SET requested_at = $1 WHERE id = $2", at, id)
	require.NoError(tb, err)
	require.EqualValues(tb, 1, tag.RowsAffected())
}

// withoutTimes drops the fields set by the clock, which tests check on their own.
func withoutTimes(r approvals.Request) approvals.Request {
	r.RequestedAt, r.ExpiresAt, r.DecidedAt = time.Time{}, time.Time{}, nil
	return r
}

func requestIDs(list []approvals.Request) []string {
	out := make([]string, 0, len(list))
	for _, r := range list {
		out = append(out, r.ID)
	}
	return out
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := approvals.NewStore(db.Pool)

	t.Run("OK Get returns the pending request", func(t *testing.T) {
		r := request("apr-create-1")
		r.ConversationID, r.Turn, r.AllowSelf = db.Conversation(t), 2, true
		create(t, s, r)

		got, err := s.Get(ctx, r.ID)
		require.NoError(t, err)
		want := r
		want.Status = approvals.StatusPending
		require.Equal(t, withoutTimes(want), withoutTimes(got))
		require.WithinDuration(t, time.Now(), got.RequestedAt, time.Minute)
		require.True(t, far.Equal(got.ExpiresAt), "expires_at %s", got.ExpiresAt)
		require.Nil(t, got.DecidedAt)
		require.Empty(t, got.DecidedBy)
		require.Empty(t, got.Comment)
	})

	t.Run("OK without a conversation", func(t *testing.T) {
		r := request("apr-create-2")
		create(t, s, r)
		got, err := s.Get(ctx, r.ID)
		require.NoError(t, err)
		require.Empty(t, got.ConversationID)
		require.Zero(t, got.Turn)
		require.Equal(t, approvals.StatusPending, got.Status)
	})

	t.Run("OK without arguments or approver roles", func(t *testing.T) {
		// A call without arguments, or a tool no role may approve (then only admins can).
		r := request("apr-create-3")
		r.Arguments, r.ApproverRoles = nil, nil
		create(t, s, r)
		got, err := s.Get(ctx, r.ID)
		require.NoError(t, err)
		require.Empty(t, got.Arguments)
		require.Empty(t, got.ApproverRoles)
		require.True(t, toolcall.CheckDecider("root", []string{"admin"}, got.Requester, got.ApproverRoles, got.AllowSelf) == nil)
		require.False(t, toolcall.CheckDecider("bob", []string{"devops_lead"}, got.Requester, got.ApproverRoles, got.AllowSelf) == nil)
	})

	t.Run("OK recording the same request again changes nothing", func(t *testing.T) {
		r := request("apr-create-4")
		create(t, s, r)
		before, err := s.Get(ctx, r.ID)
		require.NoError(t, err)

		again := r
		again.Reason, again.ArgsHash, again.ExpiresAt = "changed", "other-hash", far.Add(time.Hour)
		create(t, s, again)
		got, err := s.Get(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, before, got)
	})

	t.Run("OK a retried request does not reopen a decided one", func(t *testing.T) {
		r := request("apr-create-5")
		create(t, s, r)
		require.NoError(t, s.Decide(ctx, r.ID, approvals.StatusApproved, "bob", "ok"))
		create(t, s, r)

		got, err := s.Get(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, approvals.StatusApproved, got.Status)
		require.Equal(t, "bob", got.DecidedBy)
		n, err := s.PendingCount(ctx, r.WorkflowID)
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("ErrUnknownConversation", func(t *testing.T) {
		r := request("apr-create-6")
		r.ConversationID = uuid.NewString()
		require.Error(t, s.Create(ctx, r))
		_, err := s.Get(ctx, r.ID)
		require.ErrorIs(t, err, approvals.ErrNotFound)
	})
}

func TestGet(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := approvals.NewStore(db.Pool)
	create(t, s, request("apr-get-1"))

	t.Run("OK", func(t *testing.T) {
		got, err := s.Get(ctx, "apr-get-1")
		require.NoError(t, err)
		require.Equal(t, "apr-get-1", got.ID)
	})

	for _, id := range []string{"apr-unknown", "", "APR-GET-1"} {
		t.Run(fmt.Sprintf("ErrNotFound %q", id), func(t *testing.T) {
			_, err := s.Get(ctx, id)
			require.ErrorIs(t, err, approvals.ErrNotFound)
		})
	}
}

func TestDecide(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := approvals.NewStore(db.Pool)

	tests := []struct {
		name    string
		status  string
		by      string
		comment string
	}{
		{"OK approved", approvals.StatusApproved, "bob", "go ahead"},
		{"OK rejected", approvals.StatusRejected, "carol", "not during the freeze"},
		{"OK expired", approvals.StatusExpired, "", ""},
		{"OK cancelled", approvals.StatusCancelled, "", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(fmt.Sprintf("apr-decide-%d", i))
			create(t, s, r)

			require.NoError(t, s.Decide(ctx, r.ID, tt.status, tt.by, tt.comment))
			got, err := s.Get(ctx, r.ID)
			require.NoError(t, err)
			require.Equal(t, tt.status, got.Status)
			require.Equal(t, tt.by, got.DecidedBy)
			require.Equal(t, tt.comment, got.Comment)
			require.NotNil(t, got.DecidedAt)
			require.WithinDuration(t, time.Now(), *got.DecidedAt, time.Minute)
			// The request itself is unchanged.
			want := r
			want.Status, want.DecidedBy, want.Comment = tt.status, tt.by, tt.comment
			require.Equal(t, withoutTimes(want), withoutTimes(got))

			// No longer waiting for anyone.
			pending, err := s.Pending(ctx, "root", []string{"admin"})
			require.NoError(t, err)
			require.NotContains(t, requestIDs(pending), r.ID)
			n, err := s.PendingCount(ctx, r.WorkflowID)
			require.NoError(t, err)
			require.Zero(t, n)
		})
	}

	t.Run("OK a retried decision records the same", func(t *testing.T) {
		r := request("apr-decide-retry")
		create(t, s, r)
		require.NoError(t, s.Decide(ctx, r.ID, approvals.StatusRejected, "bob", "no"))
		require.NoError(t, s.Decide(ctx, r.ID, approvals.StatusRejected, "bob", "no"))
		got, err := s.Get(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, approvals.StatusRejected, got.Status)
		require.Equal(t, "bob", got.DecidedBy)
		require.Equal(t, "no", got.Comment)
	})

	t.Run("OK request gone with its conversation is a no-op", func(t *testing.T) {
		// Deleting a conversation deletes its requests; the workflow still records its outcome.
		r := request("apr-decide-gone")
		r.ConversationID = db.Conversation(t)
		create(t, s, r)
		_, err := db.Pool.Exec(ctx, "DELETE FROM conversations WHERE id = $1", r.ConversationID)
		require.NoError(t, err)

		require.NoError(t, s.Decide(ctx, r.ID, approvals.StatusCancelled, "", ""))
		_, err = s.Get(ctx, r.ID)
		require.ErrorIs(t, err, approvals.ErrNotFound)
	})

	t.Run("ErrUnknownStatus", func(t *testing.T) {
		r := request("apr-decide-bad")
		create(t, s, r)
		require.Error(t, s.Decide(ctx, r.ID, "maybe", "bob", ""))
		got, err := s.Get(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, approvals.StatusPending, got.Status)
		require.Nil(t, got.DecidedAt)
	})
}

func TestPending(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := approvals.NewStore(db.Pool)
	t0 := time.Now().Add(-time.Hour)

	// Requests in the order they were made, oldest first.
	add := func(id string, at time.Duration, edit func(*approvals.Request)) {
		r := request(id)
		if edit != nil {
			edit(&r)
		}
		create(t, s, r)
		setRequestedAt(t, db, id, t0.Add(at))
	}
	add("devops-by-alice", 1*time.Minute, nil)
	add("erp-by-dave", 2*time.Minute, func(r *approvals.Request) {
		r.Tool, r.Domain, r.Requester, r.ApproverRoles = "erp.approve_invoice", "erp", "dave", []string{"finance_manager"}
	})
	add("devops-self-ok", 3*time.Minute, func(r *approvals.Request) { r.Requester, r.AllowSelf = "bob", true })
	add("devops-by-bob", 4*time.Minute, func(r *approvals.Request) { r.Requester = "bob" })
	add("expired", 5*time.Minute, func(r *approvals.Request) { r.ExpiresAt = time.Now().Add(-time.Second) })
	add("approved", 6*time.Minute, nil)
	require.NoError(t, s.Decide(ctx, "approved", approvals.StatusApproved, "bob", ""))
	add("rejected", 7*time.Minute, nil)
	require.NoError(t, s.Decide(ctx, "rejected", approvals.StatusRejected, "bob", ""))

	tests := []struct {
		name    string
		subject string
		roles   []string
		want    []string
	}{
		{"OK approver sees others' requests for their role, newest first", "carol", []string{"employee", "devops_lead"},
			[]string{"devops-by-bob", "devops-self-ok", "devops-by-alice"}},
		{"OK another approver role", "carol", []string{"sre"},
			[]string{"devops-by-bob", "devops-self-ok", "devops-by-alice"}},
		{"OK not their own unless self-approval is allowed", "bob", []string{"devops_lead"},
			[]string{"devops-self-ok", "devops-by-alice"}},
		{"OK another domain's approver", "erin", []string{"finance_manager"}, []string{"erp-by-dave"}},
		{"OK admin sees all but their own", "dave", []string{"admin"},
			[]string{"devops-by-bob", "devops-self-ok", "devops-by-alice"}},
		{"OK admin", "root", []string{"admin"},
			[]string{"devops-by-bob", "devops-self-ok", "erp-by-dave", "devops-by-alice"}},
		{"OK no approver role", "frank", []string{"employee"}, []string{}},
		{"OK no roles", "frank", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Pending(ctx, tt.subject, tt.roles)
			require.NoError(t, err)
			require.Equal(t, tt.want, requestIDs(got))
			for _, r := range got {
				require.Equal(t, approvals.StatusPending, r.Status)
				require.True(t, toolcall.CheckDecider(tt.subject, tt.roles, r.Requester, r.ApproverRoles, r.AllowSelf) == nil)
			}
		})
	}
}

func TestPendingAmongManyOthers(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := approvals.NewStore(db.Pool)

	// One old ERP request, then a flood of newer DevOps ones its approver may not decide.
	erp := request("apr-erp")
	erp.Tool, erp.Domain, erp.ApproverRoles = "erp.approve_invoice", "erp", []string{"finance_manager"}
	create(t, s, erp)
	setRequestedAt(t, db, erp.ID, time.Now().Add(-time.Hour))
	_, err := db.Pool.Exec(ctx, `INSERT INTO approvals (id, workflow_id, tool_call_id, tool, domain, args_hash, requester, approver_roles, expires_at)
		SELECT 'apr-devops-' || n, 'wf-devops-' || n, 'call-1', 'devops.restart_service', 'devops', 'h', 'alice', '{devops_lead}', $1
		FROM generate_series(1, 250) n`, far)
	require.NoError(t, err)

	t.Run("OK the approver still sees their request", func(t *testing.T) {
		got, err := s.Pending(ctx, "erin", []string{"finance_manager"})
		require.NoError(t, err)
		require.Equal(t, []string{erp.ID}, requestIDs(got))
	})

	t.Run("OK the list is bounded", func(t *testing.T) {
		got, err := s.Pending(ctx, "carol", []string{"devops_lead"})
		require.NoError(t, err)
		require.Len(t, got, 200)
	})
}

func TestForConversation(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := approvals.NewStore(db.Pool)
	conv, other := db.Conversation(t), db.Conversation(t)
	t0 := time.Now().Add(-time.Hour)

	for i, id := range []string{"c-3", "c-1", "c-2"} {
		r := request(id)
		r.ConversationID, r.Turn = conv, i+1
		create(t, s, r)
	}
	// Requested in the order of their names, whatever the order they were recorded in.
	for i, id := range []string{"c-1", "c-2", "c-3"} {
		setRequestedAt(t, db, id, t0.Add(time.Duration(i)*time.Minute))
	}
	require.NoError(t, s.Decide(ctx, "c-2", approvals.StatusRejected, "bob", "no"))
	o := request("o-1")
	o.ConversationID = other
	create(t, s, o)
	create(t, s, request("no-conversation"))

	tests := []struct {
		name string
		conv string
		want []string
	}{
		{"OK every request oldest first, decided too", conv, []string{"c-1", "c-2", "c-3"}},
		{"OK only the conversation's own", other, []string{"o-1"}},
		{"OK conversation without requests", db.Conversation(t), []string{}},
		{"OK unknown conversation", uuid.NewString(), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ForConversation(ctx, tt.conv)
			require.NoError(t, err)
			require.Equal(t, tt.want, requestIDs(got))
			for _, r := range got {
				require.Equal(t, tt.conv, r.ConversationID)
			}
		})
	}

	t.Run("OK decisions are included", func(t *testing.T) {
		got, err := s.ForConversation(ctx, conv)
		require.NoError(t, err)
		require.Len(t, got, 3)
		require.Equal(t, []string{approvals.StatusPending, approvals.StatusRejected, approvals.StatusPending},
			[]string{got[0].Status, got[1].Status, got[2].Status})
		require.Equal(t, "bob", got[1].DecidedBy)
		require.Equal(t, "no", got[1].Comment)
	})
}

func TestPendingCount(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := approvals.NewStore(db.Pool)

	// Workflow wf-a waits on three calls; wf-b on one.
	for _, id := range []string{"a-1", "a-2", "a-3"} {
		r := request(id)
		r.WorkflowID = "wf-a"
		create(t, s, r)
	}
	b := request("b-1")
	b.WorkflowID = "wf-b"
	create(t, s, b)

	count := func(tb testing.TB, wf string) int {
		tb.Helper()
		n, err := s.PendingCount(ctx, wf)
		require.NoError(tb, err)
		return n
	}

	tests := []struct {
		name   string
		decide string // request decided before counting, "" for none
		status string
		wantA  int
	}{
		{"OK all pending", "", "", 3},
		{"OK one approved", "a-1", approvals.StatusApproved, 2},
		{"OK one rejected", "a-2", approvals.StatusRejected, 1},
		{"OK deciding again changes nothing", "a-2", approvals.StatusRejected, 1},
		{"OK last one cancelled", "a-3", approvals.StatusCancelled, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.decide != "" {
				require.NoError(t, s.Decide(ctx, tt.decide, tt.status, "bob", ""))
			}
			require.Equal(t, tt.wantA, count(t, "wf-a"))
			require.Equal(t, 1, count(t, "wf-b"), "another workflow's requests are not counted")
		})
	}

	t.Run("OK unknown workflow", func(t *testing.T) {
		require.Zero(t, count(t, "wf-unknown"))
	})

	t.Run("OK a request past its expiry counts until the workflow records it", func(t *testing.T) {
		// The workflow's timer, not the clock of this query, decides when a request expired; the
		// turn stays awaiting approval until then.
		r := request("c-1")
		r.WorkflowID, r.ExpiresAt = "wf-c", time.Now().Add(-time.Minute)
		create(t, s, r)
		require.Equal(t, 1, count(t, "wf-c"))
		require.NoError(t, s.Decide(ctx, r.ID, approvals.StatusExpired, "", ""))
		require.Zero(t, count(t, "wf-c"))
	})
}

func TestPendingFor(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := approvals.NewStore(db.Pool)
	old, newer, other := request("apr-for-old"), request("apr-for-new"), request("apr-for-other")
	old.WorkflowID, newer.WorkflowID = "tool-1", "tool-1"
	for _, r := range []approvals.Request{old, newer, other} {
		create(t, s, r)
	}
	setRequestedAt(t, db, old.ID, time.Now().Add(-time.Hour))

	t.Run("OK the newest pending request of the workflow", func(t *testing.T) {
		got, err := s.PendingFor(ctx, "tool-1")
		require.NoError(t, err)
		require.Equal(t, newer.ID, got.ID)
		require.Equal(t, approvals.StatusPending, got.Status)
	})

	t.Run("OK a decided request is no longer pending", func(t *testing.T) {
		require.NoError(t, s.Decide(ctx, newer.ID, approvals.StatusApproved, "bob", ""))
		got, err := s.PendingFor(ctx, "tool-1")
		require.NoError(t, err)
		require.Equal(t, old.ID, got.ID)
	})

	t.Run("ErrNotFound when the workflow waits for none", func(t *testing.T) {
		require.NoError(t, s.Decide(ctx, old.ID, approvals.StatusRejected, "bob", ""))
		_, err := s.PendingFor(ctx, "tool-1")
		require.ErrorIs(t, err, approvals.ErrNotFound)
		_, err = s.PendingFor(ctx, "tool-unknown")
		require.ErrorIs(t, err, approvals.ErrNotFound)
	})
}
