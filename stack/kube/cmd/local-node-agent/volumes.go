package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// mountMap maps a container mount path to a folder inside the pod's private directory.
type mountMap struct {
	mountPath string
	local     string
}

type unsupportedVolumeError struct{ msg string }

func (e unsupportedVolumeError) Error() string { return e.msg }

// prepareVolumes creates the pod's directory (its container layer in rootfs/ and one folder per
// volume) and materialises ConfigMap, Secret, downward API and token volumes as files.
func (a *agent) prepareVolumes(ctx context.Context, pod *corev1.Pod, dir string) ([]mountMap, error) {
	// A pod never reuses an old directory: a fresh start means a fresh container layer.
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "rootfs"), 0o700); err != nil {
		return nil, err
	}
	volDirs := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		local := filepath.Join(dir, "volumes", v.Name)
		if err := os.MkdirAll(local, 0o700); err != nil {
			return nil, err
		}
		volDirs[v.Name] = local
		files, err := a.volumeFiles(ctx, pod, v)
		if err != nil {
			return nil, err
		}
		for name, data := range files {
			p := filepath.Join(local, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				return nil, err
			}
			if err := os.WriteFile(p, data, 0o600); err != nil {
				return nil, err
			}
		}
	}
	seen := map[string]bool{}
	var mounts []mountMap
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, m := range c.VolumeMounts {
			local, ok := volDirs[m.Name]
			if !ok || seen[m.MountPath] {
				continue
			}
			seen[m.MountPath] = true
			if m.SubPath != "" {
				local = filepath.Join(local, m.SubPath)
			}
			mounts = append(mounts, mountMap{mountPath: filepath.Clean(m.MountPath), local: local})
		}
	}
	// Longest mount path first, so /var/lib/x wins over /var.
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].mountPath) > len(mounts[j].mountPath) })
	return mounts, nil
}

func (a *agent) volumeFiles(ctx context.Context, pod *corev1.Pod, v corev1.Volume) (map[string][]byte, error) {
	files := map[string][]byte{}
	switch {
	case v.EmptyDir != nil:
	case v.ConfigMap != nil:
		if err := a.configMapFiles(ctx, pod.Namespace, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional, files); err != nil {
			return nil, err
		}
	case v.Secret != nil:
		if err := a.secretFiles(ctx, pod.Namespace, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional, files); err != nil {
			return nil, err
		}
	case v.DownwardAPI != nil:
		downwardFiles(pod, v.DownwardAPI.Items, files)
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			switch {
			case src.ConfigMap != nil:
				if err := a.configMapFiles(ctx, pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, files); err != nil {
					return nil, err
				}
			case src.Secret != nil:
				if err := a.secretFiles(ctx, pod.Namespace, src.Secret.Name, src.Secret.Items, src.Secret.Optional, files); err != nil {
					return nil, err
				}
			case src.DownwardAPI != nil:
				downwardFiles(pod, src.DownwardAPI.Items, files)
			case src.ServiceAccountToken != nil:
				token, err := a.serviceAccountToken(ctx, pod, src.ServiceAccountToken)
				if err != nil {
					return nil, err
				}
				files[src.ServiceAccountToken.Path] = []byte(token)
			}
		}
	default:
		return nil, unsupportedVolumeError{fmt.Sprintf(
			"volume %q: only emptyDir, configMap, secret, downwardAPI and projected volumes exist on this local node; state belongs in PostgreSQL and S3", v.Name)}
	}
	return files, nil
}

func (a *agent) configMapFiles(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool, files map[string][]byte) error {
	cm, err := a.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if ptr.Deref(optional, false) {
			return nil
		}
		return fmt.Errorf("configmap %q: %v", name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return project(data, items, files, "configmap "+name)
}

func (a *agent) secretFiles(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool, files map[string][]byte) error {
	s, err := a.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if ptr.Deref(optional, false) {
			return nil
		}
		return fmt.Errorf("secret %q: %v", name, err)
	}
	data := map[string][]byte{}
	for k, v := range s.Data {
		data[k] = v
	}
	return project(data, items, files, "secret "+name)
}

func project(data map[string][]byte, items []corev1.KeyToPath, files map[string][]byte, what string) error {
	if len(items) == 0 {
		for k, v := range data {
			files[k] = v
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return fmt.Errorf("%s has no key %q", what, it.Key)
		}
		files[it.Path] = v
	}
	return nil
}

func downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, files map[string][]byte) {
	for _, it := range items {
		if it.FieldRef != nil {
			if v, ok := podField(pod, it.FieldRef.FieldPath); ok {
				files[it.Path] = []byte(v)
			}
		}
	}
}

func (a *agent) serviceAccountToken(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: src.ExpirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	tr, err := a.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for service account %q: %v", sa, err)
	}
	return tr.Status.Token, nil
}

// rewriteMounts points every occurrence of a mount path that begins a path (at the start, or after
// '/', ':' or '=' as in sqlite:////tmp/x.db or --x=/tmp/y) at the pod's own folder.
func rewriteMounts(s string, mounts []mountMap) string {
	// One pass: a rewritten path is never matched again (a pod folder under /tmp with an
	// emptyDir at /tmp would otherwise be rewritten twice).
	var b strings.Builder
	for i := 0; i < len(s); {
		if m, ok := mountAt(s, i, mounts); ok {
			b.WriteString(m.local)
			i += len(m.mountPath)
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// mountAt is the longest mount whose path is a whole path at s[i:]: after the start, '/', ':'
// or '=', and followed by the end or '/'.
func mountAt(s string, i int, mounts []mountMap) (mountMap, bool) {
	if i > 0 && !strings.ContainsRune("/:=", rune(s[i-1])) {
		return mountMap{}, false
	}
	var best mountMap
	found := false
	for _, m := range mounts {
		end := i + len(m.mountPath)
		if m.mountPath == "/" || !strings.HasPrefix(s[i:], m.mountPath) || (end < len(s) && s[end] != '/') {
			continue
		}
		if !found || len(m.mountPath) > len(best.mountPath) {
			best, found = m, true
		}
	}
	return best, found
}

// localPath maps an absolute container path to the pod's directory: a mount, or else its container layer.
func localPath(p string, mounts []mountMap, rootfs string) string {
	p = filepath.Clean(p)
	for _, m := range mounts {
		if p == m.mountPath || strings.HasPrefix(p, m.mountPath+"/") {
			return m.local + strings.TrimPrefix(p, m.mountPath)
		}
	}
	if strings.HasPrefix(p, rootfs) || strings.HasPrefix(p, "/") && isUnder(p, mounts) {
		return p
	}
	return filepath.Join(rootfs, p)
}

func isUnder(p string, mounts []mountMap) bool {
	for _, m := range mounts {
		if strings.HasPrefix(p, m.local) {
			return true
		}
	}
	return false
}

// localStoreURI keeps local MLflow stores (a path, file:// or sqlite:// URI) inside the pod's
// directory, as they would be inside its container; remote stores are left as they are.
func localStoreURI(v string, mounts []mountMap, rootfs string) string {
	for _, prefix := range []string{"sqlite:///", "file://", ""} {
		if !strings.HasPrefix(v, prefix) {
			continue
		}
		rest := strings.TrimPrefix(v, prefix)
		if !strings.HasPrefix(rest, "/") {
			if prefix == "" && strings.Contains(v, "://") {
				return v
			}
			continue
		}
		if strings.HasPrefix(rest, rootfs) || isUnder(rest, mounts) {
			return v
		}
		return prefix + localPath(rest, mounts, rootfs)
	}
	return v
}
