package devops

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"mcp-platform/domains"
)

// clusterObjects is a small real-looking cluster: a deployment whose ReplicaSet owns a
// running and a pending pod, and a StatefulSet pod.
func clusterObjects() []runtime.Object {
	replicas := int32(2)
	created := metav1.NewTime(testNow.Add(-5 * time.Minute))
	rsPod := func(name string, ready bool, phase corev1.PodPhase, state corev1.ContainerState, node string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: "shop", CreationTimestamp: created,
				Labels:          map[string]string{"app": "cart", appsv1.DefaultDeploymentUniqueLabelKey: "6b8f9c7d5"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "cart-6b8f9c7d5"}},
			},
			Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "cart", Image: "example/cart:1.0"}, {Name: "envoy", Image: "envoyproxy/envoy:v1.31"}}},
			Status: corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{
				{Name: "cart", Ready: ready, RestartCount: 2, State: state},
				{Name: "envoy", Ready: ready, RestartCount: 1, State: state},
			}},
		}
	}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	creating := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	return []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "empty"}},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "cart", Namespace: "shop"},
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "cart", Image: "example/cart:1.0"}, {Name: "envoy", Image: "envoyproxy/envoy:v1.31"}},
			}}},
			Status: appsv1.DeploymentStatus{Replicas: 2, ReadyReplicas: 1},
		},
		rsPod("cart-6b8f9c7d5-abcde", true, corev1.PodRunning, running, "node-1"),
		rsPod("cart-6b8f9c7d5-fghij", false, corev1.PodPending, creating, ""),
		&corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "redis-0", Namespace: "shop", CreationTimestamp: metav1.NewTime(testNow.Add(-50 * time.Hour)),
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "redis"}}},
			Spec:   corev1.PodSpec{NodeName: "node-2", Containers: []corev1.Container{{Name: "redis", Image: "redis:7"}}},
			Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{{Name: "redis", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}}}},
		},
	}
}

func newKubeTest(tb testing.TB) (*Adapter, *fake.Clientset) {
	tb.Helper()
	client := fake.NewSimpleClientset(clusterObjects()...)
	return newAdapter(client, KubeLogs{Client: client}, func() time.Time { return testNow }, nil), client
}

func TestKubeListPods(t *testing.T) {
	a, _ := newKubeTest(t)

	t.Run("OK", func(t *testing.T) {
		got := listPods(t, a, "shop")
		require.Equal(t, &PodList{Namespace: "shop", Count: 3, Pods: []Pod{
			{Name: "cart-6b8f9c7d5-abcde", Status: "Running", Ready: "2/2", Restarts: 3, Node: "node-1", Age: "5m", Deployment: "cart"},
			{Name: "cart-6b8f9c7d5-fghij", Status: "ContainerCreating", Ready: "0/2", Restarts: 3, Node: "", Age: "5m", Deployment: "cart"},
			{Name: "redis-0", Status: "Completed", Ready: "0/1", Restarts: 0, Node: "node-2", Age: "2d2h", Deployment: ""},
		}}, got)
	})

	t.Run("OKEmptyNamespace", func(t *testing.T) {
		got := listPods(t, a, "empty")
		require.Equal(t, 0, got.Count)
		require.NotNil(t, got.Pods, "an empty list encodes as [], not null")
	})

	t.Run("ErrUnknownNamespace", func(t *testing.T) {
		_, err := call(t, a, ToolListPods, map[string]any{"namespace": "production"})
		requireCode(t, err, domains.CodeNotFound, `no namespace "production"`)
	})
}

func TestKubeListDeployments(t *testing.T) {
	a, _ := newKubeTest(t)
	for _, args := range []map[string]any{nil, {"namespace": "shop"}} {
		res, err := call(t, a, ToolListDeployments, args)
		require.NoError(t, err)
		require.Equal(t, &DeploymentList{Count: 1, Deployments: []Deployment{
			{Name: "cart", Namespace: "shop", Replicas: 2, ReadyReplicas: 1, Image: "example/cart:1.0"},
		}}, res)
	}
}

func TestKubeGetPodLogs(t *testing.T) {
	a, client := newKubeTest(t)

	t.Run("OK", func(t *testing.T) {
		res, err := call(t, a, ToolGetPodLogs, map[string]any{"pod_name": "cart-6b8f9c7d5-abcde", "namespace": "shop", "tail": 10})
		require.NoError(t, err)
		require.Equal(t, &PodLogs{Pod: "cart-6b8f9c7d5-abcde", Namespace: "shop", Container: "cart", Lines: []string{"fake logs"}}, res)

		var opts *corev1.PodLogOptions
		for _, act := range client.Actions() {
			if act.GetSubresource() == "log" {
				opts = act.(k8stesting.GenericAction).GetValue().(*corev1.PodLogOptions)
			}
		}
		require.NotNil(t, opts)
		require.Equal(t, "cart", opts.Container)
		require.Equal(t, int64(10), *opts.TailLines)
		require.True(t, opts.Timestamps)
	})

	t.Run("ErrUnknownPod", func(t *testing.T) {
		_, err := call(t, a, ToolGetPodLogs, map[string]any{"pod_name": "cart-x", "namespace": "shop"})
		requireCode(t, err, domains.CodeNotFound, `no pod "cart-x" in namespace "shop"`)
	})

	t.Run("ErrContainerNotStarted", func(t *testing.T) {
		b := newAdapter(client, failingLogs{apierrors.NewBadRequest(`container "cart" in pod "cart-6b8f9c7d5-fghij" is waiting to start: ContainerCreating`)},
			func() time.Time { return testNow }, nil)
		_, err := call(t, b, ToolGetPodLogs, map[string]any{"pod_name": "cart-6b8f9c7d5-fghij", "namespace": "shop"})
		requireCode(t, err, domains.CodeConflict, `has no logs yet: its container "cart" is not running`)
	})
}

type failingLogs struct{ err error }

func (f failingLogs) TailLogs(context.Context, *corev1.Pod, string, int) ([]string, error) {
	return nil, f.err
}

func TestKubeScaleIdempotency(t *testing.T) {
	ctx := context.Background()
	scale := func(a *Adapter, key string, replicas int) (any, error) {
		return a.Call(ctx, domains.Call{Tool: ToolScaleDeployment, IdempotencyKey: key,
			Args: map[string]any{"deployment_name": "cart", "namespace": "shop", "replicas": replicas}})
	}
	getCart := func(t *testing.T, client *fake.Clientset) *appsv1.Deployment {
		t.Helper()
		d, err := client.AppsV1().Deployments("shop").Get(ctx, "cart", metav1.GetOptions{})
		require.NoError(t, err)
		return d
	}
	want := &ScaleResult{Deployment: "cart", Namespace: "shop", PreviousReplicas: 2, Replicas: 5}

	t.Run("OKRecordsKeyInAnnotation", func(t *testing.T) {
		a, client := newKubeTest(t)
		got, err := scale(a, "wf-1/call-1", 5)
		require.NoError(t, err)
		require.Equal(t, want, got)
		d := getCart(t, client)
		require.Equal(t, int32(5), *d.Spec.Replicas)
		require.Equal(t, map[string]string{
			AnnotationScaleKey: "wf-1/call-1", AnnotationScalePrevious: "2", AnnotationScaleReplicas: "5",
		}, d.Annotations)
	})

	t.Run("OKRetryOnAnotherWorkerSkips", func(t *testing.T) {
		a, client := newKubeTest(t)
		_, err := scale(a, "wf-1/call-1", 5)
		require.NoError(t, err)
		// An autoscaler changes the replicas; the retry lands on a worker that has not seen the
		// key (fresh ledger) and must neither undo that nor report another previous count.
		d := getCart(t, client)
		nine := int32(9)
		d.Spec.Replicas = &nine
		_, err = client.AppsV1().Deployments("shop").Update(ctx, d, metav1.UpdateOptions{})
		require.NoError(t, err)

		other := newAdapter(client, KubeLogs{Client: client}, func() time.Time { return testNow }, nil)
		got, err := scale(other, "wf-1/call-1", 5)
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.Equal(t, int32(9), *getCart(t, client).Spec.Replicas)

		_, err = scale(other, "wf-1/call-1", 4)
		requireCode(t, err, domains.CodeConflict, "already applied with different arguments")
	})

	t.Run("OKDifferentKeyApplies", func(t *testing.T) {
		a, client := newKubeTest(t)
		_, err := scale(a, "wf-1/call-1", 5)
		require.NoError(t, err)
		got, err := scale(a, "wf-1/call-2", 3)
		require.NoError(t, err)
		require.Equal(t, &ScaleResult{Deployment: "cart", Namespace: "shop", PreviousReplicas: 5, Replicas: 3}, got)
		d := getCart(t, client)
		require.Equal(t, int32(3), *d.Spec.Replicas)
		require.Equal(t, "wf-1/call-2", d.Annotations[AnnotationScaleKey])
	})

	t.Run("OKRetriesOnConflict", func(t *testing.T) {
		a, client := newKubeTest(t)
		conflicts := 0
		client.PrependReactor("update", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
			if conflicts < 2 {
				conflicts++
				return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "cart", errors.New("the object has been modified"))
			}
			return false, nil, nil
		})
		got, err := scale(a, "wf-1/call-1", 5)
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.Equal(t, 2, conflicts)
		require.Equal(t, int32(5), *getCart(t, client).Spec.Replicas)
	})

	t.Run("ErrUnknownDeployment", func(t *testing.T) {
		a, _ := newKubeTest(t)
		_, err := a.Call(ctx, domains.Call{Tool: ToolScaleDeployment, IdempotencyKey: "k",
			Args: map[string]any{"deployment_name": "checkout", "namespace": "shop", "replicas": 1}})
		requireCode(t, err, domains.CodeNotFound, `no deployment "checkout" in namespace "shop"`)
	})

	t.Run("ErrUnknownNamespace", func(t *testing.T) {
		a, _ := newKubeTest(t)
		_, err := a.Call(ctx, domains.Call{Tool: ToolScaleDeployment, IdempotencyKey: "k",
			Args: map[string]any{"deployment_name": "cart", "replicas": 1}})
		requireCode(t, err, domains.CodeNotFound, `no namespace "production"`)
	})

	t.Run("ErrDenied", func(t *testing.T) {
		a, client := newKubeTest(t)
		client.PrependReactor("update", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "cart", errors.New("RBAC: access denied"))
		})
		_, err := scale(a, "k", 5)
		requireCode(t, err, domains.CodeDenied, `scale deployment "cart" in namespace "shop"`)
		require.Equal(t, int32(2), *getCart(t, client).Spec.Replicas)
	})
}

func TestKubeErrorMapping(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	refused := &url.Error{Op: "Get", URL: "https://10.1.2.3:6443/api/v1/namespaces/shop/pods",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name string
		err  error
		code domains.ErrorCode
	}{
		{"ErrForbidden", apierrors.NewForbidden(gr, "", errors.New("RBAC")), domains.CodeDenied},
		{"ErrUnauthorized", apierrors.NewUnauthorized("token expired"), domains.CodeDenied},
		{"ErrNotFound", apierrors.NewNotFound(gr, "x"), domains.CodeNotFound},
		{"ErrTimeout", apierrors.NewTimeoutError("slow etcd", 5), domains.CodeUnavailable},
		{"ErrServerTimeout", apierrors.NewServerTimeout(gr, "list", 5), domains.CodeUnavailable},
		{"ErrTooManyRequests", apierrors.NewTooManyRequests("throttled", 1), domains.CodeUnavailable},
		{"ErrInternal", apierrors.NewInternalError(errors.New("etcdserver: leader changed")), domains.CodeUnavailable},
		{"ErrServiceUnavailable", apierrors.NewServiceUnavailable("apiserver shutting down"), domains.CodeUnavailable},
		{"ErrBadGateway", apierrors.NewGenericServerResponse(502, "list", gr, "", "bad gateway", 0, false), domains.CodeUnavailable},
		{"ErrConnectionRefused", refused, domains.CodeUnavailable},
		{"ErrDeadline", context.DeadlineExceeded, domains.CodeUnavailable},
		{"ErrBadRequest", apierrors.NewBadRequest("bad selector"), domains.CodeInvalid},
		{"ErrUnexpected", errors.New("boom"), domains.CodeInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, client := newKubeTest(t)
			client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tc.err
			})
			_, err := call(t, a, ToolListPods, map[string]any{"namespace": "shop"})
			requireCode(t, err, tc.code, `list pods in namespace "shop"`)
			require.ErrorIs(t, err, tc.err, "the cause stays available to logs")
			require.NotContains(t, err.(*domains.Error).Message, "10.1.2.3")
			require.Equal(t, tc.code == domains.CodeUnavailable || tc.code == domains.CodeInternal, err.(*domains.Error).Retryable())
		})
	}

	t.Run("OKNamespaceReadForbidden", func(t *testing.T) {
		// A role limited to one namespace may list its pods without reading the namespace.
		a, client := newKubeTest(t)
		client.PrependReactor("get", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "shop", errors.New("RBAC"))
		})
		require.Equal(t, 3, listPods(t, a, "shop").Count)
	})
}

func TestLastLines(t *testing.T) {
	long := "a" + strings.Repeat("é", maxLineBytes) // two bytes each: the cut falls inside a rune
	tests := []struct {
		name string
		data string
		n    int
		want []string
	}{
		{"OKEmpty", "", 5, []string{}},
		{"OKTail", "a\nb\nc\n", 2, []string{"b", "c"}},
		{"OKCRLF", "a\r\nb\r\n", 5, []string{"a", "b"}},
		{"OKNoFinalNewline", "a\nb", 5, []string{"a", "b"}},
		{"OKTruncatesLongLine", long + "\nend", 5, []string{"a" + strings.Repeat("é", maxLineBytes/2-1) + " …(truncated)", "end"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, lastLines(tc.data, tc.n))
		})
	}
}
