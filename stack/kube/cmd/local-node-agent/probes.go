package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// probeLoop runs the container's startup, readiness and liveness probes against its local port,
// with the probes' own timing and thresholds.
func (a *agent) probeLoop(rt *podRuntime, c *container) {
	spec := c.spec
	startup, readiness, liveness := spec.StartupProbe, spec.ReadinessProbe, spec.LivenessProbe
	if startup == nil {
		rt.mu.Lock()
		c.startupOK = true
		if readiness == nil {
			c.ready = true // no readiness probe: ready once started, as on a kubelet
		}
		rt.mu.Unlock()
		a.kick()
	}
	type state struct {
		probe            *corev1.Probe
		next             time.Time
		successes, fails int
	}
	start := time.Now()
	newState := func(p *corev1.Probe) *state {
		if p == nil {
			return nil
		}
		return &state{probe: p, next: start.Add(time.Duration(p.InitialDelaySeconds) * time.Second)}
	}
	st, rd, lv := newState(startup), newState(readiness), newState(liveness)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.stopProbes:
			return
		case <-tick.C:
		}
		now := time.Now()
		rt.mu.Lock()
		started := c.startupOK
		rt.mu.Unlock()
		if !started && st != nil && !now.Before(st.next) {
			st.next = now.Add(period(st.probe))
			if err := a.runProbe(rt, c, st.probe); err == nil {
				rt.mu.Lock()
				c.startupOK = true
				if readiness == nil {
					c.ready = true
				}
				rt.mu.Unlock()
				a.kick()
			} else if st.fails++; st.fails >= threshold(st.probe.FailureThreshold, 3) {
				a.killContainer(rt, c, fmt.Sprintf("Startup probe failed %d times: %v", st.fails, err))
				return
			}
			continue
		}
		if !started {
			continue
		}
		if rd != nil && !now.Before(rd.next) {
			rd.next = now.Add(period(rd.probe))
			err := a.runProbe(rt, c, rd.probe)
			rt.mu.Lock()
			changed := false
			if err == nil {
				rd.successes, rd.fails = rd.successes+1, 0
				if !c.ready && rd.successes >= threshold(rd.probe.SuccessThreshold, 1) {
					c.ready, changed = true, true
				}
			} else {
				rd.fails, rd.successes = rd.fails+1, 0
				if c.ready && rd.fails >= threshold(rd.probe.FailureThreshold, 3) {
					c.ready, changed = false, true
				}
			}
			rt.mu.Unlock()
			if changed {
				a.kick()
			}
		}
		if lv != nil && !now.Before(lv.next) {
			lv.next = now.Add(period(lv.probe))
			if err := a.runProbe(rt, c, lv.probe); err == nil {
				lv.fails = 0
			} else if lv.fails++; lv.fails >= threshold(lv.probe.FailureThreshold, 3) {
				a.killContainer(rt, c, fmt.Sprintf("Liveness probe failed %d times: %v", lv.fails, err))
				return
			}
		}
	}
}

func period(p *corev1.Probe) time.Duration {
	if p.PeriodSeconds > 0 {
		return time.Duration(p.PeriodSeconds) * time.Second
	}
	return 10 * time.Second
}

func threshold(v, def int32) int {
	if v > 0 {
		return int(v)
	}
	return int(def)
}

// killContainer ends a container the way a kubelet does after a failed liveness/startup probe.
func (a *agent) killContainer(rt *podRuntime, c *container, why string) {
	rt.mu.Lock()
	c.killedWhy = why
	pid := 0
	if c.running && c.cmd != nil {
		pid = c.cmd.Process.Pid
	}
	rt.mu.Unlock()
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		go func() {
			time.Sleep(time.Duration(30) * time.Second)
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}()
	}
}

// runProbe performs one httpGet or tcpSocket probe against the container's local port. Exec and
// gRPC probes cannot run without the container image: they fall back to a TCP check of the
// container's first declared port (and pass when it declares none), which is documented.
func (a *agent) runProbe(rt *podRuntime, c *container, p *corev1.Probe) error {
	timeout := time.Duration(p.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = time.Second
	}
	localPort := func(port int32) (int, error) {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		if lp, ok := rt.ports[port]; ok {
			return lp, nil
		}
		return 0, fmt.Errorf("port %d is not a port of this pod", port)
	}
	switch {
	case p.HTTPGet != nil:
		port, ok := resolvePort(p.HTTPGet.Port, c.spec.Ports)
		if !ok {
			return fmt.Errorf("named port %q not declared", p.HTTPGet.Port.StrVal)
		}
		lp, err := localPort(port)
		if err != nil {
			return err
		}
		path := p.HTTPGet.Path
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", lp, path), nil)
		if err != nil {
			return err
		}
		for _, h := range p.HTTPGet.HTTPHeaders {
			if strings.EqualFold(h.Name, "Host") {
				req.Host = h.Value
			} else {
				req.Header.Add(h.Name, h.Value)
			}
		}
		req.Header.Set("User-Agent", "kube-probe/local-node-agent")
		client := &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
		}
		return nil
	case p.TCPSocket != nil:
		port, ok := resolvePort(p.TCPSocket.Port, c.spec.Ports)
		if !ok {
			return fmt.Errorf("named port %q not declared", p.TCPSocket.Port.StrVal)
		}
		return a.dialLocal(localPort, port, timeout)
	default:
		if len(c.spec.Ports) == 0 {
			return nil
		}
		return a.dialLocal(localPort, c.spec.Ports[0].ContainerPort, timeout)
	}
}

func (a *agent) dialLocal(localPort func(int32) (int, error), port int32, timeout time.Duration) error {
	lp, err := localPort(port)
	if err != nil {
		return err
	}
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", lp), timeout)
	if err != nil {
		return err
	}
	return conn.Close()
}
