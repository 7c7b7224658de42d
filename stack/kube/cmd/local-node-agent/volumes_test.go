package main

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var testMounts = []mountMap{{mountPath: "/tmp", local: "/pod/volumes/tmp"}, {mountPath: "/data", local: "/pod/volumes/data"}}

func TestRewriteMountsRewritesPathsThatStartWithAMount(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp":                       "/pod/volumes/tmp",
		"/tmp/mlflow.db":             "/pod/volumes/tmp/mlflow.db",
		"sqlite:////tmp/mlflow.db":   "sqlite:////pod/volumes/tmp/mlflow.db",
		"--artifacts=/data/a":        "--artifacts=/pod/volumes/data/a",
		"/tmpfile":                   "/tmpfile", // not the mount, only a longer name
		"s3://bucket/tmp/x":          "s3://bucket/tmp/x",
		"x/tmp/y":                    "x/tmp/y", // inside a word, not a path of its own
		"postgresql://h:5432/mlflow": "postgresql://h:5432/mlflow",
	} {
		if got := rewriteMounts(in, testMounts); got != want {
			t.Errorf("rewriteMounts(%q) = %q, want %q", in, got, want)
		}
	}
	if got := rewriteMounts("/tmp/x", []mountMap{{mountPath: "/", local: "/pod/root"}}); got != "/tmp/x" {
		t.Errorf("a mount of / rewrote %q", got)
	}
}

func TestRewriteMountsNeverRewritesARewrittenPathAgain(t *testing.T) {
	// A pod folder under /tmp (a stack state dir there) and an emptyDir at /tmp.
	mounts := []mountMap{
		{mountPath: "/etc/mlflow-auth", local: "/tmp/state/pods/p/volumes/auth"},
		{mountPath: "/tmp", local: "/tmp/state/pods/p/volumes/tmp"},
	}
	if got, want := rewriteMounts("/etc/mlflow-auth/basic_auth.ini", mounts), "/tmp/state/pods/p/volumes/auth/basic_auth.ini"; got != want {
		t.Errorf("rewriteMounts = %q, want %q", got, want)
	}
	if got, want := rewriteMounts("/tmp/a:/etc/mlflow-auth", mounts), "/tmp/state/pods/p/volumes/tmp/a:/tmp/state/pods/p/volumes/auth"; got != want {
		t.Errorf("rewriteMounts = %q, want %q", got, want)
	}
}

func TestRewriteMountsPrefersTheLongestMountPath(t *testing.T) {
	mounts := []mountMap{{mountPath: "/data", local: "/pod/data"}, {mountPath: "/data/models", local: "/pod/models"}}
	for in, want := range map[string]string{
		"/data/models/m.pkl": "/pod/models/m.pkl",
		"/data/other":        "/pod/data/other",
		"/data/modelsx":      "/pod/data/modelsx",
	} {
		if got := rewriteMounts(in, mounts); got != want {
			t.Errorf("rewriteMounts(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLocalPathAndLocalStoreURIKeepLocalStoresInThePod(t *testing.T) {
	rootfs := "/pod/rootfs"
	for in, want := range map[string]string{
		"/tmp/x":             "/pod/volumes/tmp/x",
		"/data":              "/pod/volumes/data",
		"/var/lib/mlflow":    "/pod/rootfs/var/lib/mlflow",
		"/pod/rootfs/a":      "/pod/rootfs/a",
		"/pod/volumes/tmp/b": "/pod/volumes/tmp/b",
	} {
		if got := localPath(in, testMounts, rootfs); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"sqlite:////tmp/mlflow.db":     "sqlite:////pod/volumes/tmp/mlflow.db",
		"sqlite:////srv/mlflow.db":     "sqlite:////pod/rootfs/srv/mlflow.db",
		"file:///mlruns":               "file:///pod/rootfs/mlruns",
		"/mlartifacts":                 "/pod/rootfs/mlartifacts",
		"postgresql://u@h:5432/mlflow": "postgresql://u@h:5432/mlflow",
		"s3://bucket/prefix":           "s3://bucket/prefix",
		"relative/path":                "relative/path",
		"sqlite:////pod/rootfs/x.db":   "sqlite:////pod/rootfs/x.db",
	} {
		if got := localStoreURI(in, testMounts, rootfs); got != want {
			t.Errorf("localStoreURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProjectTakesAllKeysOrTheListedItems(t *testing.T) {
	data := map[string][]byte{"a": []byte("1"), "b": []byte("2")}
	files := map[string][]byte{}
	if err := project(data, nil, files, "secret s"); err != nil || !reflect.DeepEqual(files, data) {
		t.Fatalf("all keys: files %v, error %v", files, err)
	}
	files = map[string][]byte{}
	if err := project(data, []corev1.KeyToPath{{Key: "b", Path: "dir/b.txt"}}, files, "secret s"); err != nil ||
		!reflect.DeepEqual(files, map[string][]byte{"dir/b.txt": []byte("2")}) {
		t.Fatalf("items: files %v, error %v", files, err)
	}
	err := project(data, []corev1.KeyToPath{{Key: "c", Path: "c"}}, map[string][]byte{}, "secret s")
	if err == nil || err.Error() != `secret s has no key "c"` {
		t.Fatalf("missing key: error %v", err)
	}
}

func TestDownwardFilesWriteTheReferencedFields(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"app": "mlflow"}}}
	files := map[string][]byte{}
	downwardFiles(pod, []corev1.DownwardAPIVolumeFile{
		{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
		{Path: "app", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}},
		{Path: "unknown", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.phase"}},
	}, files)
	want := map[string][]byte{"name": []byte("p"), "app": []byte("mlflow")}
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("downwardFiles = %v, want %v", files, want)
	}
}
