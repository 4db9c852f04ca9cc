package transport

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// tcpProxy forwards connections from a loopback port to a target, and can cut or freeze
// the links it carries, to simulate networks failing under a transfer.
type tcpProxy struct {
	ln     net.Listener
	target string
	// cutAfter, when > 0, drops a link (both directions) once that many bytes went
	// from client to server on it.
	cutAfter int64
	accepted atomic.Int32
	// frozenBelow: links numbered below it stop forwarding without closing, like a peer
	// that vanished from the network.
	frozenBelow atomic.Int32

	mu    sync.Mutex
	links []net.Conn
}

func startProxy(t *testing.T, target string, cutAfter int64) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, cutAfter: cutAfter}
	t.Cleanup(p.close)
	go p.serve()
	return p
}

func (p *tcpProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		id := p.accepted.Add(1) - 1
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.links = append(p.links, c, s)
		p.mu.Unlock()
		go p.pipe(id, s, c, p.cutAfter, c)
		go p.pipe(id, c, s, 0, c)
	}
}

// pipe copies src to dst; with limit > 0 it closes both ends after limit bytes.
func (p *tcpProxy) pipe(id int32, dst, src net.Conn, limit int64, other net.Conn) {
	buf := make([]byte, 32*1024)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if id < p.frozenBelow.Load() {
				return // drop the bytes and stop reading: a peer that stopped answering
			}
			if _, werr := dst.Write(buf[:k]); werr != nil {
				break
			}
			n += int64(k)
			if limit > 0 && n >= limit {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	other.Close()
}

// freeze stops every link open now from forwarding anything; later links work.
func (p *tcpProxy) freeze() { p.frozenBelow.Store(p.accepted.Load()) }

func (p *tcpProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.links {
		c.Close()
	}
}
