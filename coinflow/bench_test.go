package coinflow_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// heapSampleEvery is how many records pass between two heap samples.
const heapSampleEvery = 10_000

var syntheticEnd = time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)

// realisticWithdraws generates n withdraws for SeedSynthetic, one every
// 30s up to syntheticEnd: 5,000 users, four speeds, mostly completed with
// some failed and returned, pending or in review. It is deterministic and
// cheap (a multiplicative hash of i), so the emulator is not what is
// measured.
func realisticWithdraws(n int) func(i int) coinflowtest.Withdraw {
	speeds := [...]string{coinflowtest.SpeedSameDay, coinflowtest.SpeedStandard, coinflowtest.SpeedASAP, coinflowtest.SpeedCard}
	return func(i int) coinflowtest.Withdraw {
		h := uint64(i+1) * 0x9e3779b97f4a7c15
		created := syntheticEnd.Add(-time.Duration(n-i) * 30 * time.Second)
		w := coinflowtest.Withdraw{
			Transaction:    solanaSignature(h),
			TransferID:     fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(h), uint16(h>>32), (h>>48)&0xfff, i&0xfff, uint64(i)),
			UserID:         "user-" + strconv.FormatUint((h>>40)%5_000, 10),
			AmountCents:    500 + int64((h>>20)%2_000_000),
			RequestedSpeed: speeds[h>>62],
			Status:         coinflowtest.StatusCompleted,
			CreatedAt:      created,
			UpdatedAt:      created.Add(3 * time.Hour),
		}
		switch pct := (h >> 8) % 100; {
		case pct < 5:
			w.Status, w.ReturnStatus = coinflowtest.StatusFailed, coinflowtest.ReturnCompleted
			w.DetailMessage = "R01 Insufficient Funds"
			w.ReturnedAt = created.Add(26 * time.Hour)
		case pct < 8:
			w.Status, w.UpdatedAt = coinflowtest.StatusPending, created
		case pct < 10:
			w.Status, w.UpdatedAt = coinflowtest.StatusInReview, created
		}
		return w
	}
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// solanaSignature spells an 88-character base58 string from a xorshift
// stream seeded by h: distinct seeds give distinct strings, and it costs
// far less than a real base58 encoding (math/big), which would otherwise
// dominate the emulator's share of the benchmark.
func solanaSignature(h uint64) string {
	var b [88]byte
	x := h | 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = base58Alphabet[x%58]
	}
	return string(b[:])
}

// expectedCents is the sum of the generated amounts.
func expectedCents(n int) int64 {
	gen := realisticWithdraws(n)
	var sum int64
	for i := range n {
		sum += gen(i).AmountCents
	}
	return sum
}

// pageAll consumes every withdraw through the client's iterator, pages of
// 100 (the emulator's maximum) with ahead pages fetched ahead, sampling
// HeapAlloc every heapSampleEvery records. It returns the count, the sum
// of amounts and the peak sample.
func pageAll(ctx context.Context, c *coinflow.Client, ahead int) (n int, cents int64, peak uint64, err error) {
	var ms runtime.MemStats
	for w, err := range c.Withdraws(ctx, coinflow.ListWithdrawsParams{Limit: coinflowtest.DefaultPageMax, Ahead: ahead}) {
		if err != nil {
			return n, cents, peak, err
		}
		n++
		cents += w.Amount.Cents
		if n%heapSampleEvery == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	return n, cents, peak, nil
}

func newPagingServer(tb testing.TB) (*coinflowtest.Server, *coinflow.Client) {
	tb.Helper()
	srv := coinflowtest.NewServer(coinflowtest.Options{})
	tb.Cleanup(srv.Close)
	c, err := coinflow.New(coinflow.Config{BaseURL: srv.URL, APIKey: srv.APIKey()})
	require.NoError(tb, err)
	return srv, c
}

// BenchmarkWithdrawsPaging reads n synthetic withdraws over real HTTP from
// the emulator through the Withdraws iterator, one page at a time (ahead=0)
// and with 4 pages fetched ahead, as reconciliation reads them.
func BenchmarkWithdrawsPaging(b *testing.B) {
	for _, tc := range []struct{ n, ahead int }{{100_000, 0}, {100_000, 4}, {1_000_000, 0}, {1_000_000, 4}} {
		n := tc.n
		b.Run(fmt.Sprintf("n=%d/ahead=%d", n, tc.ahead), func(b *testing.B) {
			srv, c := newPagingServer(b)
			srv.SeedSynthetic(n, realisticWithdraws(n))
			want := expectedCents(n)
			runtime.GC()
			var peak uint64
			runs := 0
			for b.Loop() {
				got, cents, p, err := pageAll(b.Context(), c, tc.ahead)
				if err != nil {
					b.Fatal(err)
				}
				if got != n || cents != want {
					b.Fatalf("read %d withdraws summing %d cents, want %d summing %d", got, cents, n, want)
				}
				peak = max(peak, p)
				runs++
			}
			b.ReportMetric(float64(n)*float64(runs)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

// TestWithdrawsPagingMemoryIsFlat: reading ten times more withdraws must
// not need more memory; the iterator holds one page, not the history. Not
// parallel, so that no other test's allocations are in the samples.
func TestWithdrawsPagingMemoryIsFlat(t *testing.T) {
	srv, c := newPagingServer(t)
	measure := func(n int) uint64 {
		srv.SeedSynthetic(n, realisticWithdraws(n))
		runtime.GC()
		got, cents, peak, err := pageAll(t.Context(), c, 0)
		require.NoError(t, err)
		require.Equal(t, n, got)
		require.Equal(t, expectedCents(n), cents)
		require.Positive(t, peak)
		return peak
	}
	small := measure(20_000)
	large := measure(200_000)
	t.Logf("peak sampled heap: %.1f MiB for 20,000 withdraws, %.1f MiB for 200,000", float64(small)/(1<<20), float64(large)/(1<<20))
	require.LessOrEqual(t, large, small+4<<20, "peak heap grows with the number of withdraws")
}
