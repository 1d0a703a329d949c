// Package supervisor runs a server as a set of worker processes, in the
// manner of gunicorn's arbiter: a small supervisor process owns the
// listening socket, starts N workers (the same program, re-executed in a
// worker mode) that accept connections on it, and replaces any worker that
// dies. A fatal error in a worker (the Go runtime's "out of memory", a
// stack overflow, SIGKILL) then costs only the requests that worker had in
// flight.
//
// The package has two halves: [Supervisor], which runs in the supervisor
// process, and [Worker], which a worker uses to take what the supervisor
// passed it. The supervisor knows nothing of what the workers serve; it
// runs no application code and holds no application state, so nothing an
// application does can reach it.
//
// # Lifecycle
//
//  1. The caller opens the listening socket and gives [Config.Listener] to
//     [New]. [Supervisor.Run] starts [Config.Workers] workers.
//  2. Each worker calls [WorkerFromEnv], applies its memory fence
//     ([Worker.FenceMemory]), loads its applications, takes the socket
//     ([Worker.Listener]) and reports [Worker.Ready]. When every worker is
//     ready, [Supervisor.Ready] is closed. A worker that exits before that
//     ends Run with an error that carries its exit status and last output:
//     a configuration that cannot start fails fast instead of
//     restart-looping.
//  3. A worker that dies later is logged with its cause and restarted.
//     Restarts back off exponentially while workers keep dying young
//     ([Config.RestartBackoff], [Config.MaxRestartBackoff]), so a worker
//     that crashes in a tight loop does not spin the CPU.
//  4. A worker that has served its request budget ([Config.MaxRequests]
//     plus up to [Config.MaxRequestsJitter]) asks to retire. The
//     supervisor starts its replacement at once and tells the old worker
//     to stop only when the replacement is ready, so the number of workers
//     accepting never drops. The old worker drains: it stops accepting,
//     closes each kept-alive connection after its next response, and
//     waits up to a second for its connections to close (net/http's
//     shutdown would drop a request arriving meanwhile); then it shuts
//     down as on SIGTERM, and is killed if it is still running
//     [Config.GracefulTimeout] later.
//  5. When Run's context is cancelled, every worker gets SIGTERM and
//     [Config.GracefulTimeout] to finish its requests; those still running
//     then are killed, with their process groups. Run returns once every
//     worker has been reaped.
//
// # One accept queue
//
// All workers accept on one socket, which the supervisor opened and passes
// to each, rather than each binding its own with SO_REUSEPORT. With one queue a connection
// waits in the kernel until some worker accepts it: a worker that exits,
// crashes or is still starting loses no connection that it had not yet
// accepted, and the queue itself lives as long as the supervisor. With
// SO_REUSEPORT the kernel hashes each connection to one worker's own
// queue, and connections queued on a worker that closes are reset; the
// hash also ignores how busy a worker is, while with one queue the first
// idle worker takes the next connection. Unix sockets have no
// SO_REUSEPORT balancing at all. The cost of one queue is that every
// worker is woken for each new connection and all but one find nothing to
// accept, which is small at the handful of workers this is meant for.
//
// # What passes between them
//
// The supervisor starts a worker with the [EnvVar] environment variable
// holding a JSON [Spec] and one end of a Unix socket pair as file
// descriptor 3, the control connection. The supervisor first sends the
// listening socket over it (SCM_RIGHTS; passfd.go says why not as an
// inherited descriptor). The worker then writes the lines "ready" and
// "retire"; the supervisor writes "stop" to a worker it replaces, and when
// the supervisor is gone the worker reads end of file. Either ends in
// [Worker.Done]. Signals do the rest: SIGTERM to stop gracefully, SIGHUP
// to reload (forwarded by [Supervisor.Signal]).
// Each worker runs in a process group of its own, so that a terminal's ^C
// reaches the supervisor alone, which then stops the workers in order.
//
// # Memory fences
//
// A worker's memory is fenced three ways, from gentlest to hardest:
//
//   - the Go soft memory limit (runtime/debug.SetMemoryLimit) at nine
//     tenths of the budget, so the garbage collector works harder before
//     the hard fences are reached;
//   - RLIMIT_DATA, which the worker sets on itself before loading
//     anything: the data it has mapped at that moment plus the budget.
//     Past it the Go runtime cannot map more memory and ends the worker
//     with "fatal error: runtime: out of memory". It counts memory the
//     runtime has committed, thread stacks included, not the address space
//     it merely reserves (which RLIMIT_AS would count, and which in Go runs
//     far ahead of use);
//   - a cgroup v2 memory.max, when the supervisor can create cgroups
//     ([DelegateCgroup]): it counts memory really in use, and the kernel's
//     OOM killer ends the worker past it.
//
// [AvailableMemory] and [DefaultWorkerMemory] derive a default budget from
// the machine.
//
// # Thread safety
//
// A Supervisor's Run must be called once; [Supervisor.Signal] and
// [Supervisor.Ready] may be called from any goroutine. A Worker's methods
// are safe for concurrent use.
package supervisor
