package approvals_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/approvals"
	"mcp-platform/internal/testutil/dbtest"
)

func TestDecisionObserverAndPendingTotal(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	type decision struct {
		status string
		waited time.Duration
	}
	var seen []decision
	s := approvals.NewStore(db.Pool).OnDecision(func(status string, waited time.Duration) {
		seen = append(seen, decision{status, waited})
	})
	a, b := request("apr-observe-a"), request("apr-observe-b")
	create(t, s, a)
	create(t, s, b)
	n, err := s.PendingTotal(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)

	// a waited ten minutes for its decision.
	_, err = db.Pool.Exec(ctx, `UPDATE approvals SET requested_at = now() - interval '10 minutes' WHERE id = $1`, a.ID)
	require.NoError(t, err)
	require.NoError(t, s.Decide(ctx, a.ID, approvals.StatusApproved, "bob", ""))
	require.NoError(t, s.Decide(ctx, a.ID, approvals.StatusApproved, "bob", ""), "a retried decision")
	require.NoError(t, s.Decide(ctx, "apr-no-such", approvals.StatusApproved, "bob", ""), "nothing to record")

	require.Len(t, seen, 1, "only the decision that settled a pending request is observed")
	require.Equal(t, approvals.StatusApproved, seen[0].status)
	require.InDelta(t, (10 * time.Minute).Seconds(), seen[0].waited.Seconds(), 60)
	n, err = s.PendingTotal(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}
