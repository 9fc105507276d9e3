package ratelimit

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)

func TestTakeSpendsAndRefills(t *testing.T) {
	l := New(Config{Every: 6 * time.Second, Burst: 10})
	for i := range 10 {
		_, _, ok := l.Take("a", t0)
		require.True(t, ok, "take %d", i+1)
	}
	_, wait, ok := l.Take("a", t0)
	require.False(t, ok, "the eleventh at once")
	require.Equal(t, 6*time.Second, wait)
	_, wait, ok = l.Take("a", t0.Add(5*time.Second))
	require.False(t, ok, "a refused take spends nothing, and the slot is not back yet")
	require.Equal(t, time.Second, wait)
	_, _, ok = l.Take("a", t0.Add(6*time.Second))
	require.True(t, ok, "a slot came back")
	_, _, ok = l.Take("b", t0)
	require.True(t, ok, "another client has its own bucket")
}

func TestRefundGivesTheTokenBack(t *testing.T) {
	l := New(Config{Every: time.Minute, Burst: 2})
	refund, _, ok := l.Take("a", t0)
	require.True(t, ok)
	refund()
	for range 2 {
		_, _, ok = l.Take("a", t0)
		require.True(t, ok, "the refunded token is there again")
	}
	_, _, ok = l.Take("a", t0)
	require.False(t, ok)
}

func TestIdleClientsAreDropped(t *testing.T) {
	l := New(Config{Every: time.Second, Burst: 3, MaxClients: 1000})
	for i := range 500 {
		l.Take("c"+strconv.Itoa(i), t0)
	}
	require.Equal(t, 500, l.Len())
	// Three seconds later every bucket has refilled: forgetting them loses
	// nothing, and the next new client drops them.
	l.Take("late", t0.Add(3*time.Second))
	require.Equal(t, 1, l.Len())

	// A client still refilling is kept, with what it spent.
	for range 3 {
		l.Take("busy", t0.Add(3*time.Second))
	}
	l.Take("other", t0.Add(4*time.Second))
	_, _, ok := l.Take("busy", t0.Add(4*time.Second))
	require.True(t, ok, "one token back after a second")
	_, _, ok = l.Take("busy", t0.Add(4*time.Second))
	require.False(t, ok, "its bucket was not forgotten")
}

func TestClientsAreCapped(t *testing.T) {
	l := New(Config{Every: time.Hour, Burst: 1, MaxClients: 100})
	now := t0
	for i := range 10_000 {
		now = now.Add(time.Millisecond)
		l.Take("c"+strconv.Itoa(i), now)
		require.LessOrEqual(t, l.Len(), 100)
	}
	require.Equal(t, 100, l.Len())
	// The most recent clients are the ones kept.
	_, _, ok := l.Take("c9999", now)
	require.False(t, ok, "a recent client's bucket is still spent")
	_, _, ok = l.Take("c0", now)
	require.True(t, ok, "the oldest was dropped first")
}

func TestDefaultCap(t *testing.T) {
	require.Equal(t, DefaultMaxClients, New(Config{Every: time.Second, Burst: 1}).max)
}

func TestClientKey(t *testing.T) {
	for ip, want := range map[string]string{
		"198.51.100.7":                  "198.51.100.7",
		"::ffff:198.51.100.7":           "198.51.100.7",
		"2001:db8:1:2:aaaa:bbbb:cccc:1": "2001:db8:1:2::/64",
		"2001:db8:1:2::ffff":            "2001:db8:1:2::/64",
		"2001:db8:1:3::1":               "2001:db8:1:3::/64",
		"::1":                           "::/64",
		"":                              "",
		"not-an-ip":                     "not-an-ip",
	} {
		require.Equal(t, want, ClientKey(ip), "%q", ip)
	}
}

func TestRetryAfter(t *testing.T) {
	for wait, want := range map[time.Duration]int{
		0: 1, time.Millisecond: 1, time.Second: 1, time.Second + time.Nanosecond: 2, 6 * time.Second: 6, 59500 * time.Millisecond: 60,
	} {
		require.Equal(t, want, RetryAfter(wait), "wait %v", wait)
	}
}
