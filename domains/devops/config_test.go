package devops

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/kit"
	"mcp-platform/domains/policy"
)

const configDir = "../../config/domains"

func loadConfig(tb testing.TB) *domains.Config {
	tb.Helper()
	cfg, err := domainconfig.Load(configDir, "devops")
	require.NoError(tb, err)
	return cfg
}

func TestConfig(t *testing.T) {
	cfg := loadConfig(t)

	t.Run("OKParses", func(t *testing.T) {
		require.Equal(t, "devops", cfg.Name)
		require.Equal(t, domains.KindBuiltin, cfg.Kind)
		require.True(t, cfg.IsEnabled())
		require.Equal(t, "domain-devops", cfg.TaskQueue)
		require.Contains(t, cfg.Permissions, domains.Permission{Role: "sre", Tools: []string{"devops.*"}, Actions: []string{domains.ActionExecute}})
		require.Contains(t, cfg.Permissions, domains.Permission{Role: "sre_lead", Tools: []string{"devops.*"}, Actions: []string{domains.ActionExecute, domains.ActionApprove}})
	})

	t.Run("OKDeclaresExactlyTheServedTools", func(t *testing.T) {
		var declared []string
		for _, tool := range cfg.Tools {
			declared = append(declared, tool.Name)
		}
		require.Equal(t, ToolNames(), declared)
		_, err := New(context.Background(), kit.Deps{Config: cfg})
		require.NoError(t, err)
	})

	t.Run("OKAnnotations", func(t *testing.T) {
		for _, name := range []string{ToolListPods, ToolGetPodLogs, ToolListDeployments} {
			require.Equal(t, domains.Annotations{ReadOnly: true, Idempotent: true}, cfg.Tool(name).Annotations, name)
		}
		require.Equal(t, domains.Annotations{Destructive: true, Idempotent: true, RequiresApproval: true}, cfg.Tool(ToolScaleDeployment).Annotations)
	})
}

// TestResultsMatchOutputSchemas runs every tool with sample arguments that pass its input schema
// and checks the result against its output schema.
func TestResultsMatchOutputSchemas(t *testing.T) {
	cfg := loadConfig(t)
	a := newTestSim(t)
	pod := listPods(t, a, "staging").Pods[0].Name
	samples := map[string][]map[string]any{
		ToolListPods:        {{"namespace": "production"}, {"namespace": "staging"}},
		ToolGetPodLogs:      {{"pod_name": pod, "namespace": "staging"}, {"pod_name": pod, "namespace": "staging", "tail": 500}},
		ToolListDeployments: {{}, {"namespace": "monitoring"}},
		ToolScaleDeployment: {{"deployment_name": "worker", "replicas": 0}, {"deployment_name": "api-server", "namespace": "staging", "replicas": 50}},
	}
	for _, tool := range cfg.Tools {
		t.Run("OK"+tool.Name, func(t *testing.T) {
			require.NotEmpty(t, samples[tool.Name], "no sample arguments for %s", tool.Name)
			require.NotNil(t, tool.OutputSchema)
			out, err := policy.CompileSchema(tool.OutputSchema)
			require.NoError(t, err)
			for i, args := range samples[tool.Name] {
				require.NoError(t, policy.ValidateArgs(&tool, args))
				res, err := a.Call(context.Background(), domains.Call{Tool: tool.Name, Args: args, IdempotencyKey: fmt.Sprintf("schema-test/%d", i)})
				require.NoError(t, err)
				require.NoError(t, out.Validate(res))
			}
		})
	}
}

// TestInputSchemasReject checks that the schemas stop the arguments the adapter would refuse,
// so the LLM learns of its mistake before a workflow starts.
func TestInputSchemasReject(t *testing.T) {
	cfg := loadConfig(t)
	tests := []struct {
		name string
		tool string
		args map[string]any
	}{
		{"ErrListPodsWithoutNamespace", ToolListPods, map[string]any{}},
		{"ErrUpperCaseNamespace", ToolListPods, map[string]any{"namespace": "Production"}},
		{"ErrNamespaceTooLong", ToolListDeployments, map[string]any{"namespace": "a23456789012345678901234567890123456789012345678901234567890abcd"}},
		{"ErrUnknownArgument", ToolListDeployments, map[string]any{"label": "app=web"}},
		{"ErrLogsWithoutPod", ToolGetPodLogs, map[string]any{"namespace": "production"}},
		{"ErrPodNameWithSpace", ToolGetPodLogs, map[string]any{"pod_name": "api server"}},
		{"ErrTailTooLarge", ToolGetPodLogs, map[string]any{"pod_name": "api-server-1", "tail": 501}},
		{"ErrTailZero", ToolGetPodLogs, map[string]any{"pod_name": "api-server-1", "tail": 0}},
		{"ErrScaleWithoutReplicas", ToolScaleDeployment, map[string]any{"deployment_name": "worker"}},
		{"ErrScaleTooMany", ToolScaleDeployment, map[string]any{"deployment_name": "worker", "replicas": 51}},
		{"ErrScaleNegative", ToolScaleDeployment, map[string]any{"deployment_name": "worker", "replicas": -1}},
		{"ErrScaleFraction", ToolScaleDeployment, map[string]any{"deployment_name": "worker", "replicas": 1.5}},
		{"ErrScaleBadName", ToolScaleDeployment, map[string]any{"deployment_name": "-worker", "replicas": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ve *domains.ValidationError
			require.ErrorAs(t, policy.ValidateArgs(cfg.Tool(tc.tool), tc.args), &ve)
		})
	}
}
