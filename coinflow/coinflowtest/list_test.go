package coinflowtest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

type listItem struct {
	Transaction string `json:"transaction"`
	CreatedAt   string `json:"createdAt"`
	Status      string `json:"status"`
	Speed       string `json:"speed"`
	Amount      money  `json:"amount"`
}

func (b *bundle) list(t *testing.T, query string) []listItem {
	t.Helper()
	r := b.call(t, http.MethodGet, "/merchant/withdraws?"+query, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out []listItem
	r.decode(t, &out)
	return out
}

func txns(items []listItem) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.Transaction)
	}
	return out
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	b.addUser(t, "u-1")
	var all []string
	for i := range 7 {
		p := b.mustPayout(t, "u-1", "bnk_u-1", []string{"asap", "standard"}[i%2], int64(1000+i), key(i))
		all = append(all, p.Signature)
		b.srv.Advance(time.Minute)
	}

	r := b.call(t, http.MethodGet, "/merchant/withdraws", nil)
	require.Equal(t, byte('['), r.Body[0], "a bare array")
	require.Equal(t, all, txns(b.list(t, "")))
	require.Equal(t, all[:3], txns(b.list(t, "page=1&limit=3")))
	require.Equal(t, all[3:6], txns(b.list(t, "page=2&limit=3")))
	require.Equal(t, all[6:], txns(b.list(t, "page=3&limit=3")))
	require.Empty(t, b.list(t, "page=4&limit=3"))
	require.Equal(t, all[3:6], txns(b.list(t, "page=2.0&limit=3")), "numbers may carry a fraction")

	desc := []string{all[6], all[5], all[4]}
	require.Equal(t, desc, txns(b.list(t, "limit=3&sortDirection=-1")))

	// since/until: inclusive, on createdAt (14:00 + i minutes).
	require.Equal(t, all[2:5], txns(b.list(t, "since="+url.QueryEscape("2025-06-02T14:02:00.000Z")+"&until="+url.QueryEscape("2025-06-02T14:04:00Z"))))
	require.Equal(t, all[3:4], txns(b.list(t, "since=2025-06-02T14:02:00Z&until=2025-06-02T14:04:00Z&page=2&limit=1")))

	asap := b.list(t, "speed=asap")
	require.Len(t, asap, 4)
	for _, it := range asap {
		require.Equal(t, "asap", it.Speed)
	}
	// By 14:07 the asap payouts of 14:00, 14:02 and 14:04 (3 minutes each)
	// have completed; the one of 14:06 and the three standard ones have not.
	require.Len(t, b.list(t, "status=pending"), 4)
	require.Len(t, b.list(t, "status=completed"), 3)
	require.Equal(t, all[1], b.list(t, "sortBy=amount&sortDirection=-1&speed=standard&page=3&limit=1")[0].Transaction)
	require.Equal(t, all[4:5], txns(b.list(t, "search="+all[4][:20])))
	require.Empty(t, b.list(t, "merchantId=someone-else"))

	for _, q := range []string{"page=0", "page=x", "limit=0", "status=done", "speed=fast", "since=yesterday", "sortBy=name", "sortDirection=2"} {
		r := b.call(t, http.MethodGet, "/merchant/withdraws?"+q, nil)
		require.Equal(t, http.StatusBadRequest, r.Status, q)
		require.NotEmpty(t, r.msg(t), q)
	}
}

func TestListLimitClampedToMax(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true, opts: coinflowtest.Options{PageLimitMax: 5}})
	b.srv.SeedSynthetic(12, nil)
	require.Len(t, b.list(t, "limit=100"), 5)
	require.Len(t, b.list(t, ""), 5, "default 50, clamped too")
}

func TestSyntheticWithdrawsPageWithFlatMemory(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	b.addUser(t, "u-1")
	const n = 10_000
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b.srv.SeedSynthetic(n, func(i int) coinflowtest.Withdraw {
		return coinflowtest.Withdraw{
			UserID:         fmt.Sprintf("u-%d", i%50),
			AmountCents:    int64(100 + i),
			EffectiveSpeed: "standard",
			CreatedAt:      base.Add(time.Duration(i) * time.Minute),
		}
	})
	stored := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1)) // 2025-06-02: after all synthetic

	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	seen := map[string]bool{}
	pages := 0
	for page := 1; ; page++ {
		items := b.list(t, fmt.Sprintf("page=%d&limit=100", page))
		pages++
		for _, it := range items {
			require.False(t, seen[it.Transaction], "duplicate %s", it.Transaction)
			seen[it.Transaction] = true
		}
		if len(items) < 100 {
			break
		}
	}
	require.Len(t, seen, n+1)
	require.True(t, seen[stored.Signature])
	require.Equal(t, 101, pages)
	require.Empty(t, b.srv.Withdraws()[1:], "synthetic withdraws are not stored")

	// Deterministic: the same page twice gives the same ids.
	require.Equal(t, b.list(t, "page=37&limit=10"), b.list(t, "page=37&limit=10"))
	// since/until by binary search: minutes 100..109.
	w := b.list(t, "since=2025-01-01T01:40:00Z&until=2025-01-01T01:49:00Z")
	require.Len(t, w, 10)
	require.Equal(t, int64(200), w[0].Amount.Cents)
	// Descending starts with the stored one, then the newest synthetic.
	d := b.list(t, "sortDirection=-1&limit=2")
	require.Equal(t, stored.Signature, d[0].Transaction)
	require.Equal(t, int64(100+n-1), d[1].Amount.Cents)
	// A filter scans.
	require.Len(t, b.list(t, "status=completed&limit=100&page=100"), 100)

	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	require.Less(t, int64(after.HeapAlloc)-int64(before.HeapAlloc), int64(64<<20), "heap stays flat")
	_, ok := b.srv.Withdraw(w[0].Transaction)
	require.False(t, ok, "list-only")
}

func BenchmarkSyntheticMillionPage(b *testing.B) {
	e := coinflowtest.New(coinflowtest.Options{})
	defer e.Close()
	e.SeedSynthetic(1_000_000, nil)
	req, _ := http.NewRequest(http.MethodGet, "/merchant/withdraws?page=9000&limit=100", nil)
	req.Header.Set("Authorization", e.APIKey())
	for b.Loop() {
		w := &discard{header: http.Header{}}
		e.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatal(w.status)
		}
	}
}

type discard struct {
	header http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(s int)           { d.status = s }
