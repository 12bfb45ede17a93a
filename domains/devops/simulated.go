package devops

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

// simulator is the built-in cluster used without a kubeconfig: client-go's fake clientset
// seeded with namespaces, deployments and pods, plus the one controller behaviour the tools
// need, keeping a deployment's pods in line with its replicas.
type simulator struct {
	client *fake.Clientset
	now    func() time.Time
}

// newSimulatedAdapter builds an adapter over a freshly seeded simulated cluster.
func newSimulatedAdapter(now func() time.Time, logger *slog.Logger) *Adapter {
	sim := &simulator{now: now}
	sim.client = fake.NewSimpleClientset(sim.seed()...)
	a := newAdapter(sim.client, syntheticLogs{now: now}, now, logger)
	a.sim = sim
	return a
}

// simNodes are the simulated cluster's nodes.
var simNodes = []string{"node-pool-a-1", "node-pool-a-2", "node-pool-b-1", "node-pool-b-2"}

// seedApp is a deployment of the simulated cluster.
type seedApp struct {
	namespace string
	name      string
	image     string
	port      int32
	replicas  int
	// rollout is how long ago its current pods were created.
	rollout time.Duration
	// restarts gives the restart counts of its first pods; crash makes the first pod
	// crash-loop.
	restarts []int32
	crash    bool
}

var seedApps = []seedApp{
	{namespace: "production", name: "api-server", image: "registry.example.com/platform/api-server:v2.14.3", port: 8080, replicas: 3, rollout: 52 * time.Hour, restarts: []int32{0, 1}},
	{namespace: "production", name: "web-frontend", image: "registry.example.com/platform/web-frontend:v3.8.1", port: 3000, replicas: 2, rollout: 6*24*time.Hour + 4*time.Hour},
	{namespace: "production", name: "payment-service", image: "registry.example.com/platform/payment-service:v1.22.0", port: 8443, replicas: 2, rollout: 19 * time.Hour, restarts: []int32{3}},
	{namespace: "production", name: "worker", image: "registry.example.com/platform/worker:v2.14.3", port: 9000, replicas: 4, rollout: 52 * time.Hour},
	{namespace: "staging", name: "api-server", image: "registry.example.com/platform/api-server:v2.15.0-rc.2", port: 8080, replicas: 1, rollout: 3 * time.Hour},
	{namespace: "staging", name: "web-frontend", image: "registry.example.com/platform/web-frontend:v3.9.0-rc.1", port: 3000, replicas: 1, rollout: 26 * time.Hour},
	{namespace: "staging", name: "payment-service", image: "registry.example.com/platform/payment-service:v1.23.0-rc.1", port: 8443, replicas: 1, rollout: 47 * time.Minute, restarts: []int32{14}, crash: true},
	{namespace: "staging", name: "worker", image: "registry.example.com/platform/worker:v2.15.0-rc.2", port: 9000, replicas: 1, rollout: 3 * time.Hour},
	{namespace: "monitoring", name: "prometheus", image: "quay.io/prometheus/prometheus:v2.54.1", port: 9090, replicas: 1, rollout: 12 * 24 * time.Hour},
	{namespace: "monitoring", name: "alertmanager", image: "quay.io/prometheus/alertmanager:v0.27.0", port: 9093, replicas: 1, rollout: 12 * 24 * time.Hour},
	{namespace: "monitoring", name: "grafana", image: "docker.io/grafana/grafana:11.2.0", port: 3000, replicas: 1, rollout: 9 * 24 * time.Hour},
}

// seed returns the simulated cluster's objects as of now.
func (s *simulator) seed() []runtime.Object {
	now := s.now()
	var objs []runtime.Object
	for _, ns := range []string{"production", "staging", "monitoring"} {
		objs = append(objs, &corev1.Namespace{
			ObjectMeta: metav1.ObjectMeta{Name: ns, UID: uid("namespace", ns), CreationTimestamp: metav1.NewTime(now.Add(-400 * 24 * time.Hour)),
				Labels: map[string]string{"kubernetes.io/metadata.name": ns}},
			Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
		})
	}
	for _, app := range seedApps {
		d := deployment(app, now.Add(-180*24*time.Hour))
		ready := 0
		for i := range app.replicas {
			var restarts int32
			if i < len(app.restarts) {
				restarts = app.restarts[i]
			}
			crash := app.crash && i == 0
			if !crash {
				ready++
			}
			created := now.Add(-app.rollout + time.Duration(i)*7*time.Second)
			objs = append(objs, s.pod(d, podName(d, i, ""), i, created, restarts, crash))
		}
		setStatus(d, ready)
		objs = append(objs, d)
	}
	return objs
}

func deployment(app seedApp, created time.Time) *appsv1.Deployment {
	replicas := int32(app.replicas)
	sel := map[string]string{"app": app.name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: app.name, Namespace: app.namespace, UID: uid("deployment", app.namespace, app.name),
			Generation: 4, CreationTimestamp: metav1.NewTime(created),
			Labels: map[string]string{"app": app.name, "app.kubernetes.io/part-of": "platform"},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  app.name,
					Image: app.image,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: app.port, Protocol: corev1.ProtocolTCP}},
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse("250m"),
						corev1.ResourceMemory: resource.MustParse("256Mi"),
					}},
				}}},
			},
		},
	}
}

// setStatus records the deployment's replica counts as its controller would.
func setStatus(d *appsv1.Deployment, ready int) {
	n := int32(specReplicas(d))
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           n,
		UpdatedReplicas:    n,
		ReadyReplicas:      int32(ready),
		AvailableReplicas:  int32(ready),
	}
	if int32(ready) < n {
		d.Status.UnavailableReplicas = n - int32(ready)
	}
}

// nameAlphabet is what Kubernetes draws generated name suffixes from (no vowels, no 0/1/3).
const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func randomish(n int, parts ...string) string {
	h := hash64(parts...)
	b := make([]byte, n)
	for i := range b {
		b[i] = nameAlphabet[h%uint64(len(nameAlphabet))]
		h /= uint64(len(nameAlphabet))
		if h == 0 {
			h = hash64(append(parts, string(b[:i+1]))...)
		}
	}
	return string(b)
}

// templateHash stands for the pod-template-hash of the deployment's current ReplicaSet.
func templateHash(d *appsv1.Deployment) string {
	return randomish(9, d.Namespace, d.Name, d.Spec.Template.Spec.Containers[0].Image)
}

// podName is the name of the deployment's seq-th pod created at one time (salt), such as
// api-server-7d9f8b6c4-x2k9p.
func podName(d *appsv1.Deployment, seq int, salt string) string {
	h := templateHash(d)
	return fmt.Sprintf("%s-%s-%s", d.Name, h, randomish(5, d.Namespace, d.Name, h, fmt.Sprint(seq), salt))
}

func uid(parts ...string) types.UID {
	h := fmt.Sprintf("%016x%016x", hash64(parts...), hash64(append(parts, "uid")...))
	return types.UID(h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32])
}

// pod builds a pod of d as its ReplicaSet would create it, running on a node.
func (s *simulator) pod(d *appsv1.Deployment, name string, seq int, created time.Time, restarts int32, crash bool) *corev1.Pod {
	hash := templateHash(d)
	c := d.Spec.Template.Spec.Containers[0]
	h := hash64(d.Namespace, name)
	node := simNodes[(int(hash64(d.Namespace, d.Name)%uint64(len(simNodes)))+seq)%len(simNodes)]
	now := s.now()
	startedAt := created.Add(4 * time.Second)
	if startedAt.After(now) {
		startedAt = now
	}
	started := metav1.NewTime(startedAt)
	status := corev1.ContainerStatus{
		Name:         c.Name,
		Image:        c.Image,
		ImageID:      fmt.Sprintf("%s@sha256:%016x%016x%016x%016x", c.Image[:lastColon(c.Image)], h, h>>7, h>>13, h>>29),
		ContainerID:  fmt.Sprintf("containerd://%016x%016x", h, hash64(name, "container")),
		Ready:        !crash,
		Started:      boolPtr(!crash),
		RestartCount: restarts,
		State:        corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}},
	}
	if restarts > 0 {
		lastStart := created.Add(time.Duration(h%3600) * time.Second)
		lastEnd := now.Add(-time.Duration(h%(3*3600))*time.Second - 10*time.Minute)
		if lastEnd.Before(lastStart) {
			lastEnd = lastStart.Add(time.Minute)
		}
		status.State.Running.StartedAt = metav1.NewTime(lastEnd.Add(2 * time.Second))
		status.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{
			ExitCode: 137, Reason: "OOMKilled", StartedAt: metav1.NewTime(lastStart), FinishedAt: metav1.NewTime(lastEnd),
		}
	}
	podReady := corev1.ConditionTrue
	if crash {
		podReady = corev1.ConditionFalse
		finished := now.Add(-95 * time.Second)
		status.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason:  "CrashLoopBackOff",
			Message: fmt.Sprintf("back-off 5m0s restarting failed container=%s pod=%s_%s(%s)", c.Name, name, d.Namespace, uid("pod", d.Namespace, name)),
		}}
		status.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{
			ExitCode: 1, Reason: "Error", StartedAt: metav1.NewTime(finished.Add(-7 * time.Second)), FinishedAt: metav1.NewTime(finished),
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: d.Namespace, UID: uid("pod", d.Namespace, name),
			CreationTimestamp: metav1.NewTime(created),
			GenerateName:      d.Name + "-" + hash + "-",
			Labels:            map[string]string{"app": d.Name, appsv1.DefaultDeploymentUniqueLabelKey: hash},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: d.Name + "-" + hash,
				UID: uid("replicaset", d.Namespace, d.Name, hash), Controller: boolPtr(true), BlockOwnerDeletion: boolPtr(true),
			}},
		},
		Spec: corev1.PodSpec{
			Containers:    d.Spec.Template.Spec.Containers,
			NodeName:      node,
			RestartPolicy: corev1.RestartPolicyAlways,
		},
		Status: corev1.PodStatus{
			Phase:  corev1.PodRunning,
			HostIP: fmt.Sprintf("10.0.%d.%d", 1+seq%4, 10+h%200),
			PodIP:  fmt.Sprintf("10.244.%d.%d", h%250, 2+(h>>8)%250),
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(created)},
				{Type: corev1.ContainersReady, Status: podReady, LastTransitionTime: started},
				{Type: corev1.PodReady, Status: podReady, LastTransitionTime: started},
			},
			StartTime:         &metav1.Time{Time: created},
			ContainerStatuses: []corev1.ContainerStatus{status},
			QOSClass:          corev1.PodQOSBurstable,
		},
	}
}

func lastColon(image string) int {
	for i := len(image) - 1; i >= 0 && image[i] != '/'; i-- {
		if image[i] == ':' {
			return i
		}
	}
	return len(image)
}

func boolPtr(b bool) *bool { return &b }

// reconcile makes the pods of a deployment match its replicas, as the ReplicaSet controller
// would: it deletes unready pods first, then the newest, and starts new pods right away (the
// simulation skips scheduling and image pulls). Then it updates the deployment's status.
func (s *simulator) reconcile(ctx context.Context, ns, name string) error {
	d, err := s.client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	pods := s.client.CoreV1().Pods(ns)
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(d.Spec.Selector.MatchLabels).String()})
	if err != nil {
		return err
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool {
		ri, rj := isReady(&items[i]), isReady(&items[j])
		if ri != rj {
			return !ri
		}
		ci, cj := items[i].CreationTimestamp, items[j].CreationTimestamp
		if !ci.Equal(&cj) {
			return cj.Before(&ci)
		}
		return items[i].Name < items[j].Name
	})
	want := specReplicas(d)
	for len(items) > want {
		if err := pods.Delete(ctx, items[0].Name, metav1.DeleteOptions{}); err != nil {
			return err
		}
		items = items[1:]
	}
	existing := map[string]bool{}
	ready := 0
	for i := range items {
		existing[items[i].Name] = true
		if isReady(&items[i]) {
			ready++
		}
	}
	now := s.now()
	for seq := 0; len(existing) < want; seq++ {
		name := podName(d, seq, now.Format(time.RFC3339Nano))
		if existing[name] {
			continue
		}
		if _, err := pods.Create(ctx, s.pod(d, name, seq, now, 0, false), metav1.CreateOptions{}); err != nil {
			return err
		}
		existing[name] = true
		ready++
	}
	setStatus(d, ready)
	_, err = s.client.AppsV1().Deployments(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	return err
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
