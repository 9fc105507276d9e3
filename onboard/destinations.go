package onboard

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/internal/check"
	"github.com/payoutd/payoutd/internal/reqlog"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
)

// DestinationRequest is a destination to save. Type picks which fields
// apply: bank_account (RoutingNumber, AccountNumber, AccountType, Name),
// card (CardToken from Coinflow's hosted card form, ExpMonth, ExpYear, and
// Address when Coinflow asks for it), iban (IBAN, BIC when Coinflow asks,
// AccountHolder) or pix (Key). Every number in it is passed to Coinflow and
// dropped.
type DestinationRequest struct {
	Type          string
	RoutingNumber string
	AccountNumber string
	AccountType   string
	Name          string
	CardToken     string
	ExpMonth      string
	ExpYear       string
	Address       *Address
	IBAN          string
	BIC           string
	AccountHolder string
	Key           string
}

var (
	bicForm  = regexp.MustCompile(`^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$`)
	ibanForm = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$`)
	expMonth = regexp.MustCompile(`^(0[1-9]|1[0-2])$`)
	expYear  = regexp.MustCompile(`^[0-9]{2}$`)
)

// fields names the request fields each type takes.
var fields = map[rail.Destination][]string{
	rail.BankAccount: {"routing_number", "account_number", "account_type", "name"},
	rail.DebitCard:   {"card_token", "exp_month", "exp_year", "address"},
	rail.IBANAccount: {"iban", "bic", "account_holder"},
	rail.PIXKey:      {"key"},
}

func (d *DestinationRequest) set() map[string]bool {
	return map[string]bool{
		"routing_number": d.RoutingNumber != "", "account_number": d.AccountNumber != "", "account_type": d.AccountType != "",
		"name": d.Name != "", "card_token": d.CardToken != "", "exp_month": d.ExpMonth != "", "exp_year": d.ExpYear != "",
		"address": d.Address != nil, "iban": d.IBAN != "", "bic": d.BIC != "", "account_holder": d.AccountHolder != "", "key": d.Key != "",
	}
}

// normalIBAN is the IBAN without spaces, in capitals.
func (d *DestinationRequest) normalIBAN() string {
	return strings.ToUpper(strings.ReplaceAll(d.IBAN, " ", ""))
}

// Validate returns a message per invalid field (nil when valid). No
// message repeats a value.
func (d *DestinationRequest) Validate() map[string]string {
	errs := map[string]string{}
	kind := rail.Destination(d.Type)
	allowed, ok := fields[kind]
	if !ok {
		errs["type"] = "must be one of bank_account, card, iban, pix"
		return errs
	}
	for name, isSet := range d.set() {
		if isSet && !slices.Contains(allowed, name) {
			errs[name] = "is not a field of a " + d.Type + " destination"
		}
	}
	switch kind {
	case rail.BankAccount:
		if !abaRouting(d.RoutingNumber) {
			errs["routing_number"] = "must be a nine-digit ABA routing number"
		}
		if n := len(d.AccountNumber); !check.Digits(d.AccountNumber) || n < 4 || n > 17 {
			errs["account_number"] = "must be 4 to 17 digits"
		}
		if d.AccountType != "checking" && d.AccountType != "savings" {
			errs["account_type"] = "must be checking or savings"
		}
		if msg := check.Text(d.Name, 100); msg != "" {
			errs["name"] = msg
		}
	case rail.DebitCard:
		switch {
		case d.CardToken == "":
			errs["card_token"] = "is required"
		case looksLikePAN(d.CardToken):
			errs["card_token"] = "must be a token from Coinflow's card form, never a card number"
		default:
			if msg := check.ID(d.CardToken); msg != "" {
				errs["card_token"] = msg
			}
		}
		if !expMonth.MatchString(d.ExpMonth) {
			errs["exp_month"] = "must be 01 to 12"
		}
		if !expYear.MatchString(d.ExpYear) {
			errs["exp_year"] = "must be two digits"
		}
		if d.Address != nil {
			addressErrors(errs, d.Address)
		}
	case rail.IBANAccount:
		if !validIBAN(d.normalIBAN()) {
			errs["iban"] = "must be a valid IBAN (its check digits do not match)"
		}
		if d.BIC != "" && !bicForm.MatchString(strings.ToUpper(d.BIC)) {
			errs["bic"] = "must be an 8 or 11 character BIC"
		}
		if msg := check.Text(d.AccountHolder, 140); msg != "" {
			errs["account_holder"] = msg
		}
	case rail.PIXKey:
		if msg := check.Text(strings.TrimSpace(d.Key), 77); msg != "" {
			errs["key"] = msg
		}
	}
	return nilIfEmpty(errs)
}

func addressErrors(errs map[string]string, a *Address) {
	for name, v := range map[string]string{"address.line1": a.Line1, "address.city": a.City} {
		if msg := check.Text(v, 200); msg != "" {
			errs[name] = msg
		}
	}
	if !usStates[strings.ToUpper(a.State)] {
		errs["address.state"] = "must be a two-letter US state code"
	}
	if !zipCode.MatchString(a.Zip) {
		errs["address.zip"] = "must be a US ZIP code (12345 or 12345-6789)"
	}
}

// abaRouting checks an ABA routing number's checksum (3-7-1 weights).
func abaRouting(s string) bool {
	if len(s) != 9 || !check.Digits(s) {
		return false
	}
	sum := 0
	for i, w := range []int{3, 7, 1, 3, 7, 1, 3, 7, 1} {
		sum += int(s[i]-'0') * w
	}
	return sum%10 == 0
}

// looksLikePAN reports a raw card number: 12 to 19 digits (spaces or dashes
// allowed) that pass the Luhn check. Coinflow's tokens are never that.
func looksLikePAN(s string) bool {
	digits := strings.NewReplacer(" ", "", "-", "").Replace(s)
	if len(digits) < 12 || len(digits) > 19 || !check.Digits(digits) {
		return false
	}
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// validIBAN checks an IBAN's form and its ISO 13616 mod-97 check digits.
func validIBAN(s string) bool {
	if !ibanForm.MatchString(s) {
		return false
	}
	var b strings.Builder
	for _, r := range s[4:] + s[:4] {
		if r >= 'A' && r <= 'Z' {
			fmt.Fprintf(&b, "%d", r-'A'+10)
		} else {
			b.WriteRune(r)
		}
	}
	n, ok := new(big.Int).SetString(b.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// SaveDestination saves d at Coinflow for an approved withdrawer and
// records it as Coinflow lists it. d must be valid (Validate).
func (s *Service) SaveDestination(ctx context.Context, userID string, d DestinationRequest) (*models.Destination, error) {
	if _, err := s.Approved(ctx, userID); err != nil {
		return nil, err
	}
	known, err := s.store.DestinationsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	var (
		token string
		after *coinflow.WithdrawerWithAccounts
	)
	switch rail.Destination(d.Type) {
	case rail.BankAccount:
		after, err = s.cf.AddBankAccount(ctx, userID, coinflow.BankAccount{
			Alias: d.Name, RoutingNumber: d.RoutingNumber, AccountNumber: d.AccountNumber, Type: d.AccountType, Name: d.Name,
		})
	case rail.DebitCard:
		month, _ := strconv.Atoi(d.ExpMonth) // Validate checked both
		year, _ := strconv.Atoi(d.ExpYear)
		card := coinflow.DebitCard{CardToken: d.CardToken, ExpMonth: month, ExpYear: year}
		if d.Address != nil {
			card.Address = &coinflow.Address{Address1: d.Address.Line1, City: d.Address.City, State: strings.ToUpper(d.Address.State), Zip: d.Address.Zip}
		}
		token, err = s.cf.AddDebitCard(ctx, userID, card)
	case rail.IBANAccount:
		token, err = s.cf.AddIBAN(ctx, userID, coinflow.IBAN{Number: d.normalIBAN(), BIC: strings.ToUpper(d.BIC), AccountHolder: d.AccountHolder})
	case rail.PIXKey:
		token, err = s.cf.AddPIX(ctx, userID, strings.TrimSpace(d.Key))
	}
	if apiErr, ok := errors.AsType[*coinflow.APIError](err); ok && apiErr.OutcomeUnknown() {
		// The save may have taken effect at Coinflow: look before the
		// merchant retries, or a retry saves the destination twice.
		if saved, ferr := s.savedMeanwhile(ctx, userID, known, rail.Destination(d.Type)); ferr == nil {
			return saved, nil
		}
	}
	switch {
	case errors.Is(err, coinflow.ErrAddressRequired):
		return nil, ErrAddressRequired
	case errors.Is(err, coinflow.ErrBICRequired):
		return nil, ErrBICRequired
	case errors.Is(err, coinflow.ErrVerificationRequired):
		return nil, s.verificationRequired(ctx, userID, err)
	case err != nil:
		return nil, classify(err)
	}
	if after == nil {
		// The save answered only a token: Coinflow's list has the rest.
		if after, err = s.cf.GetWithdrawer(ctx, userID); err != nil {
			return nil, classify(err)
		}
	}
	if err := s.syncDestinations(ctx, userID, after); err != nil {
		return nil, err
	}
	saved, err := s.newDestination(ctx, userID, token, known, rail.Destination(d.Type))
	if err != nil {
		return nil, err
	}
	reqlog.Entry(ctx, s.log).WithFields(logrus.Fields{"user_id": userID, "type": d.Type, "currency": saved.Currency}).Info("destination saved")
	return saved, nil
}

// savedMeanwhile reads Coinflow's list after a save whose outcome is not
// known and returns the destination it created, if any.
func (s *Service) savedMeanwhile(ctx context.Context, userID string, before []models.Destination, kind rail.Destination) (*models.Destination, error) {
	w, err := s.cf.GetWithdrawer(ctx, userID)
	if err != nil {
		return nil, err
	}
	if err := s.syncDestinations(ctx, userID, w); err != nil {
		return nil, err
	}
	return s.newDestination(ctx, userID, "", before, kind)
}

// newDestination finds the destination a save created: the token Coinflow
// answered, or (a bank account answers the withdrawer) the one of kind that
// payoutd did not know before.
func (s *Service) newDestination(ctx context.Context, userID, token string, before []models.Destination, kind rail.Destination) (*models.Destination, error) {
	if token != "" {
		if d, err := s.store.DestinationGet(ctx, userID, token); err == nil {
			return d, nil
		}
	}
	now, err := s.store.DestinationsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	for i := len(now) - 1; i >= 0; i-- {
		d := &now[i]
		if d.Kind == string(kind) && d.DeletedAt == nil && !slices.ContainsFunc(before, func(b models.Destination) bool { return b.Token == d.Token }) {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: Coinflow accepted the %s but does not list it", ErrRejected, kind)
}

// syncDestinations records every destination Coinflow lists for userID.
// A deletion keeps the time payoutd first saw it.
func (s *Service) syncDestinations(ctx context.Context, userID string, w *coinflow.WithdrawerWithAccounts) error {
	known, err := s.store.DestinationsOf(ctx, userID)
	if err != nil {
		return err
	}
	for _, cd := range w.Destinations() {
		d := &models.Destination{
			Token: cd.Token, UserID: userID, Kind: string(cd.Kind), Currency: cd.Currency, Last4: cd.Last4,
			Speeds: models.JoinSpeeds(cd.Speeds),
		}
		if cd.Deleted {
			now := s.store.Now()
			d.DeletedAt = &now
			if i := slices.IndexFunc(known, func(k models.Destination) bool { return k.Token == cd.Token }); i >= 0 && known[i].DeletedAt != nil {
				d.DeletedAt = known[i].DeletedAt
			}
		}
		if err := s.store.DestinationSave(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// verificationRequired records Coinflow's 451 and returns it as a
// VerificationError.
func (s *Service) verificationRequired(ctx context.Context, userID string, err error) error {
	apiErr, _ := errors.AsType[*coinflow.APIError](err)
	verr := &VerificationError{Status: string(models.VerificationPending)}
	if apiErr != nil {
		verr.Link = apiErr.VerificationLink
		if apiErr.VerificationStatus != "" {
			verr.Status = apiErr.VerificationStatus
		}
	}
	if rerr := s.record(ctx, decideVerification(userID, verr), false); rerr != nil {
		return rerr
	}
	return verr
}

// DeleteDestination deletes a saved destination at Coinflow and records the
// deletion. Deleting one already deleted changes nothing and calls no one.
func (s *Service) DeleteDestination(ctx context.Context, userID, token string) error {
	d, err := s.store.DestinationGet(ctx, userID, token)
	if errors.Is(err, models.ErrNotFound) {
		return ErrUnknownAccount
	}
	if err != nil {
		return err
	}
	if d.DeletedAt != nil {
		return nil
	}
	err = s.cf.DeleteDestination(ctx, userID, rail.Destination(d.Kind), token)
	if err != nil && !errors.Is(err, coinflow.ErrNotFound) {
		return classify(err)
	}
	// Coinflow deleted it, or never had it: either way it cannot be paid.
	if err := s.store.DestinationMarkDeleted(ctx, userID, token); err != nil {
		return err
	}
	reqlog.Entry(ctx, s.log).WithFields(logrus.Fields{"user_id": userID, "type": d.Kind}).Info("destination deleted")
	return nil
}
