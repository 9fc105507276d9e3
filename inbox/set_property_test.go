package inbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// setBase is when the property test's withdrawals start; setNow is the
// stores' clock.
var (
	setBase = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	setNow  = time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC)
)

const setPayouts = 9 // withdrawals per round: a third known with a transaction, a third known by key only, a third new

// setEvents is one random inbox: webhooks about setPayouts withdrawals in
// any order (so some arrive late), with exact repeats, redeliveries whose
// content differs, a reused idempotency key, amounts that disagree, rail
// events for known and unknown withdrawals, KYC events, untracked and
// unprocessable bodies.
func setEvents(r *rand.Rand) [][]byte {
	withdrawTypes := []string{"Withdraw Pending", "Withdraw Pending", "Withdraw Success", "Withdraw Failure", "Withdraw On Hold", "Withdraw Unclaimed"}
	at := func() string {
		return setBase.Add(time.Duration(r.IntN(600)) * time.Minute).Format("2006-01-02T15:04:05.000Z")
	}
	withdraw := func(eventType, created string, i int, key string, total, fees int64) []byte {
		return fmt.Appendf(nil, `{"eventType":%q,"category":"Withdraw","created":%q,"data":{"wallet":"w-%d","blockchain":"solana",`+
			`"signature":"sig-%d","userFees":{"cents":%d,"currency":"USD"},"merchantFees":{"cents":25,"currency":"USD"},`+
			`"total":{"cents":%d,"currency":"USD"},"currency":"USD","merchantId":"acme-payouts","userId":"u-%d","idempotencyKey":%q}}`,
			eventType, created, i, i, fees, total, i%3, key)
	}
	var out [][]byte
	for range 20 + r.IntN(60) {
		i := r.IntN(setPayouts)
		key := fmt.Sprintf("key-%d", i)
		if r.IntN(20) == 0 {
			key = fmt.Sprintf("key-%d", r.IntN(setPayouts)) // a key reused for another withdrawal
		}
		total := int64(1000 + i)
		if r.IntN(15) == 0 {
			total++ // Coinflow's amount disagrees
		}
		switch n := r.IntN(20); {
		case n < 13:
			created, eventType := at(), withdrawTypes[r.IntN(len(withdrawTypes))]
			body := withdraw(eventType, created, i, key, total, 10)
			out = append(out, body)
			switch r.IntN(8) {
			case 0:
				out = append(out, body) // an exact repeat
			case 1:
				out = append(out, withdraw(eventType, created, i, key, total, 11)) // same event, other fees
			}
		case n < 15:
			withdrawID := fmt.Sprintf("sig-%d", i)
			if r.IntN(4) == 0 {
				withdrawID = "sig-unknown"
			}
			eventType := []string{"Iban Failure", "Iban RFI Created", "Iban RFI Submitted"}[r.IntN(3)]
			out = append(out, fmt.Appendf(nil, `{"eventType":%q,"category":"Withdraw","created":%q,"data":{"withdrawId":%q,"rfiId":"rfi-%d"}}`,
				eventType, at(), withdrawID, r.IntN(3)))
		case n < 18:
			eventType := []string{"KYC Created", "KYC Success", "KYC Failure"}[r.IntN(3)]
			u := r.IntN(3)
			out = append(out, fmt.Appendf(nil, `{"eventType":%q,"category":"KYC","created":%q,"data":{"wallet":"acme-payoutsʬu-%d",`+
				`"blockchain":"user","email":"user%d@example.com"}}`, eventType, at(), u, u))
		case n < 19:
			out = append(out, fmt.Appendf(nil, `{"eventType":"Withdraw Pending","category":"Withdraw","created":%q,"data":{"signature":"sig-%d",`+
				`"total":{"cents":1.5,"currency":"USD"},"currency":"USD","userId":"u-0"}}`, at(), i))
		default:
			out = append(out, fmt.Appendf(nil, `{"eventType":"Purchase Settled","category":"Purchase","created":%q,"data":{"id":%d}}`, at(), r.IntN(100)))
		}
	}
	return out
}

// seedSetStore records the withdrawals payoutd already knows: the first
// third with their transaction, the second third by idempotency key only
// (initiated, the pay answer lost).
func seedSetStore(t *testing.T, s *models.Store) {
	t.Helper()
	for i := range 2 * setPayouts / 3 {
		p := models.Payout{
			ID: fmt.Sprintf("p-%d", i), IdempotencyKey: models.NonEmpty(fmt.Sprintf("key-%d", i)), UserID: fmt.Sprintf("u-%d", i%3),
			Amount: models.Money{Cents: int64(1000 + i), Currency: "USD"}, Status: models.StatusPending,
			StatusAt: setBase.Add(-time.Hour), Source: models.OriginAPI, CreatedAt: setBase.Add(-time.Hour), UpdatedAt: setBase.Add(-time.Hour),
		}
		if i < setPayouts/3 {
			p.CoinflowTransaction = models.NonEmpty(fmt.Sprintf("sig-%d", i))
		} else {
			p.Status = models.StatusUnknown
		}
		require.NoError(t, s.DB().Create(&p).Error)
	}
}

// storeEvents stores bodies as the endpoint does (dedup and conflicting
// copies included), in a few commits.
func storeEvents(t *testing.T, s *models.Store, bodies [][]byte) {
	t.Helper()
	ctx := context.Background()
	for chunk := range slices.Chunk(bodies, 16) {
		evs := make([]models.InboxEvent, len(chunk))
		for i, b := range chunk {
			evs[i] = storedEvent(b)
		}
		_, err := s.InboxInsert(ctx, evs)
		require.NoError(t, err)
	}
}

// storedEvent is body as the endpoint would store it.
func storedEvent(body []byte) models.InboxEvent {
	ev := models.InboxEvent{Body: body}
	p := inbox.Parse(body)
	if p.Err != nil {
		ev.DedupKey, ev.EventType = "raw:"+fmt.Sprintf("%x", body), inbox.PeekType(body)
		return ev
	}
	ev.DedupKey, ev.EventType = inbox.Identity(p.Value), inbox.TypeOf(p.Value)
	if h := inbox.ContentHash(p.Value); h != "" {
		ev.ContentHash = &h
	}
	return ev
}

// TestSetApplyEqualsOneByOne: for random inboxes, applying the events as
// sets (in batches of random size) leaves exactly the payouts, withdrawers,
// history, findings and event states that applying them one by one leaves.
func TestSetApplyEqualsOneByOne(t *testing.T) {
	rounds := map[string]int{models.DialectSQLite: 40, models.DialectPostgres: 20} // each PostgreSQL round creates two databases
	opts := dbtest.Options{NowFunc: func() time.Time { return setNow }}
	for dialect, open := range map[string]func(testing.TB, dbtest.Options) *models.Store{
		models.DialectSQLite: dbtest.SQLite, models.DialectPostgres: dbtest.Postgres,
	} {
		t.Run(dialect, func(t *testing.T) {
			for round := range rounds[dialect] {
				// A subtest a round, so that its databases are closed and
				// dropped before the next.
				t.Run(fmt.Sprint(round), func(t *testing.T) { checkSetApply(t, round, func() *models.Store { return open(t, opts) }) })
			}
		})
	}
}

func checkSetApply(t *testing.T, round int, open func() *models.Store) {
	ctx := context.Background()
	{
		seed := uint64(round)*7919 + 17
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		bodies := setEvents(r)
		batch := 1 + r.IntN(len(bodies))
		set, each := open(), open()
		for _, s := range []*models.Store{set, each} {
			seedSetStore(t, s)
			storeEvents(t, s, bodies)
		}
		m := metrics.New()
		a := newSetApplier(t, set, batch, m)
		_, err := a.Drain(ctx)
		require.NoError(t, err)
		require.Zero(t, testutil.ToFloat64(m.ApplyBatches.WithLabelValues("isolated")), "round %d: a set was redone one by one", round)
		require.NotZero(t, testutil.ToFloat64(m.ApplyBatches.WithLabelValues("set")))
		b := newSetApplier(t, each, batch, metrics.New())
		for {
			n, err := b.ApplyBatchOneByOne(ctx)
			require.NoError(t, err)
			if n == 0 {
				break
			}
		}
		got, want := setSnapshot(t, set), setSnapshot(t, each)
		require.Equal(t, want, got, "round %d (seed %d, %d events, batches of %d)", round, seed, len(bodies), batch)
		counts, err := set.InboxCounts(ctx)
		require.NoError(t, err)
		require.Zero(t, counts[models.InboxPending], "round %d left events pending", round)
		require.NotZero(t, counts[models.InboxApplied], "round %d applied nothing", round)
	}
}

func newSetApplier(t *testing.T, s *models.Store, batch int, m *metrics.Metrics) *inbox.Applier {
	t.Helper()
	log := logrus.New()
	log.SetLevel(logrus.ErrorLevel)
	a, err := inbox.NewApplier(s, logrus.NewEntry(log), m, inbox.ApplierConfig{BatchSize: batch, NowFunc: func() time.Time { return setNow }})
	require.NoError(t, err)
	return a
}

// setSnapshot is what the test compares, as indented JSON: every row of
// the tables applying writes, with the ids that are random per store (a
// discovered payout's id, a finding's id) replaced by a stable name, and
// the write stamps left out.
func setSnapshot(t *testing.T, s *models.Store) string {
	t.Helper()
	db := s.DB()
	var payouts []models.Payout
	require.NoError(t, db.Order("coinflow_transaction, idempotency_key").Find(&payouts).Error)
	name := map[string]string{}
	for _, p := range payouts {
		name[p.ID] = "payout(" + models.Deref(p.CoinflowTransaction) + "/" + models.Deref(p.IdempotencyKey) + ")"
	}
	rename := func(v string) string {
		for id, n := range name {
			v = strings.ReplaceAll(v, id, n)
		}
		return v
	}
	snap := map[string]any{}
	var ps []map[string]any
	for _, p := range payouts {
		p.ID, p.CreatedAt, p.UpdatedAt = name[p.ID], time.Time{}, time.Time{}
		ps = append(ps, map[string]any{"payout": p})
	}
	snap["payouts"] = ps
	var hist []models.PayoutHistory
	require.NoError(t, db.Order("id").Find(&hist).Error)
	for i := range hist {
		hist[i].PayoutID, hist[i].CreatedAt = name[hist[i].PayoutID], time.Time{}
	}
	snap["payout_history"] = hist
	var findings []models.Finding
	require.NoError(t, db.Find(&findings).Error)
	var fs []string
	for _, f := range findings {
		f.ID, f.FirstSeenAt, f.LastSeenAt = "", time.Time{}, time.Time{}
		if f.PayoutID != nil {
			f.PayoutID = models.NonEmpty(name[*f.PayoutID])
		}
		b, err := json.Marshal(f)
		require.NoError(t, err)
		fs = append(fs, rename(string(b)))
	}
	slices.Sort(fs)
	snap["findings"] = fs
	var ws []models.Withdrawer
	require.NoError(t, db.Order("user_id").Find(&ws).Error)
	for i := range ws {
		ws[i].CreatedAt, ws[i].UpdatedAt = time.Time{}, time.Time{}
	}
	snap["withdrawers"] = ws
	var wh []models.WithdrawerHistory
	require.NoError(t, db.Order("id").Find(&wh).Error)
	for i := range wh {
		wh[i].CreatedAt = time.Time{}
	}
	snap["withdrawer_history"] = wh
	var evs []struct {
		ID        int64
		Status    string
		LastError *string
		Attempts  int
	}
	require.NoError(t, db.Raw("SELECT id, status, last_error, attempts FROM inbox_events ORDER BY id").Scan(&evs).Error)
	snap["inbox_events"] = evs
	b, err := json.MarshalIndent(snap, "", " ")
	require.NoError(t, err)
	return string(b)
}
