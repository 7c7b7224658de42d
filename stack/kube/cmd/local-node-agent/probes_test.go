package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probeTarget is a container whose declared port 5000 ("http") is served on the local port of srv.
func probeTarget(t *testing.T, handler http.HandlerFunc) (*podRuntime, *container) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	lp, _ := strconv.Atoi(port)
	rt := &podRuntime{ports: map[int32]int{5000: lp}}
	c := &container{spec: corev1.Container{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 5000}}}}
	return rt, c
}

func httpProbe(port intstr.IntOrString, path string, headers ...corev1.HTTPHeader) *corev1.Probe {
	return &corev1.Probe{TimeoutSeconds: 2, ProbeHandler: corev1.ProbeHandler{
		HTTPGet: &corev1.HTTPGetAction{Path: path, Port: port, HTTPHeaders: headers}}}
}

func TestHTTPProbePassesOn2xxAnd3xxAndFailsOtherwise(t *testing.T) {
	status := http.StatusOK
	var gotHost, gotPath, gotAgent string
	rt, c := probeTarget(t, func(w http.ResponseWriter, r *http.Request) {
		gotHost, gotPath, gotAgent = r.Host, r.URL.Path, r.UserAgent()
		if status == http.StatusFound {
			http.Redirect(w, r, "http://elsewhere.invalid/", status) // not followed, as by a kubelet
			return
		}
		w.WriteHeader(status)
	})
	a := &agent{}
	probe := httpProbe(intstr.FromString("http"), "health", corev1.HTTPHeader{Name: "Host", Value: "demo.mlflow.localhost"})
	for _, c2 := range []struct {
		status int
		ok     bool
	}{{200, true}, {204, true}, {302, true}, {404, false}, {500, false}, {503, false}} {
		status = c2.status
		err := a.runProbe(rt, c, probe)
		if (err == nil) != c2.ok {
			t.Errorf("status %d: runProbe error %v, want ok=%v", c2.status, err, c2.ok)
		}
	}
	if gotHost != "demo.mlflow.localhost" || gotPath != "/health" || gotAgent != "kube-probe/local-node-agent" {
		t.Fatalf("probe request host %q path %q user agent %q", gotHost, gotPath, gotAgent)
	}
}

func TestHTTPProbeFailsAtItsTimeout(t *testing.T) {
	rt, c := probeTarget(t, func(w http.ResponseWriter, r *http.Request) { time.Sleep(3 * time.Second) })
	probe := httpProbe(intstr.FromInt32(5000), "/")
	probe.TimeoutSeconds = 1
	start := time.Now()
	if err := (&agent{}).runProbe(rt, c, probe); err == nil {
		t.Fatal("a probe slower than its timeout passed")
	}
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Fatalf("the probe took %v, its timeout is 1 s", took)
	}
}

func TestProbeOfAnUndeclaredPortFailsNamingIt(t *testing.T) {
	rt, c := probeTarget(t, func(w http.ResponseWriter, r *http.Request) {})
	err := (&agent{}).runProbe(rt, c, httpProbe(intstr.FromString("metrics"), "/"))
	if err == nil || err.Error() != `named port "metrics" not declared` {
		t.Fatalf("runProbe error %v, want the undeclared port named", err)
	}
	err = (&agent{}).runProbe(rt, c, httpProbe(intstr.FromInt32(6000), "/"))
	if err == nil || err.Error() != "port 6000 is not a port of this pod" {
		t.Fatalf("runProbe error %v, want port 6000 refused", err)
	}
}

func TestTCPAndExecProbesCheckThePort(t *testing.T) {
	rt, c := probeTarget(t, func(w http.ResponseWriter, r *http.Request) {})
	a := &agent{}
	tcp := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}}}
	exec := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	if err := a.runProbe(rt, c, tcp); err != nil {
		t.Fatalf("tcp probe of a listening port: %v", err)
	}
	if err := a.runProbe(rt, c, exec); err != nil {
		t.Fatalf("exec probe (TCP check of the first port) of a listening port: %v", err)
	}

	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	rt.ports[5000] = closed
	if err := a.runProbe(rt, c, tcp); err == nil {
		t.Fatal("tcp probe of a closed port passed")
	}
	if err := a.runProbe(rt, c, exec); err == nil {
		t.Fatal("exec probe of a closed port passed")
	}
	// Without a declared port there is nothing an exec probe can check here.
	if err := a.runProbe(rt, &container{}, exec); err != nil {
		t.Fatalf("exec probe without ports: %v", err)
	}
}

func TestProbeDefaultsAreTheKubeletDefaults(t *testing.T) {
	if got := period(&corev1.Probe{}); got != 10*time.Second {
		t.Errorf("default period %v, want 10s", got)
	}
	if got := period(&corev1.Probe{PeriodSeconds: 2}); got != 2*time.Second {
		t.Errorf("period %v, want 2s", got)
	}
	if got := threshold(0, 3); got != 3 {
		t.Errorf("default threshold %d, want 3", got)
	}
	if got := threshold(5, 3); got != 5 {
		t.Errorf("threshold %d, want 5", got)
	}
}

func TestResolvePortByNumberNameOrNumericString(t *testing.T) {
	ports := []corev1.ContainerPort{{Name: "http", ContainerPort: 5000}}
	for _, c := range []struct {
		in   intstr.IntOrString
		want int32
		ok   bool
	}{
		{intstr.FromInt32(8080), 8080, true},
		{intstr.FromString("http"), 5000, true},
		{intstr.FromString("9090"), 9090, true},
		{intstr.FromString("grpc"), 0, false},
	} {
		got, ok := resolvePort(c.in, ports)
		if got != c.want || ok != c.ok {
			t.Errorf("resolvePort(%v) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
