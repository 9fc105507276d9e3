package webhook_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

// propNow is the server's clock in the property test: deliveries are signed
// at it, and every event's created time is before it.
var propNow = time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC)

// propBase is when the property test's payouts start.
var propBase = time.Date(2025, 6, 1, 9, 0, 0, 310*int(time.Millisecond), time.UTC)

// propEvent is one Withdraw* webhook about the payout under test.
type propEvent struct {
	eventType    string
	created      time.Time
	userFees     int64
	merchantFees int64
}

const propTotalCents = 4999

func (e propEvent) body(t *testing.T, signature, idempotencyKey string) []byte {
	t.Helper()
	usd := func(c int64) map[string]any { return map[string]any{"cents": c, "currency": "USD"} }
	b, err := json.Marshal(map[string]any{
		"eventType": e.eventType,
		"category":  "Withdraw",
		"created":   e.created.Format("2006-01-02T15:04:05.000Z07:00"),
		"data": map[string]any{
			"wallet":         "3pPusdwkoBKCAKjJjaZhXEXCmuBuzp8zfEJnDrZNdeWM",
			"blockchain":     "solana",
			"signature":      signature,
			"userFees":       usd(e.userFees),
			"userGasFees":    usd(0),
			"merchantFees":   usd(e.merchantFees),
			"total":          usd(propTotalCents),
			"currency":       "USD",
			"merchantId":     "acme-payouts",
			"userId":         "u-prop",
			"idempotencyKey": idempotencyKey,
		},
	})
	require.NoError(t, err)
	return b
}

// propFinal is what every delivery order must agree on.
type propFinal struct {
	Status       models.PayoutStatus
	Detail       string
	StatusAt     time.Time
	Amount       models.Money
	UserFees     models.Money
	MerchantFees models.Money
	OpenKinds    []models.FindingKind
}

type propScenario struct {
	name   string
	events []propEvent
	want   propFinal
}

func propScenarios() []propScenario {
	at := func(d time.Duration) time.Time { return propBase.Add(d) }
	usd := func(c int64) models.Money { return models.Money{Cents: c, Currency: "USD"} }
	total := usd(propTotalCents)
	return []propScenario{
		{
			name: "bank_return",
			events: []propEvent{
				{inbox.EventWithdrawPending, at(0), 0, 10},
				{inbox.EventWithdrawUnclaimed, at(0), 0, 11}, // exact tie with pending: unclaimed wins
				{inbox.EventWithdrawPending, at(30 * time.Minute), 0, 12},
				{inbox.EventWithdrawOnHold, at(time.Hour), 0, 13},
				{inbox.EventWithdrawSuccess, at(2 * time.Hour), 5, 99},
				{inbox.EventWithdrawFailure, at(3 * time.Hour), 0, 150},
				{inbox.EventWithdrawSuccess, at(3 * time.Hour), 7, 77}, // exact tie with the failure: failure wins
			},
			want: propFinal{
				Status: models.StatusFailed, StatusAt: at(3 * time.Hour), Amount: total,
				UserFees: usd(0), MerchantFees: usd(150), OpenKinds: []models.FindingKind{models.KindStatusMismatch},
			},
		},
		{
			name: "manual_success_after_failure",
			events: []propEvent{
				{inbox.EventWithdrawPending, at(0), 0, 10},
				{inbox.EventWithdrawFailure, at(time.Hour), 0, 20},
				{inbox.EventWithdrawSuccess, at(2 * time.Hour), 3, 30},
			},
			want: propFinal{
				Status: models.StatusCompleted, StatusAt: at(2 * time.Hour), Amount: total,
				UserFees: usd(3), MerchantFees: usd(30), OpenKinds: []models.FindingKind{models.KindStatusMismatch},
			},
		},
		{
			name: "clean_success",
			events: []propEvent{
				{inbox.EventWithdrawPending, at(0), 0, 10},
				{inbox.EventWithdrawUnclaimed, at(0), 0, 11},
				{inbox.EventWithdrawOnHold, at(time.Hour), 0, 13},
				{inbox.EventWithdrawSuccess, at(2 * time.Hour), 4, 99},
			},
			want: propFinal{
				Status: models.StatusCompleted, StatusAt: at(2 * time.Hour), Amount: total,
				UserFees: usd(4), MerchantFees: usd(99), OpenKinds: []models.FindingKind{},
			},
		},
		{
			name: "still_unclaimed",
			events: []propEvent{
				{inbox.EventWithdrawPending, at(0), 0, 10},
				{inbox.EventWithdrawPending, at(30 * time.Minute), 0, 12},
				{inbox.EventWithdrawUnclaimed, at(time.Hour), 0, 14},
				{inbox.EventWithdrawPending, at(time.Hour), 0, 15}, // exact tie: unclaimed says more
			},
			want: propFinal{
				Status: models.StatusPending, Detail: models.DetailUnclaimed, StatusAt: at(time.Hour), Amount: total,
				UserFees: usd(0), MerchantFees: usd(14), OpenKinds: []models.FindingKind{},
			},
		},
	}
}

// TestOutOfOrderDeliveryConverges posts one payout's events in many orders,
// with duplicates and with the applier running at random points in between,
// and checks that every order ends where the chronological order ends.
func TestOutOfOrderDeliveryConverges(t *testing.T) {
	t.Parallel()
	const trials = 10 // per scenario and database, besides the reference
	dbtest.EachAt(t, propNow, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		server := testserver.Start(t, store, testserver.Options{Clock: clock})
		scenarios := propScenarios()
		for si, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				ref := propDeliver(t, server, sc, fmt.Sprintf("%s-ref", sc.name), sc.events, func() bool { return true })
				require.Equal(t, sc.want, ref, "chronological order, applied one by one")
				for trial := range trials {
					r := rand.New(rand.NewPCG(uint64(si)+1, uint64(trial)+1))
					order := propShuffle(r, sc.events)
					id := fmt.Sprintf("%s-%d", sc.name, trial)
					got := propDeliver(t, server, sc, id, order, func() bool { return r.IntN(3) == 0 })
					require.Equal(t, ref, got, "trial %d delivered %v", trial, propTypes(order))
				}
			})
		}
		var payouts int64
		require.NoError(t, store.DB().Model(&models.Payout{}).Count(&payouts).Error)
		require.EqualValues(t, len(scenarios)*(trials+1), payouts, "one payout per run, none extra")
		counts, err := store.InboxCounts(t.Context())
		require.NoError(t, err)
		require.Zero(t, counts[models.InboxPending], "nothing left unapplied")
		require.Zero(t, counts[models.InboxUnprocessable])
		require.Zero(t, counts[models.InboxParked])
	})
}

func propShuffle(r *rand.Rand, evs []propEvent) []propEvent {
	var out []propEvent
	for _, ev := range evs {
		for range 1 + r.IntN(3) {
			out = append(out, ev)
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func propTypes(evs []propEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.eventType + "@" + e.created.Format("15:04")
	}
	return out
}

// propDeliver posts order for a payout of its own (signature and idempotency
// key derived from id), draining the applier after a post whenever drainNow
// says so and at the end. It checks the per-payout invariants and returns the
// payout's final state.
func propDeliver(t *testing.T, server *testserver.Server, sc propScenario, id string, order []propEvent, drainNow func() bool) propFinal {
	t.Helper()
	ctx := t.Context()
	store := server.Store
	signature, idemKey := "sig-"+id, "idem-"+id
	before, err := store.InboxCounts(ctx)
	require.NoError(t, err)

	answers := map[string]int{}
	for _, ev := range order {
		code, body := server.PostSigned(t, ev.body(t, signature, idemKey))
		require.Equal(t, 200, code, body)
		var ack struct{ Status string }
		require.NoError(t, json.Unmarshal([]byte(body), &ack), body)
		answers[ack.Status]++
		if drainNow() {
			server.Drain(t)
		}
	}
	server.Drain(t)

	distinct := len(sc.events)
	require.Equal(t, distinct, answers["stored"], "each distinct event stored once")
	require.Equal(t, len(order)-distinct, answers["duplicate"], "every repeat answered as a duplicate")
	require.Len(t, answers, min(2, len(order)-distinct+1), "no other answer: %v", answers)
	after, err := store.InboxCounts(ctx)
	require.NoError(t, err)
	require.EqualValues(t, distinct, propInboxTotal(after)-propInboxTotal(before), "one inbox row per distinct event")
	require.EqualValues(t, distinct, after[models.InboxApplied]-before[models.InboxApplied], "every event applied")

	byTx, _, err := store.PayoutList(ctx, models.PayoutFilter{Transaction: signature})
	require.NoError(t, err)
	require.Len(t, byTx, 1, "exactly one payout for the transaction")
	byKey, _, err := store.PayoutList(ctx, models.PayoutFilter{IdempotencyKey: idemKey})
	require.NoError(t, err)
	require.Len(t, byKey, 1, "exactly one payout for the idempotency key")
	p := byTx[0]
	require.Equal(t, p.ID, byKey[0].ID)
	require.Equal(t, models.OriginDiscovered, p.Source)
	require.Equal(t, "u-prop", p.UserID)

	hist, err := store.PayoutHistoryList(ctx, p.ID)
	require.NoError(t, err)
	require.Len(t, hist, distinct, "one history row per distinct event: duplicates applied once")
	seen := map[int64]bool{}
	created := 0
	for _, h := range hist {
		require.NotNil(t, h.InboxEventID, "history row %d names its event", h.ID)
		require.False(t, seen[*h.InboxEventID], "inbox event %d applied twice", *h.InboxEventID)
		seen[*h.InboxEventID] = true
		require.Equal(t, models.SourceWebhook, h.Source)
		if h.Reason == models.ReasonCreated {
			created++
		}
	}
	require.Equal(t, 1, created, "one history row creates the payout")

	findings, _, err := store.FindingList(ctx, models.FindingFilter{PayoutID: p.ID})
	require.NoError(t, err)
	kinds := []models.FindingKind{}
	for _, f := range findings {
		if f.ResolvedAt == nil {
			kinds = append(kinds, f.Kind)
		}
	}
	slices.Sort(kinds)

	return propFinal{
		Status: p.Status, Detail: propDeref(p.StatusDetail), StatusAt: p.StatusAt.UTC(), Amount: p.Amount,
		UserFees: p.UserFees, MerchantFees: p.MerchantFees, OpenKinds: kinds,
	}
}

func propInboxTotal(m map[models.InboxStatus]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func propDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
