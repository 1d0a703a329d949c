package supervisor

// This file accepts connections on the shared socket without ever putting
// it into blocking mode.
//
// A socket's blocking mode belongs to the socket, shared by every process
// that holds it, and Go's os.File.Fd puts a descriptor into blocking mode:
// os/exec does it to inherited files, net.FileListener to the file it is
// given. Each new worker would switch the socket to blocking under the
// running ones, and a worker caught in a blocking accept(2) could no
// longer close its listener, so it would hang when told to stop. So the
// socket reaches a worker over the control connection (passfd.go), and the
// worker accepts on it through the runtime's poller (os.File.SyscallConn)
// and turns each accepted descriptor, which is its own, into a net.Conn.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
)

// socketListener is a net.Listener over a shared listening socket.
type socketListener struct {
	f      *os.File
	raw    syscall.RawConn
	addr   net.Addr
	closed atomic.Bool
}

// newSocketListener takes ownership of fd, a listening socket.
func newSocketListener(fd int) (*socketListener, error) {
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("supervisor: socket: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("supervisor: socket: %w", err)
	}
	addr, err := addrOf(sa)
	if err != nil {
		syscall.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "listener") // non-blocking: read through the poller
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("supervisor: socket: %w", err)
	}
	return &socketListener{f: f, raw: raw, addr: addr}, nil
}

// addrOf converts a socket address to a net.Addr.
func addrOf(sa syscall.Sockaddr) (net.Addr, error) {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}, nil
	case *syscall.SockaddrInet6:
		a := &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a, nil
	case *syscall.SockaddrUnix:
		return &net.UnixAddr{Name: sa.Name, Net: "unix"}, nil
	}
	return nil, fmt.Errorf("supervisor: socket: unsupported address %T", sa)
}

// Accept waits for a connection through the poller and accepts it.
func (l *socketListener) Accept() (net.Conn, error) {
	var (
		nfd       int
		acceptErr error
	)
	err := l.raw.Read(func(fd uintptr) bool {
		// A blocking descriptor for the new connection: os.NewFile then
		// leaves it alone, and net.FileConn makes its own non-blocking
		// duplicate.
		nfd, _, acceptErr = syscall.Accept4(int(fd), syscall.SOCK_CLOEXEC)
		return !errors.Is(acceptErr, syscall.EAGAIN) && !errors.Is(acceptErr, syscall.EINTR)
	})
	if err != nil {
		if l.closed.Load() {
			err = net.ErrClosed
		}
		return nil, &net.OpError{Op: "accept", Net: l.addr.Network(), Addr: l.addr, Err: err}
	}
	if acceptErr != nil {
		// EMFILE, ECONNABORTED and the like: net/http retries those that
		// are temporary.
		return nil, &net.OpError{Op: "accept", Net: l.addr.Network(), Addr: l.addr, Err: os.NewSyscallError("accept4", acceptErr)}
	}
	f := os.NewFile(uintptr(nfd), "conn")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, &net.OpError{Op: "accept", Net: l.addr.Network(), Addr: l.addr, Err: err}
	}
	return c, nil
}

// Close stops accepting; an Accept under way returns net.ErrClosed.
func (l *socketListener) Close() error {
	l.closed.Store(true)
	return l.f.Close()
}

// Addr returns the socket's address.
func (l *socketListener) Addr() net.Addr { return l.addr }
