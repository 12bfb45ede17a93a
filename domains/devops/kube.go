package devops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/util/retry"

	"mcp-platform/domains"
)

// Annotations a scale records on the deployment, so that a retry delivered to another worker
// (or after a restart) recognises the call and does not apply it twice. Changing annotations
// of a Deployment does not roll its pods.
const (
	AnnotationScaleKey      = "mcp-platform/last-scale-key"
	AnnotationScalePrevious = "mcp-platform/last-scale-previous-replicas"
	AnnotationScaleReplicas = "mcp-platform/last-scale-replicas"
)

// Pod is one pod as devops.list_pods shows it, in the columns of kubectl get pods.
type Pod struct {
	Name string `json:"name"`
	// Status is what kubectl shows: Running, Pending, CrashLoopBackOff, Completed, ...
	Status string `json:"status"`
	// Ready is ready containers over containers, such as "1/1".
	Ready    string `json:"ready"`
	Restarts int    `json:"restarts"`
	Node     string `json:"node"`
	// Age is how long ago the pod was created, such as "3d4h".
	Age string `json:"age"`
	// Deployment owns the pod through a ReplicaSet; "" for pods of other controllers.
	Deployment string `json:"deployment"`
}

// PodList is the result of devops.list_pods.
type PodList struct {
	Namespace string `json:"namespace"`
	Pods      []Pod  `json:"pods"`
	Count     int    `json:"count"`
}

// PodLogs is the result of devops.get_pod_logs: the last lines of the pod's main container.
type PodLogs struct {
	Pod       string   `json:"pod"`
	Namespace string   `json:"namespace"`
	Container string   `json:"container"`
	Lines     []string `json:"lines"`
}

// Deployment is one deployment as devops.list_deployments shows it.
type Deployment struct {
	Name          string `json:"name"`
	Namespace     string `json:"namespace"`
	Replicas      int    `json:"replicas"`
	ReadyReplicas int    `json:"ready_replicas"`
	// Image is the image of the first container.
	Image string `json:"image"`
}

// DeploymentList is the result of devops.list_deployments.
type DeploymentList struct {
	Deployments []Deployment `json:"deployments"`
	Count       int          `json:"count"`
}

// ScaleResult is the result of devops.scale_deployment. A retry of the same call returns the
// result of its first application.
type ScaleResult struct {
	Deployment       string `json:"deployment"`
	Namespace        string `json:"namespace"`
	PreviousReplicas int    `json:"previous_replicas"`
	Replicas         int    `json:"replicas"`
}

// scaleRequest is what a scale call asks for; an idempotency key stands for one request.
type scaleRequest struct {
	Namespace  string
	Deployment string
	Replicas   int
}

func (a *Adapter) listPods(ctx context.Context, ns string) (*PodList, error) {
	if err := a.checkNamespace(ctx, ns); err != nil {
		return nil, err
	}
	list, err := a.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, kubeError(err, fmt.Sprintf("list pods in namespace %q", ns))
	}
	now := a.now()
	out := &PodList{Namespace: ns, Pods: make([]Pod, 0, len(list.Items))}
	for i := range list.Items {
		p := &list.Items[i]
		ready, restarts := 0, 0
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Ready {
				ready++
			}
			restarts += int(cs.RestartCount)
		}
		out.Pods = append(out.Pods, Pod{
			Name:       p.Name,
			Status:     podStatus(p),
			Ready:      fmt.Sprintf("%d/%d", ready, len(p.Spec.Containers)),
			Restarts:   restarts,
			Node:       p.Spec.NodeName,
			Age:        age(now, p.CreationTimestamp),
			Deployment: podDeployment(p),
		})
	}
	sort.Slice(out.Pods, func(i, j int) bool { return out.Pods[i].Name < out.Pods[j].Name })
	out.Count = len(out.Pods)
	return out, nil
}

func (a *Adapter) podLogs(ctx context.Context, ns, name string, tail int) (*PodLogs, error) {
	pod, err := a.client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, a.notFound(ctx, ns, "pod", name, err)
	}
	if err != nil {
		return nil, kubeError(err, fmt.Sprintf("get pod %q in namespace %q", name, ns))
	}
	if len(pod.Spec.Containers) == 0 {
		return nil, domains.Errorf(domains.CodeConflict, "pod %q in namespace %q has no containers", name, ns)
	}
	container := pod.Spec.Containers[0].Name
	lines, err := a.logs.TailLogs(ctx, pod, container, tail)
	if apierrors.IsBadRequest(err) {
		// The API answers 400 for a container that has not started (or has no previous run).
		return nil, &domains.Error{Code: domains.CodeConflict, Err: err,
			Message: fmt.Sprintf("pod %q in namespace %q has no logs yet: its container %q is not running", name, ns, container)}
	}
	if err != nil {
		return nil, kubeError(err, fmt.Sprintf("read the logs of pod %q in namespace %q", name, ns))
	}
	if lines == nil {
		lines = []string{}
	}
	return &PodLogs{Pod: name, Namespace: ns, Container: container, Lines: lines}, nil
}

// listDeployments lists the deployments of ns, or of every namespace when ns is "".
func (a *Adapter) listDeployments(ctx context.Context, ns string) (*DeploymentList, error) {
	doing := "list deployments in all namespaces"
	if ns != "" {
		if err := a.checkNamespace(ctx, ns); err != nil {
			return nil, err
		}
		doing = fmt.Sprintf("list deployments in namespace %q", ns)
	}
	list, err := a.client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, kubeError(err, doing)
	}
	out := &DeploymentList{Deployments: make([]Deployment, 0, len(list.Items))}
	for i := range list.Items {
		d := &list.Items[i]
		image := ""
		if cs := d.Spec.Template.Spec.Containers; len(cs) > 0 {
			image = cs[0].Image
		}
		out.Deployments = append(out.Deployments, Deployment{
			Name:          d.Name,
			Namespace:     d.Namespace,
			Replicas:      specReplicas(d),
			ReadyReplicas: int(d.Status.ReadyReplicas),
			Image:         image,
		})
	}
	sort.Slice(out.Deployments, func(i, j int) bool {
		x, y := out.Deployments[i], out.Deployments[j]
		if x.Namespace != y.Namespace {
			return x.Namespace < y.Namespace
		}
		return x.Name < y.Name
	})
	out.Count = len(out.Deployments)
	return out, nil
}

// scale sets the replicas of a deployment once per idempotency key. A key seen before, by this
// process (the ledger) or by any process (the deployment's annotations, which remember the
// last key), returns the first application's result without changing anything. A key reused
// for a different request is a CodeConflict. Without a key every call applies.
func (a *Adapter) scale(ctx context.Context, req scaleRequest, key string) (*ScaleResult, error) {
	select {
	case a.scaleSem <- struct{}{}:
		defer func() { <-a.scaleSem }()
	case <-ctx.Done():
		return nil, &domains.Error{Code: domains.CodeUnavailable, Message: "timed out waiting for another scale operation to finish", Err: ctx.Err()}
	}
	if key != "" {
		if prev, res, ok := a.ledger.get(key); ok {
			if prev != req {
				return nil, reusedKey(res)
			}
			// Converge again in case the first attempt failed after its update.
			if err := a.afterScale(ctx, req); err != nil {
				return nil, err
			}
			return &res, nil
		}
	}
	deployments := a.client.AppsV1().Deployments(req.Namespace)
	var res ScaleResult
	applied := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := deployments.Get(ctx, req.Deployment, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return a.notFound(ctx, req.Namespace, "deployment", req.Deployment, err)
		}
		if err != nil {
			return err
		}
		if key != "" && d.Annotations[AnnotationScaleKey] == key {
			res = recordedScale(d)
			if res.Replicas != req.Replicas {
				return reusedKey(res)
			}
			return nil
		}
		res = ScaleResult{Deployment: d.Name, Namespace: d.Namespace, PreviousReplicas: specReplicas(d), Replicas: req.Replicas}
		n := int32(req.Replicas)
		d.Spec.Replicas = &n
		if key != "" {
			if d.Annotations == nil {
				d.Annotations = map[string]string{}
			}
			d.Annotations[AnnotationScaleKey] = key
			d.Annotations[AnnotationScalePrevious] = strconv.Itoa(res.PreviousReplicas)
			d.Annotations[AnnotationScaleReplicas] = strconv.Itoa(req.Replicas)
		}
		if _, err := deployments.Update(ctx, d, metav1.UpdateOptions{FieldManager: "mcp-platform"}); err != nil {
			return err
		}
		applied = true
		return nil
	})
	if err != nil {
		return nil, kubeError(err, fmt.Sprintf("scale deployment %q in namespace %q", req.Deployment, req.Namespace))
	}
	if key != "" {
		a.ledger.put(key, req, res)
	}
	if err := a.afterScale(ctx, req); err != nil {
		return nil, err
	}
	msg := "devops: scaled deployment"
	if !applied {
		msg = "devops: scale already applied for this idempotency key, not repeated"
	}
	a.logger.InfoContext(ctx, msg, "namespace", res.Namespace, "deployment", res.Deployment,
		"previous_replicas", res.PreviousReplicas, "replicas", res.Replicas, "idempotency_key", key)
	return &res, nil
}

// afterScale lets the simulated cluster, which has no controllers, create or delete pods; a
// real cluster's ReplicaSet controller does that itself.
func (a *Adapter) afterScale(ctx context.Context, req scaleRequest) error {
	if a.sim == nil {
		return nil
	}
	if err := a.sim.reconcile(ctx, req.Namespace, req.Deployment); err != nil {
		return kubeError(err, fmt.Sprintf("scale the pods of deployment %q in namespace %q", req.Deployment, req.Namespace))
	}
	return nil
}

// recordedScale is the result a deployment's annotations remember for its last scale key.
func recordedScale(d *appsv1.Deployment) ScaleResult {
	res := ScaleResult{Deployment: d.Name, Namespace: d.Namespace, PreviousReplicas: specReplicas(d), Replicas: specReplicas(d)}
	if n, err := strconv.Atoi(d.Annotations[AnnotationScalePrevious]); err == nil {
		res.PreviousReplicas = n
	}
	if n, err := strconv.Atoi(d.Annotations[AnnotationScaleReplicas]); err == nil {
		res.Replicas = n
	}
	return res
}

func reusedKey(first ScaleResult) error {
	return domains.Errorf(domains.CodeConflict,
		"this call was already applied with different arguments (deployment %q in namespace %q scaled to %d replicas)",
		first.Deployment, first.Namespace, first.Replicas)
}

// checkNamespace returns CodeNotFound for a namespace that does not exist, since listing in one
// succeeds with nothing. A caller allowed to list but not to read namespaces skips the check.
func (a *Adapter) checkNamespace(ctx context.Context, ns string) error {
	_, err := a.client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case err == nil, apierrors.IsForbidden(err):
		return nil
	case apierrors.IsNotFound(err):
		return &domains.Error{Code: domains.CodeNotFound, Message: fmt.Sprintf("no namespace %q", ns), Err: err}
	default:
		return kubeError(err, fmt.Sprintf("get namespace %q", ns))
	}
}

// notFound explains a 404 for a namespaced object: the namespace or the object is missing.
func (a *Adapter) notFound(ctx context.Context, ns, kind, name string, err error) error {
	if nsErr := a.checkNamespace(ctx, ns); nsErr != nil {
		return nsErr
	}
	return &domains.Error{Code: domains.CodeNotFound, Message: fmt.Sprintf("no %s %q in namespace %q", kind, name, ns), Err: err}
}

// kubeError turns an error of the Kubernetes API or its transport into a *domains.Error whose
// message names what was being done but not the API server's address or internal details.
func kubeError(err error, doing string) error {
	if err == nil || isDomainError(err) {
		return err
	}
	wrap := func(code domains.ErrorCode, format string) error {
		return &domains.Error{Code: code, Message: fmt.Sprintf(format, doing), Err: err}
	}
	switch {
	case apierrors.IsNotFound(err):
		return wrap(domains.CodeNotFound, "cannot %s: not found")
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return wrap(domains.CodeDenied, "cannot %s: the cluster denied access to the platform's service account")
	case apierrors.IsTimeout(err), apierrors.IsServerTimeout(err), apierrors.IsTooManyRequests(err),
		apierrors.IsServiceUnavailable(err), apierrors.IsInternalError(err), apierrors.IsUnexpectedServerError(err),
		apierrors.IsConflict(err):
		return wrap(domains.CodeUnavailable, "cannot %s now: the cluster is busy or timed out, try again")
	case apierrors.IsAlreadyExists(err):
		return wrap(domains.CodeConflict, "cannot %s: it conflicts with the cluster's current state")
	case apierrors.IsBadRequest(err), apierrors.IsInvalid(err):
		return wrap(domains.CodeInvalid, "cannot %s: the cluster rejected the request as invalid")
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Code >= 500 {
		return wrap(domains.CodeUnavailable, "cannot %s now: the cluster is failing, try again")
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.As(err, &netErr) || errors.As(err, &urlErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return wrap(domains.CodeUnavailable, "cannot %s now: the cluster is unreachable or timed out, try again")
	}
	return wrap(domains.CodeInternal, "cannot %s: unexpected failure")
}

// podStatus is the status kubectl shows: a waiting or terminated container's reason wins over
// the pod's phase, since "Running" hides a crash loop.
func podStatus(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil {
		return "Terminating"
	}
	status := string(p.Status.Phase)
	if p.Status.Reason != "" {
		status = p.Status.Reason
	}
	for _, cs := range p.Status.InitContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "PodInitializing" {
			return "Init:" + w.Reason
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			status = cs.State.Waiting.Reason
		case cs.State.Terminated != nil && cs.State.Terminated.Reason != "" && p.Status.Phase != corev1.PodRunning:
			status = cs.State.Terminated.Reason
		}
	}
	if status == "" {
		status = "Unknown"
	}
	return status
}

// podDeployment names the deployment owning a pod: its ReplicaSet's name without the
// pod-template-hash suffix the Deployment controller appends.
func podDeployment(p *corev1.Pod) string {
	for _, ref := range p.OwnerReferences {
		if ref.Kind != "ReplicaSet" {
			continue
		}
		if h := p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; h != "" {
			if name, ok := strings.CutSuffix(ref.Name, "-"+h); ok {
				return name
			}
		}
	}
	return ""
}

func specReplicas(d *appsv1.Deployment) int {
	if d.Spec.Replicas == nil {
		return 1 // the API server's default
	}
	return int(*d.Spec.Replicas)
}

// age is how long before now a pod was created, written as kubectl does ("3d4h", "45s").
func age(now time.Time, created metav1.Time) string {
	if created.IsZero() {
		return "unknown"
	}
	return duration.HumanDuration(max(now.Sub(created.Time), 0))
}
