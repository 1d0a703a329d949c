package supervisor

// This file passes the listening socket from the supervisor to a worker
// over their control connection (SCM_RIGHTS, unix(7)), rather than as an
// inherited descriptor (exec.Cmd.ExtraFiles), which os/exec would put into
// blocking mode: accept.go says why that matters.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// socketMessage is the one data byte that carries the socket.
const socketMessage = 'L'

// receiveTimeout bounds a worker's wait for its socket.
const receiveTimeout = 10 * time.Second

// sendSocket sends the socket ln over the connection ctl.
func sendSocket(ctl *os.File, ln syscall.Conn) error {
	lnRaw, err := ln.SyscallConn()
	if err != nil {
		return fmt.Errorf("supervisor: pass the socket: %w", err)
	}
	ctlRaw, err := ctl.SyscallConn()
	if err != nil {
		return fmt.Errorf("supervisor: pass the socket: %w", err)
	}
	var sendErr error
	err = lnRaw.Control(func(lnFD uintptr) {
		rights := syscall.UnixRights(int(lnFD))
		sendErr = ctlRaw.Write(func(ctlFD uintptr) bool {
			err := syscall.Sendmsg(int(ctlFD), []byte{socketMessage}, rights, nil, 0)
			return !errors.Is(err, syscall.EAGAIN)
		})
	})
	if err == nil {
		err = sendErr
	}
	if err != nil {
		return fmt.Errorf("supervisor: pass the socket: %w", err)
	}
	return nil
}

// receiveSocket reads the socket the supervisor sends first on ctl and
// returns it as a listener.
func receiveSocket(ctl *os.File) (net.Listener, error) {
	raw, err := ctl.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("supervisor: receive the socket: %w", err)
	}
	if err := ctl.SetReadDeadline(time.Now().Add(receiveTimeout)); err != nil {
		return nil, fmt.Errorf("supervisor: receive the socket: %w", err)
	}
	defer ctl.SetReadDeadline(time.Time{})
	var (
		data  [1]byte
		oob   = make([]byte, syscall.CmsgSpace(4))
		n     int
		oobn  int
		rdErr error
	)
	err = raw.Read(func(fd uintptr) bool {
		n, oobn, _, _, rdErr = syscall.Recvmsg(int(fd), data[:], oob, syscall.MSG_CMSG_CLOEXEC)
		return !errors.Is(rdErr, syscall.EAGAIN)
	})
	if err == nil {
		err = rdErr
	}
	if err == nil && (n != 1 || data[0] != socketMessage) {
		err = errors.New("no socket in the first message")
	}
	if err != nil {
		return nil, fmt.Errorf("supervisor: receive the socket: %w", err)
	}
	fd, err := parseRights(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("supervisor: receive the socket: %w", err)
	}
	return newSocketListener(fd)
}

// parseRights returns the one descriptor an SCM_RIGHTS message carries.
func parseRights(oob []byte) (int, error) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return -1, err
	}
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, extra := range fds[1:] {
			syscall.Close(extra)
		}
		if len(fds) > 0 {
			return fds[0], nil
		}
	}
	return -1, errors.New("no descriptor in the message")
}
