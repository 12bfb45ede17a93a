package devops_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/devops"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/llm/mock/mocktest"
)

func TestMockDemo(t *testing.T) {
	demo := devops.MockDemo()
	p := mock.New(demo)
	mocktest.Run(t, []mocktest.Case{
		{Name: "OK list pods", Text: "list pods in production", Want: mocktest.Want(devops.ToolListPods, map[string]any{"namespace": "production"})},
		{Name: "OK pods in", Text: "pods in staging", Want: mocktest.Want(devops.ToolListPods, map[string]any{"namespace": "staging"})},
		{Name: "OK pod logs", Text: "logs of api-server-7d9f8b6c4-x2k9p in staging",
			Want: mocktest.Want(devops.ToolGetPodLogs, map[string]any{"pod_name": "api-server-7d9f8b6c4-x2k9p", "namespace": "staging"})},
		{Name: "OK pod logs without namespace", Text: "show the last 20 lines of logs for pod web-1",
			Want: mocktest.Want(devops.ToolGetPodLogs, map[string]any{"pod_name": "web-1", "tail": float64(20)})},
		{Name: "OK list deployments", Text: "list deployments", Want: mocktest.Want(devops.ToolListDeployments, map[string]any{})},
		{Name: "OK list deployments in", Text: "List deployments in staging",
			Want: mocktest.Want(devops.ToolListDeployments, map[string]any{"namespace": "staging"})},
		{Name: "OK scale", Text: "scale api-server to 3 replicas",
			Want: mocktest.Want(devops.ToolScaleDeployment, map[string]any{"deployment_name": "api-server", "replicas": float64(3)})},
		{Name: "OK scale in namespace", Text: "Scale api-server to 3 replicas in staging",
			Want: mocktest.Want(devops.ToolScaleDeployment, map[string]any{"deployment_name": "api-server", "replicas": float64(3), "namespace": "staging"})},
	}, demo)

	t.Run("OK logs without a pod ask which pod", func(t *testing.T) {
		resp := mocktest.Ask(t, p, "show me the logs", mocktest.ToolsOf(demo)...)
		require.Empty(t, resp.ToolCalls)
		require.Contains(t, resp.Content, "Which pod's logs?")
	})

	t.Run("OK a scale answer is headed by the deployment", func(t *testing.T) {
		got := mocktest.Answer(t, p, "scale api-server to 4 replicas", devops.ToolScaleDeployment,
			`{"deployment":"api-server","namespace":"production","previous_replicas":3,"replicas":4}`)
		require.Equal(t, "**api-server**\n\n- Namespace: production\n- Replicas: 4\n- Previous replicas: 3", got)
	})

	t.Run("OK the pod of the examples exists in the simulated cluster", func(t *testing.T) {
		require.Contains(t, podNames(t, "production"), devops.ExamplePod)
		for _, s := range demo.Skills {
			for _, ex := range s.Examples {
				if s.Tool == devops.ToolGetPodLogs {
					require.Contains(t, ex, devops.ExamplePod)
				}
			}
		}
		ask := mocktest.Ask(t, p, "show me the logs", mocktest.ToolsOf(demo)...)
		require.Contains(t, ask.Content, devops.ExamplePod)
	})

	mocktest.CheckExamples(t, demo)
}

// podNames lists the pods of a namespace of the simulated cluster, as a worker without a
// kubeconfig serves it.
func podNames(tb testing.TB, namespace string) []string {
	tb.Helper()
	cfg, err := domainconfig.Load("../../config/domains", "devops")
	require.NoError(tb, err)
	a, err := devops.New(context.Background(), kit.Deps{Config: cfg})
	require.NoError(tb, err)
	res, err := a.Call(context.Background(), domains.Call{Tool: devops.ToolListPods, Args: map[string]any{"namespace": namespace}})
	require.NoError(tb, err)
	var names []string
	for _, p := range res.(*devops.PodList).Pods {
		names = append(names, p.Name)
	}
	return names
}
