package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// fakeCluster is an agent whose listers read objects given by the test instead of an apiserver.
type fakeCluster struct {
	a                         *agent
	ingresses, services, pods cache.Indexer
}

func newFakeCluster(t *testing.T) *fakeCluster {
	t.Helper()
	newIndexer := func() cache.Indexer {
		return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	f := &fakeCluster{ingresses: newIndexer(), services: newIndexer(), pods: newIndexer()}
	f.a = &agent{
		cfg:       config{ingressAddr: "127.0.0.1:80", firstPort: 40000},
		ingresses: networkinglisters.NewIngressLister(f.ingresses),
		services:  corelisters.NewServiceLister(f.services),
		pods:      corelisters.NewPodLister(f.pods),
		running:   map[string]*podRuntime{},
		usedPorts: map[int]bool{},
		rr:        map[string]int{},
	}
	return f
}

func (f *fakeCluster) add(t *testing.T, idx cache.Indexer, obj any) {
	t.Helper()
	if err := idx.Add(obj); err != nil {
		t.Fatal(err)
	}
}

type rule struct {
	host, path string
	pathType   networkingv1.PathType
	service    string
}

func ingress(ns, name string, created time.Time, rules ...rule) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(created)}}
	for _, r := range rules {
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{Host: r.host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: r.path, PathType: ptr.To(r.pathType),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: r.service, Port: networkingv1.ServiceBackendPort{Number: 80}}},
			}}},
		}})
	}
	return ing
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestRouteIngressPrefersExactHostThenExactPathThenLongestPrefix(t *testing.T) {
	f := newFakeCluster(t)
	f.add(t, f.ingresses, ingress("a", "wild", t0, rule{"*.mlflow.localhost", "/", networkingv1.PathTypePrefix, "wild"}))
	f.add(t, f.ingresses, ingress("a", "exact", t0,
		rule{"demo.mlflow.localhost", "/", networkingv1.PathTypePrefix, "root"},
		rule{"demo.mlflow.localhost", "/api", networkingv1.PathTypePrefix, "api"},
		rule{"demo.mlflow.localhost", "/api/health", networkingv1.PathTypeExact, "health"},
	))
	f.add(t, f.ingresses, ingress("a", "any", t0, rule{"", "/", networkingv1.PathTypePrefix, "any"}))

	for _, c := range []struct{ host, path, want string }{
		{"demo.mlflow.localhost", "/", "root"},
		{"demo.mlflow.localhost", "/api", "api"},
		{"demo.mlflow.localhost", "/api/runs", "api"},
		{"demo.mlflow.localhost", "/apis", "root"}, // a prefix matches whole path segments only
		{"demo.mlflow.localhost", "/api/health", "health"},
		{"other.mlflow.localhost", "/x", "wild"},
		{"a.b.mlflow.localhost", "/x", "any"}, // a wildcard covers one label only
		{"example.localhost", "/", "any"},
	} {
		ref, ok := f.a.routeIngress(c.host, c.path)
		if !ok || ref.service != c.want {
			t.Errorf("routeIngress(%q, %q) = %q, %v; want %q", c.host, c.path, ref.service, ok, c.want)
		}
	}
}

func TestRouteIngressKeepsAHostClaimedTwiceWithTheOldestIngress(t *testing.T) {
	f := newFakeCluster(t)
	f.add(t, f.ingresses, ingress("b", "newer", t0.Add(time.Minute), rule{"x.localhost", "/", networkingv1.PathTypePrefix, "newer"}))
	f.add(t, f.ingresses, ingress("a", "older", t0, rule{"x.localhost", "/", networkingv1.PathTypePrefix, "older"}))
	ref, ok := f.a.routeIngress("x.localhost", "/")
	if !ok || ref.service != "older" || ref.namespace != "a" {
		t.Fatalf("routeIngress = %+v, %v; want service older in namespace a", ref, ok)
	}
}

func TestRouteIngressFallsBackToADefaultBackendAndElseToNothing(t *testing.T) {
	f := newFakeCluster(t)
	if _, ok := f.a.routeIngress("x.localhost", "/"); ok {
		t.Fatal("routed with no Ingress at all")
	}
	ing := ingress("a", "default", t0, rule{"y.localhost", "/", networkingv1.PathTypePrefix, "y"})
	ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "fallback"}}
	f.add(t, f.ingresses, ing)
	ref, ok := f.a.routeIngress("x.localhost", "/")
	if !ok || ref.service != "fallback" {
		t.Fatalf("routeIngress = %+v, %v; want the default backend", ref, ok)
	}
}

func TestRouteServiceReadsServiceHosts(t *testing.T) {
	a := &agent{}
	for _, c := range []struct {
		host, port, ns, svc string
		number              int32
		ok                  bool
	}{
		{"mlflow.team-a.svc.cluster.local", "", "team-a", "mlflow", 0, true},
		{"mlflow.team-a.svc", "5000", "team-a", "mlflow", 5000, true},
		{"mlflow.svc", "", "", "", 0, false},
		{"demo.mlflow.localhost", "", "", "", 0, false},
		{"a.b.c.svc", "", "", "", 0, false},
	} {
		ref, ok := a.routeService(c.host, c.port)
		if ok != c.ok || ok && (ref.namespace != c.ns || ref.service != c.svc || ref.port.Number != c.number) {
			t.Errorf("routeService(%q, %q) = %+v, %v", c.host, c.port, ref, ok)
		}
	}
}

// readyPod is a pod of the Service's selector that the agent runs, its port 5000 on localPort.
func (f *fakeCluster) readyPod(t *testing.T, name string, ready bool, localPort int) {
	t.Helper()
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{"app": "mlflow"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "server", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 5000}}}}},
		Status:     corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}},
	}
	f.add(t, f.pods, pod)
	f.a.running[string(pod.UID)] = &podRuntime{ports: map[int32]int{5000: localPort}}
}

func backendPort(t *testing.T, name string) int {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s host=%s path=%s", name, r.Host, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	n, _ := strconv.Atoi(port)
	return n
}

func get(t *testing.T, h http.Handler, host, path string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://"+host+path, nil)
	req.Host = host
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestProxyRoutesAHostToTheReadyPodsOfItsServiceRoundRobin(t *testing.T) {
	f := newFakeCluster(t)
	f.add(t, f.ingresses, ingress("team-a", "mlflow", t0, rule{"demo.mlflow.localhost", "/", networkingv1.PathTypePrefix, "mlflow"}))
	f.add(t, f.services, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "mlflow"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "mlflow"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http")}}},
	})
	f.readyPod(t, "pod-a", true, backendPort(t, "pod-a"))
	f.readyPod(t, "pod-b", true, backendPort(t, "pod-b"))
	f.readyPod(t, "pod-c", false, backendPort(t, "pod-c"))
	h := f.a.proxyHandler()

	seen := map[string]int{}
	for i := 0; i < 4; i++ {
		code, body := get(t, h, "demo.mlflow.localhost", "/health")
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		// The public host reaches the pod unchanged, as through an ingress controller.
		want := "host=demo.mlflow.localhost path=/health"
		if !strings.HasSuffix(body, want) {
			t.Fatalf("body %q does not end with %q", body, want)
		}
		seen[body[:5]]++
	}
	if seen["pod-a"] != 2 || seen["pod-b"] != 2 || seen["pod-c"] != 0 {
		t.Fatalf("requests per pod = %v; want 2 each to the ready pods pod-a and pod-b", seen)
	}

	if code, body := get(t, h, "mlflow.team-a.svc.cluster.local", "/x"); code != http.StatusOK {
		t.Fatalf("service host: status %d: %s", code, body)
	}
	if code, body := get(t, h, "nowhere.localhost", "/"); code != http.StatusNotFound {
		t.Fatalf("unknown host: status %d, want 404: %s", code, body)
	}
}

func TestProxyAnswers503NamingTheServiceWhenNoPodIsReady(t *testing.T) {
	f := newFakeCluster(t)
	f.add(t, f.ingresses, ingress("team-a", "mlflow", t0, rule{"demo.mlflow.localhost", "/", networkingv1.PathTypePrefix, "mlflow"}))
	f.add(t, f.services, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "mlflow"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "mlflow"}, Ports: []corev1.ServicePort{{Port: 80}}},
	})
	f.readyPod(t, "pod-a", false, backendPort(t, "pod-a"))
	code, body := get(t, f.a.proxyHandler(), "demo.mlflow.localhost", "/")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "team-a/mlflow") {
		t.Fatalf("status %d body %q; want 503 naming team-a/mlflow", code, body)
	}
}
