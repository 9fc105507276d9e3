package coinflow_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
)

// withdrawerArray serves GET /merchant/withdrawers as n withdrawers of
// about 850 bytes each, written one at a time from one reused buffer: the
// server never holds the array, so the memory measured is the client's.
// bytes is the size of the last answer.
type withdrawerArray struct {
	*httptest.Server
	n     atomic.Int64
	bytes atomic.Int64
}

func newWithdrawerArray(tb testing.TB) *withdrawerArray {
	tb.Helper()
	a := &withdrawerArray{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		n := int(a.n.Load())
		buf := make([]byte, 0, 2048)
		var total int64
		write := func(b []byte) {
			m, _ := w.Write(b)
			total += int64(m)
		}
		write([]byte("["))
		for i := range n {
			buf = appendWithdrawer(buf[:0], i)
			if i < n-1 {
				buf = append(buf, ',')
			}
			write(buf)
		}
		write([]byte("]"))
		a.bytes.Store(total)
	}))
	tb.Cleanup(a.Close)
	return a
}

// appendWithdrawer appends an IWithdrawer like Coinflow's, numbered i.
func appendWithdrawer(b []byte, i int) []byte {
	id := strconv.AppendInt(nil, int64(i), 10)
	b = append(b, `{"_id":"65f1a1b2c3d4e5f6`...)
	b = append(b, id...)
	b = append(b, `","wallet":"acme-payoutsʬuser-`...)
	b = append(b, id...)
	b = append(b, `","blockchain":"user","wallets":[{"wallet":"acme-payoutsʬuser-`...)
	b = append(b, id...)
	b = append(b, `","blockchain":"user"}],"email":"user-`...)
	b = append(b, id...)
	b = append(b, `@example.com","availability":{"status":"Functional","reason":"n/a","editor":"system","updatedAt":"2025-05-20T10:00:00.000Z"},`+
		`"currency":"USD","originalCurrency":"USD","merchant":{"_id":"65f0c0ffee00000000a00001","name":"Acme Payouts Inc.","settlementType":"USDC"},`+
		`"verification":{"reference":"inq_u72TnSU8sq9HdUBN48sZ","status":"approved","vendor":"persona","name":"Persona KYC","attested":true,`+
		`"shareToken":"st_7Yc2mQ9vX1pL4rT8wK3nB6hJ0dF5sG2a","shareTokenStatus":"active","sessionToken":"sess_3kP9xQ2mV7nB1cR5tW8yL4jH6gF0dS2a"},`+
		`"riskScoreOverride":false,"country":"US","geoBlockOverride":{"reason":"travel","setBy":"ops@acme.example","setAt":"2025-05-21T08:00:00.000Z"},`+
		`"createdAt":"2025-05-01T12:00:00.000Z","user":true,"watchlistExempt":"Passed","watchlistId":"wl_9f8e7d6c5b4a39281706f5e4d3c2b1a0"}`...)
	return b
}

// streamAll reads every withdrawer of a through EachWithdrawer, checking
// their order, and samples HeapAlloc every 1,000 of them.
func streamAll(tb testing.TB, c *coinflow.Client, n int) (peak uint64) {
	var ms runtime.MemStats
	i := 0
	for w, err := range c.EachWithdrawer(tb.Context(), coinflow.ListWithdrawersParams{}) {
		if err != nil {
			tb.Fatal(err)
		}
		if want := "65f1a1b2c3d4e5f6" + strconv.Itoa(i); w.ID != want || w.UserID() != "user-"+strconv.Itoa(i) {
			tb.Fatalf("withdrawer %d is %s", i, w.ID)
		}
		i++
		if i%1_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if i != n {
		tb.Fatalf("read %d withdrawers, want %d", i, n)
	}
	return peak
}

// TestEachWithdrawerMemoryIsBounded streams an answer of 50,000
// withdrawers, larger than the whole-array call may read at all: the heap
// stays a small fraction of the answer, and the allocations are the same
// per withdrawer for 5,000 as for 50,000. Not parallel, so that no other
// test's allocations are in the samples.
func TestEachWithdrawerMemoryIsBounded(t *testing.T) {
	a := newWithdrawerArray(t)
	c, err := coinflow.New(coinflow.Config{BaseURL: a.URL, APIKey: testAPIKey, SleepFunc: noSleep})
	require.NoError(t, err)

	measure := func(n int) (growth, bytesPer, allocsPer uint64, body int64) {
		a.n.Store(int64(n))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		peak := streamAll(t, c, n)
		runtime.ReadMemStats(&after)
		return max(peak, before.HeapAlloc) - before.HeapAlloc,
			(after.TotalAlloc - before.TotalAlloc) / uint64(n), (after.Mallocs - before.Mallocs) / uint64(n), a.bytes.Load()
	}
	_, smallBytes, smallAllocs, _ := measure(5_000)
	growth, bytesPer, allocsPer, body := measure(50_000)
	t.Logf("50,000 withdrawers, %.1f MiB of JSON: heap grew at most %.1f MiB; %d allocations, %d bytes per withdrawer (5,000: %d, %d)",
		float64(body)/(1<<20), float64(growth)/(1<<20), allocsPer, bytesPer, smallAllocs, smallBytes)

	require.Greater(t, body, int64(32<<20), "the answer is over the whole-array call's limit")
	require.Less(t, growth, uint64(body/4), "the heap holds a fraction of the answer, not the answer")
	require.Less(t, growth, uint64(16<<20))
	require.InDelta(t, float64(smallAllocs), float64(allocsPer), float64(smallAllocs)/5, "allocations per withdrawer do not grow with the count")
	require.InDelta(t, float64(smallBytes), float64(bytesPer), float64(smallBytes)/5, "bytes per withdrawer do not grow with the count")
	require.Less(t, bytesPer, uint64(16<<10))

	// The whole-array call cannot read this answer.
	_, err = c.Withdrawers(t.Context(), coinflow.ListWithdrawersParams{})
	require.ErrorIs(t, err, coinflow.ErrMalformedResponse)
}

// BenchmarkEachWithdrawer streams n withdrawers over real HTTP; allocs/op
// and B/op are per run of n.
func BenchmarkEachWithdrawer(b *testing.B) {
	for _, n := range []int{1_000, 50_000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			a := newWithdrawerArray(b)
			a.n.Store(int64(n))
			c, err := coinflow.New(coinflow.Config{BaseURL: a.URL, APIKey: testAPIKey})
			require.NoError(b, err)
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				peak = max(peak, streamAll(b, c, n))
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "withdrawers/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}
