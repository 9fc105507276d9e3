package coinflowtest_test

import (
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// population yields n withdrawers u-000000 ..., every 10th blocked, every
// 7th pending, every 5th in Germany.
func population(n int) iter.Seq[coinflowtest.WithdrawerSpec] {
	return func(yield func(coinflowtest.WithdrawerSpec) bool) {
		for i := range n {
			s := coinflowtest.WithdrawerSpec{UserID: fmt.Sprintf("u-%06d", i), Blocked: i%10 == 0}
			if i%7 == 0 {
				s.Verification = "pending"
			}
			if i%5 == 0 {
				s.Country = "DE"
			}
			if !yield(s) {
				return
			}
		}
	}
}

// TestAddWithdrawersAtScale is not parallel: its hundreds of megabytes
// would disturb TestSyntheticWithdrawsPageWithFlatMemory's heap reading.
// Sequential tests end before parallel ones run; the garbage goes with a
// GC at the end.
func TestAddWithdrawersAtScale(t *testing.T) {
	t.Cleanup(runtime.GC) // registered first: runs after the emulator is closed
	const n = 100_000
	b := setup(t, setupOpts{})
	start := time.Now()
	added, err := b.srv.AddWithdrawers(population(n))
	require.NoError(t, err)
	require.Equal(t, n, added)
	t.Logf("added %d withdrawers in %v", n, time.Since(start))

	w, ok := b.srv.Withdrawer("u-099995")
	require.True(t, ok)
	require.Equal(t, "DE", w.Country)
	require.Equal(t, "EUR", w.OriginalCurrency)
	require.NotEmpty(t, w.BankToken, "as AddWithdrawer: a bank account and a card")
	require.NotEmpty(t, w.CardToken)
	// Approved, with its bank account: payable at once.
	one, _ := b.srv.Withdrawer("u-000001")
	b.mustPayout(t, "u-000001", one.BankToken, "asap", 100, key(1))

	start = time.Now()
	r := b.call(t, http.MethodGet, "/merchant/withdrawers", nil)
	require.Equal(t, http.StatusOK, r.Status)
	t.Logf("listed %d withdrawers (%d bytes) in %v", n, len(r.Body), time.Since(start))
	var all []struct {
		Wallet       string `json:"wallet"`
		Availability struct {
			Status string `json:"status"`
		} `json:"availability"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &all), "one valid JSON array")
	require.Len(t, all, n)
	for i, wd := range all {
		require.Equal(t, fmt.Sprintf("acme-payoutsʬu-%06d", i), wd.Wallet, "creation order")
	}
	require.Equal(t, "Blocked", all[0].Availability.Status)

	var blocked []json.RawMessage
	b.call(t, http.MethodGet, "/merchant/withdrawers?blocked=true", nil).decode(t, &blocked)
	require.Len(t, blocked, n/10)
	var some []json.RawMessage
	b.call(t, http.MethodGet, "/merchant/withdrawers?search=U-09999", nil).decode(t, &some)
	require.Len(t, some, 10)

	b.wait(t)
	require.Equal(t, []string{"Withdraw Pending"}, eventTypes(b.hook.envelopes(t)), "the bulk add sent no webhook")
}

func TestAddWithdrawersStopsAtARefusal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		bad   coinflowtest.WithdrawerSpec // the third spec
		added int
		err   error
	}{
		{"userId taken", coinflowtest.WithdrawerSpec{UserID: "u-0"}, 2, coinflowtest.ErrExists},
		{"already registered before", coinflowtest.WithdrawerSpec{UserID: "u-old"}, 2, coinflowtest.ErrExists},
		{"bad verification", coinflowtest.WithdrawerSpec{UserID: "u-x", Verification: "maybe"}, 2, coinflowtest.ErrInvalid},
		{"no userId", coinflowtest.WithdrawerSpec{}, 2, coinflowtest.ErrInvalid},
		{"all good", coinflowtest.WithdrawerSpec{UserID: "u-2"}, 4, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{noHook: true})
			b.addUser(t, "u-old")
			specs := []coinflowtest.WithdrawerSpec{{UserID: "u-0"}, {UserID: "u-1"}, tc.bad, {UserID: "u-3"}}
			added, err := b.srv.AddWithdrawers(func(yield func(coinflowtest.WithdrawerSpec) bool) {
				for _, s := range specs {
					if !yield(s) {
						return
					}
				}
			})
			require.Equal(t, tc.added, added)
			if tc.err == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.err)
			}
			require.Len(t, b.srv.Withdrawers(), 1+tc.added, "the ones before the refusal stay")
			_, ok := b.srv.Withdrawer("u-3")
			require.Equal(t, tc.err == nil, ok, "nothing after the refusal")
		})
	}
}

func TestListWithdrawersStreamsValidJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	r := b.specCall(t, http.StatusOK, http.MethodGet, "/merchant/withdrawers", nil)
	require.Equal(t, "[]", string(r.Body), "no withdrawers: an empty array")
	require.Equal(t, "application/json; charset=utf-8", r.Header.Get("Content-Type"))
	_, err := b.srv.AddWithdrawers(population(300)) // more than one 32 KiB chunk
	require.NoError(t, err)
	r = b.specCall(t, http.StatusOK, http.MethodGet, "/merchant/withdrawers", nil)
	require.Greater(t, len(r.Body), 64<<10)
	var all []json.RawMessage
	r.decode(t, &all)
	require.Len(t, all, 300)
	r = b.specCall(t, http.StatusOK, http.MethodGet, "/merchant/withdrawers?search=nobody", nil)
	require.Equal(t, "[]", string(r.Body))
}

func BenchmarkListWithdrawers100k(b *testing.B) {
	e := coinflowtest.New(coinflowtest.Options{})
	defer e.Close()
	if _, err := e.AddWithdrawers(population(100_000)); err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "/merchant/withdrawers", nil)
	req.Header.Set("Authorization", e.APIKey())
	b.ReportAllocs()
	for b.Loop() {
		w := &discard{header: http.Header{}}
		e.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatal(w.status)
		}
	}
}

func BenchmarkAddWithdrawers100k(b *testing.B) {
	for b.Loop() {
		e := coinflowtest.New(coinflowtest.Options{})
		if _, err := e.AddWithdrawers(population(100_000)); err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}
