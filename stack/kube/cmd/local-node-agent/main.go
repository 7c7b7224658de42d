// Command local-node-agent is a local stand-in for a kubelet, a scheduler, kube-proxy and an
// ingress controller, for the stack's single-machine Kubernetes control plane.
//
// It registers one Node, binds every unscheduled Pod to it, runs the `mlflow` commands of the
// Pods' containers as local processes (each Pod in a fresh private working directory), reports
// their status honestly from the Pods' probes, and serves Services and Ingress hosts on one local
// HTTP port with Host-header routing. There is no container runtime: only `mlflow …`,
// `python -m …` and `python -c …` commands run, with the MLflow virtualenv the image's tag names (--mlflow-versions)
// or the stack's pinned one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

type config struct {
	kubeconfig  string
	nodeName    string
	stateDir    string
	mlflowBin   string
	mlflowVers  mlflowVersions
	ingressAddr string
	healthAddr  string
	kubeletAddr string
	firstPort   int
	passEnv     string
	version     string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster")
	flag.StringVar(&cfg.nodeName, "node-name", "local-node", "name of the Node this agent registers")
	flag.StringVar(&cfg.stateDir, "state-dir", "", "folder for pod working directories and logs")
	flag.StringVar(&cfg.mlflowBin, "mlflow-bin", "", "mlflow executable run in place of a container's `mlflow` (images whose tag names no version of --mlflow-versions)")
	versions := flag.String("mlflow-versions", "", "VERSION=PATH,...: the mlflow executable of each MLflow version an image tag may name (…/mlflow:v3.16.1)")
	flag.StringVar(&cfg.ingressAddr, "ingress-addr", "127.0.0.1:80", "address of the ingress / service proxy")
	flag.StringVar(&cfg.healthAddr, "health-addr", "127.0.0.1:10248", "address of the agent's /healthz")
	flag.StringVar(&cfg.kubeletAddr, "kubelet-addr", "127.0.0.1:10250", "address of the kubelet API subset (container logs) the apiserver proxies to")
	flag.IntVar(&cfg.firstPort, "first-pod-port", 20000, "first local port handed to pod processes")
	flag.StringVar(&cfg.passEnv, "pass-env", "AWS_ENDPOINT_URL,AWS_REGION,AWS_DEFAULT_REGION,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,MLFLOW_S3_ENDPOINT_URL",
		"agent environment variables given to every pod process (the node's stand-in for workload identity)")
	flag.StringVar(&cfg.version, "kubelet-version", "v0.0.0-local", "version reported in the Node's nodeInfo")
	flag.Parse()
	if cfg.kubeconfig == "" || cfg.stateDir == "" || cfg.mlflowBin == "" {
		log.Fatal("--kubeconfig, --state-dir and --mlflow-bin are required")
	}
	var err error
	if cfg.mlflowVers, err = parseMlflowVersions(*versions); err != nil {
		log.Fatal(err)
	}
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	restCfg, err := clientcmd.BuildConfigFromFlags("", cfg.kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	restCfg.QPS, restCfg.Burst = 50, 100
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		log.Fatalf("client: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	// Bind the ports first: if another program holds them, fail before touching the cluster.
	ingressLn, err := net.Listen("tcp", cfg.ingressAddr)
	if err != nil {
		log.Fatalf("ingress proxy: %v", err)
	}
	healthLn, err := net.Listen("tcp", cfg.healthAddr)
	if err != nil {
		log.Fatalf("health endpoint: %v", err)
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	a := newAgent(cfg, client, factory)
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			log.Fatalf("cache of %v did not sync", typ)
		}
	}
	if err := a.registerNode(ctx); err != nil {
		log.Fatalf("registering node %s: %v", cfg.nodeName, err)
	}
	a.adoptLeftovers(ctx)

	proxy := &http.Server{Handler: a.proxyHandler(), ReadHeaderTimeout: 30 * time.Second}
	go serve(proxy, ingressLn, "ingress proxy")
	health := &http.Server{Handler: http.HandlerFunc(a.healthz), ReadHeaderTimeout: 5 * time.Second}
	go serve(health, healthLn, "health endpoint")

	if err := a.serveKubeletAPI(ctx, cfg.kubeletAddr); err != nil {
		log.Fatalf("kubelet API (logs): %v", err)
	}
	go a.heartbeat(ctx)
	go a.ingressStatusLoop(ctx)
	log.Printf("node %s ready: ingress proxy on %s, pod ports from %d", cfg.nodeName, cfg.ingressAddr, cfg.firstPort)
	a.syncLoop(ctx)

	log.Printf("stopping: terminating pod processes")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a.shutdown(shutdownCtx)
	_ = proxy.Shutdown(shutdownCtx)
	_ = health.Shutdown(shutdownCtx)
	log.Printf("stopped")
}

func serve(s *http.Server, ln net.Listener, what string) {
	if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("%s: %v", what, err)
	}
}

func (a *agent) healthz(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/healthz" {
		http.NotFound(w, r)
		return
	}
	if age := time.Since(a.lastHeartbeat()); age > 45*time.Second {
		http.Error(w, fmt.Sprintf("last node heartbeat %s ago", age.Round(time.Second)), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func mustGetenv(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	return v, ok
}
