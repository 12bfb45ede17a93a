// Package devops is the builtin DevOps domain: it lists pods and deployments, reads pod logs and
// scales deployments of a Kubernetes cluster.
//
// With a kubeconfig (DEVOPS_KUBECONFIG, or KUBECONFIG naming a file) it talks to that cluster
// through client-go; without one it runs against a built-in simulated cluster, which is
// client-go's fake clientset seeded with realistic namespaces, deployments and pods. Both go
// through the same code, written against kubernetes.Interface.
package devops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

// Names of the tools the adapter serves.
const (
	ToolListPods        = "devops.list_pods"
	ToolGetPodLogs      = "devops.get_pod_logs"
	ToolListDeployments = "devops.list_deployments"
	ToolScaleDeployment = "devops.scale_deployment"
)

// Argument defaults and limits; config/domains/devops.yaml declares the same in its schemas.
const (
	DefaultNamespace = "production"
	DefaultTailLines = 50
	MaxTailLines     = 500
	MaxReplicas      = 50
)

// requestTimeout bounds each request to a real cluster; the call's context usually ends sooner.
const requestTimeout = 30 * time.Second

// ToolNames returns the namespaced names of the tools the adapter serves, sorted.
func ToolNames() []string { return (&Adapter{}).routes().Names() }

// Adapter executes the DevOps tools against a cluster. It is safe for concurrent use.
type Adapter struct {
	client kubernetes.Interface
	logs   LogSource
	now    func() time.Time
	logger *slog.Logger
	// sim is the simulated cluster behind client, nil for a real one.
	sim *simulator
	// scaleSem serialises scale operations of this process, so that two deliveries of one
	// idempotency key cannot both apply it.
	scaleSem chan struct{}
	ledger   *ledger
	router   kit.Router
}

// New builds the adapter: against the cluster of the kubeconfig named by DEVOPS_KUBECONFIG or
// KUBECONFIG, or against the simulated cluster when neither names a file. It does not contact
// the cluster, so a worker starts while the cluster is briefly unreachable; calls then fail
// with domains.CodeUnavailable and are retried.
func New(ctx context.Context, deps kit.Deps) (domains.Adapter, error) {
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	getenv := deps.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if err := (&Adapter{}).routes().CheckServes(deps.Config); err != nil {
		return nil, err
	}
	paths, err := kubeconfigPaths(getenv)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		logger.InfoContext(ctx, "devops: no kubeconfig configured, using the simulated cluster")
		return newSimulatedAdapter(time.Now, logger), nil
	}
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: paths}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", strings.Join(paths, string(filepath.ListSeparator)), err)
	}
	rc.UserAgent = "mcp-platform-devops"
	if rc.Timeout == 0 {
		rc.Timeout = requestTimeout
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("create kubernetes client: %w", err)
	}
	logger.InfoContext(ctx, "devops: using the kubernetes cluster of the kubeconfig", "kubeconfig", paths)
	return newAdapter(client, KubeLogs{Client: client}, time.Now, logger), nil
}

// newAdapter builds an adapter over any clientset; the simulated cluster adds its simulator.
func newAdapter(client kubernetes.Interface, logs LogSource, now func() time.Time, logger *slog.Logger) *Adapter {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{
		client:   client,
		logs:     logs,
		now:      now,
		logger:   logger,
		scaleSem: make(chan struct{}, 1),
		ledger:   newLedger(ledgerSize),
	}
	a.router = a.routes()
	return a
}

// kubeconfigPaths returns the kubeconfig files to load: DEVOPS_KUBECONFIG, which must exist
// when set, else the existing files of the KUBECONFIG list, else none.
func kubeconfigPaths(getenv func(string) string) ([]string, error) {
	if p := getenv("DEVOPS_KUBECONFIG"); p != "" {
		if !isFile(p) {
			return nil, fmt.Errorf("DEVOPS_KUBECONFIG %q is not a readable file", p)
		}
		return []string{p}, nil
	}
	var paths []string
	for _, p := range filepath.SplitList(getenv("KUBECONFIG")) {
		if p != "" && isFile(p) {
			paths = append(paths, p)
		}
	}
	return paths, nil
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// Call executes one tool. Errors are *domains.Error: CodeInvalid for bad arguments,
// CodeNotFound for an unknown tool, namespace, pod or deployment, CodeConflict for a reused
// idempotency key or a pod without logs yet, CodeDenied when the cluster refuses, and
// CodeUnavailable when it is unreachable, overloaded or times out.
func (a *Adapter) Call(ctx context.Context, call domains.Call) (any, error) {
	if a.sim != nil {
		// The fake clientset records every request; forget them so a long-running simulated
		// worker does not grow.
		defer a.sim.client.ClearActions()
	}
	return a.router.Call(ctx, call)
}

// routes maps each tool name to its handler.
func (a *Adapter) routes() kit.Router {
	return kit.Router{Domain: "devops", Handlers: map[string]kit.Handler{
		ToolListPods:        a.serveListPods,
		ToolGetPodLogs:      a.serveGetPodLogs,
		ToolListDeployments: a.serveListDeployments,
		ToolScaleDeployment: a.serveScaleDeployment,
	}}
}

// serveListPods reads the arguments of devops.list_pods and lists the pods.
func (a *Adapter) serveListPods(ctx context.Context, call domains.Call) (any, error) {
	ns, err := nameArg(call.Args, "namespace", "", true, validation.IsDNS1123Label)
	if err != nil {
		return nil, err
	}
	return a.listPods(ctx, ns)
}

// serveGetPodLogs reads the arguments of devops.get_pod_logs and tails the pod's logs.
func (a *Adapter) serveGetPodLogs(ctx context.Context, call domains.Call) (any, error) {
	pod, err := nameArg(call.Args, "pod_name", "", true, validation.IsDNS1123Subdomain)
	if err != nil {
		return nil, err
	}
	ns, err := nameArg(call.Args, "namespace", DefaultNamespace, false, validation.IsDNS1123Label)
	if err != nil {
		return nil, err
	}
	tail, err := kit.IntArg(call.Args, "tail", DefaultTailLines, 1, MaxTailLines)
	if err != nil {
		return nil, err
	}
	return a.podLogs(ctx, ns, pod, tail)
}

// serveListDeployments reads the arguments of devops.list_deployments and lists the
// deployments, of every namespace when none is given.
func (a *Adapter) serveListDeployments(ctx context.Context, call domains.Call) (any, error) {
	ns, err := nameArg(call.Args, "namespace", "", false, validation.IsDNS1123Label)
	if err != nil {
		return nil, err
	}
	return a.listDeployments(ctx, ns)
}

// serveScaleDeployment reads the arguments of devops.scale_deployment and scales, once per
// idempotency key.
func (a *Adapter) serveScaleDeployment(ctx context.Context, call domains.Call) (any, error) {
	name, err := nameArg(call.Args, "deployment_name", "", true, validation.IsDNS1123Subdomain)
	if err != nil {
		return nil, err
	}
	ns, err := nameArg(call.Args, "namespace", DefaultNamespace, false, validation.IsDNS1123Label)
	if err != nil {
		return nil, err
	}
	if _, ok := call.Args["replicas"]; !ok {
		return nil, domains.Errorf(domains.CodeInvalid, "replicas is required")
	}
	replicas, err := kit.IntArg(call.Args, "replicas", 0, 0, MaxReplicas)
	if err != nil {
		return nil, err
	}
	return a.scale(ctx, scaleRequest{Namespace: ns, Deployment: name, Replicas: replicas}, call.IdempotencyKey)
}

// nameArg reads a Kubernetes object name argument, def when absent (an error when required).
func nameArg(args map[string]any, key, def string, required bool, check func(string) []string) (string, error) {
	v, ok := args[key]
	if !ok || v == nil {
		if required {
			return "", domains.Errorf(domains.CodeInvalid, "%s is required", key)
		}
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", domains.Errorf(domains.CodeInvalid, "%s must be a string", key)
	}
	if s == "" && !required {
		return def, nil
	}
	if problems := check(s); len(problems) > 0 {
		return "", domains.Errorf(domains.CodeInvalid, "%s %q is not a valid Kubernetes name: %s", key, s, problems[0])
	}
	return s, nil
}

// isDomainError reports whether err already carries a domain code.
func isDomainError(err error) bool {
	var de *domains.Error
	return errors.As(err, &de)
}
