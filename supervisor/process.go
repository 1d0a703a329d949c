package supervisor

// This file starts one worker process and reaps it.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// process is one worker process, as the supervisor sees it. Only Run's
// goroutine touches its fields after spawn.
type process struct {
	seq         int
	pid         int
	cmd         *exec.Cmd
	ctl         *os.File // the supervisor's end of the control connection
	cgroup      *workerCgroup
	maxRequests int64
	tail        outputTail
	started     time.Time

	ready    bool // said "ready"
	retiring bool // said "retire"; a replacement is on its way
	stopping bool // told to stop, or sent SIGTERM or SIGKILL

	killTimer *time.Timer // after a stop: kills it if it outstays its grace
}

// eventKind is what happened to a worker.
type eventKind int

const (
	evReady eventKind = iota
	evRetire
	evKillDue
	evExit
)

// event is a message from a worker's goroutines to Run.
type event struct {
	kind eventKind
	p    *process
	err  error // evExit: what exec.Cmd.Wait returned
}

// spawn starts a worker and the goroutines that watch it.
func (s *Supervisor) spawn() error {
	s.seq++
	p := &process{seq: s.seq, maxRequests: s.maxRequests()}
	spec := Spec{Memory: s.cfg.Memory, MaxRequests: p.maxRequests}
	if s.cfg.Cgroup != nil && s.cfg.Memory > 0 {
		cg, err := s.cfg.Cgroup.newWorker(p.seq, s.cfg.Memory)
		if err != nil {
			return err
		}
		p.cgroup, spec.Cgroup = cg, cg.dir
	}
	if err := s.start(p, spec); err != nil {
		if p.cgroup != nil {
			_ = p.cgroup.remove()
		}
		return err
	}
	s.procs[p] = struct{}{}
	s.log.Info("booting worker", "worker", p.pid)
	return nil
}

// start runs p's command with the control connection, passes it the
// listening socket, and starts the goroutines that relay its output, read
// its messages and wait for its exit.
func (s *Supervisor) start(p *process, spec Spec) error {
	ctl, childCtl, err := controlPair()
	if err != nil {
		return err
	}
	defer childCtl.Close()
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		ctl.Close()
		return fmt.Errorf("supervisor: stderr pipe: %w", err)
	}
	defer stderrW.Close()
	newCmd, err := s.command(spec, childCtl, stderrW)
	if err != nil {
		ctl.Close()
		stderrR.Close()
		return err
	}
	cmd, err := s.startInCgroup(p, newCmd)
	if err == nil {
		if err = sendSocket(ctl, s.cfg.Listener); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	if err != nil {
		ctl.Close()
		stderrR.Close()
		return err
	}
	p.cmd, p.pid, p.ctl, p.started = cmd, cmd.Process.Pid, ctl, time.Now()

	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		defer stderrR.Close()
		relay(stderrR, s.out, &p.tail)
	}()
	go s.readControl(p, ctl)
	go func() {
		err := cmd.Wait()
		// The last lines explain the exit; a grandchild that keeps the
		// pipe open must not hold the news of it.
		t := time.NewTimer(time.Second)
		select {
		case <-relayed:
		case <-t.C:
		}
		t.Stop()
		s.send(event{kind: evExit, p: p, err: err})
	}()
	return nil
}

// controlPair makes the control connection: the supervisor's end,
// non-blocking so that Run can close it under a blocked reader, and the
// worker's.
func controlPair() (ctl, child *os.File, err error) {
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("supervisor: control socket: %w", err)
	}
	if err := syscall.SetNonblock(pair[0], true); err != nil {
		syscall.Close(pair[0])
		syscall.Close(pair[1])
		return nil, nil, fmt.Errorf("supervisor: control socket: %w", err)
	}
	return os.NewFile(uintptr(pair[0]), "control"), os.NewFile(uintptr(pair[1]), "control"), nil
}

// command returns a function making the worker's command: the configured
// one, with spec in EnvVar, the control connection as controlFD, stderr
// into the relay's pipe, and a process group of its own.
func (s *Supervisor) command(spec Spec, childCtl, stderr *os.File) (func() *exec.Cmd, error) {
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	env := make([]string, 0, len(s.cfg.Env)+1)
	for _, kv := range s.cfg.Env {
		if !strings.HasPrefix(kv, EnvVar+"=") {
			env = append(env, kv)
		}
	}
	env = append(env, EnvVar+"="+string(specJSON))
	return func() *exec.Cmd {
		return &exec.Cmd{
			Path:        s.cfg.Path,
			Args:        s.cfg.Args,
			Env:         env,
			Dir:         s.cfg.Dir,
			Stdout:      s.cfg.Stdout,
			Stderr:      stderr,
			ExtraFiles:  []*os.File{childCtl}, // controlFD
			SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
			WaitDelay:   time.Second,
		}
	}, nil
}

// startInCgroup starts the command, inside p's cgroup if it has one:
// atomically with clone3's CLONE_INTO_CGROUP, or, on kernels without it,
// by moving the process right after it starts.
func (s *Supervisor) startInCgroup(p *process, newCmd func() *exec.Cmd) (*exec.Cmd, error) {
	cmd := newCmd()
	if p.cgroup == nil {
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("supervisor: start worker: %w", err)
		}
		return cmd, nil
	}
	dir, err := p.cgroup.open()
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = int(dir.Fd())
	if err := cmd.Start(); err == nil {
		return cmd, nil
	}
	cmd = newCmd()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("supervisor: start worker: %w", err)
	}
	if err := p.cgroup.add(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	return cmd, nil
}

// readControl turns the worker's control lines into events until the
// connection ends.
func (s *Supervisor) readControl(p *process, ctl *os.File) {
	sc := bufio.NewScanner(ctl)
	sc.Buffer(make([]byte, 64), 64)
	for sc.Scan() {
		switch sc.Text() {
		case msgReady:
			s.send(event{kind: evReady, p: p})
		case msgRetire:
			s.send(event{kind: evRetire, p: p})
		}
	}
}

// reap forgets an exited worker, releases what it held, and says how it
// ended: its exit status or signal, and the cause its output or its
// cgroup gives.
func (s *Supervisor) reap(p *process, waitErr error) (status, cause string) {
	delete(s.procs, p)
	p.ctl.Close()
	if p.killTimer != nil {
		p.killTimer.Stop()
	}
	status = "exited"
	if ps := p.cmd.ProcessState; ps != nil {
		status = ps.String()
	} else if waitErr != nil {
		status = waitErr.Error()
	}
	cause = p.tail.cause()
	if p.cgroup != nil {
		if p.cgroup.oomKills() > 0 {
			oom := fmt.Sprintf("out of memory: killed by the kernel at the cgroup's memory.max (%d bytes)", s.cfg.Memory)
			cause = strings.Join(slices.DeleteFunc([]string{oom, cause}, func(s string) bool { return s == "" }), "; ")
		}
		if err := p.cgroup.remove(); err != nil {
			s.log.Warn("cannot remove a worker's cgroup", "worker", p.pid, "err", err)
		}
	}
	return status, cause
}
