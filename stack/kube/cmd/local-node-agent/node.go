package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// agent holds the node's view of the cluster and the pods it runs.
type agent struct {
	cfg       config
	client    kubernetes.Interface
	pods      corelisters.PodLister
	services  corelisters.ServiceLister
	ingresses networkinglisters.IngressLister
	wake      chan struct{}

	mu        sync.Mutex
	running   map[string]*podRuntime // by pod UID
	usedPorts map[int]bool
	beat      time.Time
	rr        map[string]int // round-robin cursor per service
}

func newAgent(cfg config, client kubernetes.Interface, f informers.SharedInformerFactory) *agent {
	a := &agent{
		cfg: cfg, client: client,
		pods:      f.Core().V1().Pods().Lister(),
		services:  f.Core().V1().Services().Lister(),
		ingresses: f.Networking().V1().Ingresses().Lister(),
		wake:      make(chan struct{}, 1),
		running:   map[string]*podRuntime{},
		usedPorts: map[int]bool{},
		rr:        map[string]int{},
	}
	kick := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { a.kick() },
		UpdateFunc: func(any, any) { a.kick() },
		DeleteFunc: func(any) { a.kick() },
	}
	_, _ = f.Core().V1().Pods().Informer().AddEventHandler(kick)
	_, _ = f.Networking().V1().Ingresses().Informer().AddEventHandler(kick)
	f.Core().V1().Services().Informer()
	return a
}

// kick asks the sync loop for a pass without blocking the caller.
func (a *agent) kick() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *agent) lastHeartbeat() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.beat
}

func (a *agent) nodeStatus(ready bool, message string) corev1.NodeStatus {
	now := metav1.Now()
	readyStatus, reason := corev1.ConditionTrue, "KubeletReady"
	if !ready {
		readyStatus, reason = corev1.ConditionFalse, "KubeletNotReady"
	}
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(memoryBytes(), resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
	}
	host, _ := os.Hostname()
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeReady, readyStatus, reason, message),
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "not measured by the local node agent"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "not measured by the local node agent"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "not measured by the local node agent"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
			{Type: corev1.NodeHostName, Address: host},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion:          a.cfg.version,
			OperatingSystem:         runtime.GOOS,
			Architecture:            runtime.GOARCH,
			ContainerRuntimeVersion: "local-process://stateful-mlflow-stack",
			OSImage:                 "local processes (stand-in node)",
		},
	}
}

func memoryBytes() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err == nil {
		return int64(si.Totalram) * int64(si.Unit)
	}
	return 8 << 30
}

// registerNode creates the Node or refreshes it after a restart.
func (a *agent) registerNode(ctx context.Context) error {
	name := a.cfg.nodeName
	labels := map[string]string{
		"kubernetes.io/hostname":                  name,
		"kubernetes.io/os":                        runtime.GOOS,
		"kubernetes.io/arch":                      runtime.GOARCH,
		"node.stateful-mlflow.local/stand-in-for": "kubelet",
	}
	nodes := a.client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		node, err = nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	node.Labels = labels
	node.Spec.Unschedulable = false
	if node, err = nodes.Update(ctx, node, metav1.UpdateOptions{}); err != nil {
		return err
	}
	node.Status = a.nodeStatus(true, "local node agent is posting ready status (stand-in for a kubelet)")
	if _, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return err
	}
	a.mu.Lock()
	a.beat = time.Now()
	a.mu.Unlock()
	return nil
}

// heartbeat renews the node Lease every 10 s and the Ready condition every 40 s, like a kubelet.
func (a *agent) heartbeat(ctx context.Context) {
	leases := a.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	lastStatus := time.Now()
	for {
		if err := a.renewLease(ctx, leases); err != nil {
			log.Printf("lease: %v", err)
		}
		if time.Since(lastStatus) > 40*time.Second {
			if err := a.postReady(ctx, true, "local node agent is posting ready status (stand-in for a kubelet)"); err != nil {
				log.Printf("node status: %v", err)
			} else {
				lastStatus = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (a *agent) renewLease(ctx context.Context, leases interface {
	Get(context.Context, string, metav1.GetOptions) (*coordinationv1.Lease, error)
	Create(context.Context, *coordinationv1.Lease, metav1.CreateOptions) (*coordinationv1.Lease, error)
	Update(context.Context, *coordinationv1.Lease, metav1.UpdateOptions) (*coordinationv1.Lease, error)
}) error {
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, a.cfg.nodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: a.cfg.nodeName},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: ptr.To(a.cfg.nodeName), LeaseDurationSeconds: ptr.To(int32(40)), RenewTime: &now,
			},
		}, metav1.CreateOptions{})
	} else if err == nil {
		lease.Spec.HolderIdentity = ptr.To(a.cfg.nodeName)
		lease.Spec.LeaseDurationSeconds = ptr.To(int32(40))
		lease.Spec.RenewTime = &now
		_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	}
	if err == nil {
		a.mu.Lock()
		a.beat = time.Now()
		a.mu.Unlock()
	}
	return err
}

func (a *agent) postReady(ctx context.Context, ready bool, message string) error {
	nodes := a.client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, a.cfg.nodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	node.Status = a.nodeStatus(ready, message)
	_, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{})
	return err
}

func podKey(p *corev1.Pod) string { return fmt.Sprintf("%s/%s", p.Namespace, p.Name) }
