package temporaltest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// upsertWorkflow sets every platform search attribute.
func upsertWorkflow(ctx workflow.Context) error {
	return workflow.UpsertTypedSearchAttributes(ctx,
		temporal.NewSearchAttributeKeyKeyword("ConversationId").ValueSet("c-1"),
		temporal.NewSearchAttributeKeyKeyword("UserId").ValueSet("u-1"),
		temporal.NewSearchAttributeKeyKeywordList("Domains").ValueSet([]string{"billing", "support"}),
		temporal.NewSearchAttributeKeyKeywordList("Tools").ValueSet([]string{"search"}),
		temporal.NewSearchAttributeKeyKeyword("TurnStatus").ValueSet("done"),
	)
}

func TestSharedServerAndClient(t *testing.T) {
	began := time.Now()
	s1 := Server(t)
	t.Logf("shared server start (in-memory): %v", time.Since(began).Round(time.Millisecond))
	s2 := Server(t)
	require.Same(t, s1, s2)
	require.Equal(t, s1.Address(), s2.Address())
	require.Equal(t, "default", s1.Namespace())
	require.Empty(t, s1.UIURL())

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c := Client(t)
	_, err := c.CheckHealth(ctx, nil)
	require.NoError(t, err)

	resp, err := c.OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: s1.Namespace()})
	require.NoError(t, err)
	for name, typ := range SearchAttributes {
		require.Equal(t, typ, resp.GetCustomAttributes()[name], name)
	}

	w := worker.New(c, "temporaltest", worker.Options{})
	w.RegisterWorkflow(upsertWorkflow)
	require.NoError(t, w.Start())
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "temporaltest"}, upsertWorkflow)
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, nil))

	desc, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	fields := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
	for name := range SearchAttributes {
		require.Contains(t, fields, name)
	}
}
