package coinflowtest

import (
	"slices"
	"strings"
	"time"
)

// state is everything Emulator.mu guards.
type state struct {
	now     time.Time
	balance int64
	seq     int64

	// sorted holds every stored withdraw ordered by (CreatedAt, seq): the
	// list endpoint's order.
	sorted     []*withdraw
	byTxn      map[string]*withdraw
	byTransfer map[string]*withdraw
	byKey      map[string]*withdraw

	withdrawers []*withdrawer // in creation order
	byUser      map[string]*withdrawer
	byObjectID  map[string]*withdrawer
	byReference map[string]*withdrawer // by verification.reference

	// baseURL is where the emulator is served (Options.BaseURL, or set by
	// NewServer): the hosted verification page's base. "" = not known.
	baseURL string

	sessionKeys map[string]issuedKey // GET /auth/session-key's keys
	limits      rateLimits

	downgrades     map[string]string
	synthetic      syntheticSet
	calls          map[string]int
	payoutsCreated int
}

func newState(start time.Time, balance int64) state {
	return state{
		now:         start,
		balance:     balance,
		byTxn:       map[string]*withdraw{},
		byTransfer:  map[string]*withdraw{},
		byKey:       map[string]*withdraw{},
		byUser:      map[string]*withdrawer{},
		byObjectID:  map[string]*withdrawer{},
		byReference: map[string]*withdrawer{},
		downgrades:  map[string]string{},
		sessionKeys: map[string]issuedKey{},
		limits:      newRateLimits(),
		calls:       map[string]int{},
	}
}

// withdraw is a stored payout.
type withdraw struct {
	Withdraw
	seq int64
	// response is the 200 body of the payout request that created it,
	// replayed verbatim for a repeated idempotencyKey.
	response []byte
}

// withdrawer is a stored withdrawer with its destinations.
type withdrawer struct {
	id, userID, email, country       string
	currency, originalCurrency       string // both from the country (currencyFor)
	verification, vendor, reference  string
	availability, availabilityReason string
	availabilityEditor               string
	availabilityAt, createdAt        time.Time
	// docV: in document verification (non-US, or a US check that fell
	// back), whose hosted page the emulator serves.
	docV bool
	// address is the address on file (from a US info body or a debit
	// card request), nil when none.
	address *addressJSON
	// dests are its saved destinations in the order they were saved,
	// deleted ones included (GET /withdraw still lists them).
	dests []*savedDest
}

func (w *withdrawer) blocked() bool { return w.availability == AvailabilityBlocked }

func (e *Emulator) walletOf(userID string) string {
	return e.opts.MerchantID + "ʬ" + userID
}

func (e *Emulator) snapshotWithdrawer(w *withdrawer) Withdrawer {
	s := Withdrawer{
		ID: w.id, UserID: w.userID, Wallet: e.walletOf(w.userID), Email: w.email,
		Country: w.country, Currency: w.currency, OriginalCurrency: w.originalCurrency, Verification: w.verification,
		Availability: w.availability, Blocked: w.blocked(), CreatedAt: w.createdAt,
		HasAddress: w.address != nil, Accounts: []string{},
	}
	first := map[string]*string{
		kindAccount: &s.BankToken, kindCard: &s.CardToken, kindIBAN: &s.IBANToken, kindPIX: &s.PIXToken,
	}
	for _, d := range w.dests {
		if d.deleted {
			continue
		}
		s.Accounts = append(s.Accounts, d.token)
		if p := first[d.kind]; *p == "" {
			*p = d.token
		}
	}
	return s
}

// insertLocked stores w in list order.
func (e *Emulator) insertLocked(w *withdraw) {
	e.seq++
	w.seq = e.seq
	i, _ := slices.BinarySearchFunc(e.sorted, w, compareWithdraws)
	e.sorted = slices.Insert(e.sorted, i, w)
	e.byTxn[w.Transaction] = w
	e.byTransfer[w.TransferID] = w
	if w.IdempotencyKey != "" {
		e.byKey[w.IdempotencyKey] = w
	}
}

func compareWithdraws(a, b *withdraw) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return int(a.seq - b.seq)
}

// lookupLocked finds a stored withdraw by transaction or transferId.
func (e *Emulator) lookupLocked(id string) *withdraw {
	if w := e.byTxn[id]; w != nil {
		return w
	}
	return e.byTransfer[id]
}

func (e *Emulator) feeFor(speed string) int64 { return e.fees[speed] }

func (e *Emulator) durationFor(speed string) time.Duration { return e.lifecycle[speed] }

// effectiveSpeedLocked applies the NACHA rule (to USD ACH only: cents of
// another currency are not dollars), then a programmed downgrade.
func (e *Emulator) effectiveSpeedLocked(speed string, cents int64, currency string) string {
	if speed == SpeedSameDay && currency == "USD" && cents > NACHALimitCents {
		return SpeedStandard
	}
	if to, ok := e.downgrades[speed]; ok {
		return to
	}
	return speed
}

// currencyFor is a withdrawer's default payout currency by country.
func currencyFor(country string) string {
	switch strings.ToUpper(country) {
	case "US":
		return "USD"
	case "GB":
		return "GBP"
	case "BR":
		return "BRL"
	case "CA":
		return "CAD"
	case "AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT",
		"LT", "LU", "LV", "MT", "NL", "PT", "SI", "SK":
		return "EUR"
	}
	return "USD"
}

// Now returns the emulator clock.
func (e *Emulator) Now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// Balance returns the Coinflow wallet balance in USD cents.
func (e *Emulator) Balance() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.balance
}

// SetBalance sets the Coinflow wallet balance in USD cents.
func (e *Emulator) SetBalance(cents int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.balance = cents
}

// Calls returns how many requests an operation (OpPayout, ...) received,
// including those answered with an injected fault or 401.
func (e *Emulator) Calls(operation string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[operation]
}

// PayoutsCreated returns how many distinct payouts the payout endpoint
// created (idempotent replays and CreateWithdraw not counted).
func (e *Emulator) PayoutsCreated() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.payoutsCreated
}

// Withdraws returns a snapshot of the stored withdraws in list order
// (createdAt ascending). Synthetic withdraws are not included.
func (e *Emulator) Withdraws() []Withdraw {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Withdraw, len(e.sorted))
	for i, w := range e.sorted {
		out[i] = w.Withdraw
	}
	return out
}

// Withdraw returns a stored withdraw by transaction or transferId.
func (e *Emulator) Withdraw(id string) (Withdraw, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	w := e.lookupLocked(id)
	if w == nil {
		return Withdraw{}, false
	}
	return w.Withdraw, true
}

// WithdrawByIdempotencyKey returns the withdraw created with key.
func (e *Emulator) WithdrawByIdempotencyKey(key string) (Withdraw, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	w := e.byKey[key]
	if w == nil {
		return Withdraw{}, false
	}
	return w.Withdraw, true
}
