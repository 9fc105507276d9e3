package coinflowtest

import (
	"math/rand/v2"
	"time"
)

// syntheticSet is a list of n withdraws that exist only as a generator:
// the list endpoint materialises the ones it serves, page by page, so a
// million of them cost no memory.
type syntheticSet struct {
	n   int
	gen func(i int) Withdraw
}

// SeedSynthetic makes GET /merchant/withdraws also serve n generated
// withdraws, gen(0) .. gen(n-1), without storing them; it replaces any
// earlier synthetic set (n = 0 removes it). gen must be deterministic,
// return non-decreasing CreatedAt as i grows, and not call the Emulator.
// Zero fields get defaults derived from the seed and i: transaction and
// transferId, an amount of $1 to $10,000, user "synthetic-user", USD, speed
// standard and its fee, status completed, and CreatedAt Start-(n-i)s. gen
// may be nil (defaults only).
//
// Synthetic withdraws are served by the list endpoint only: the single get,
// Withdraws() and the lifecycle do not see them. Paging by page/limit and
// since/until costs O(limit + log n) generator calls; the status, speed,
// search and provider filters and sortBy=amount scan all n.
func (e *Emulator) SeedSynthetic(n int, gen func(i int) Withdraw) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.synthetic = syntheticSet{n: max(n, 0), gen: gen}
}

// syntheticAtLocked materialises synthetic withdraw i.
func (e *Emulator) syntheticAtLocked(i int) Withdraw {
	var w Withdraw
	if e.synthetic.gen != nil {
		w = e.synthetic.gen(i)
	}
	if w.Transaction == "" || w.TransferID == "" || w.AmountCents == 0 {
		r := rand.New(rand.NewPCG(uint64(e.ids.seed), streamKey(int64(i), "synthetic")))
		if w.Transaction == "" {
			w.Transaction = signatureFrom(r)
		}
		if w.TransferID == "" {
			w.TransferID = uuidFrom(r)
		}
		if w.AmountCents == 0 {
			w.AmountCents = 100 + r.Int64N(1_000_000)
		}
	}
	if w.UserID == "" {
		w.UserID = "synthetic-user"
	}
	if w.Currency == "" {
		w.Currency = "USD"
	}
	if w.EffectiveSpeed == "" {
		w.EffectiveSpeed = w.RequestedSpeed
	}
	if w.EffectiveSpeed == "" {
		w.EffectiveSpeed = SpeedStandard
	}
	if w.RequestedSpeed == "" {
		w.RequestedSpeed = w.EffectiveSpeed
	}
	if w.Status == "" {
		w.Status = StatusCompleted
	}
	if w.Account == "" {
		w.Account = "bnk_synthetic"
	}
	if w.MerchantFeeCents == 0 {
		w.MerchantFeeCents = e.feeFor(w.EffectiveSpeed)
	}
	if w.Provider == "" {
		w.Provider = providerFor(w.EffectiveSpeed)
	}
	if w.CreatedAt.IsZero() {
		w.CreatedAt = e.opts.Start.Add(-time.Duration(e.synthetic.n-i) * time.Second)
	}
	if w.UpdatedAt.IsZero() {
		w.UpdatedAt = w.CreatedAt
	}
	if w.ExpectedDeliveryDate.IsZero() {
		w.ExpectedDeliveryDate = w.CreatedAt.Add(e.durationFor(w.EffectiveSpeed))
	}
	return w
}

// withdrawerIDLocked is the _id shown as a withdraw's withdrawer.
func (e *Emulator) withdrawerIDLocked(w *Withdraw) string {
	if w.WithdrawerID != "" {
		return w.WithdrawerID
	}
	if wd := e.byUser[w.UserID]; wd != nil {
		return wd.id
	}
	return objectIDFor(e.ids.seed, w.UserID)
}
