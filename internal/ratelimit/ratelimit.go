// Package ratelimit keeps one token bucket (golang.org/x/time/rate) per
// client, with bounded memory: a client's bucket is dropped once it has
// refilled (forgetting it then loses nothing), and past a cap the least
// recently seen client's bucket goes first. Every call takes the time, so
// tests step a clock instead of sleeping.
package ratelimit

import (
	"container/list"
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxClients bounds the buckets kept when Config.MaxClients is 0.
const DefaultMaxClients = 10_000

// Config is one limit.
type Config struct {
	// Every is the time one token takes to come back; Burst is the most a
	// client may spend at once.
	Every time.Duration
	Burst int
	// MaxClients bounds the buckets kept (default DefaultMaxClients).
	MaxClients int
}

// Limiter is a per-client token bucket. It is safe for concurrent use.
type Limiter struct {
	limit rate.Limit
	burst int
	max   int
	// full is how long an untouched bucket takes to refill from empty:
	// after that it is the same as a new one and can be dropped.
	full time.Duration

	mu      sync.Mutex
	clients map[string]*list.Element // of *client
	order   list.List                // most recently used at the front
}

type client struct {
	key  string
	lim  *rate.Limiter
	last time.Time
}

// New returns a limiter for cfg; Every and Burst must be positive.
func New(cfg Config) *Limiter {
	if cfg.Every <= 0 || cfg.Burst < 1 {
		panic("ratelimit: Every and Burst must be positive")
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	return &Limiter{
		limit:   rate.Every(cfg.Every),
		burst:   cfg.Burst,
		max:     cfg.MaxClients,
		full:    cfg.Every * time.Duration(cfg.Burst),
		clients: map[string]*list.Element{},
	}
}

// Take spends one of key's tokens at now. When none is left it spends
// nothing and returns false with how long until one is. Refund gives the
// token back (a login that turned out right does not count as a failure).
func (l *Limiter) Take(key string, now time.Time) (refund func(), wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.client(key, now)
	r := c.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, d, false
	}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		// Cancelled at the time it was made, the reservation's token is
		// restored whole (later than that, rate restores nothing).
		r.CancelAt(now)
	}, 0, true
}

// Len is how many clients' buckets are kept.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// client returns key's bucket, making one after dropping the buckets that
// have refilled and, at the cap, the least recently used one.
func (l *Limiter) client(key string, now time.Time) *client {
	if e, ok := l.clients[key]; ok {
		c := e.Value.(*client)
		c.last = now
		l.order.MoveToFront(e)
		return c
	}
	for e := l.order.Back(); e != nil; e = l.order.Back() {
		c := e.Value.(*client)
		if len(l.clients) < l.max && now.Sub(c.last) < l.full {
			break
		}
		l.order.Remove(e)
		delete(l.clients, c.key)
	}
	c := &client{key: key, lim: rate.NewLimiter(l.limit, l.burst), last: now}
	l.clients[key] = l.order.PushFront(c)
	return c
}

// RetryAfter is wait in whole seconds, rounded up and at least 1, for a
// Retry-After header.
func RetryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}

// ClientKey is the bucket key for a client's address: an IPv4 address
// itself, an IPv6 address's /64, since one host commonly holds a whole /64
// and could otherwise take a fresh bucket with each address. Anything that
// does not parse is its own key.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
