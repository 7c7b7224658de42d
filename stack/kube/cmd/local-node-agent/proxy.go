package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// backendRef is a Service port that a request is routed to.
type backendRef struct {
	namespace, service string
	port               networkingv1.ServiceBackendPort
	via                string // what matched, for error messages
}

// proxyHandler is the stand-in for kube-proxy and an ingress controller: Host header -> Ingress
// rule (or <service>.<namespace>.svc[.cluster.local]) -> Service -> ready pods -> local ports.
func (a *agent) proxyHandler() http.Handler {
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0, // long artifact uploads and downloads
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		hostOnly, hostPort := host, ""
		if h, p, err := net.SplitHostPort(host); err == nil {
			hostOnly, hostPort = h, p
		}
		if _, own, _ := net.SplitHostPort(a.cfg.ingressAddr); hostPort == own {
			hostPort = "" // the proxy's own port, not a Service port
		}
		ref, ok := a.routeIngress(hostOnly, r.URL.Path)
		if !ok {
			ref, ok = a.routeService(hostOnly, hostPort)
		}
		if !ok {
			http.Error(w, fmt.Sprintf("local ingress: no Ingress rule or Service matches host %q and path %q\n", r.Host, r.URL.Path), http.StatusNotFound)
			return
		}
		target, err := a.pickBackend(ref)
		if err != nil {
			http.Error(w, "local ingress: "+err.Error()+"\n", http.StatusServiceUnavailable)
			return
		}
		rp := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Host = pr.In.Host // as an ingress controller does: the app sees the public host
				pr.SetXForwarded()
			},
			Transport:     transport,
			FlushInterval: -1,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				http.Error(w, fmt.Sprintf("local ingress: backend %s of service %s/%s failed: %v\n", target.Host, ref.namespace, ref.service, err), http.StatusBadGateway)
			},
		}
		rp.ServeHTTP(w, r)
	})
}

// routeIngress finds the Ingress rule for a host and path: exact host before wildcard, longest path.
func (a *agent) routeIngress(host, path string) (backendRef, bool) {
	ings, err := a.ingresses.List(labels.Everything())
	if err != nil {
		return backendRef{}, false
	}
	type cand struct {
		ref      backendRef
		hostRank int // 2 exact, 1 wildcard, 0 any host
		pathLen  int
		exact    bool
		created  time.Time
		name     string
	}
	var best *cand
	// Like ingress-nginx: the most specific rule wins; between equal rules of two Ingresses
	// (the same host claimed twice) the oldest Ingress keeps it, so routing never flaps.
	better := func(c, b *cand) bool {
		switch {
		case c.hostRank != b.hostRank:
			return c.hostRank > b.hostRank
		case c.exact != b.exact:
			return c.exact
		case c.pathLen != b.pathLen:
			return c.pathLen > b.pathLen
		case !c.created.Equal(b.created):
			return c.created.Before(b.created)
		}
		return c.name < b.name
	}
	consider := func(c cand) {
		if best == nil || better(&c, best) {
			best = &c
		}
	}
	for _, ing := range ings {
		for _, rule := range ing.Spec.Rules {
			rank := hostMatch(rule.Host, host)
			if rank < 0 || rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				matched, exact := pathMatch(p, path)
				if !matched || p.Backend.Service == nil {
					continue
				}
				consider(cand{
					ref: backendRef{namespace: ing.Namespace, service: p.Backend.Service.Name, port: p.Backend.Service.Port,
						via: fmt.Sprintf("ingress %s/%s", ing.Namespace, ing.Name)},
					hostRank: rank, pathLen: len(p.Path), exact: exact,
					created: ing.CreationTimestamp.Time, name: ing.Namespace + "/" + ing.Name,
				})
			}
		}
	}
	if best != nil {
		return best.ref, true
	}
	for _, ing := range ings {
		if d := ing.Spec.DefaultBackend; d != nil && d.Service != nil {
			consider(cand{ref: backendRef{namespace: ing.Namespace, service: d.Service.Name, port: d.Service.Port,
				via: fmt.Sprintf("ingress %s/%s default backend", ing.Namespace, ing.Name)}, hostRank: -1,
				created: ing.CreationTimestamp.Time, name: ing.Namespace + "/" + ing.Name})
		}
	}
	if best == nil {
		return backendRef{}, false
	}
	return best.ref, true
}

func hostMatch(ruleHost, host string) int {
	switch {
	case ruleHost == "":
		return 0
	case strings.EqualFold(ruleHost, host):
		return 2
	case strings.HasPrefix(ruleHost, "*."):
		suffix := strings.ToLower(ruleHost[1:])
		if strings.HasSuffix(host, suffix) && !strings.Contains(strings.TrimSuffix(host, suffix), ".") {
			return 1
		}
	}
	return -1
}

func pathMatch(p networkingv1.HTTPIngressPath, path string) (matched, exact bool) {
	want := p.Path
	if want == "" {
		want = "/"
	}
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		return path == want, true
	}
	if want == "/" {
		return true, false
	}
	want = strings.TrimSuffix(want, "/")
	return path == want || strings.HasPrefix(path, want+"/"), false
}

// routeService handles <service>.<namespace>.svc[.cluster.local][:port] hosts.
func (a *agent) routeService(host, port string) (backendRef, bool) {
	name := strings.TrimSuffix(strings.TrimSuffix(host, ".cluster.local"), ".svc")
	if name == host {
		return backendRef{}, false
	}
	parts := strings.Split(name, ".")
	if len(parts) != 2 {
		return backendRef{}, false
	}
	ref := backendRef{namespace: parts[1], service: parts[0], via: "service host " + host}
	if n, err := strconv.Atoi(port); err == nil && port != "" {
		ref.port.Number = int32(n)
	}
	return ref, true
}

// pickBackend resolves a Service port to the local ports of its ready pods, round-robin.
func (a *agent) pickBackend(ref backendRef) (*url.URL, error) {
	svc, err := a.services.Services(ref.namespace).Get(ref.service)
	if err != nil {
		return nil, fmt.Errorf("service %s/%s (from %s) not found", ref.namespace, ref.service, ref.via)
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if ref.port.Name != "" && p.Name == ref.port.Name || ref.port.Number != 0 && p.Port == ref.port.Number {
			sp = p
			break
		}
	}
	if sp == nil && ref.port.Name == "" && ref.port.Number == 0 && len(svc.Spec.Ports) > 0 {
		sp = &svc.Spec.Ports[0]
	}
	if sp == nil {
		return nil, fmt.Errorf("service %s/%s has no port %s", ref.namespace, ref.service, portString(ref.port))
	}
	if len(svc.Spec.Selector) == 0 {
		return nil, fmt.Errorf("service %s/%s has no selector; only selector services are served here", ref.namespace, ref.service)
	}
	pods, err := a.pods.Pods(ref.namespace).List(labels.SelectorFromSet(svc.Spec.Selector))
	if err != nil {
		return nil, err
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	var targets []string
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || !podReady(pod) {
			continue
		}
		rt := a.runtimeOf(pod)
		if rt == nil {
			continue
		}
		var all []corev1.ContainerPort
		for _, c := range pod.Spec.Containers {
			all = append(all, c.Ports...)
		}
		cp, ok := resolvePort(sp.TargetPort, all)
		if !ok || cp == 0 {
			cp = sp.Port
		}
		rt.mu.Lock()
		lp, ok := rt.ports[cp]
		rt.mu.Unlock()
		if ok {
			targets = append(targets, fmt.Sprintf("127.0.0.1:%d", lp))
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no ready endpoints for service %s/%s port %s (from %s)", ref.namespace, ref.service, portString(ref.port), ref.via)
	}
	key := ref.namespace + "/" + ref.service
	a.mu.Lock()
	i := a.rr[key] % len(targets)
	a.rr[key] = i + 1
	a.mu.Unlock()
	return &url.URL{Scheme: "http", Host: targets[i]}, nil
}

func portString(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	if p.Number != 0 {
		return strconv.Itoa(int(p.Number))
	}
	return "(first)"
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ingressStatusLoop publishes the proxy's address in every Ingress's status, as a controller does.
func (a *agent) ingressStatusLoop(ctx context.Context) {
	want := networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{
		Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "127.0.0.1"}},
	}}
	if _, port, err := net.SplitHostPort(a.cfg.ingressAddr); err == nil && port != "80" {
		n, _ := strconv.Atoi(port)
		want.LoadBalancer.Ingress[0].Ports = []networkingv1.IngressPortStatus{{Port: int32(n), Protocol: corev1.ProtocolTCP}}
	}
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	for {
		ings, _ := a.ingresses.List(labels.Everything())
		for _, ing := range ings {
			if ing.DeletionTimestamp != nil || equality.Semantic.DeepEqual(ing.Status, want) {
				continue
			}
			c := ing.DeepCopy()
			c.Status = want
			if _, err := a.client.NetworkingV1().Ingresses(c.Namespace).UpdateStatus(ctx, c, metav1.UpdateOptions{}); err != nil {
				log.Printf("ingress %s/%s status: %v", c.Namespace, c.Name, err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
