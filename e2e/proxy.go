package e2e

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// proxyMode is what a Proxy does with connections.
type proxyMode int

const (
	proxyUp        proxyMode = iota // forward bytes both ways
	proxyDown                       // listener closed: connecting is refused
	proxyBlackHole                  // accept, then never forward a byte
)

// Proxy is a TCP forwarder between payoutd and its database that a test can
// cut: Down closes the listener and every connection (the server is gone),
// BlackHole keeps accepting but forwards nothing (a partition: packets
// vanish, nothing is refused or reset), and Up restores forwarding on the
// same address, so the daemon's configuration never changes.
type Proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	mode  proxyMode
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewProxy listens on a free port of 127.0.0.1 and forwards to target
// (host:port).
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serveLocked(ln)
	return p, nil
}

// Addr is the address clients connect to; it stays the same across Down
// and Up.
func (p *Proxy) Addr() string { return p.addr }

// Down closes the listener and every connection: new connections are refused
// until Up.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = proxyDown
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.closeConnsLocked()
}

// BlackHole makes the proxy swallow every byte, on the connections it already
// forwards and on new ones, which it accepts and then ignores. Nothing is
// closed, so a client learns of the outage only from its own timeouts.
func (p *Proxy) BlackHole() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = proxyBlackHole
	return p.listenLocked()
}

// Up forwards again. Connections that lived through a black hole have lost
// bytes mid-protocol and could never be used again, so they are closed, as a
// real partition ends with their TCP timeouts.
func (p *Proxy) Up() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == proxyBlackHole {
		p.closeConnsLocked()
	}
	p.mode = proxyUp
	return p.listenLocked()
}

// Close stops the proxy and waits for its goroutines.
func (p *Proxy) Close() {
	p.Down()
	p.wg.Wait()
}

func (p *Proxy) currentMode() proxyMode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// listenLocked reopens the listener on the proxy's address if it is closed.
// Right after Down the port may still be settling, so it retries briefly.
func (p *Proxy) listenLocked() error {
	if p.ln != nil {
		return nil
	}
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serveLocked(ln)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("listen again on %s: %w", p.addr, err)
}

func (p *Proxy) serveLocked(ln net.Listener) {
	p.ln = ln
	p.wg.Go(func() { p.accept(ln) })
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // a transient error such as EMFILE: do not spin
			continue
		}
		p.wg.Go(func() { p.handle(client) })
	}
}

func (p *Proxy) handle(client net.Conn) {
	if !p.track(client) {
		return
	}
	if p.currentMode() == proxyBlackHole {
		// Read and drop whatever the client sends until someone closes it.
		p.pipe(nil, client)
		return
	}
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		p.closeConn(client)
		return
	}
	if !p.track(server) {
		p.closeConn(client)
		return
	}
	p.wg.Go(func() { p.pipe(client, server) })
	p.pipe(server, client)
}

// track registers c so that Down and Up can close it; it refuses (and closes)
// c when the proxy went down meanwhile.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == proxyDown {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) closeConn(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	_ = c.Close()
}

func (p *Proxy) closeConnsLocked() {
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// pipe copies src to dst (drops it when dst is nil or the proxy is a black
// hole) until src fails, then closes both: one side gone ends the pair.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && dst != nil && p.currentMode() == proxyUp {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	p.closeConn(src)
	if dst != nil {
		p.closeConn(dst)
	}
}
