package metrics_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/metrics"
)

// coinflowBundle is a client on the emulator reporting to fresh metrics;
// its waits are recorded, not slept.
type coinflowBundle struct {
	emu    *coinflowtest.Server
	client *coinflow.Client
	m      *metrics.Metrics
	cm     *metrics.Coinflow

	mu    sync.Mutex
	waits []time.Duration
}

func newCoinflowBundle(t *testing.T) *coinflowBundle {
	t.Helper()
	const key = "emulator-api-key"
	b := &coinflowBundle{emu: coinflowtest.NewServer(coinflowtest.Options{APIKey: key, InitialBalanceCents: 5_000_00})}
	t.Cleanup(b.emu.Close)
	b.m = metrics.New()
	b.cm = b.m.NewCoinflow(coinflow.Operations, coinflow.Classes)
	var err error
	b.client, err = coinflow.New(coinflow.Config{
		BaseURL: b.emu.URL, APIKey: key, Observer: b.cm, Timeout: 200 * time.Millisecond,
		SleepFunc: func(_ context.Context, d time.Duration) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.waits = append(b.waits, d)
			return nil
		},
	})
	require.NoError(t, err)
	return b
}

// series is the state of every Coinflow series of one operation.
type series struct {
	Responses             map[string]float64 // by class
	Attempts              uint64             // observations of the latency histogram
	Retries, Waits, WaitS float64
}

func (b *coinflowBundle) series(t *testing.T, op string) series {
	t.Helper()
	s := series{Responses: map[string]float64{}}
	for _, cl := range coinflow.Classes {
		if v := testutil.ToFloat64(b.cm.Responses.WithLabelValues(op, cl)); v != 0 {
			s.Responses[cl] = v
		}
	}
	h, ok := b.cm.Duration.WithLabelValues(op).(interface{ Write(*dto.Metric) error })
	require.True(t, ok)
	var pb dto.Metric
	require.NoError(t, h.Write(&pb))
	s.Attempts = pb.GetHistogram().GetSampleCount()
	s.Retries = testutil.ToFloat64(b.cm.Retries.WithLabelValues(op))
	s.Waits = testutil.ToFloat64(b.cm.RateLimitWaits.WithLabelValues(op))
	s.WaitS = testutil.ToFloat64(b.cm.RateLimitWaitSeconds.WithLabelValues(op))
	return s
}

// TestCoinflowSeriesMoveWithTheEmulatorsFaults makes the emulator answer
// 429, 5xx, 404 and hang past the client's timeout, and checks that each
// series of the operation called moves as it should and no other
// operation's does.
func TestCoinflowSeriesMoveWithTheEmulatorsFaults(t *testing.T) {
	t.Parallel()
	b := newCoinflowBundle(t)

	// 429 with Retry-After 3s, then success: one retry, one rate-limit
	// wait of 3 seconds.
	b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpBalance, Status: http.StatusTooManyRequests, RetryAfter: 3 * time.Second, Times: 1})
	_, err := b.client.Balance(t.Context())
	require.NoError(t, err)
	require.Equal(t, series{Responses: map[string]float64{"429": 1, "2xx": 1}, Attempts: 2, Retries: 1, Waits: 1, WaitS: 3},
		b.series(t, "payout_balance"))

	// Two 5xx, then success: retries, but no rate-limit wait.
	b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpListWithdraws, Status: http.StatusServiceUnavailable, Times: 1},
		coinflowtest.APIFault{Operation: coinflowtest.OpListWithdraws, Status: http.StatusInternalServerError, Times: 1, After: 1})
	_, err = b.client.WithdrawsPage(t.Context(), coinflow.ListWithdrawsParams{}, 1)
	require.NoError(t, err)
	require.Equal(t, series{Responses: map[string]float64{"5xx": 2, "2xx": 1}, Attempts: 3, Retries: 2}, b.series(t, "list_withdraws"))

	// A streamed list (its own request path up to the first element): a
	// 502 is retried like any other call.
	b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpWithdrawers, Status: http.StatusBadGateway, Times: 1})
	_, err = b.emu.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-1", Verification: "approved"})
	require.NoError(t, err)
	n := 0
	for w, err := range b.client.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}) {
		require.NoError(t, err)
		require.Equal(t, "u-1", w.UserID())
		n++
	}
	require.Equal(t, 1, n)
	require.Equal(t, series{Responses: map[string]float64{"5xx": 1, "2xx": 1}, Attempts: 2, Retries: 1}, b.series(t, "list_withdrawers"))

	// 404 is an answer, not retried.
	b.emu.SetAPIFaults()
	_, err = b.client.GetWithdraw(t.Context(), "no-such-withdraw")
	require.ErrorIs(t, err, coinflow.ErrNotFound)
	require.Equal(t, series{Responses: map[string]float64{"4xx": 1}, Attempts: 1}, b.series(t, "get_withdraw"))

	// No answer within the client's timeout: class error, then retried.
	b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpSessionKey, Hang: 2 * time.Second, Times: 1})
	_, err = b.client.SessionKey(t.Context(), "u-1")
	require.NoError(t, err)
	require.Equal(t, series{Responses: map[string]float64{"error": 1, "2xx": 1}, Attempts: 2, Retries: 1}, b.series(t, "session_key"))

	// Each call moved its own operation's series and no other's, and
	// every series carries an operation the client declares.
	for _, op := range coinflow.Operations {
		switch op {
		case "payout_balance", "list_withdraws", "list_withdrawers", "get_withdraw", "session_key":
			continue
		}
		require.Equal(t, series{Responses: map[string]float64{}}, b.series(t, op), op)
	}
	families, err := b.m.Registry.Gather()
	require.NoError(t, err)
	declared := map[string]bool{}
	for _, op := range coinflow.Operations {
		declared[op] = true
	}
	seen := 0
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "operation" {
					require.True(t, declared[l.GetValue()], "%s{operation=%q}", f.GetName(), l.GetValue())
					seen++
				}
			}
		}
	}
	require.Positive(t, seen)
	require.Equal(t, []time.Duration{3 * time.Second}, b.waits[:1], "the client waited what the 429 asked")
}
