package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
)

// Reasons the agent puts in statuses, so users see why a pod does not run here.
const (
	reasonUnsupportedCommand = "LocalNodeUnsupportedCommand"
	reasonUnsupportedVolume  = "LocalNodeUnsupportedVolume"
	reasonConfigError        = "CreateContainerConfigError"
	reasonAgentRestarted     = "LocalNodeAgentRestarted"
)

// syncLoop reconciles on every informer event and at least every 2 s (probes and exits also kick it).
func (a *agent) syncLoop(ctx context.Context) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		a.syncAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-tick.C:
		}
	}
}

func (a *agent) syncAll(ctx context.Context) {
	pods, err := a.pods.List(labels.Everything())
	if err != nil {
		log.Printf("listing pods: %v", err)
		return
	}
	seen := map[string]bool{}
	for _, pod := range pods {
		seen[string(pod.UID)] = true
		switch {
		case pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil:
			a.bind(ctx, pod)
		case pod.Spec.NodeName == a.cfg.nodeName:
			a.syncPod(ctx, pod)
		}
	}
	// Pods removed from the API without passing through deletion here (e.g. force-deleted).
	a.mu.Lock()
	var gone []*podRuntime
	for uid, rt := range a.running {
		if !seen[uid] {
			gone = append(gone, rt)
			delete(a.running, uid)
		}
	}
	a.mu.Unlock()
	for _, rt := range gone {
		log.Printf("pod %s vanished from the API: stopping its processes", rt.key)
		go func(rt *podRuntime) {
			rt.terminate(30 * time.Second)
			a.releasePod(rt)
		}(rt)
	}
}

// bind is the scheduler's part: every pod goes to the one node.
func (a *agent) bind(ctx context.Context, pod *corev1.Pod) {
	if len(pod.Spec.SchedulingGates) > 0 {
		return
	}
	if s := pod.Spec.SchedulerName; s != "" && s != corev1.DefaultSchedulerName {
		return
	}
	err := a.client.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: a.cfg.nodeName},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		log.Printf("binding %s: %v", podKey(pod), err)
		return
	}
	if err == nil {
		log.Printf("bound %s to %s", podKey(pod), a.cfg.nodeName)
	}
}

func (a *agent) runtimeOf(pod *corev1.Pod) *podRuntime {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.running[string(pod.UID)]
}

func (a *agent) syncPod(ctx context.Context, pod *corev1.Pod) {
	rt := a.runtimeOf(pod)
	if pod.DeletionTimestamp != nil {
		a.deletePod(ctx, pod, rt)
		return
	}
	terminal := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	if rt == nil {
		if terminal {
			return
		}
		if pod.Status.StartTime != nil && pod.Status.Phase == corev1.PodRunning || hasStartedContainers(pod) {
			// Running before this agent started: its processes are gone (the agent stops them when it stops).
			a.failOrphan(ctx, pod)
			return
		}
		rt = a.startPod(ctx, pod)
		if rt == nil {
			return
		}
	}
	a.updateStatus(ctx, pod, rt)
}

func hasStartedContainers(pod *corev1.Pod) bool {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running != nil || cs.State.Terminated != nil {
			return true
		}
	}
	return false
}

// failOrphan reports a pod whose processes this agent does not own, like a kubelet after a node reboot.
func (a *agent) failOrphan(ctx context.Context, pod *corev1.Pod) {
	a.failOrphanWith(ctx, pod, reasonAgentRestarted,
		"the local node agent restarted and the pod's processes are gone; its controller replaces it")
	log.Printf("pod %s was running before the agent started: marked Failed", podKey(pod))
	_ = os.RemoveAll(a.podDir(pod))
}

// adoptLeftovers removes working directories of pods that no longer exist (from an earlier agent).
func (a *agent) adoptLeftovers(ctx context.Context) {
	root := filepath.Join(a.cfg.stateDir, "pods")
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		parts := strings.Split(e.Name(), "_")
		if len(parts) != 3 {
			continue
		}
		pod, err := a.pods.Pods(parts[0]).Get(parts[1])
		if err == nil && string(pod.UID) == parts[2] && pod.Status.Phase == corev1.PodPending && !hasStartedContainers(pod) {
			continue
		}
		killPidFiles(filepath.Join(root, e.Name()))
		_ = os.RemoveAll(filepath.Join(root, e.Name()))
	}
}

func (a *agent) podDir(pod *corev1.Pod) string {
	return filepath.Join(a.cfg.stateDir, "pods", fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

func (a *agent) logDir(pod *corev1.Pod) string {
	return filepath.Join(a.cfg.stateDir, "logs", "pods", fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

// deletePod honours the grace period: SIGTERM, SIGKILL when it runs out, then the pod and its disk go.
func (a *agent) deletePod(ctx context.Context, pod *corev1.Pod, rt *podRuntime) {
	if rt != nil {
		a.mu.Lock()
		already := rt.deleting
		rt.deleting = true
		a.mu.Unlock()
		if already {
			return
		}
		grace := 30 * time.Second
		if pod.DeletionGracePeriodSeconds != nil {
			grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
		}
		go func() {
			rt.terminate(grace)
			a.mu.Lock()
			delete(a.running, string(pod.UID))
			a.mu.Unlock()
			a.releasePod(rt)
			a.finalDelete(context.Background(), pod)
		}()
		return
	}
	killPidFiles(a.podDir(pod))
	_ = os.RemoveAll(a.podDir(pod))
	a.finalDelete(ctx, pod)
}

func (a *agent) finalDelete(ctx context.Context, pod *corev1.Pod) {
	err := a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To(int64(0)),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		log.Printf("deleting %s: %v", podKey(pod), err)
		return
	}
	log.Printf("pod %s deleted and its working directory removed", podKey(pod))
}

// releasePod frees the pod's ports and removes its private working directory.
func (a *agent) releasePod(rt *podRuntime) {
	a.mu.Lock()
	for _, p := range rt.ports {
		delete(a.usedPorts, p)
	}
	a.mu.Unlock()
	if err := os.RemoveAll(rt.dir); err != nil {
		log.Printf("removing %s: %v", rt.dir, err)
	}
	a.kick()
}

// shutdown stops every pod process and reports the pods as the kubelet's graceful node shutdown does.
func (a *agent) shutdown(ctx context.Context) {
	a.mu.Lock()
	rts := make([]*podRuntime, 0, len(a.running))
	for _, rt := range a.running {
		rts = append(rts, rt)
	}
	a.mu.Unlock()
	done := make(chan struct{}, len(rts))
	for _, rt := range rts {
		go func(rt *podRuntime) {
			rt.terminate(10 * time.Second)
			done <- struct{}{}
		}(rt)
	}
	for range rts {
		<-done
	}
	for _, rt := range rts {
		pod, err := a.client.CoreV1().Pods(rt.namespace).Get(ctx, rt.name, metav1.GetOptions{})
		if err == nil && string(pod.UID) == rt.uid && pod.Status.Phase != corev1.PodSucceeded {
			a.failOrphanWith(ctx, pod, "Terminated", "Pod was terminated because the local node agent stopped (stack down).")
		}
		a.releasePod(rt)
	}
	if err := a.postReady(ctx, false, "local node agent stopped"); err != nil {
		log.Printf("node status: %v", err)
	}
}

func (a *agent) failOrphanWith(ctx context.Context, pod *corev1.Pod, reason, msg string) {
	p := pod.DeepCopy()
	now := metav1.Now()
	p.Status.Phase = corev1.PodFailed
	p.Status.Reason, p.Status.Message = reason, msg
	setCondition(&p.Status, corev1.PodReady, corev1.ConditionFalse, "PodFailed", msg)
	setCondition(&p.Status, corev1.ContainersReady, corev1.ConditionFalse, "PodFailed", msg)
	for i := range p.Status.ContainerStatuses {
		cs := &p.Status.ContainerStatuses[i]
		if cs.State.Terminated == nil {
			started := now
			if cs.State.Running != nil {
				started = cs.State.Running.StartedAt
			}
			cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 143, Reason: "Error", Message: msg, StartedAt: started, FinishedAt: now,
			}}
		}
		cs.Ready, cs.Started = false, ptr.To(false)
	}
	if _, err := a.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		log.Printf("marking %s failed: %v", podKey(pod), err)
	}
}

func setCondition(st *corev1.PodStatus, t corev1.PodConditionType, s corev1.ConditionStatus, reason, msg string) {
	now := metav1.Now()
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type == t {
			if c.Status != s {
				c.LastTransitionTime = now
			}
			c.Status, c.Reason, c.Message = s, reason, msg
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: s, Reason: reason, Message: msg, LastTransitionTime: now})
}
