package loadtest

import (
	"context"
	"net"
	"sync"
)

// connTracker remembers the load client's open connections so a cancelled run can close them at once: vegeta
// builds its requests without a context, so closing the sockets is the only way to abort requests in flight.
type connTracker struct {
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// wrap returns a dial function whose connections are tracked until they close.
func (t *connTracker) wrap(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, owner: t}
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.closed {
			_ = c.Close()
			return nil, net.ErrClosed
		}
		if t.conns == nil {
			t.conns = map[*trackedConn]struct{}{}
		}
		t.conns[tc] = struct{}{}
		return tc, nil
	}
}

// closeAll closes every open connection and refuses new ones.
func (t *connTracker) closeAll() {
	t.mu.Lock()
	t.closed = true
	open := make([]*trackedConn, 0, len(t.conns))
	for c := range t.conns {
		open = append(open, c)
	}
	t.conns = nil
	t.mu.Unlock()
	for _, c := range open {
		_ = c.Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	owner *connTracker
	once  sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.owner.mu.Lock()
		delete(c.owner.conns, c)
		c.owner.mu.Unlock()
	})
	return c.Conn.Close()
}
