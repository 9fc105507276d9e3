package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/webhook"
)

const (
	// crashTransactions withdrawals, each with a Pending event and two in
	// three with a Success or a Failure too: 5,000 distinct events.
	crashTransactions = 3000
	crashSenders      = 32
	crashSendTimeout  = 90 * time.Second
	// The drain is as fast as the machine lets the applier be: it may take
	// as long as it needs while the backlog keeps shrinking, and fails when
	// nothing was applied for crashDrainStall, or at crashDrainLimit.
	crashDrainStall = 30 * time.Second
	crashDrainLimit = 5 * time.Minute
)

// crashKillsAt are the fractions of events acknowledged at which the daemon
// is SIGKILLed and restarted.
var crashKillsAt = []float64{1.0 / 3, 2.0 / 3}

// TestCrashRecovery holds payoutd to its promise that a 200 means the event
// is durably stored: Coinflow-like senders deliver thousands of distinct
// events, retrying each until it is acknowledged, while the daemon is killed
// with SIGKILL and restarted under load. Every acknowledged event must then
// be in the inbox exactly once and applied exactly once, whatever was in
// flight at each crash.
func TestCrashRecovery(t *testing.T) {
	dbURL := dbtest.PostgresURL(t)
	began := time.Now()
	bin := buildPayoutd(t, os.Getenv("PAYOUTD_CRASH_BUILD_TAGS"))
	d := startDaemon(t, bin, dbURL)
	db := openDB(t, dbURL)
	plan := newCrashPlan(t, crashTransactions)
	n := int64(len(plan.events))
	require.GreaterOrEqual(t, n, int64(5000))

	ctx, cancel := context.WithTimeout(t.Context(), crashSendTimeout)
	defer cancel()
	s := newSender(d.URL())
	defer s.client.CloseIdleConnections()

	sendStart := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range crashSenders {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= n {
					return
				}
				s.deliver(ctx, plan.events[i].body)
			}
		})
	}
	sendersDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(sendersDone)
	}()
	// Runs before the daemon is killed for good: no sender outlives the test.
	t.Cleanup(func() {
		cancel()
		<-sendersDone
	})

	kills := 0
	for _, frac := range crashKillsAt {
		threshold := int64(float64(n) * frac)
		for s.acked.Load() < threshold {
			select {
			case <-sendersDone:
				require.FailNow(t, "senders stopped early", "%d of %d acknowledged: %v", s.acked.Load(), n, s.err())
			case <-ctx.Done():
				require.FailNow(t, "timed out waiting for acknowledgements", "%d of %d acknowledged", s.acked.Load(), n)
			case <-time.After(time.Millisecond):
			}
		}
		acked, inFlight := s.acked.Load(), s.inFlight.Load()
		down := time.Now()
		d.restart()
		kills++
		t.Logf("SIGKILL %d at %d/%d acknowledged with %d requests in flight; ready again after %s",
			kills, acked, n, inFlight, time.Since(down).Round(time.Millisecond))
	}

	select {
	case <-sendersDone:
	case <-ctx.Done():
		require.FailNow(t, "timed out sending", "%d of %d acknowledged after %s", s.acked.Load(), n, crashSendTimeout)
	}
	sendTook := time.Since(sendStart)
	require.NoError(t, s.err())
	require.Equal(t, n, s.acked.Load(), "every event acknowledged")
	require.GreaterOrEqual(t, kills, 2)

	drainStart := time.Now()
	waitDrained(t, db, crashDrainStall, crashDrainLimit)
	drainTook := time.Since(drainStart)

	t.Logf("sent %d distinct events for %d transactions with %d senders: %d attempts, %d retries "+
		"(%d connection errors, %d 5xx); %d SIGKILLs; sending %s, drain after %s, whole test %s",
		n, crashTransactions, crashSenders, s.attempts.Load(), s.attempts.Load()-n,
		s.connErrors.Load(), s.unavailable.Load(), kills,
		sendTook.Round(time.Millisecond), drainTook.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))

	checkCrashOutcome(t, db, plan)
}

// crashEvent is one distinct event of the run.
type crashEvent struct {
	eventType string
	txn       string
	body      []byte
	key       string // webhook.DedupKey of body
}

// crashPlan is the events to send, in sending order, and each payout's
// expected final status.
type crashPlan struct {
	events []crashEvent
	want   map[string]string // transaction signature -> status
}

// newCrashPlan makes txns withdrawals: each gets Withdraw Pending; one in
// three also Withdraw Success and one in three Withdraw Failure, a minute
// later. The events are shuffled, so a terminal event often arrives before
// its Pending, and a payout must still end terminal.
func newCrashPlan(t *testing.T, txns int) crashPlan {
	t.Helper()
	base := time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)
	p := crashPlan{want: make(map[string]string, txns)}
	add := func(eventType, txn string, created time.Time, totalCents int64) {
		body := withdrawBody(t, eventType, txn, created, totalCents)
		key, _ := webhook.DedupKey(body)
		p.events = append(p.events, crashEvent{eventType: eventType, txn: txn, body: body, key: key})
	}
	for i := range txns {
		txn := fmt.Sprintf("crash-%05d-5Sx9wq2Lh7", i)
		created := base.Add(time.Duration(i) * time.Second)
		amount := int64(1000 + i)
		add(inbox.EventWithdrawPending, txn, created, amount)
		switch i % 3 {
		case 0:
			add(inbox.EventWithdrawSuccess, txn, created.Add(time.Minute), amount)
			p.want[txn] = "completed"
		case 1:
			add(inbox.EventWithdrawFailure, txn, created.Add(time.Minute), amount)
			p.want[txn] = "failed"
		default:
			p.want[txn] = "pending"
		}
	}
	rng := rand.New(rand.NewPCG(2025, 6))
	rng.Shuffle(len(p.events), func(i, j int) { p.events[i], p.events[j] = p.events[j], p.events[i] })
	keys := make(map[string]bool, len(p.events))
	for _, ev := range p.events {
		require.False(t, keys[ev.key], "plan has two events with dedup key %s", ev.key)
		keys[ev.key] = true
	}
	return p
}

// sender delivers webhooks as Coinflow does: each event is retried, with a
// short jittered backoff, until it is answered 200.
type sender struct {
	client *http.Client
	url    string

	acked, attempts, connErrors, unavailable, inFlight atomic.Int64

	mu       sync.Mutex
	firstErr error
}

func newSender(url string) *sender {
	return &sender{
		url: url,
		client: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{MaxIdleConns: 2 * crashSenders, MaxIdleConnsPerHost: 2 * crashSenders, IdleConnTimeout: 30 * time.Second},
		},
	}
}

func (s *sender) deliver(ctx context.Context, body []byte) {
	backoff := 5 * time.Millisecond
	for ctx.Err() == nil {
		s.attempts.Add(1)
		s.inFlight.Add(1)
		code, err := postWebhook(ctx, s.client, s.url, body)
		s.inFlight.Add(-1)
		switch {
		case code == http.StatusOK:
			// The status line is the acknowledgement, even if the body
			// was cut off.
			s.acked.Add(1)
			return
		case err != nil:
			s.connErrors.Add(1)
		case code >= 500:
			s.unavailable.Add(1)
		default:
			s.fail(fmt.Errorf("webhook answered %d: no retry can succeed", code))
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff/2 + rand.N(backoff/2+1)):
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

func (s *sender) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstErr == nil {
		s.firstErr = err
	}
}

func (s *sender) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstErr
}

// waitDrained polls until no inbox event is pending. It fails when the
// backlog has not shrunk for stall, or is still not empty after limit.
func waitDrained(t *testing.T, db *sql.DB, stall, limit time.Duration) {
	t.Helper()
	start := time.Now()
	lowest, progressed := int64(-1), start
	for {
		pending := countRows(t, db, "SELECT COUNT(*) FROM inbox_events WHERE status = 'pending'")
		if pending == 0 {
			return
		}
		now := time.Now()
		if lowest < 0 || pending < lowest {
			lowest, progressed = pending, now
		}
		require.Less(t, now.Sub(progressed), stall, "%d inbox events still pending after %s, none applied in the last %s",
			pending, now.Sub(start).Round(time.Second), stall)
		require.Less(t, now.Sub(start), limit, "%d inbox events still pending after %s", pending, limit)
		time.Sleep(50 * time.Millisecond)
	}
}

// checkCrashOutcome asserts, in SQL behind the daemon's back, that every
// acknowledged event was stored once and applied once, and that the payouts
// ended where their events lead.
func checkCrashOutcome(t *testing.T, db *sql.DB, plan crashPlan) {
	t.Helper()
	ctx := t.Context()
	n := len(plan.events)

	stored := map[string]string{} // dedup key -> status
	rows, err := db.QueryContext(ctx, "SELECT dedup_key, status FROM inbox_events")
	require.NoError(t, err)
	for rows.Next() {
		var key, status string
		require.NoError(t, rows.Scan(&key, &status))
		stored[key] = status
	}
	require.NoError(t, errors.Join(rows.Err(), rows.Close()))

	var missing []string
	for _, ev := range plan.events {
		if _, ok := stored[ev.key]; !ok {
			missing = append(missing, ev.eventType+" "+ev.txn)
		}
	}
	require.Zero(t, len(missing), "%d of %d events were acknowledged with 200 but are missing from inbox_events, e.g. %v",
		len(missing), n, missing[:min(len(missing), 3)])

	total := countRows(t, db, "SELECT COUNT(*) FROM inbox_events")
	distinct := countRows(t, db, "SELECT COUNT(DISTINCT dedup_key) FROM inbox_events")
	require.EqualValues(t, n, total, "one inbox row per distinct event, none twice")
	require.EqualValues(t, n, distinct)

	byStatus := map[string]int{}
	for _, st := range stored {
		byStatus[st]++
	}
	require.Equal(t, map[string]int{"applied": n}, byStatus, "inbox events by status")

	// Applied exactly once: each event has exactly one history row.
	notOnce := countRows(t, db, `SELECT COUNT(*) FROM inbox_events e
		WHERE (SELECT COUNT(*) FROM payout_history h WHERE h.inbox_event_id = e.id) <> 1`)
	historyRows := countRows(t, db, "SELECT COUNT(*) FROM payout_history WHERE inbox_event_id IS NOT NULL")
	require.Zero(t, notOnce, "inbox events not in exactly one payout_history row")
	require.EqualValues(t, n, historyRows, "payout_history rows from webhooks")

	got := map[string]string{}
	rows, err = db.QueryContext(ctx, "SELECT coinflow_transaction, status FROM payouts")
	require.NoError(t, err)
	for rows.Next() {
		var txn sql.NullString
		var status string
		require.NoError(t, rows.Scan(&txn, &status))
		require.True(t, txn.Valid, "payout without a transaction")
		got[txn.String] = status
	}
	require.NoError(t, errors.Join(rows.Err(), rows.Close()))
	var wrong []string
	for txn, want := range plan.want {
		if got[txn] != want {
			wrong = append(wrong, fmt.Sprintf("%s: %q, want %q", txn, got[txn], want))
		}
	}
	slices.Sort(wrong)
	require.Len(t, got, len(plan.want), "payouts")
	require.Zero(t, len(wrong), "payouts with the wrong final status, e.g. %v", wrong[:min(len(wrong), 3)])

	payouts := map[string]int{}
	for _, st := range got {
		payouts[st]++
	}
	t.Logf("checked: %d inbox rows (%d distinct keys, all %d applied), %d payout_history rows from webhooks "+
		"(each inbox event in exactly one), %d payouts %v", total, distinct, byStatus["applied"], historyRows, len(got), payouts)
}
