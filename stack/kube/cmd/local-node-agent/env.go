package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// resolveEnv builds a container's environment as a kubelet would (envFrom, then env with
// $(VAR) references, Secret/ConfigMap/field references), on top of a small node environment:
// PATH with the stack's MLflow, HOME and TMPDIR inside the pod's directory, and the node's
// AWS endpoint settings standing in for the workload identity a real cluster injects.
func (a *agent) resolveEnv(ctx context.Context, pod *corev1.Pod, c corev1.Container) (map[string]string, error) {
	dir := a.podDir(pod)
	rootfs := filepath.Join(dir, "rootfs")
	tmp := filepath.Join(rootfs, "tmp")
	home := filepath.Join(rootfs, "root")
	for _, d := range []string{tmp, home} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	env := map[string]string{
		"PATH":                    filepath.Dir(a.mlflowBinFor(c.Image)) + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME":                    home,
		"TMPDIR":                  tmp,
		"LANG":                    "C.UTF-8",
		"HOSTNAME":                pod.Name,
		"KUBERNETES_SERVICE_HOST": "127.0.0.1",
		"KUBERNETES_SERVICE_PORT": "16443",
	}
	for _, name := range splitList(a.cfg.passEnv) {
		if v, ok := mustGetenv(name); ok {
			env[name] = v
		}
	}
	for _, m := range c.VolumeMounts {
		// An emptyDir at /tmp is where a container's temporary files go.
		if filepath.Clean(m.MountPath) == "/tmp" {
			env["TMPDIR"] = filepath.Join(dir, "volumes", m.Name)
		}
	}
	for _, src := range c.EnvFrom {
		var data map[string]string
		switch {
		case src.ConfigMapRef != nil:
			cm, err := a.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, src.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				if ptr.Deref(src.ConfigMapRef.Optional, false) {
					continue
				}
				return nil, fmt.Errorf("container %q envFrom configmap %q: %v", c.Name, src.ConfigMapRef.Name, err)
			}
			data = cm.Data
		case src.SecretRef != nil:
			s, err := a.client.CoreV1().Secrets(pod.Namespace).Get(ctx, src.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				if ptr.Deref(src.SecretRef.Optional, false) {
					continue
				}
				return nil, fmt.Errorf("container %q envFrom secret %q: %v", c.Name, src.SecretRef.Name, err)
			}
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
		}
		for k, v := range data {
			env[src.Prefix+k] = v
		}
	}
	mounts := containerMounts(pod, c, dir)
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = rewriteMounts(expandVars(e.Value, lookup), mounts)
			continue
		}
		v, ok, err := a.envSource(ctx, pod, c, e)
		if err != nil {
			return nil, err
		}
		if ok {
			env[e.Name] = v
		}
	}
	return env, nil
}

func containerMounts(pod *corev1.Pod, c corev1.Container, dir string) []mountMap {
	var mounts []mountMap
	for _, m := range c.VolumeMounts {
		local := filepath.Join(dir, "volumes", m.Name)
		if m.SubPath != "" {
			local = filepath.Join(local, m.SubPath)
		}
		mounts = append(mounts, mountMap{mountPath: filepath.Clean(m.MountPath), local: local})
	}
	return mounts
}

func (a *agent) envSource(ctx context.Context, pod *corev1.Pod, c corev1.Container, e corev1.EnvVar) (string, bool, error) {
	src := e.ValueFrom
	switch {
	case src.SecretKeyRef != nil:
		ref := src.SecretKeyRef
		s, err := a.client.CoreV1().Secrets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			if ptr.Deref(ref.Optional, false) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("container %q env %s: secret %q: %v", c.Name, e.Name, ref.Name, err)
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			if ptr.Deref(ref.Optional, false) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("container %q env %s: secret %q has no key %q", c.Name, e.Name, ref.Name, ref.Key)
		}
		return string(v), true, nil
	case src.ConfigMapKeyRef != nil:
		ref := src.ConfigMapKeyRef
		cm, err := a.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			if ptr.Deref(ref.Optional, false) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("container %q env %s: configmap %q: %v", c.Name, e.Name, ref.Name, err)
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			if ptr.Deref(ref.Optional, false) {
				return "", false, nil
			}
			return "", false, fmt.Errorf("container %q env %s: configmap %q has no key %q", c.Name, e.Name, ref.Name, ref.Key)
		}
		return v, true, nil
	case src.FieldRef != nil:
		v, ok := podField(pod, src.FieldRef.FieldPath)
		if !ok {
			return "", false, fmt.Errorf("container %q env %s: field %q is not supported here", c.Name, e.Name, src.FieldRef.FieldPath)
		}
		return v, true, nil
	case src.ResourceFieldRef != nil:
		// No cgroup limits on this node: report the declared limit, as written.
		if q, ok := c.Resources.Limits[corev1.ResourceName(strings.TrimPrefix(src.ResourceFieldRef.Resource, "limits."))]; ok {
			return q.String(), true, nil
		}
		return "0", true, nil
	}
	return "", false, nil
}

func podField(pod *corev1.Pod, path string) (string, bool) {
	switch path {
	case "metadata.name":
		return pod.Name, true
	case "metadata.namespace":
		return pod.Namespace, true
	case "metadata.uid":
		return string(pod.UID), true
	case "spec.nodeName":
		return pod.Spec.NodeName, true
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, true
	case "status.podIP", "status.hostIP":
		return "127.0.0.1", true
	case "status.podIPs", "status.hostIPs":
		return "127.0.0.1", true
	}
	for _, prefix := range []string{"metadata.labels['", "metadata.annotations['"} {
		if strings.HasPrefix(path, prefix) && strings.HasSuffix(path, "']") {
			key := strings.TrimSuffix(strings.TrimPrefix(path, prefix), "']")
			if strings.HasPrefix(prefix, "metadata.labels") {
				return pod.Labels[key], true
			}
			return pod.Annotations[key], true
		}
	}
	return "", false
}

// expandVars applies Kubernetes' $(VAR) expansion: $$ escapes, unknown references stay as written.
func expandVars(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
