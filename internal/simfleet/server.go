package simfleet

import (
	"errors"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// serve accepts connections until the listener closes.
func (h *Host) serve(l net.Listener) {
	defer h.fleet.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		if !h.fleet.track(c) {
			c.Close()
			return
		}
		h.fleet.wg.Add(1)
		go h.serveConn(c)
	}
}

// serveConn runs one SSH connection: handshake, then session channels until it closes.
func (h *Host) serveConn(c net.Conn) {
	defer h.fleet.wg.Done()
	defer h.fleet.untrack(c)
	defer c.Close()
	if h.stalled.Load() {
		<-h.fleet.ctx.Done() // hold the connection, say nothing, until the fleet closes
		return
	}
	_ = c.SetDeadline(time.Now().Add(h.fleet.timeout))
	sc, chans, reqs, err := ssh.NewServerConn(c, h.config)
	if err != nil {
		return
	}
	_ = c.SetDeadline(time.Time{})
	defer sc.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ssh.DiscardRequests(reqs) // keepalive@openssh.com and others: answered "no"
	}()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.session(ch, creqs)
		}()
	}
	sc.Close()
	wg.Wait()
}
