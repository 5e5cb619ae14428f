package load

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Handshakes opens, upgrades and closes connections as fast as workers
// goroutines can for d, and returns handshakes per second. For the raw
// protocol a "handshake" is a connect plus one 16-byte echo: the floor of a
// round trip on a fresh connection. Connections end with RST (SO_LINGER 0),
// so that no TIME_WAIT state piles up on the client's ports.
func Handshakes(cfg Config, workers int, d time.Duration) (Result, error) {
	var count atomic.Uint64
	var stop atomic.Bool
	var firstErr atomic.Pointer[error]
	req := upgradeRequest(cfg.Addr, cfg.path())
	var wg sync.WaitGroup
	ru0 := rusage()
	srv0 := readProc(cfg.ServerPID)
	busy0 := sampleBusy()
	t0 := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for !stop.Load() {
				if err := oneHandshake(&cfg, req, buf); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				count.Add(1)
			}
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	n := count.Load()
	el := time.Since(t0).Seconds()
	ru1 := rusage()
	srv1 := readProc(cfg.ServerPID)
	busy1 := sampleBusy()
	wg.Wait()
	r := Result{Handshake: float64(n) / el, Count: n, Seconds: el,
		LoadCPU: (ru1.user + ru1.sys - ru0.user - ru0.sys) / el, LoadUser: (ru1.user - ru0.user) / el}
	if srv0.ok && srv1.ok {
		r.SrvUser, r.SrvSys = (srv1.user-srv0.user)/el, (srv1.sys-srv0.sys)/el
		r.SrvCPU = r.SrvUser + r.SrvSys
	}
	setOthers(&r, busy0, busy1, srv0.ok && srv1.ok, el)
	if e := firstErr.Load(); e != nil {
		return r, *e
	}
	if n == 0 {
		return r, errors.New("no handshake completed")
	}
	return r, nil
}

func oneHandshake(cfg *Config, req, buf []byte) error {
	c, err := dialer.Dial("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer closeNow(c)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if cfg.Raw {
		return rawEcho(c, buf)
	}
	_, err = handshake(c, req, buf)
	return err
}

// rawEcho sends one 16-byte length-prefixed message and reads its echo.
func rawEcho(c net.Conn, buf []byte) error {
	msg := buf[:4+stampSize]
	binary.BigEndian.PutUint32(msg, stampSize)
	if _, err := c.Write(msg); err != nil {
		return err
	}
	_, err := io.ReadFull(c, buf[:4+stampSize])
	return err
}

// IdleMessages is the number of messages echoed on each connection before it
// idles, in the compressed idle scenario.
const IdleMessages = 3

// Idle opens n connections (upgraded, or for raw one echo each; with
// cfg.Compress upgraded with permessage-deflate and IdleMessages compressed
// echoes of cfg.Size bytes each) with 64
// concurrent dialers and returns them; the caller holds them open and
// closes them with CloseAll.
func Idle(cfg Config, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	req := upgradeRequest(cfg.Addr, cfg.path())
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for {
				i := int(next.Add(1)) - 1
				if i >= n || firstErr.Load() != nil {
					return
				}
				var c net.Conn
				var err error
				if cfg.Compress {
					// Upgraded with permessage-deflate, then IdleMessages
					// compressed echoes, so that the server has used its
					// compressor and inflater once before it idles.
					c, err = idleDeflate(&cfg, IdleMessages)
				} else {
					c, err = dialer.Dial("tcp", cfg.Addr)
				}
				if err == nil && !cfg.Compress {
					c.SetDeadline(time.Now().Add(10 * time.Second))
					if cfg.Raw {
						err = rawEcho(c, buf)
					} else {
						_, err = handshake(c, req, buf)
					}
					c.SetDeadline(time.Time{})
					if err != nil {
						closeNow(c)
					}
				}
				if err != nil {
					err = fmt.Errorf("connection %d: %w", i, err)
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		CloseAll(conns)
		return nil, *e
	}
	return conns, nil
}

// CloseAll resets every connection.
func CloseAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			closeNow(c)
		}
	}
}
