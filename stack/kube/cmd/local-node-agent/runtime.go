package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// podRuntime is what the agent knows about one pod it runs.
type podRuntime struct {
	uid, namespace, name, key string
	dir                       string
	ports                     map[int32]int // declared container port -> local port on 127.0.0.1
	restartPolicy             corev1.RestartPolicy

	mu         sync.Mutex
	started    time.Time
	blocked    string // reason the pod cannot start here (Pending), "" otherwise
	blockedMsg string
	initFailed bool
	initDone   bool
	inits      []*container
	containers []*container
	deleting   bool
	stopping   bool
}

// container is one process of a pod.
type container struct {
	name, image string
	argv        []string
	env         []string
	workDir     string
	logPath     string
	spec        corev1.Container

	cmd        *exec.Cmd
	running    bool
	startedAt  time.Time
	exited     bool
	exitCode   int
	finishedAt time.Time
	tail       *tailBuffer
	ready      bool
	startupOK  bool
	killedWhy  string
	stopProbes chan struct{}
}

func (rt *podRuntime) allContainers() []*container {
	return append(append([]*container{}, rt.inits...), rt.containers...)
}

// startPod prepares a pod's private directory, environment and ports and launches its processes.
// A pod that cannot run here stays Pending with a reason; nil means "nothing to report yet".
func (a *agent) startPod(ctx context.Context, pod *corev1.Pod) *podRuntime {
	rt := &podRuntime{
		uid: string(pod.UID), namespace: pod.Namespace, name: pod.Name, key: podKey(pod),
		dir: a.podDir(pod), ports: map[int32]int{}, restartPolicy: pod.Spec.RestartPolicy, started: time.Now(),
	}
	block := func(reason, msg string) *podRuntime {
		rt.blocked, rt.blockedMsg = reason, msg
		for _, c := range pod.Spec.Containers {
			rt.containers = append(rt.containers, &container{name: c.Name, image: c.Image, spec: c})
		}
		return rt
	}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if _, ok := containerProgram(containerArgv(c), a.mlflowBinFor(c.Image)); !ok {
			a.reportBlocked(ctx, pod, block(reasonUnsupportedCommand, fmt.Sprintf(
				"container %q runs %q: this local node (a stand-in for a kubelet) only runs `mlflow …`, `python -m …` and `python -c …` commands, with the MLflow virtualenv the image tag names (%s) or the stack's default",
				c.Name, redactURIPasswords(strings.Join(containerArgv(c), " ")), a.cfg.mlflowVers)))
			return nil
		}
	}
	mounts, err := a.prepareVolumes(ctx, pod, rt.dir)
	if err != nil {
		var unsupported unsupportedVolumeError
		reason := reasonConfigError
		if errors.As(err, &unsupported) {
			reason = reasonUnsupportedVolume
		}
		_ = os.RemoveAll(rt.dir)
		a.reportBlocked(ctx, pod, block(reason, err.Error()))
		return nil
	}
	build := func(c corev1.Container) (*container, error) {
		env, err := a.resolveEnv(ctx, pod, c)
		if err != nil {
			return nil, err
		}
		return a.buildContainer(pod, rt, c, env, mounts)
	}
	for _, c := range pod.Spec.InitContainers {
		ct, err := build(c)
		if err != nil {
			_ = os.RemoveAll(rt.dir)
			a.releasePorts(rt)
			a.reportBlocked(ctx, pod, block(reasonConfigError, err.Error()))
			return nil
		}
		rt.inits = append(rt.inits, ct)
	}
	for _, c := range pod.Spec.Containers {
		ct, err := build(c)
		if err != nil {
			_ = os.RemoveAll(rt.dir)
			a.releasePorts(rt)
			a.reportBlocked(ctx, pod, block(reasonConfigError, err.Error()))
			return nil
		}
		rt.containers = append(rt.containers, ct)
	}
	a.mu.Lock()
	a.running[rt.uid] = rt
	a.mu.Unlock()
	log.Printf("starting pod %s in %s (ports %v)", rt.key, rt.dir, rt.ports)
	go a.runPod(rt)
	return rt
}

func (a *agent) releasePorts(rt *podRuntime) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range rt.ports {
		delete(a.usedPorts, p)
	}
}

// reportBlocked writes a Pending status saying why the pod does not start; it is retried on later syncs.
func (a *agent) reportBlocked(ctx context.Context, pod *corev1.Pod, rt *podRuntime) {
	a.updateStatus(ctx, pod, rt)
}

func containerArgv(c corev1.Container) []string {
	if len(c.Command) > 0 {
		return append(append([]string{}, c.Command...), c.Args...)
	}
	return append([]string{}, c.Args...)
}

// allocPort hands out the next free local port from the pod port range.
func (a *agent) allocPort() (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p := a.cfg.firstPort; p < a.cfg.firstPort+10000; p++ {
		if a.usedPorts[p] {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		_ = ln.Close()
		a.usedPorts[p] = true
		return p, nil
	}
	return 0, errors.New("no free local port for the pod")
}

func (a *agent) mapPort(rt *podRuntime, containerPort int32) (int, error) {
	if p, ok := rt.ports[containerPort]; ok {
		return p, nil
	}
	p, err := a.allocPort()
	if err != nil {
		return 0, err
	}
	rt.ports[containerPort] = p
	return p, nil
}

// buildContainer turns a container spec into a local command line.
func (a *agent) buildContainer(pod *corev1.Pod, rt *podRuntime, c corev1.Container, env map[string]string, mounts []mountMap) (*container, error) {
	for _, p := range c.Ports {
		if _, err := a.mapPort(rt, p.ContainerPort); err != nil {
			return nil, err
		}
	}
	rootfs := filepath.Join(rt.dir, "rootfs")
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	argv := containerArgv(c)
	for i := range argv {
		argv[i] = rewriteMounts(expandVars(argv[i], lookup), mounts)
	}
	program, _ := containerProgram(argv, a.mlflowBinFor(c.Image))
	args := argv[1:]
	if filepath.Base(program) == "mlflow" {
		var err error
		if args, err = a.localizeMlflowArgs(rt, args, mounts, rootfs); err != nil {
			return nil, err
		}
	}
	workDir := rootfs
	if c.WorkingDir != "" {
		workDir = localPath(c.WorkingDir, mounts, rootfs)
		if err := os.MkdirAll(workDir, 0o700); err != nil {
			return nil, err
		}
	}
	envList := make([]string, 0, len(env))
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	return &container{
		name: c.Name, image: c.Image, spec: c, workDir: workDir,
		argv:    append([]string{program}, args...),
		env:     envList,
		logPath: filepath.Join(a.logDir(pod), c.Name+".log"),
		tail:    newTailBuffer(64 * 1024),
	}, nil
}

// localizeMlflowArgs points `mlflow server` at its allocated local port on 127.0.0.1 and keeps
// local store paths inside the pod's own directory.
func (a *agent) localizeMlflowArgs(rt *podRuntime, args []string, mounts []mountMap, rootfs string) ([]string, error) {
	pathOpts := map[string]bool{
		"--backend-store-uri": true, "--registry-store-uri": true, "--default-artifact-root": true,
		"--artifacts-destination": true, "--expose-prometheus": true,
	}
	sub := ""
	for _, arg := range args {
		if !strings.HasPrefix(arg, "-") {
			sub = arg
			break
		}
	}
	out := make([]string, 0, len(args)+4)
	sawPort, sawHost := false, false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, value, hasValue := strings.Cut(arg, "=")
		if !strings.HasPrefix(arg, "--") {
			name, hasValue = arg, false
		}
		takesValue := name == "--port" || name == "-p" || name == "--host" || name == "-h" || pathOpts[name]
		consumed := false
		if takesValue && !hasValue && i+1 < len(args) {
			i++
			value, consumed = args[i], true
		}
		switch {
		case (name == "--port" || name == "-p") && (sub == "server" || sub == "ui"):
			n, err := strconv.Atoi(value)
			if err != nil {
				return nil, fmt.Errorf("mlflow --port %q is not a number", value)
			}
			local, err := a.mapPort(rt, int32(n))
			if err != nil {
				return nil, err
			}
			out = append(out, "--port", strconv.Itoa(local))
			sawPort = true
		case (name == "--host" || name == "-h") && (sub == "server" || sub == "ui"):
			// Pods listen on all interfaces in a cluster; here only the loopback is used.
			out = append(out, "--host", "127.0.0.1")
			sawHost = true
		case pathOpts[name]:
			out = append(out, name, localStoreURI(value, mounts, rootfs))
		default:
			out = append(out, arg)
			if consumed {
				out = append(out, value)
			}
		}
	}
	if sub == "server" || sub == "ui" {
		if !sawPort {
			local, err := a.mapPort(rt, 5000) // mlflow's default port
			if err != nil {
				return nil, err
			}
			out = append(out, "--port", strconv.Itoa(local))
		}
		if !sawHost {
			out = append(out, "--host", "127.0.0.1")
		}
	}
	// `mlflow db upgrade <url>`: the URL is positional.
	if sub == "db" && len(out) >= 3 && out[0] == "db" && out[1] == "upgrade" {
		out[len(out)-1] = localStoreURI(out[len(out)-1], mounts, rootfs)
	}
	return out, nil
}

// runPod runs init containers in order, then the containers, and watches them.
func (a *agent) runPod(rt *podRuntime) {
	for _, c := range rt.inits {
		if err := a.launch(rt, c, false); err != nil {
			a.recordStartFailure(rt, c, err)
			rt.mu.Lock()
			rt.initFailed = true
			rt.mu.Unlock()
			a.kick()
			return
		}
		code := c.wait()
		a.kick()
		if code != 0 {
			rt.mu.Lock()
			rt.initFailed = true
			rt.mu.Unlock()
			return
		}
		if rt.isStopping() {
			return
		}
	}
	rt.mu.Lock()
	rt.initDone = true
	rt.mu.Unlock()
	for _, c := range rt.containers {
		if err := a.launch(rt, c, true); err != nil {
			a.recordStartFailure(rt, c, err)
			continue
		}
		go func(c *container) {
			c.wait()
			rt.mu.Lock()
			stopping := rt.stopping
			rt.mu.Unlock()
			// A main container that exits ends the pod: restarts are the controller's job here.
			if !stopping && rt.restartPolicy == corev1.RestartPolicyAlways {
				rt.stopAll(5 * time.Second)
			}
			a.kick()
		}(c)
	}
	a.kick()
}

func (rt *podRuntime) isStopping() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.stopping
}

func (a *agent) recordStartFailure(rt *podRuntime, c *container, err error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	c.exited, c.exitCode, c.finishedAt = true, 128, time.Now()
	c.startedAt = c.finishedAt
	fmt.Fprintf(c.tail, "failed to start: %v\n", err)
	log.Printf("pod %s container %s failed to start: %v", rt.key, c.name, err)
}

// launch starts a container's process in its own process group, with output to its log file.
func (a *agent) launch(rt *podRuntime, c *container, probes bool) error {
	if err := os.MkdirAll(filepath.Dir(c.logPath), 0o755); err != nil {
		return err
	}
	logFile, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	w := &multiWriter{writers: []writer{logFile, c.tail}}
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = c.workDir, c.env, w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	rt.mu.Lock()
	if rt.stopping {
		rt.mu.Unlock()
		_ = logFile.Close()
		return errors.New("pod is stopping")
	}
	if err := cmd.Start(); err != nil {
		rt.mu.Unlock()
		_ = logFile.Close()
		return err
	}
	c.cmd, c.running, c.startedAt = cmd, true, time.Now()
	c.stopProbes = make(chan struct{})
	rt.mu.Unlock()
	pidFile := filepath.Join(rt.dir, c.name+".pid")
	_ = os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600)
	log.Printf("pod %s container %s: pid %d: %s", rt.key, c.name, cmd.Process.Pid, redactURIPasswords(strings.Join(c.argv, " ")))
	go func() {
		err := cmd.Wait()
		code := 0
		if err != nil {
			code = -1
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
					code = 128 + int(st.Signal())
				} else {
					code = ee.ExitCode()
				}
			}
		}
		// The group may hold workers that outlived their parent.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = logFile.Close()
		_ = os.Remove(pidFile)
		rt.mu.Lock()
		c.running, c.exited, c.exitCode, c.finishedAt, c.ready = false, true, code, time.Now(), false
		close(c.stopProbes)
		rt.mu.Unlock()
		log.Printf("pod %s container %s exited with code %d", rt.key, c.name, code)
		a.kick()
	}()
	if probes {
		go a.probeLoop(rt, c)
	}
	return nil
}

// wait blocks until the container's process has exited and returns its exit code.
func (c *container) wait() int {
	for {
		if c.stopProbes != nil {
			<-c.stopProbes
			return c.exitCode
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopAll sends SIGTERM to every process group of the pod and SIGKILL after the grace period.
func (rt *podRuntime) stopAll(grace time.Duration) {
	rt.mu.Lock()
	rt.stopping = true
	var pids []int
	var waits []chan struct{}
	for _, c := range rt.allContainers() {
		if c.running && c.cmd != nil {
			pids = append(pids, c.cmd.Process.Pid)
			waits = append(waits, c.stopProbes)
		}
	}
	rt.mu.Unlock()
	for _, pid := range pids {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
	}
	deadline := time.After(grace)
	for i, w := range waits {
		select {
		case <-w:
		case <-deadline:
			for _, pid := range pids[i:] {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
			<-w
		}
	}
}

func (rt *podRuntime) terminate(grace time.Duration) {
	rt.stopAll(grace)
}

// killPidFiles stops processes recorded in a pod directory by an earlier agent.
func killPidFiles(dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
}

// resolvePort turns a probe or service target port (number or name) into a declared container port.
func resolvePort(p intstr.IntOrString, ports []corev1.ContainerPort) (int32, bool) {
	if p.Type == intstr.Int {
		return p.IntVal, true
	}
	for _, cp := range ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort, true
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return int32(n), true
	}
	return 0, false
}

// metaTime drops sub-second precision, as the API does, so unchanged statuses compare equal.
func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t.Truncate(time.Second)) }
