package coinflowtest

import (
	"cmp"
	"fmt"
	"iter"
	"net/url"
	"strings"
)

func validVerification(s string) bool {
	switch s {
	case VerificationPending, VerificationApproved, VerificationRejected, VerificationExpired, VerificationPartial:
		return true
	}
	return false
}

// AddWithdrawer registers a withdrawer identified by userId (blockchain
// "user", wallet "<merchantId>ʬ<userId>"). It sends no webhook: it stands
// for a withdrawer registered before the test began. ErrExists if the
// userId is taken, ErrInvalid for a bad verification status.
func (e *Emulator) AddWithdrawer(spec WithdrawerSpec) (Withdrawer, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	wd, err := e.addWithdrawerLocked(spec)
	if err != nil {
		return Withdrawer{}, err
	}
	return e.snapshotWithdrawer(wd), nil
}

// AddWithdrawers registers every spec of specs as AddWithdrawer does, in
// order, under one lock and without webhooks or snapshots: O(n), for
// populations such as a benchmark's 100,000 withdrawers. It stops at the
// first spec AddWithdrawer would refuse and returns how many it added
// before it (they stay) with that error. specs must not call the Emulator.
func (e *Emulator) AddWithdrawers(specs iter.Seq[WithdrawerSpec]) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for spec := range specs {
		if _, err := e.addWithdrawerLocked(spec); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// addWithdrawerLocked checks spec and stores the withdrawer it describes.
func (e *Emulator) addWithdrawerLocked(spec WithdrawerSpec) (*withdrawer, error) {
	if spec.UserID == "" {
		return nil, fmt.Errorf("add withdrawer: empty userId: %w", ErrInvalid)
	}
	if e.byUser[spec.UserID] != nil {
		return nil, fmt.Errorf("add withdrawer %s: %w", spec.UserID, ErrExists)
	}
	spec.Verification = cmp.Or(spec.Verification, VerificationApproved)
	if !validVerification(spec.Verification) {
		return nil, fmt.Errorf("add withdrawer %s: verification %q: %w", spec.UserID, spec.Verification, ErrInvalid)
	}
	return e.newWithdrawerLocked(spec, true), nil
}

// newWithdrawerLocked creates and stores a withdrawer from a valid spec;
// withAccounts gives it a bank account and a card when the spec names none.
func (e *Emulator) newWithdrawerLocked(spec WithdrawerSpec, withAccounts bool) *withdrawer {
	country := strings.ToUpper(cmp.Or(spec.Country, "US"))
	wd := &withdrawer{
		id:                 e.ids.object.objectID(e.now),
		userID:             spec.UserID,
		email:              cmp.Or(spec.Email, spec.UserID+"@example.com"),
		country:            country,
		currency:           currencyFor(country),
		originalCurrency:   currencyFor(country),
		verification:       spec.Verification,
		availability:       AvailabilityFunctional,
		availabilityReason: "n/a",
		availabilityEditor: "system",
		availabilityAt:     e.now,
		createdAt:          e.now,
	}
	// US withdrawers pass Persona's database check; others go through
	// Sumsub document verification (README section 6).
	if country == "US" {
		wd.vendor, wd.reference = "persona", e.ids.token.token("inq_", 20)
	} else {
		wd.vendor, wd.reference, wd.docV = "sumsub", e.ids.token.token("app_", 20), true
	}
	// A US withdrawer stands for one registered with a US info body, whose
	// address is on file; document-verified ones have none.
	if country == "US" && !spec.NoAddress {
		wd.address = &addressJSON{Address1: "1 Main St", City: "Springfield", State: "IL", Zip: "62701"}
	}
	if spec.Blocked {
		wd.availability, wd.availabilityReason, wd.availabilityEditor = AvailabilityBlocked, "Blocked by merchant", "merchant"
	}
	if spec.BankToken != "" || withAccounts {
		e.addBankLocked(wd, cmp.Or(spec.BankToken, e.ids.token.token("bnk_", 24)), e.digits(4), "Checking")
	}
	if spec.CardToken != "" || withAccounts {
		d := e.addCardLocked(wd, cmp.Or(spec.CardToken, e.ids.token.token("crd_", 24)), e.digits(4), "12", e.now.AddDate(4, 0, 0).Format("06"))
		if strings.HasPrefix(spec.CardToken, IneligibleCardPrefix) {
			d.ineligible()
		}
	}
	if spec.IBANToken != "" {
		e.addIBANLocked(wd, spec.IBANToken, e.digits(4), "", "", ibanCurrencyFor(country))
	}
	if spec.PIXToken != "" {
		e.addPIXLocked(wd, spec.PIXToken, spec.UserID+"@pix.example")
	}
	e.withdrawers = append(e.withdrawers, wd)
	e.byUser[wd.userID] = wd
	e.byObjectID[wd.id] = wd
	e.byReference[wd.reference] = wd
	return wd
}

func (e *Emulator) digits(n int) string {
	b := e.ids.token.bytes(n)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// addBankLocked saves a US bank account (USD; asap, same_day, standard).
func (e *Emulator) addBankLocked(wd *withdrawer, token, last4, alias string) *savedDest {
	d := &savedDest{kind: kindAccount, token: token, currency: "USD", speeds: speedsOf[kindAccount],
		bank: &bankAccountJSON{
			Last4: last4, AccountHash: e.ids.token.token("", 32), Alias: alias + " ..." + last4,
			Token: token, Reference: e.ids.token.token("ref_", 12), IsTokenized: true,
		}}
	wd.dests = append(wd.dests, d)
	return d
}

// addCardLocked saves a US debit card (USD; card).
func (e *Emulator) addCardLocked(wd *withdrawer, token, last4, expMonth, expYear string) *savedDest {
	d := &savedDest{kind: kindCard, token: token, currency: "USD", speeds: speedsOf[kindCard],
		card: &cardJSON{
			Last4: last4, Token: token, Type: "VISA", DisbursementStatus: "Immediate",
			Currency: "USD", CreatedAt: isoMillis(e.now), ExpMonth: expMonth, ExpYear: expYear,
		}}
	wd.dests = append(wd.dests, d)
	return d
}

// addIBANLocked saves an IBAN or UK account paid in currency (EUR or
// GBP; iban).
func (e *Emulator) addIBANLocked(wd *withdrawer, token, last4, sortCode, bic, currency string) *savedDest {
	d := &savedDest{kind: kindIBAN, token: token, currency: currency, speeds: speedsOf[kindIBAN],
		iban: &ibanJSON{
			Last4: last4, AccountHash: e.ids.token.token("", 32), Alias: "IBAN ..." + last4,
			Token: token, Reference: e.ids.token.token("ref_", 12), SortCode: sortCode, BIC: bic,
		}}
	wd.dests = append(wd.dests, d)
	return d
}

// addPIXLocked saves a PIX key (BRL; pix).
func (e *Emulator) addPIXLocked(wd *withdrawer, token, key string) *savedDest {
	d := &savedDest{kind: kindPIX, token: token, currency: "BRL", speeds: speedsOf[kindPIX],
		pix: &pixJSON{Key: key, AccountHash: e.ids.token.token("", 32), Token: token}}
	wd.dests = append(wd.dests, d)
	return d
}

// SetVerification changes a withdrawer's verification status and queues
// the KYC event it announces: pending -> KYC Created, approved -> KYC
// Success, rejected or expired -> KYC Failure, partial-approval -> none.
func (e *Emulator) SetVerification(userID, status string) error {
	if !validVerification(status) {
		return fmt.Errorf("set verification %s: %q: %w", userID, status, ErrInvalid)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	wd := e.byUser[userID]
	if wd == nil {
		return fmt.Errorf("set verification %s: %w", userID, ErrNotFound)
	}
	e.setVerificationLocked(wd, status)
	return nil
}

func (e *Emulator) setVerificationLocked(wd *withdrawer, status string) {
	wd.verification = status
	if ev := kycEventFor(status); ev != "" {
		e.emitKYCLocked(wd, ev)
	}
}

// SetBlocked blocks or unblocks a withdrawer (availability Blocked or
// Functional). No webhook.
func (e *Emulator) SetBlocked(userID string, blocked bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	wd := e.byUser[userID]
	if wd == nil {
		return fmt.Errorf("set blocked %s: %w", userID, ErrNotFound)
	}
	status, reason := AvailabilityFunctional, "n/a"
	if blocked {
		status, reason = AvailabilityBlocked, "Blocked by merchant"
	}
	e.setAvailabilityLocked(wd, status, reason, "merchant")
	return nil
}

func (e *Emulator) setAvailabilityLocked(wd *withdrawer, status, reason, editor string) {
	wd.availability, wd.availabilityReason, wd.availabilityEditor = status, reason, editor
	wd.availabilityAt = e.now
}

// Withdrawer returns the withdrawer with userID.
func (e *Emulator) Withdrawer(userID string) (Withdrawer, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	wd := e.byUser[userID]
	if wd == nil {
		return Withdrawer{}, false
	}
	return e.snapshotWithdrawer(wd), true
}

// Withdrawers returns every withdrawer in creation order.
func (e *Emulator) Withdrawers() []Withdrawer {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Withdrawer, len(e.withdrawers))
	for i, wd := range e.withdrawers {
		out[i] = e.snapshotWithdrawer(wd)
	}
	return out
}

// verificationLink is where a user completes verification. For a
// withdrawer in document verification (non-US, or a US one whose instant
// check through POST /withdraw/kyc failed) it is the emulator's hosted
// page, {base}/_sim/kyc/{reference}, when the emulator knows its own URL
// (NewServer, Options.BaseURL): there the person (or a test) approves or
// rejects. Otherwise it is a Persona inquiry for US users and a Sumsub
// WebSDK link for others (the fixtures' hosts; nothing is served there):
// [ASSUMED] a US withdrawer seeded pending by AddWithdrawer has its
// inquiry at Persona. A redirect is passed on as redirect-uri.
func (e *Emulator) verificationLink(wd *withdrawer, redirect string) string {
	var link, sep string
	switch {
	case e.baseURL != "" && wd.docV:
		link, sep = e.baseURL+"/_sim/kyc/"+url.PathEscape(wd.reference), "?"
	case wd.vendor == "persona":
		link, sep = "https://withpersona.com/verify?inquiry-id="+url.QueryEscape(wd.reference), "&"
	default:
		return "https://in.sumsub.com/websdk/p/" + strings.TrimPrefix(wd.reference, "app_")
	}
	if redirect != "" {
		link += sep + "redirect-uri=" + url.QueryEscape(redirect)
	}
	return link
}

// lookupWithdrawerLocked finds a withdrawer by _id, userId or wallet.
func (e *Emulator) lookupWithdrawerLocked(id string) *withdrawer {
	if wd := e.byObjectID[id]; wd != nil {
		return wd
	}
	if wd := e.byUser[id]; wd != nil {
		return wd
	}
	if u, ok := strings.CutPrefix(id, e.opts.MerchantID+"ʬ"); ok {
		return e.byUser[u]
	}
	return nil
}
