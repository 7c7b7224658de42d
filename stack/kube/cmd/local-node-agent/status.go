package main

import (
	"context"
	"fmt"
	"log"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// updateStatus writes the pod's status as the runtime sees it, only when it changed.
func (a *agent) updateStatus(ctx context.Context, pod *corev1.Pod, rt *podRuntime) {
	desired := a.desiredStatus(pod, rt)
	if equality.Semantic.DeepEqual(pod.Status, desired) {
		return
	}
	p := pod.DeepCopy()
	p.Status = desired
	if _, err := a.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			log.Printf("status of %s: %v", podKey(pod), err)
		}
		a.kick()
		return
	}
	if pod.Status.Phase != desired.Phase {
		log.Printf("pod %s: %s -> %s", podKey(pod), pod.Status.Phase, desired.Phase)
	}
}

func (a *agent) desiredStatus(pod *corev1.Pod, rt *podRuntime) corev1.PodStatus {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	old := pod.Status
	st := corev1.PodStatus{
		QOSClass:  old.QOSClass,
		HostIP:    "127.0.0.1",
		HostIPs:   []corev1.HostIP{{IP: "127.0.0.1"}},
		PodIP:     "127.0.0.1",
		PodIPs:    []corev1.PodIP{{IP: "127.0.0.1"}},
		StartTime: old.StartTime,
	}
	if st.StartTime == nil {
		st.StartTime = ptr.To(metaTime(rt.started))
	}
	st.Conditions = append([]corev1.PodCondition{}, old.Conditions...)
	cond := func(t corev1.PodConditionType, ok bool, reason, msg string) {
		s := corev1.ConditionFalse
		if ok {
			s, reason, msg = corev1.ConditionTrue, "", ""
		}
		for i := range st.Conditions {
			c := &st.Conditions[i]
			if c.Type == t {
				if c.Status != s {
					c.LastTransitionTime = metav1.Now()
				}
				c.Status, c.Reason, c.Message = s, reason, msg
				return
			}
		}
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: s, Reason: reason, Message: msg, LastTransitionTime: metav1.Now()})
	}
	cond(corev1.PodScheduled, true, "", "")

	if rt.blocked != "" {
		st.Phase = corev1.PodPending
		cond(corev1.PodInitialized, len(pod.Spec.InitContainers) == 0, "ContainersNotInitialized", rt.blockedMsg)
		cond(corev1.ContainersReady, false, "ContainersNotReady", rt.blockedMsg)
		cond(corev1.PodReady, false, "ContainersNotReady", rt.blockedMsg)
		for _, c := range pod.Spec.InitContainers {
			st.InitContainerStatuses = append(st.InitContainerStatuses, waitingStatus(c, rt.blocked, rt.blockedMsg))
		}
		for _, c := range pod.Spec.Containers {
			st.ContainerStatuses = append(st.ContainerStatuses, waitingStatus(c, rt.blocked, rt.blockedMsg))
		}
		return st
	}

	for _, c := range rt.inits {
		st.InitContainerStatuses = append(st.InitContainerStatuses, c.status(rt, "PodInitializing"))
	}
	allReady, anyRunning, allExited, allZero := len(rt.containers) > 0, false, len(rt.containers) > 0, true
	var died *container
	for _, c := range rt.containers {
		waiting := "ContainerCreating"
		if !rt.initDone {
			waiting = "PodInitializing"
		}
		st.ContainerStatuses = append(st.ContainerStatuses, c.status(rt, waiting))
		allReady = allReady && c.ready && c.running
		anyRunning = anyRunning || c.running
		allExited = allExited && c.exited
		if c.exited {
			allZero = allZero && c.exitCode == 0
			if died == nil {
				died = c
			}
		}
	}
	switch {
	case rt.initFailed:
		st.Phase = corev1.PodFailed
		st.Message = "an init container failed"
	case died != nil && rt.restartPolicy == corev1.RestartPolicyAlways && !rt.deleting:
		// No in-place restarts on this node: the pod fails and its controller replaces it.
		st.Phase = corev1.PodFailed
		st.Reason = "ContainerExited"
		st.Message = fmt.Sprintf("container %q exited with code %d; the local node does not restart containers in place", died.name, died.exitCode)
	case allExited && allZero:
		st.Phase = corev1.PodSucceeded
	case allExited:
		st.Phase = corev1.PodFailed
	case anyRunning || died != nil:
		st.Phase = corev1.PodRunning
	default:
		st.Phase = corev1.PodPending
	}
	if rt.deleting && st.Phase != corev1.PodSucceeded && st.Phase != corev1.PodFailed {
		st.Phase = old.Phase
	}
	terminal := st.Phase == corev1.PodFailed || st.Phase == corev1.PodSucceeded
	cond(corev1.PodInitialized, rt.initDone, "ContainersNotInitialized", "containers with incomplete status: init containers")
	if terminal {
		cond(corev1.ContainersReady, false, "PodCompleted", "")
		cond(corev1.PodReady, false, "PodCompleted", "")
	} else {
		notReady := notReadyNames(rt.containers)
		msg := fmt.Sprintf("containers with unready status: [%s]", notReady)
		cond(corev1.ContainersReady, allReady, "ContainersNotReady", msg)
		cond(corev1.PodReady, allReady && gatesPass(pod), "ContainersNotReady", msg)
	}
	return st
}

func notReadyNames(cs []*container) string {
	var names []string
	for _, c := range cs {
		if !c.ready || !c.running {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, " ")
}

func gatesPass(pod *corev1.Pod) bool {
	for _, g := range pod.Spec.ReadinessGates {
		ok := false
		for _, c := range pod.Status.Conditions {
			if c.Type == g.ConditionType && c.Status == corev1.ConditionTrue {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func waitingStatus(c corev1.Container, reason, msg string) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name: c.Name, Image: c.Image, Started: ptr.To(false),
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}},
	}
}

// status is the container's status; the caller holds rt.mu.
func (c *container) status(rt *podRuntime, waitingReason string) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{
		Name: c.name, Image: c.image, ImageID: "local-process://" + c.image,
		Ready: c.ready && c.running, Started: ptr.To(c.running && c.startupOK),
	}
	if c.cmd != nil {
		cs.ContainerID = "local-process://" + strconv.Itoa(c.cmd.Process.Pid)
	}
	switch {
	case c.running:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metaTime(c.startedAt)}
	case c.exited:
		reason := "Completed"
		if c.exitCode != 0 {
			reason = "Error"
		}
		msg := c.tail.Tail(80, 4000)
		if c.killedWhy != "" {
			msg = c.killedWhy + "\n" + msg
		}
		cs.State.Terminated = &corev1.ContainerStateTerminated{
			ExitCode: int32(c.exitCode), Reason: reason, Message: msg,
			StartedAt: metaTime(c.startedAt), FinishedAt: metaTime(c.finishedAt),
		}
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: waitingReason}
	}
	return cs
}

type writer interface{ Write([]byte) (int, error) }

// multiWriter writes to every writer, ignoring errors of the log file so output never blocks.
type multiWriter struct{ writers []writer }

func (m *multiWriter) Write(p []byte) (int, error) {
	for _, w := range m.writers {
		_, _ = w.Write(p)
	}
	return len(p), nil
}

// tailBuffer keeps the last bytes a process printed, for termination messages.
type tailBuffer struct {
	mu   sync.Mutex
	max  int
	data []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.data = append(t.data, p...)
	if len(t.data) > t.max {
		t.data = append([]byte{}, t.data[len(t.data)-t.max:]...)
	}
	return len(p), nil
}

// Tail returns at most the last n lines and maxBytes bytes.
func (t *tailBuffer) Tail(n, maxBytes int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimRight(string(t.data), "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s = strings.Join(lines, "\n")
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
	}
	return s
}
