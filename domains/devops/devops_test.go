package devops

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

// testNow is the simulated cluster's clock in tests, so ages and log lines are repeatable.
var testNow = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

func newTestSim(tb testing.TB) *Adapter {
	tb.Helper()
	return newSimulatedAdapter(func() time.Time { return testNow }, nil)
}

func call(tb testing.TB, a domains.Adapter, tool string, args map[string]any) (any, error) {
	tb.Helper()
	return a.Call(context.Background(), domains.Call{Tool: tool, Args: args})
}

func requireCode(tb testing.TB, err error, code domains.ErrorCode, msgContains string) {
	tb.Helper()
	require.Error(tb, err)
	var de *domains.Error
	require.ErrorAs(tb, err, &de)
	require.Equal(tb, code, de.Code, "error: %v", err)
	require.Contains(tb, de.Message, msgContains)
}

func listPods(tb testing.TB, a domains.Adapter, ns string) *PodList {
	tb.Helper()
	res, err := call(tb, a, ToolListPods, map[string]any{"namespace": ns})
	require.NoError(tb, err)
	return res.(*PodList)
}

func podsOf(list *PodList, deployment string) []Pod {
	var out []Pod
	for _, p := range list.Pods {
		if p.Deployment == deployment {
			out = append(out, p)
		}
	}
	return out
}

func findDeployment(tb testing.TB, a domains.Adapter, ns, name string) Deployment {
	tb.Helper()
	res, err := call(tb, a, ToolListDeployments, map[string]any{"namespace": ns})
	require.NoError(tb, err)
	for _, d := range res.(*DeploymentList).Deployments {
		if d.Name == name {
			return d
		}
	}
	tb.Fatalf("no deployment %s/%s", ns, name)
	return Deployment{}
}

var podNameRE = regexp.MustCompile(`^[a-z-]+-[bcdfghjklmnpqrstvwxz2456789]{9}-[bcdfghjklmnpqrstvwxz2456789]{5}$`)

func TestListPods(t *testing.T) {
	a := newTestSim(t)

	t.Run("OKProduction", func(t *testing.T) {
		got := listPods(t, a, "production")
		require.Equal(t, "production", got.Namespace)
		require.Equal(t, 11, got.Count)
		require.Len(t, got.Pods, 11)
		require.Len(t, podsOf(got, "api-server"), 3)
		require.Len(t, podsOf(got, "worker"), 4)
		require.True(t, sort.SliceIsSorted(got.Pods, func(i, j int) bool { return got.Pods[i].Name < got.Pods[j].Name }))
		for _, p := range got.Pods {
			require.Regexp(t, podNameRE, p.Name)
			require.True(t, strings.HasPrefix(p.Name, p.Deployment+"-"), p.Name)
			require.Equal(t, "Running", p.Status)
			require.Equal(t, "1/1", p.Ready)
			require.Contains(t, simNodes, p.Node)
			require.NotEmpty(t, p.Age)
		}
		restarted := 0
		for _, p := range podsOf(got, "payment-service") {
			restarted += p.Restarts
		}
		require.Equal(t, 3, restarted)
	})

	t.Run("OKStagingShowsCrashLoop", func(t *testing.T) {
		got := listPods(t, a, "staging")
		pay := podsOf(got, "payment-service")
		require.Len(t, pay, 1)
		require.Equal(t, "CrashLoopBackOff", pay[0].Status)
		require.Equal(t, "0/1", pay[0].Ready)
		require.Equal(t, 14, pay[0].Restarts)
		require.Equal(t, "47m", pay[0].Age)
	})

	t.Run("OKRepeatable", func(t *testing.T) {
		require.Equal(t, listPods(t, a, "monitoring"), listPods(t, newTestSim(t), "monitoring"))
	})

	errs := []struct {
		name string
		args map[string]any
		code domains.ErrorCode
		msg  string
	}{
		{"ErrUnknownNamespace", map[string]any{"namespace": "nope"}, domains.CodeNotFound, `no namespace "nope"`},
		{"ErrMissingNamespace", map[string]any{}, domains.CodeInvalid, "namespace is required"},
		{"ErrInvalidNamespace", map[string]any{"namespace": "Prod_1"}, domains.CodeInvalid, "not a valid Kubernetes name"},
		{"ErrNamespaceNotString", map[string]any{"namespace": 3}, domains.CodeInvalid, "must be a string"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call(t, a, ToolListPods, tc.args)
			requireCode(t, err, tc.code, tc.msg)
		})
	}
}

var logLineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR|FATAL) \S`)

func TestGetPodLogs(t *testing.T) {
	a := newTestSim(t)
	api := podsOf(listPods(t, a, "production"), "api-server")[0].Name
	crashing := podsOf(listPods(t, a, "staging"), "payment-service")[0].Name

	logs := func(t *testing.T, args map[string]any) *PodLogs {
		t.Helper()
		res, err := call(t, a, ToolGetPodLogs, args)
		require.NoError(t, err)
		return res.(*PodLogs)
	}

	t.Run("OKDefaults", func(t *testing.T) {
		got := logs(t, map[string]any{"pod_name": api})
		require.Equal(t, api, got.Pod)
		require.Equal(t, "production", got.Namespace)
		require.Equal(t, "api-server", got.Container)
		require.Len(t, got.Lines, DefaultTailLines)
		for _, l := range got.Lines {
			require.Regexp(t, logLineRE, l)
			require.LessOrEqual(t, l[:24], testNow.Format("2006-01-02T15:04:05.000Z"))
		}
		require.True(t, sort.StringsAreSorted(got.Lines), "lines are in time order")
	})

	t.Run("OKTailIsSuffixAndRepeatable", func(t *testing.T) {
		long := logs(t, map[string]any{"pod_name": api, "namespace": "production", "tail": MaxTailLines})
		short := logs(t, map[string]any{"pod_name": api, "tail": 5.0})
		require.Len(t, long.Lines, MaxTailLines)
		require.Equal(t, long.Lines[MaxTailLines-5:], short.Lines)
		require.Equal(t, short, logs(t, map[string]any{"pod_name": api, "tail": 5}))
	})

	t.Run("OKStartupLinesOfNewPod", func(t *testing.T) {
		b := newTestSim(t)
		_, err := b.Call(context.Background(), domains.Call{Tool: ToolScaleDeployment, Args: map[string]any{"deployment_name": "grafana", "namespace": "monitoring", "replicas": 2}})
		require.NoError(t, err)
		var fresh string
		for _, p := range podsOf(listPods(t, b, "monitoring"), "grafana") {
			if p.Age == "0s" {
				fresh = p.Name
			}
		}
		require.NotEmpty(t, fresh)
		res, err := call(t, b, ToolGetPodLogs, map[string]any{"pod_name": fresh, "namespace": "monitoring"})
		require.NoError(t, err)
		got := res.(*PodLogs)
		require.Len(t, got.Lines, 1, "a pod started now has logged its first line only")
		require.Contains(t, got.Lines[0], "starting grafana version=11.2.0")
	})

	t.Run("OKCrashLoopShowsFailedRun", func(t *testing.T) {
		got := logs(t, map[string]any{"pod_name": crashing, "namespace": "staging"})
		require.Greater(t, len(got.Lines), 3)
		require.Contains(t, got.Lines[0], "starting payment-service version=v1.23.0-rc.1")
		require.Contains(t, got.Lines[len(got.Lines)-1], "FATAL")
		require.Contains(t, got.Lines[len(got.Lines)-2], "ERROR")
	})

	errs := []struct {
		name string
		args map[string]any
		code domains.ErrorCode
		msg  string
	}{
		{"ErrUnknownPod", map[string]any{"pod_name": "api-server-nope"}, domains.CodeNotFound, `no pod "api-server-nope" in namespace "production"`},
		{"ErrPodInOtherNamespace", map[string]any{"pod_name": api, "namespace": "staging"}, domains.CodeNotFound, `in namespace "staging"`},
		{"ErrUnknownNamespace", map[string]any{"pod_name": api, "namespace": "nope"}, domains.CodeNotFound, `no namespace "nope"`},
		{"ErrMissingPod", map[string]any{}, domains.CodeInvalid, "pod_name is required"},
		{"ErrInvalidPod", map[string]any{"pod_name": "API_server"}, domains.CodeInvalid, "not a valid Kubernetes name"},
		{"ErrTailTooLarge", map[string]any{"pod_name": api, "tail": 501}, domains.CodeInvalid, "between 1 and 500"},
		{"ErrTailZero", map[string]any{"pod_name": api, "tail": 0}, domains.CodeInvalid, "between 1 and 500"},
		{"ErrTailFraction", map[string]any{"pod_name": api, "tail": 2.5}, domains.CodeInvalid, "must be an integer"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call(t, a, ToolGetPodLogs, tc.args)
			requireCode(t, err, tc.code, tc.msg)
		})
	}
}

func TestListDeployments(t *testing.T) {
	a := newTestSim(t)

	t.Run("OKAllNamespaces", func(t *testing.T) {
		res, err := call(t, a, ToolListDeployments, nil)
		require.NoError(t, err)
		got := res.(*DeploymentList)
		require.Equal(t, len(seedApps), got.Count)
		require.Len(t, got.Deployments, len(seedApps))
		namespaces := map[string]bool{}
		for _, d := range got.Deployments {
			namespaces[d.Namespace] = true
		}
		require.Equal(t, map[string]bool{"production": true, "staging": true, "monitoring": true}, namespaces)
		require.Contains(t, got.Deployments, Deployment{Name: "api-server", Namespace: "production", Replicas: 3, ReadyReplicas: 3,
			Image: "registry.example.com/platform/api-server:v2.14.3"})
		require.Contains(t, got.Deployments, Deployment{Name: "payment-service", Namespace: "staging", Replicas: 1, ReadyReplicas: 0,
			Image: "registry.example.com/platform/payment-service:v1.23.0-rc.1"})
		require.True(t, sort.SliceIsSorted(got.Deployments, func(i, j int) bool {
			x, y := got.Deployments[i], got.Deployments[j]
			return x.Namespace < y.Namespace || x.Namespace == y.Namespace && x.Name < y.Name
		}))
	})

	t.Run("OKEmptyNamespaceMeansAll", func(t *testing.T) {
		res, err := call(t, a, ToolListDeployments, map[string]any{"namespace": ""})
		require.NoError(t, err)
		require.Equal(t, len(seedApps), res.(*DeploymentList).Count)
	})

	t.Run("OKOneNamespace", func(t *testing.T) {
		res, err := call(t, a, ToolListDeployments, map[string]any{"namespace": "monitoring"})
		require.NoError(t, err)
		got := res.(*DeploymentList)
		require.Equal(t, 3, got.Count)
		for _, d := range got.Deployments {
			require.Equal(t, "monitoring", d.Namespace)
			require.Equal(t, d.Replicas, d.ReadyReplicas)
		}
	})

	t.Run("ErrUnknownNamespace", func(t *testing.T) {
		_, err := call(t, a, ToolListDeployments, map[string]any{"namespace": "nope"})
		requireCode(t, err, domains.CodeNotFound, `no namespace "nope"`)
	})
}

func TestScaleDeployment(t *testing.T) {
	ok := []struct {
		name       string
		ns         string
		deployment string
		replicas   any
		previous   int
	}{
		{"OKScaleUp", "production", "worker", 6, 4},
		{"OKScaleDown", "production", "api-server", 1, 3},
		{"OKScaleToZero", "production", "web-frontend", 0, 2},
		{"OKUnchanged", "production", "payment-service", 2, 2},
		{"OKJSONNumber", "monitoring", "prometheus", 2.0, 1},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestSim(t)
			args := map[string]any{"deployment_name": tc.deployment, "replicas": tc.replicas}
			if tc.ns != "production" {
				args["namespace"] = tc.ns
			}
			res, err := call(t, a, ToolScaleDeployment, args)
			require.NoError(t, err)
			want, _ := kit.IntArg(args, "replicas", 0, 0, MaxReplicas)
			require.Equal(t, &ScaleResult{Deployment: tc.deployment, Namespace: tc.ns, PreviousReplicas: tc.previous, Replicas: want}, res)

			pods := podsOf(listPods(t, a, tc.ns), tc.deployment)
			require.Len(t, pods, want)
			for _, p := range pods {
				require.Equal(t, "Running", p.Status)
			}
			d := findDeployment(t, a, tc.ns, tc.deployment)
			require.Equal(t, want, d.Replicas)
			require.Equal(t, want, d.ReadyReplicas)
		})
	}

	t.Run("OKScaleDownRemovesUnhealthyPodFirst", func(t *testing.T) {
		a := newTestSim(t)
		_, err := call(t, a, ToolScaleDeployment, map[string]any{"deployment_name": "payment-service", "namespace": "staging", "replicas": 2})
		require.NoError(t, err)
		require.Equal(t, 1, findDeployment(t, a, "staging", "payment-service").ReadyReplicas)
		_, err = call(t, a, ToolScaleDeployment, map[string]any{"deployment_name": "payment-service", "namespace": "staging", "replicas": 1})
		require.NoError(t, err)
		pods := podsOf(listPods(t, a, "staging"), "payment-service")
		require.Len(t, pods, 1)
		require.Equal(t, "Running", pods[0].Status)
		require.Equal(t, "0s", pods[0].Age)
	})

	errs := []struct {
		name string
		args map[string]any
		code domains.ErrorCode
		msg  string
	}{
		{"ErrUnknownDeployment", map[string]any{"deployment_name": "x", "replicas": 2}, domains.CodeNotFound, `no deployment "x" in namespace "production"`},
		{"ErrUnknownNamespace", map[string]any{"deployment_name": "worker", "namespace": "nope", "replicas": 2}, domains.CodeNotFound, `no namespace "nope"`},
		{"ErrTooManyReplicas", map[string]any{"deployment_name": "worker", "replicas": 51}, domains.CodeInvalid, "between 0 and 50"},
		{"ErrNegativeReplicas", map[string]any{"deployment_name": "worker", "replicas": -1}, domains.CodeInvalid, "between 0 and 50"},
		{"ErrMissingReplicas", map[string]any{"deployment_name": "worker"}, domains.CodeInvalid, "replicas is required"},
		{"ErrReplicasNotNumber", map[string]any{"deployment_name": "worker", "replicas": "3"}, domains.CodeInvalid, "must be an integer"},
		{"ErrMissingDeployment", map[string]any{"replicas": 2}, domains.CodeInvalid, "deployment_name is required"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestSim(t)
			_, err := call(t, a, ToolScaleDeployment, tc.args)
			requireCode(t, err, tc.code, tc.msg)
			require.Equal(t, 4, findDeployment(t, a, "production", "worker").Replicas, "nothing changed")
		})
	}
}

func TestScaleIdempotency(t *testing.T) {
	ctx := context.Background()
	scale := func(a *Adapter, key string, replicas int) (any, error) {
		return a.Call(ctx, domains.Call{Tool: ToolScaleDeployment, IdempotencyKey: key,
			Args: map[string]any{"deployment_name": "worker", "replicas": replicas}})
	}
	want := &ScaleResult{Deployment: "worker", Namespace: "production", PreviousReplicas: 4, Replicas: 6}

	t.Run("OKSameKeyAppliesOnce", func(t *testing.T) {
		a := newTestSim(t)
		first, err := scale(a, "wf-1/call-1", 6)
		require.NoError(t, err)
		require.Equal(t, want, first)
		// Something else scales the deployment; a late retry of the first call must not undo it.
		_, err = scale(a, "wf-2/call-1", 2)
		require.NoError(t, err)
		again, err := scale(a, "wf-1/call-1", 6)
		require.NoError(t, err)
		require.Equal(t, want, again)
		require.Equal(t, 2, findDeployment(t, a, "production", "worker").Replicas)
		require.Len(t, podsOf(listPods(t, a, "production"), "worker"), 2)
	})

	t.Run("OKConcurrentSameKey", func(t *testing.T) {
		a := newTestSim(t)
		const n = 16
		results := make([]any, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { results[i], errs[i] = scale(a, "wf-1/call-1", 6) })
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, want, results[i])
		}
		require.Equal(t, 6, findDeployment(t, a, "production", "worker").Replicas)
		require.Len(t, podsOf(listPods(t, a, "production"), "worker"), 6)
	})

	t.Run("OKDifferentKeyAppliesAgain", func(t *testing.T) {
		a := newTestSim(t)
		_, err := scale(a, "wf-1/call-1", 6)
		require.NoError(t, err)
		got, err := scale(a, "wf-1/call-2", 8)
		require.NoError(t, err)
		require.Equal(t, &ScaleResult{Deployment: "worker", Namespace: "production", PreviousReplicas: 6, Replicas: 8}, got)
		require.Len(t, podsOf(listPods(t, a, "production"), "worker"), 8)
	})

	t.Run("OKNoKeyAppliesEveryTime", func(t *testing.T) {
		a := newTestSim(t)
		_, err := scale(a, "", 6)
		require.NoError(t, err)
		got, err := scale(a, "", 6)
		require.NoError(t, err)
		require.Equal(t, 6, got.(*ScaleResult).PreviousReplicas)
	})

	t.Run("ErrKeyReusedWithOtherArguments", func(t *testing.T) {
		a := newTestSim(t)
		_, err := scale(a, "wf-1/call-1", 6)
		require.NoError(t, err)
		_, err = scale(a, "wf-1/call-1", 7)
		requireCode(t, err, domains.CodeConflict, "already applied with different arguments")
		require.Equal(t, 6, findDeployment(t, a, "production", "worker").Replicas)
	})

	t.Run("ErrCanceledWhileWaiting", func(t *testing.T) {
		a := newTestSim(t)
		a.scaleSem <- struct{}{} // another scale is in progress
		defer func() { <-a.scaleSem }()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := a.Call(cctx, domains.Call{Tool: ToolScaleDeployment, IdempotencyKey: "k", Args: map[string]any{"deployment_name": "worker", "replicas": 6}})
		requireCode(t, err, domains.CodeUnavailable, "waiting for another scale")
	})
}

func TestUnknownTool(t *testing.T) {
	_, err := call(t, newTestSim(t), "devops.delete_cluster", nil)
	requireCode(t, err, domains.CodeNotFound, `no tool "devops.delete_cluster"`)
}

func TestLedgerEvictsOldestKeys(t *testing.T) {
	l := newLedger(2)
	for _, k := range []string{"a", "b", "c"} {
		l.put(k, scaleRequest{Deployment: k}, ScaleResult{Deployment: k})
	}
	_, _, ok := l.get("a")
	require.False(t, ok)
	_, res, ok := l.get("c")
	require.True(t, ok)
	require.Equal(t, "c", res.Deployment)
}

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: test
  context:
    cluster: test
    user: test
current-context: test
users:
- name: test
  user:
    token: not-a-real-token
`

func TestNew(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(testKubeconfig), 0o600))
	missing := filepath.Join(dir, "missing")
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}

	ok := []struct {
		name      string
		getenv    func(string) string
		simulated bool
	}{
		{"OKNoEnvironment", nil, true},
		{"OKNoKubeconfig", env(), true},
		{"OKKubeconfigListWithoutFiles", env("KUBECONFIG", missing+string(filepath.ListSeparator)+dir), true},
		{"OKKubeconfig", env("KUBECONFIG", missing+string(filepath.ListSeparator)+kubeconfig), false},
		{"OKDevopsKubeconfig", env("DEVOPS_KUBECONFIG", kubeconfig, "KUBECONFIG", missing), false},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			ad, err := New(context.Background(), kit.Deps{Getenv: tc.getenv})
			require.NoError(t, err)
			a := ad.(*Adapter)
			require.Equal(t, tc.simulated, a.sim != nil)
			if tc.simulated {
				require.Equal(t, 11, listPods(t, a, "production").Count)
				return
			}
			// Nothing listens on the configured server: the call fails as retryable and does
			// not reveal the address.
			_, err = call(t, a, ToolListPods, map[string]any{"namespace": "production"})
			requireCode(t, err, domains.CodeUnavailable, "cluster is unreachable")
			require.NotContains(t, err.(*domains.Error).Message, "127.0.0.1")
		})
	}

	t.Run("ErrDevopsKubeconfigMissing", func(t *testing.T) {
		_, err := New(context.Background(), kit.Deps{Getenv: env("DEVOPS_KUBECONFIG", missing)})
		require.ErrorContains(t, err, "DEVOPS_KUBECONFIG")
	})

	t.Run("ErrBrokenKubeconfig", func(t *testing.T) {
		broken := filepath.Join(dir, "broken")
		require.NoError(t, os.WriteFile(broken, []byte("apiVersion: v1\nkind: Config\n"), 0o600))
		_, err := New(context.Background(), kit.Deps{Getenv: env("DEVOPS_KUBECONFIG", broken)})
		require.ErrorContains(t, err, "load kubeconfig")
	})

	t.Run("ErrConfigDeclaresUnservedTool", func(t *testing.T) {
		cfg := &domains.Config{Name: "devops", File: "devops.yaml", Tools: []domains.Tool{{Name: ToolListPods}, {Name: "devops.delete_cluster"}}}
		_, err := New(context.Background(), kit.Deps{Config: cfg})
		require.ErrorContains(t, err, `"devops.delete_cluster"`)
	})
}
