package main

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExpandVarsFollowsKubernetes(t *testing.T) {
	vars := map[string]string{"DB": "postgresql://db", "PORT": "5000"}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	for in, want := range map[string]string{
		"plain":             "plain",
		"$(DB)/mlflow":      "postgresql://db/mlflow",
		"--port=$(PORT)":    "--port=5000",
		"$(MISSING) stays":  "$(MISSING) stays",
		"$$(DB) is escaped": "$(DB) is escaped",
		"cost $5":           "cost $5",
		"unterminated $(DB": "unterminated $(DB",
		"trailing $":        "trailing $",
		"$(DB)$(PORT)":      "postgresql://db5000",
	} {
		if got := expandVars(in, lookup); got != want {
			t.Errorf("expandVars(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPodFieldAnswersTheDownwardAPIFields(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u-1",
			Labels: map[string]string{"app": "mlflow"}, Annotations: map[string]string{"team": "a"}},
		Spec: corev1.PodSpec{NodeName: "local-node", ServiceAccountName: "mlflow"},
	}
	for path, want := range map[string]string{
		"metadata.name": "p", "metadata.namespace": "ns", "metadata.uid": "u-1",
		"spec.nodeName": "local-node", "spec.serviceAccountName": "mlflow",
		"status.podIP": "127.0.0.1", "status.hostIP": "127.0.0.1",
		"metadata.labels['app']": "mlflow", "metadata.annotations['team']": "a",
		"metadata.labels['absent']": "",
	} {
		got, ok := podField(pod, path)
		if !ok || got != want {
			t.Errorf("podField(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
	if _, ok := podField(pod, "status.phase"); ok {
		t.Error("podField answered a field it does not know")
	}
}

func TestContainerMountsPointIntoThePodsVolumesFolder(t *testing.T) {
	c := corev1.Container{VolumeMounts: []corev1.VolumeMount{
		{Name: "data", MountPath: "/mlflow/"},
		{Name: "cfg", MountPath: "/etc/app/conf.yaml", SubPath: "conf.yaml"},
	}}
	got := containerMounts(&corev1.Pod{}, c, "/state/pods/p")
	want := []mountMap{
		{mountPath: "/mlflow", local: "/state/pods/p/volumes/data"},
		{mountPath: "/etc/app/conf.yaml", local: "/state/pods/p/volumes/cfg/conf.yaml"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("containerMounts = %+v, want %+v", got, want)
	}
}
